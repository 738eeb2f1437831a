//! Behaviour with the `gzip` / `br` features switched off (run with
//! `--no-default-features [--features gzip|br]`); with the defaults only the identity checks run.

use asap_codec::compression::{Encoding, compress, decompress_slice};

/// What a disabled encoding must do everywhere: 415 on parsing, errors on (de)compression.
#[cfg(not(all(feature = "gzip", feature = "br")))]
async fn assert_disabled(encoding: Encoding) {
    use asap_codec::compression::{DecompressError, supported_encodings};

    assert!(!encoding.is_supported());
    assert!(!supported_encodings().contains(&encoding));

    let err = Encoding::from_content_encoding(encoding.as_str()).unwrap_err();
    assert_eq!(err.encoding(), encoding.as_str());
    let supported: Vec<&str> = supported_encodings().iter().map(|e| e.as_str()).collect();
    let list = if supported.is_empty() {
        "none".to_owned()
    } else {
        supported.join(", ")
    };
    assert_eq!(
        err.to_string(),
        format!(
            "Unsupported Content-Encoding: {}. Supported: {list}",
            encoding.as_str()
        )
    );

    match decompress_slice(encoding, b"data", 100).await {
        Err(DecompressError::Unsupported(err)) => assert_eq!(err.encoding(), encoding.as_str()),
        other => panic!("expected Unsupported, got {other:?}"),
    }
    let err = compress(encoding, b"data").await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
}

#[tokio::test]
async fn identity_always_works() {
    assert!(Encoding::Identity.is_supported());
    assert_eq!(
        decompress_slice(Encoding::Identity, b"data", 4)
            .await
            .unwrap(),
        b"data"
    );
    assert_eq!(
        compress(Encoding::Identity, b"data").await.unwrap(),
        b"data"
    );
}

#[cfg(not(feature = "zstd"))]
#[tokio::test]
async fn asap_zstd_disabled() {
    // Without the feature the coding is an unknown one: 415 with the usual `Supported:` list.
    let err = Encoding::from_content_encoding("asap-zstd-v1").unwrap_err();
    assert_eq!(err.encoding(), "asap-zstd-v1");
    assert!(!Encoding::AsapZstd.is_supported());
    #[cfg(all(feature = "gzip", feature = "br"))]
    assert_eq!(
        err.to_string(),
        "Unsupported Content-Encoding: asap-zstd-v1. Supported: br, gzip"
    );
    assert!(!asap_codec::compression::peer_encodings().contains(&Encoding::AsapZstd));
    assert!(
        decompress_slice(Encoding::AsapZstd, b"data", 100)
            .await
            .is_err()
    );
    assert!(compress(Encoding::AsapZstd, b"data").await.is_err());
}

#[cfg(not(feature = "gzip"))]
#[tokio::test]
async fn gzip_disabled() {
    assert_disabled(Encoding::Gzip).await;
}

#[cfg(not(feature = "br"))]
#[tokio::test]
async fn brotli_disabled() {
    assert_disabled(Encoding::Brotli).await;
}

#[cfg(all(feature = "gzip", not(feature = "br")))]
#[test]
fn without_brotli_the_415_lists_gzip_only() {
    assert_eq!(
        Encoding::from_content_encoding("br")
            .unwrap_err()
            .to_string(),
        "Unsupported Content-Encoding: br. Supported: gzip"
    );
    assert_eq!(
        asap_codec::compression::accept_encoding_header(),
        "gzip, identity"
    );
    assert_eq!(
        asap_codec::compression::Compression::default().encoding(),
        Encoding::Gzip
    );
}

#[cfg(feature = "gzip")]
#[tokio::test]
async fn gzip_enabled() {
    assert!(Encoding::Gzip.is_supported());
    let compressed = compress(Encoding::Gzip, b"data").await.unwrap();
    assert_eq!(
        decompress_slice(Encoding::Gzip, &compressed, 4)
            .await
            .unwrap(),
        b"data"
    );
}

#[cfg(feature = "br")]
#[tokio::test]
async fn brotli_enabled() {
    assert!(Encoding::Brotli.is_supported());
    let compressed = compress(Encoding::Brotli, b"data").await.unwrap();
    assert_eq!(
        decompress_slice(Encoding::Brotli, &compressed, 4)
            .await
            .unwrap(),
        b"data"
    );
}
