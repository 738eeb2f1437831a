//! `asap-zstd-v1`: zstd with the shipped ASAP dictionary (feature `zstd`). Round trips, the
//! dictionary id, limits (a bomb stops at the limit), corrupt, truncated and trailing data,
//! frames made with another dictionary or none, windows above the maximum, negotiation.
#![cfg(feature = "zstd")]

use asap_codec::compression::{
    ASAP_ZSTD_DICTIONARY_ID, AcceptEncoding, DEFAULT_MAX_REQUEST_SIZE, DecompressError, Encoding,
    asap_zstd_dictionary, compress, decompress_limited, decompress_slice, negotiate,
    peer_encodings, supported_encodings,
};
use asap_codec::rpc::{Id, encode_request};
use asap_model::Envelope;
use tokio::io::BufReader;

const MIB: usize = 1024 * 1024;

/// A realistic request body: the specification example with a larger input.
fn request_body(items: usize) -> Vec<u8> {
    let mut envelope = asap_testing::fixtures::example("task_request.json");
    let docs: Vec<serde_json::Value> = (0..items)
        .map(|i| {
            serde_json::json!({
                "id": format!("doc_{i:04}"),
                "title": format!("Quarterly report {i} on infrastructure spending"),
                "score": 0.5 + i as f64 / 1000.0,
                "tags": ["market", "cloud", "q3"],
            })
        })
        .collect();
    envelope["payload"]["input"]["documents"] = docs.into();
    let envelope: Envelope = serde_json::from_value(envelope).unwrap();
    encode_request(
        &Id::Str("req-1".into()),
        &envelope,
        Some("01K0Z7Q3M5V8T2N4R6P9X1C3B5"),
    )
}

/// A frame compressed with `dictionary` (or none) by the zstd library itself.
fn foreign_frame(data: &[u8], dictionary: Option<&[u8]>) -> Vec<u8> {
    match dictionary {
        Some(dict) => zstd::bulk::Compressor::with_dictionary(3, dict)
            .unwrap()
            .compress(data)
            .unwrap(),
        None => zstd::bulk::compress(data, 3).unwrap(),
    }
}

fn invalid_reason(result: Result<Vec<u8>, DecompressError>) -> String {
    match result {
        Err(DecompressError::Invalid { reason }) => reason,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn round_trips_with_the_dictionary() {
    for body in [
        request_body(0),
        request_body(10),
        request_body(200),
        vec![],
        b"{}".to_vec(),
        vec![b'x'; 3 * MIB],
    ] {
        let compressed = compress(Encoding::AsapZstd, &body).await.unwrap();
        let inflated = decompress_slice(Encoding::AsapZstd, &compressed, DEFAULT_MAX_REQUEST_SIZE)
            .await
            .unwrap();
        assert_eq!(inflated, body);

        // The same through a reader that hands out 7 bytes at a time.
        let reader = BufReader::with_capacity(7, &compressed[..]);
        let streamed = decompress_limited(Encoding::AsapZstd, reader, body.len())
            .await
            .unwrap();
        assert_eq!(streamed, body);
    }
}

#[tokio::test]
async fn the_dictionary_makes_small_bodies_smaller() {
    let body = request_body(10);
    let with_dictionary = compress(Encoding::AsapZstd, &body).await.unwrap();
    let without = foreign_frame(&body, None);
    assert!(
        with_dictionary.len() < without.len(),
        "{} >= {}",
        with_dictionary.len(),
        without.len()
    );
    // Frames name the dictionary: 2-byte dictionary id field after the descriptor.
    assert_eq!(
        zstd::zstd_safe::get_dict_id_from_frame(&with_dictionary).map(|id| id.get()),
        Some(ASAP_ZSTD_DICTIONARY_ID)
    );
}

#[test]
fn the_shipped_dictionary_carries_its_id() {
    let dict = asap_zstd_dictionary();
    assert_eq!(
        zstd::zstd_safe::get_dict_id_from_dict(dict).map(|id| id.get()),
        Some(ASAP_ZSTD_DICTIONARY_ID)
    );
    assert!((32_768..=u32::from(u16::MAX)).contains(&ASAP_ZSTD_DICTIONARY_ID));
}

#[tokio::test]
async fn a_frame_of_the_same_dictionary_made_elsewhere_decodes() {
    let body = request_body(20);
    let frame = foreign_frame(&body, Some(asap_zstd_dictionary()));
    let inflated = decompress_slice(Encoding::AsapZstd, &frame, DEFAULT_MAX_REQUEST_SIZE)
        .await
        .unwrap();
    assert_eq!(inflated, body);
}

#[tokio::test]
async fn another_dictionary_or_none_is_invalid() {
    let body = request_body(5);

    let mut other = asap_zstd_dictionary().to_vec();
    other[4..8].copy_from_slice(&40_000u32.to_le_bytes());
    let frame = foreign_frame(&body, Some(&other));
    let err = decompress_slice(Encoding::AsapZstd, &frame, DEFAULT_MAX_REQUEST_SIZE).await;
    let reason = invalid_reason(err);
    assert_eq!(
        reason,
        "the zstd frame uses dictionary 40000; asap-zstd-v1 frames use dictionary 42401"
    );

    let plain = foreign_frame(&body, None);
    let err = decompress_slice(Encoding::AsapZstd, &plain, DEFAULT_MAX_REQUEST_SIZE)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid compressed data: the zstd frame names no dictionary; asap-zstd-v1 frames use \
         dictionary 42401"
    );
}

#[tokio::test]
async fn bomb_stops_at_the_limit() {
    // 64 MiB of zeros packs into a few KiB; decoding must stop at limit + 1 bytes.
    let zeros = vec![0u8; 64 * MIB];
    let bomb = compress(Encoding::AsapZstd, &zeros).await.unwrap();
    drop(zeros);
    assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());

    let mut input = &bomb[..];
    let err = decompress_limited(Encoding::AsapZstd, &mut input, DEFAULT_MAX_REQUEST_SIZE)
        .await
        .unwrap_err();
    match err {
        DecompressError::TooLarge { produced, limit } => {
            assert_eq!(limit, DEFAULT_MAX_REQUEST_SIZE);
            assert_eq!(produced, DEFAULT_MAX_REQUEST_SIZE + 1);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(!input.is_empty(), "decoding read the whole bomb");

    // Exactly the limit is allowed.
    let body = vec![b'a'; 4096];
    let compressed = compress(Encoding::AsapZstd, &body).await.unwrap();
    assert_eq!(
        decompress_slice(Encoding::AsapZstd, &compressed, 4096)
            .await
            .unwrap()
            .len(),
        4096
    );
    assert!(matches!(
        decompress_slice(Encoding::AsapZstd, &compressed, 4095).await,
        Err(DecompressError::TooLarge {
            produced: 4096,
            limit: 4095
        })
    ));
}

#[tokio::test]
async fn windows_above_the_maximum_are_refused() {
    // A frame announcing a 16 MiB window (no content size): the decoder must not reserve it.
    let mut encoder =
        zstd::stream::raw::Encoder::with_dictionary(3, asap_zstd_dictionary()).unwrap();
    use zstd::stream::raw::{CParameter, Operation, OutBuffer};
    encoder.set_parameter(CParameter::WindowLog(24)).unwrap();
    encoder
        .set_parameter(CParameter::ContentSizeFlag(false))
        .unwrap();
    let mut frame = vec![0u8; 1024];
    let mut out = OutBuffer::around(&mut frame[..]);
    let mut input = zstd::stream::raw::InBuffer::around(b"{}");
    encoder.run(&mut input, &mut out).unwrap();
    encoder.finish(&mut out, true).unwrap();
    let len = out.pos();
    frame.truncate(len);

    let reason = invalid_reason(
        decompress_slice(Encoding::AsapZstd, &frame, DEFAULT_MAX_REQUEST_SIZE).await,
    );
    assert!(reason.starts_with("zstd: "), "{reason}");
}

#[tokio::test]
async fn corrupt_truncated_and_trailing_data_are_invalid() {
    let body = request_body(30);
    let compressed = compress(Encoding::AsapZstd, &body).await.unwrap();

    assert_eq!(
        invalid_reason(decompress_slice(Encoding::AsapZstd, b"", 100).await),
        "truncated zstd frame header"
    );
    assert_eq!(
        invalid_reason(decompress_slice(Encoding::AsapZstd, b"not zstd at all", 100).await),
        "not a zstd frame"
    );
    assert_eq!(
        invalid_reason(decompress_slice(Encoding::AsapZstd, &compressed[..6], 1 << 20).await),
        "truncated zstd frame header"
    );

    let truncated = &compressed[..compressed.len() - 10];
    let reason = invalid_reason(
        decompress_slice(Encoding::AsapZstd, truncated, DEFAULT_MAX_REQUEST_SIZE).await,
    );
    assert_eq!(reason, "truncated zstd frame");

    let mut corrupt = compressed.clone();
    for byte in &mut corrupt[12..40] {
        *byte ^= 0x5a;
    }
    let err = decompress_slice(Encoding::AsapZstd, &corrupt, DEFAULT_MAX_REQUEST_SIZE).await;
    // Flipped bits either fail to decode or decode to other bytes; never to the body.
    match err {
        Err(DecompressError::Invalid { reason }) => assert!(!reason.is_empty()),
        Ok(other) => assert_ne!(other, body),
        Err(other) => panic!("unexpected {other:?}"),
    }

    let mut trailing = compressed.clone();
    trailing.extend_from_slice(b"junk");
    assert_eq!(
        invalid_reason(
            decompress_slice(Encoding::AsapZstd, &trailing, DEFAULT_MAX_REQUEST_SIZE).await
        ),
        "unexpected data after the end of the zstd frame"
    );
    let twice = [compressed.clone(), compressed].concat();
    assert_eq!(
        invalid_reason(
            decompress_slice(Encoding::AsapZstd, &twice, DEFAULT_MAX_REQUEST_SIZE).await
        ),
        "unexpected data after the end of the zstd frame"
    );
}

#[test]
fn only_peers_that_name_it_get_it() {
    assert_eq!(
        Encoding::from_content_encoding(" ASAP-Zstd-V1 ").unwrap(),
        Encoding::AsapZstd
    );
    // Not offered to every peer, not in the 415 list.
    assert!(!supported_encodings().contains(&Encoding::AsapZstd));
    assert_eq!(peer_encodings()[0], Encoding::AsapZstd);
    let err = Encoding::from_content_encoding("zstd").unwrap_err();
    assert!(!err.to_string().contains("asap-zstd-v1"), "{err}");

    // `*` does not select it; naming it does, and it wins ties.
    assert_eq!(AcceptEncoding::parse("*").quality(Encoding::AsapZstd), 0);
    assert_ne!(negotiate("*", peer_encodings()), Encoding::AsapZstd);
    assert_eq!(
        negotiate("asap-zstd-v1, br, gzip, identity", peer_encodings()),
        Encoding::AsapZstd
    );
    assert_eq!(
        negotiate("asap-zstd-v1;q=0.5, br", peer_encodings()),
        Encoding::Brotli
    );
    assert_eq!(
        negotiate("asap-zstd-v1", supported_encodings()),
        Encoding::Identity
    );
}
