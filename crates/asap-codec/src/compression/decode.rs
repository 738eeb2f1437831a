//! Size-limited streaming decompression (spec §10.3, check 3).
//!
//! The reference server inflates the whole body in memory and only then compares its size with
//! the maximum; here the output is capped while decoding.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

#[cfg(feature = "br")]
use async_compression::tokio::bufread::BrotliDecoder;
#[cfg(feature = "gzip")]
use async_compression::tokio::bufread::GzipDecoder;
#[cfg(any(feature = "gzip", feature = "br", feature = "zstd"))]
use tokio::io::AsyncBufReadExt;
use tokio::io::{AsyncBufRead, AsyncRead, AsyncReadExt, ReadBuf};

use super::coop::Budget;
use super::encoding::{Encoding, UnsupportedEncoding};

/// The default maximum request size, 10 MiB (spec §10.3, `ASAP_MAX_REQUEST_SIZE`).
///
/// The same maximum applies to the received (compressed) body and to the decompressed body; a
/// body of exactly this size is allowed.
pub const DEFAULT_MAX_REQUEST_SIZE: usize = 10 * 1024 * 1024;

/// Initial output capacity when nothing better is known.
const INITIAL_CAPACITY: usize = 8 * 1024;

/// Upper bound of the initial capacity guessed from a compressed slice's length.
const MAX_INITIAL_CAPACITY: usize = 1024 * 1024;

/// Smallest growth step of the output buffer.
const MIN_GROWTH: usize = 8 * 1024;

/// Why a body could not be decompressed.
///
/// The `Display` strings are the `detail` texts of the reference server's HTTP errors
/// (spec §10.3): [`TooLarge`](Self::TooLarge) → 413, [`Invalid`](Self::Invalid) → 400,
/// [`Unsupported`](Self::Unsupported) → 415.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum DecompressError {
    /// The decompressed body is larger than the limit.
    ///
    /// Decoding stops at the first byte past the limit, so the real decompressed size is never
    /// computed: `produced` is the number of bytes seen when decoding stopped — always greater
    /// than `limit`, and a lower bound of the real size (`limit + 1` for streamed bodies; for
    /// an identity [`decompress_slice`] it is the slice length). The message keeps the
    /// reference format `Decompressed request size (<n> bytes) exceeds maximum (<max> bytes)`.
    #[error("Decompressed request size ({produced} bytes) exceeds maximum ({limit} bytes)")]
    TooLarge {
        /// Bytes produced before decoding stopped (`> limit`).
        produced: usize,
        /// The maximum that was exceeded.
        limit: usize,
    },

    /// The body is not valid data for its encoding: corrupt or truncated gzip/brotli/zstd, a
    /// bad CRC, a zstd frame made with another dictionary, or bytes after the end of the
    /// compressed data (see [`decompress_limited`] for the exact trailing-data rules).
    #[error("Invalid compressed data: {reason}")]
    Invalid {
        /// The decoder's description of the problem.
        reason: String,
    },

    /// The encoding is not compiled into this build (its crate feature is off).
    #[error(transparent)]
    Unsupported(#[from] UnsupportedEncoding),

    /// Reading the body itself failed (the error comes from the reader, not from the decoder).
    ///
    /// A caller that limits the compressed size with its own reader can recover its error from
    /// here.
    #[error("failed to read the body")]
    Io(#[source] io::Error),
}

/// Decompresses `reader` according to `encoding`, refusing to produce more than `limit` bytes.
///
/// The body is decoded in chunks straight into the returned buffer, whose capacity grows
/// geometrically but never beyond `limit + 1` bytes: as soon as the output would exceed `limit`
/// decoding stops with [`DecompressError::TooLarge`], without reading the rest of the input.
/// Exactly `limit` bytes are allowed (spec §10.3: only "strictly greater than max" is
/// rejected). [`Encoding::Identity`] copies the bytes through with the same limit.
///
/// Memory use is therefore bounded by `limit + 1` bytes of output plus the decoder's state:
/// about 32 KiB for gzip, for brotli a ring buffer sized from the stream's window and
/// metablock headers, at most 16 MiB (briefly 1.5× that while it grows), and for zstd a
/// window of at most 8 MiB plus the dictionary, which is shared by the whole process.
///
/// Decoding rules, chosen to match the reference server (Python `gzip.decompress` /
/// `brotli.decompress`):
///
/// * **gzip**: every member of a multi-member stream is decoded and concatenated; zero bytes
///   after a member (padding) are skipped; any other trailing bytes must form a valid member,
///   so trailing garbage is [`DecompressError::Invalid`]. An empty body decodes to an empty
///   body.
/// * **brotli**: exactly one standard (RFC 7932) stream; bytes after its end, an empty body
///   and large-window streams are [`DecompressError::Invalid`].
/// * **`asap-zstd-v1`** (feature `zstd`): exactly one zstd frame whose header names the ASAP
///   dictionary (`ASAP_ZSTD_DICTIONARY_ID`); another
///   dictionary id, no dictionary id, skippable or legacy frames, bytes after the frame, an
///   empty body and windows above 2^`ZSTD_WINDOW_LOG_MAX`
///   bytes are [`DecompressError::Invalid`].
///
/// Errors of `reader` itself are reported as [`DecompressError::Io`]. Pass `&mut reader` to
/// keep the reader (e.g. to see how much input was left unread after an error).
///
/// Decoding is CPU-bound: the decoder yields to the executor once per MiB of output (and every
/// 128 gzip members) so that a large body does not monopolise a worker thread. Its total cost
/// is bounded by the compressed size and the limit; the worst case is a body made of many tiny
/// gzip members (on the order of 0.1 s of CPU per MiB of input in a release build), so the
/// compressed size should be capped too (spec §10.3, check 2).
///
/// # Example
///
/// ```
/// use asap_codec::compression::{compress, decompress_limited, DecompressError, Encoding};
///
/// # #[cfg(not(all(feature = "gzip", feature = "br")))]
/// # fn main() {}
/// # #[cfg(all(feature = "gzip", feature = "br"))]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let body = br#"{"jsonrpc":"2.0","method":"asap.send"}"#.repeat(100);
/// let gzipped = compress(Encoding::Gzip, &body).await?;
///
/// // `&[u8]` is an `AsyncBufRead`; so is `tokio::io::BufReader` around any `AsyncRead`.
/// let inflated = decompress_limited(Encoding::Gzip, &gzipped[..], body.len()).await?;
/// assert_eq!(inflated, body);
///
/// let err = decompress_limited(Encoding::Gzip, &gzipped[..], body.len() - 1)
///     .await
///     .unwrap_err();
/// assert!(matches!(err, DecompressError::TooLarge { .. }));
/// # Ok(())
/// # }
/// ```
pub async fn decompress_limited<R>(
    encoding: Encoding,
    reader: R,
    limit: usize,
) -> Result<Vec<u8>, DecompressError>
where
    R: AsyncBufRead + Unpin,
{
    decode(encoding, reader, limit, INITIAL_CAPACITY).await
}

/// Decompresses an in-memory body; same rules and errors as [`decompress_limited`].
///
/// For [`Encoding::Identity`] the slice is checked against `limit` and copied.
///
/// # Example
///
/// ```
/// use asap_codec::compression::{
///     compress, decompress_slice, DecompressError, Encoding, DEFAULT_MAX_REQUEST_SIZE,
/// };
///
/// # #[cfg(not(all(feature = "gzip", feature = "br")))]
/// # fn main() {}
/// # #[cfg(all(feature = "gzip", feature = "br"))]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let body = br#"{"jsonrpc":"2.0","method":"asap.send"}"#;
/// let compressed = compress(Encoding::Brotli, body).await?;
/// let inflated = decompress_slice(Encoding::Brotli, &compressed, DEFAULT_MAX_REQUEST_SIZE).await?;
/// assert_eq!(inflated, body);
///
/// let err = decompress_slice(Encoding::Gzip, b"not gzip", 1024).await.unwrap_err();
/// assert!(matches!(err, DecompressError::Invalid { .. }));
/// assert!(err.to_string().starts_with("Invalid compressed data: "));
/// # Ok(())
/// # }
/// ```
pub async fn decompress_slice(
    encoding: Encoding,
    data: &[u8],
    limit: usize,
) -> Result<Vec<u8>, DecompressError> {
    if encoding.is_identity() {
        if data.len() > limit {
            return Err(DecompressError::TooLarge {
                produced: data.len(),
                limit,
            });
        }
        return Ok(data.to_vec());
    }
    let hint = data
        .len()
        .saturating_mul(4)
        .clamp(INITIAL_CAPACITY, MAX_INITIAL_CAPACITY);
    decode(encoding, data, limit, hint).await
}

async fn decode<R>(
    encoding: Encoding,
    reader: R,
    limit: usize,
    capacity_hint: usize,
) -> Result<Vec<u8>, DecompressError>
where
    R: AsyncBufRead + Unpin,
{
    let mut source = Source::new(reader);
    let mut out = Output::new(limit, capacity_hint);
    match encoding {
        Encoding::Identity => {
            let result = out.fill(&mut source).await;
            result.map_err(|stop| out.error(stop, &source))?;
        }
        #[cfg(feature = "gzip")]
        Encoding::Gzip => gunzip(&mut source, &mut out).await?,
        #[cfg(feature = "br")]
        Encoding::Brotli => unbrotli(&mut source, &mut out).await?,
        #[cfg(feature = "zstd")]
        Encoding::AsapZstd => super::zstd::decompress(&mut source, &mut out).await?,
        #[cfg(not(all(feature = "gzip", feature = "br", feature = "zstd")))]
        _ => return Err(UnsupportedEncoding::new(encoding.as_str()).into()),
    }
    Ok(out.buf)
}

/// What starting a gzip member costs, in output bytes of the yield [`Budget`]: setting up an
/// inflate state costs about as much as inflating a few KiB, so a body made of many tiny
/// members still yields regularly.
#[cfg(feature = "gzip")]
const GZIP_MEMBER_WORK: usize = 8 * 1024;

/// Decodes all gzip members of `source`, skipping zero padding between and after them.
#[cfg(feature = "gzip")]
async fn gunzip<R>(source: &mut Source<R>, out: &mut Output) -> Result<(), DecompressError>
where
    R: AsyncBufRead + Unpin,
{
    if at_end(source).await? {
        return Ok(());
    }
    loop {
        let result = {
            let mut member = GzipDecoder::new(&mut *source);
            out.fill(&mut member).await
        };
        result.map_err(|stop| out.error(stop, source))?;
        out.budget.spend(GZIP_MEMBER_WORK).await;
        loop {
            let buf = source.fill_buf().await.map_err(DecompressError::Io)?;
            if buf.is_empty() {
                return Ok(());
            }
            let zeros = buf.iter().take_while(|&&byte| byte == 0).count();
            if zeros == 0 {
                break;
            }
            source.consume(zeros);
        }
    }
}

/// The low 7 bits of the first byte of a "large-window brotli" stream (window up to 1 GiB, not
/// part of RFC 7932).
#[cfg(feature = "br")]
const LARGE_WINDOW_SIGNATURE: u8 = 0x11;

/// Decodes exactly one standard brotli stream and rejects anything after it.
///
/// The decoder underneath also accepts large-window streams; they are refused up front, as the
/// reference's `brotli.decompress` does, which keeps its window at 16 MiB or less.
#[cfg(feature = "br")]
async fn unbrotli<R>(source: &mut Source<R>, out: &mut Output) -> Result<(), DecompressError>
where
    R: AsyncBufRead + Unpin,
{
    let first = source
        .fill_buf()
        .await
        .map_err(DecompressError::Io)?
        .first()
        .copied();
    if first.is_some_and(|byte| byte & 0x7f == LARGE_WINDOW_SIGNATURE) {
        return Err(DecompressError::Invalid {
            reason: "large-window brotli streams are not supported".to_owned(),
        });
    }
    let result = {
        let mut stream = BrotliDecoder::new(&mut *source);
        out.fill(&mut stream).await
    };
    result.map_err(|stop| out.error(stop, source))?;
    if at_end(source).await? {
        Ok(())
    } else {
        Err(DecompressError::Invalid {
            reason: "unexpected data after the end of the brotli stream".to_owned(),
        })
    }
}

/// Whether `source` has no more bytes.
#[cfg(any(feature = "gzip", feature = "br", feature = "zstd"))]
pub(super) async fn at_end<R>(source: &mut Source<R>) -> Result<bool, DecompressError>
where
    R: AsyncBufRead + Unpin,
{
    let buf = source.fill_buf().await.map_err(DecompressError::Io)?;
    Ok(buf.is_empty())
}

/// Why [`Output::fill`] stopped early.
#[derive(Debug)]
enum Stop {
    /// More than `limit` bytes were produced.
    Overflow,
    /// The reader (decoder or source) failed.
    Read(io::Error),
}

/// The size-capped output buffer.
#[derive(Debug)]
pub(super) struct Output {
    pub(super) buf: Vec<u8>,
    pub(super) limit: usize,
    /// `limit + 1`: the most bytes ever stored, enough to know the limit was exceeded.
    max_len: usize,
    pub(super) budget: Budget,
}

impl Output {
    fn new(limit: usize, capacity_hint: usize) -> Self {
        let max_len = limit.saturating_add(1);
        Self {
            buf: Vec::with_capacity(capacity_hint.min(max_len)),
            limit,
            max_len,
            budget: Budget::default(),
        }
    }

    /// Reads `reader` to its end, stopping with [`Stop::Overflow`] past the limit.
    async fn fill<D>(&mut self, reader: &mut D) -> Result<(), Stop>
    where
        D: AsyncRead + Unpin,
    {
        loop {
            let allowed = self.max_len - self.buf.len();
            if allowed == 0 {
                return Err(Stop::Overflow);
            }
            self.reserve();
            let n = (&mut *reader)
                .take(u64::try_from(allowed).unwrap_or(u64::MAX))
                .read_buf(&mut self.buf)
                .await
                .map_err(Stop::Read)?;
            if n == 0 {
                return Ok(());
            }
            if self.buf.len() > self.limit {
                return Err(Stop::Overflow);
            }
            self.budget.spend(n).await;
        }
    }

    /// Makes room for more output: doubles the capacity (at least [`MIN_GROWTH`] more) but
    /// never beyond `max_len`.
    fn reserve(&mut self) {
        let len = self.buf.len();
        let capacity = self.buf.capacity();
        if len < capacity {
            return;
        }
        let target = capacity
            .saturating_mul(2)
            .max(len.saturating_add(MIN_GROWTH))
            .min(self.max_len);
        self.buf.reserve_exact(target - len);
    }

    /// Makes room for more output like [`reserve`](Self::reserve); `false` when the buffer
    /// already holds `limit + 1` bytes.
    #[cfg(feature = "zstd")]
    pub(super) fn reserve_within_limit(&mut self) -> bool {
        if self.buf.len() >= self.max_len {
            return false;
        }
        self.reserve();
        true
    }

    /// The error for output past the limit.
    #[cfg(feature = "zstd")]
    pub(super) fn too_large(&self) -> DecompressError {
        DecompressError::TooLarge {
            produced: self.buf.len(),
            limit: self.limit,
        }
    }

    fn error<R>(&self, stop: Stop, source: &Source<R>) -> DecompressError {
        match stop {
            Stop::Overflow => DecompressError::TooLarge {
                produced: self.buf.len(),
                limit: self.limit,
            },
            Stop::Read(error) if source.failed => DecompressError::Io(error),
            Stop::Read(error) => DecompressError::Invalid {
                reason: error.to_string(),
            },
        }
    }
}

/// Wraps the caller's reader and remembers whether it failed, so that an error surfacing from a
/// decoder can be told apart (reader failure vs. corrupt data).
#[derive(Debug)]
pub(super) struct Source<R> {
    inner: R,
    pub(super) failed: bool,
}

impl<R> Source<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            failed: false,
        }
    }
}

impl<R: AsyncBufRead + Unpin> AsyncRead for Source<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Err(_))) {
            this.failed = true;
        }
        poll
    }
}

impl<R: AsyncBufRead + Unpin> AsyncBufRead for Source<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_fill_buf(cx) {
            Poll::Ready(Err(error)) => {
                this.failed = true;
                Poll::Ready(Err(error))
            }
            poll => poll,
        }
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut self.get_mut().inner).consume(amt);
    }
}
