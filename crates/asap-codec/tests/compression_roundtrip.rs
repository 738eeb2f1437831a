//! compress → decompress round trips, and the client compression policy (spec §12.4).
#![cfg(all(feature = "gzip", feature = "br"))]

use asap_codec::compression::{
    Compression, DEFAULT_COMPRESSION_THRESHOLD, DEFAULT_MAX_REQUEST_SIZE, Encoding, compress,
    decompress_limited, decompress_slice, should_compress,
};
use proptest::prelude::*;
use tokio::runtime::Runtime;

const ENCODINGS: [Encoding; 3] = [Encoding::Identity, Encoding::Gzip, Encoding::Brotli];

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop::sample::select(ENCODINGS.to_vec())
}

/// Random bytes, or a short random pattern repeated (compressible, like JSON).
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..4096),
        (prop::collection::vec(any::<u8>(), 1..32), 0usize..2000)
            .prop_map(|(pattern, times)| pattern.repeat(times)),
    ]
}

proptest! {
    #[test]
    fn any_bytes_round_trip(encoding in encoding(), data in body()) {
        runtime().block_on(async {
            let compressed = compress(encoding, &data).await.unwrap();
            let via_slice = decompress_slice(encoding, &compressed, data.len()).await.unwrap();
            prop_assert_eq!(&via_slice, &data);
            let via_reader =
                decompress_limited(encoding, &compressed[..], DEFAULT_MAX_REQUEST_SIZE).await.unwrap();
            prop_assert_eq!(&via_reader, &data);
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn identity_compression_is_a_copy() {
    let data = b"{\"jsonrpc\":\"2.0\"}".to_vec();
    assert_eq!(compress(Encoding::Identity, &data).await.unwrap(), data);
}

#[tokio::test]
async fn empty_body_round_trips() {
    for encoding in ENCODINGS {
        let compressed = compress(encoding, b"").await.unwrap();
        assert_eq!(
            decompress_slice(encoding, &compressed, 0).await.unwrap(),
            b"",
            "{encoding}"
        );
    }
}

#[tokio::test]
async fn large_json_like_body_round_trips_and_shrinks() {
    let data = br#"{"jsonrpc":"2.0","method":"asap.send","params":{"envelope":{"payload":{"text":"hello"}}}}"#
        .repeat(20_000);
    for encoding in [Encoding::Gzip, Encoding::Brotli] {
        let compressed = compress(encoding, &data).await.unwrap();
        assert!(
            compressed.len() * 20 < data.len(),
            "{encoding}: {}",
            compressed.len()
        );
        let inflated = decompress_slice(encoding, &compressed, data.len())
            .await
            .unwrap();
        assert_eq!(inflated, data, "{encoding}");
    }
}

#[test]
fn threshold_is_inclusive() {
    assert_eq!(DEFAULT_COMPRESSION_THRESHOLD, 1024);
    assert!(!should_compress(0, 1024));
    assert!(!should_compress(1023, 1024));
    assert!(should_compress(1024, 1024));
    assert!(should_compress(0, 0));

    let policy = Compression::default();
    assert_eq!(policy.encoding(), Encoding::Brotli);
    assert_eq!(policy.threshold(), 1024);
    assert!(!policy.should_compress(1023));
    assert!(policy.should_compress(1024));
    assert!(!Compression::disabled().should_compress(usize::MAX));
    assert_eq!(
        Compression::new()
            .with_threshold(10)
            .with_encoding(Encoding::Gzip),
        Compression::default()
            .with_encoding(Encoding::Gzip)
            .with_threshold(10)
    );
}

#[tokio::test]
async fn policy_compresses_only_large_compressible_bodies() {
    let small = vec![b'a'; 1023];
    let large = vec![b'a'; 1024];
    for encoding in [Encoding::Gzip, Encoding::Brotli] {
        let policy = Compression::default().with_encoding(encoding);
        assert_eq!(policy.compress_body(&small).await.unwrap(), None);
        let (used, compressed) = policy.compress_body(&large).await.unwrap().unwrap();
        assert_eq!(used, encoding);
        assert!(compressed.len() < large.len());
        assert_eq!(
            decompress_slice(used, &compressed, large.len())
                .await
                .unwrap(),
            large
        );
    }
    let disabled = Compression::disabled();
    assert_eq!(disabled.compress_body(&large).await.unwrap(), None);
}

#[tokio::test]
async fn policy_keeps_incompressible_bodies_as_they_are() {
    // A xorshift byte stream does not compress; the framing overhead makes it grow.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    for encoding in [Encoding::Gzip, Encoding::Brotli] {
        let policy = Compression::default().with_encoding(encoding);
        assert_eq!(
            policy.compress_body(&noise).await.unwrap(),
            None,
            "{encoding}"
        );
    }
}
