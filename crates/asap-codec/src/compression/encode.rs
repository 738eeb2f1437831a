//! Compression of bodies and the client's "compress or not" policy (spec §12.4).

use std::io;

#[cfg(any(feature = "gzip", feature = "br"))]
use async_compression::Level;
#[cfg(feature = "br")]
use async_compression::tokio::bufread::BrotliEncoder;
#[cfg(feature = "gzip")]
use async_compression::tokio::bufread::GzipEncoder;
#[cfg(any(feature = "gzip", feature = "br"))]
use tokio::io::{AsyncRead, AsyncReadExt};

#[cfg(any(feature = "gzip", feature = "br"))]
use super::coop::Budget;
use super::encoding::Encoding;
#[cfg(not(all(feature = "gzip", feature = "br", feature = "zstd")))]
use super::encoding::UnsupportedEncoding;

/// Bodies smaller than this many bytes are sent uncompressed (spec §12.1/§12.4: 1024).
pub const DEFAULT_COMPRESSION_THRESHOLD: usize = 1024;

/// The gzip level used by [`compress`]: 6, zlib's default and the reference client's level.
///
/// Levels above 6 cost much more CPU for a few percent on JSON; below it the ratio drops
/// noticeably.
pub const GZIP_LEVEL: u32 = 6;

/// The brotli quality used by [`compress`]: 4, as in the reference client.
///
/// Quality 4 compresses JSON request bodies about as fast as gzip level 6 while producing
/// smaller output; the default quality 11 is one to two orders of magnitude slower and meant
/// for static assets, not per-request bodies.
pub const BROTLI_QUALITY: u32 = 4;

/// Whether a body of `len` bytes should be compressed: `len >= threshold` (spec §12.4).
///
/// ```
/// use asap_codec::compression::{should_compress, DEFAULT_COMPRESSION_THRESHOLD};
///
/// assert!(!should_compress(1023, DEFAULT_COMPRESSION_THRESHOLD));
/// assert!(should_compress(1024, DEFAULT_COMPRESSION_THRESHOLD));
/// ```
pub const fn should_compress(len: usize, threshold: usize) -> bool {
    len >= threshold
}

/// Compresses `data` with `encoding` ([`GZIP_LEVEL`], [`BROTLI_QUALITY`], and for
/// [`Encoding::AsapZstd`] `ZSTD_LEVEL` with the ASAP dictionary).
///
/// [`Encoding::Identity`] returns a copy of `data`. An encoding whose crate feature is off
/// fails with [`io::ErrorKind::Unsupported`] wrapping an
/// [`UnsupportedEncoding`](super::UnsupportedEncoding). The
/// compressor yields to the executor once per MiB of output.
///
/// # Example
///
/// ```
/// use asap_codec::compression::{compress, decompress_slice, Encoding};
///
/// # #[cfg(not(all(feature = "gzip", feature = "br")))]
/// # fn main() {}
/// # #[cfg(all(feature = "gzip", feature = "br"))]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let body = br#"{"jsonrpc":"2.0","method":"asap.send","params":{}}"#.repeat(50);
/// let gzipped = compress(Encoding::Gzip, &body).await?;
/// assert!(gzipped.len() < body.len());
/// assert_eq!(decompress_slice(Encoding::Gzip, &gzipped, body.len()).await?, body);
/// # Ok(())
/// # }
/// ```
pub async fn compress(encoding: Encoding, data: &[u8]) -> io::Result<Vec<u8>> {
    match encoding {
        Encoding::Identity => Ok(data.to_vec()),
        #[cfg(feature = "gzip")]
        Encoding::Gzip => {
            let level = Level::Precise(GZIP_LEVEL as i32);
            read_all(GzipEncoder::with_quality(data, level), data.len()).await
        }
        #[cfg(feature = "br")]
        Encoding::Brotli => {
            let quality = Level::Precise(BROTLI_QUALITY as i32);
            read_all(BrotliEncoder::with_quality(data, quality), data.len()).await
        }
        #[cfg(feature = "zstd")]
        Encoding::AsapZstd => super::zstd::compress(data).await,
        #[cfg(not(all(feature = "gzip", feature = "br", feature = "zstd")))]
        _ => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            UnsupportedEncoding::new(encoding.as_str()),
        )),
    }
}

/// Reads an encoder to its end.
#[cfg(any(feature = "gzip", feature = "br"))]
async fn read_all<E>(mut encoder: E, input_len: usize) -> io::Result<Vec<u8>>
where
    E: AsyncRead + Unpin,
{
    const CHUNK: usize = 8 * 1024;
    let mut out = Vec::with_capacity(input_len / 4 + 64);
    let mut budget = Budget::default();
    loop {
        if out.capacity() - out.len() < CHUNK / 2 {
            out.reserve(CHUNK);
        }
        let n = encoder.read_buf(&mut out).await?;
        if n == 0 {
            return Ok(out);
        }
        budget.spend(n).await;
    }
}

/// The client's request-compression policy (spec §12.4): compress bodies of at least
/// [`threshold`](Self::threshold) bytes with [`encoding`](Self::encoding), and keep the result
/// only if it is smaller.
///
/// The default uses brotli when the `br` feature is on, else gzip (else no compression), with
/// a threshold of [`DEFAULT_COMPRESSION_THRESHOLD`] bytes — the reference client's behaviour.
///
/// # Example
///
/// ```
/// use asap_codec::compression::{Compression, Encoding};
///
/// # #[cfg(not(all(feature = "gzip", feature = "br")))]
/// # fn main() {}
/// # #[cfg(all(feature = "gzip", feature = "br"))]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let policy = Compression::default().with_encoding(Encoding::Gzip);
///
/// // Small bodies are sent as they are.
/// assert_eq!(policy.compress_body(b"{}").await?, None);
///
/// let body = br#"{"jsonrpc":"2.0","method":"asap.send"}"#.repeat(100);
/// let (encoding, compressed) = policy.compress_body(&body).await?.expect("compressible");
/// assert_eq!(encoding, Encoding::Gzip); // goes into `Content-Encoding`
/// assert!(compressed.len() < body.len());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    encoding: Encoding,
    threshold: usize,
}

impl Default for Compression {
    fn default() -> Self {
        Self::new()
    }
}

impl Compression {
    /// The default policy (see the type documentation).
    pub const fn new() -> Self {
        let encoding = if cfg!(feature = "br") {
            Encoding::Brotli
        } else if cfg!(feature = "gzip") {
            Encoding::Gzip
        } else {
            Encoding::Identity
        };
        Self {
            encoding,
            threshold: DEFAULT_COMPRESSION_THRESHOLD,
        }
    }

    /// A policy that never compresses.
    pub const fn disabled() -> Self {
        Self {
            encoding: Encoding::Identity,
            threshold: DEFAULT_COMPRESSION_THRESHOLD,
        }
    }

    /// Uses `encoding` for bodies at or above the threshold ([`Encoding::Identity`] disables
    /// compression).
    pub const fn with_encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Compresses only bodies of at least `threshold` bytes.
    pub const fn with_threshold(mut self, threshold: usize) -> Self {
        self.threshold = threshold;
        self
    }

    /// The encoding used for large enough bodies.
    pub const fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The minimum body size that gets compressed.
    pub const fn threshold(&self) -> usize {
        self.threshold
    }

    /// Whether a body of `len` bytes is worth trying to compress: the encoding is not identity
    /// and `len >= threshold`.
    pub const fn should_compress(&self, len: usize) -> bool {
        !self.encoding.is_identity() && should_compress(len, self.threshold)
    }

    /// Applies the policy to `body`.
    ///
    /// Returns `Some((encoding, compressed))` when the body was compressed and the result is
    /// strictly smaller; `None` when the body should be sent as it is (below the threshold,
    /// identity policy, or incompressible). Errors only if the encoding is not compiled in.
    pub async fn compress_body(&self, body: &[u8]) -> io::Result<Option<(Encoding, Vec<u8>)>> {
        if !self.should_compress(body.len()) {
            return Ok(None);
        }
        let compressed = compress(self.encoding, body).await?;
        Ok((compressed.len() < body.len()).then_some((self.encoding, compressed)))
    }
}
