//! HTTP body compression for ASAP (spec §10.2, §10.3, §12.4).
//!
//! * [`Encoding`] — the `Content-Encoding` codings (`identity`, `gzip`, `br`) and the
//!   reference server's header parsing, with the exact 415 message in
//!   [`UnsupportedEncoding`].
//! * [`decompress_limited`] / [`decompress_slice`] — streaming decompression that stops as
//!   soon as the output exceeds a limit ([`DEFAULT_MAX_REQUEST_SIZE`] on the server), so a
//!   decompression bomb never allocates its inflated size; errors in [`DecompressError`]
//!   carry the reference 413 / 400 messages.
//! * [`compress`] and the client policy [`Compression`] — compress bodies of at least
//!   [`DEFAULT_COMPRESSION_THRESHOLD`] bytes with brotli (quality [`BROTLI_QUALITY`]) or gzip
//!   (level [`GZIP_LEVEL`]), keeping the result only when smaller.
//! * [`negotiate`] / [`AcceptEncoding`] — RFC 9110 `Accept-Encoding` negotiation for servers
//!   that compress responses (the reference never does), and [`accept_encoding_header`] for
//!   clients.
//! * `asap-zstd-v1` ([`Encoding::AsapZstd`], feature `zstd`) — zstd with the ASAP envelope
//!   dictionary shipped in this crate (`ASAP_ZSTD_DICTIONARY_ID`), for asap-rs peers only:
//!   [`peer_encodings`] lists it, [`supported_encodings`] and the 415 message do not; a
//!   server tells such a client it decodes it with [`advertised_request_encodings`]
//!   (`docs/adr/0003-zstd-dictionary-coding.md`).
//!
//! gzip and brotli need the crate features `gzip` and `br` (both default), `asap-zstd-v1` the
//! feature `zstd` (off by default: it builds the zstd C library). Without a feature the
//! matching [`Encoding`] variant still exists but is rejected like an unknown coding.
//!
//! # Example: a server reading a request body
//!
//! ```
//! use asap_codec::compression::{
//!     compress, decompress_slice, DecompressError, Encoding, DEFAULT_MAX_REQUEST_SIZE,
//! };
//!
//! /// What the server answers: a parsed body, or an HTTP status and `detail` text.
//! async fn read_body(content_encoding: &str, body: &[u8]) -> Result<Vec<u8>, (u16, String)> {
//!     let encoding = Encoding::from_content_encoding(content_encoding)
//!         .map_err(|unsupported| (415, unsupported.to_string()))?;
//!     decompress_slice(encoding, body, DEFAULT_MAX_REQUEST_SIZE)
//!         .await
//!         .map_err(|err| match err {
//!             DecompressError::TooLarge { .. } => (413, err.to_string()),
//!             other => (400, other.to_string()),
//!         })
//! }
//!
//! # #[cfg(not(all(feature = "gzip", feature = "br")))]
//! # fn main() {}
//! # #[cfg(all(feature = "gzip", feature = "br"))]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let json = br#"{"jsonrpc":"2.0","method":"asap.send","params":{},"id":"req-1"}"#;
//! let gzipped = compress(Encoding::Gzip, json).await?;
//! assert_eq!(read_body("gzip", &gzipped).await.unwrap(), json);
//! assert_eq!(read_body("", json).await.unwrap(), json);
//! assert_eq!(
//!     read_body("deflate", json).await.unwrap_err(),
//!     (415, "Unsupported Content-Encoding: deflate. Supported: br, gzip".to_owned())
//! );
//! assert_eq!(read_body("br", b"garbage").await.unwrap_err().0, 400);
//! # Ok(())
//! # }
//! ```

mod coop;
mod decode;
mod encode;
mod encoding;
mod negotiate;
#[cfg(feature = "zstd")]
mod zstd;

pub use decode::{DEFAULT_MAX_REQUEST_SIZE, DecompressError, decompress_limited, decompress_slice};
pub use encode::{
    BROTLI_QUALITY, Compression, DEFAULT_COMPRESSION_THRESHOLD, GZIP_LEVEL, compress,
    should_compress,
};
pub use encoding::{Encoding, UnsupportedEncoding, peer_encodings, supported_encodings};
pub use negotiate::{
    AcceptEncoding, accept_encoding_header, advertised_request_encodings, negotiate,
};
#[cfg(feature = "zstd")]
pub use zstd::{ASAP_ZSTD_DICTIONARY_ID, ZSTD_LEVEL, ZSTD_WINDOW_LOG_MAX, asap_zstd_dictionary};
