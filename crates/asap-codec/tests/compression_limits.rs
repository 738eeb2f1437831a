//! Size-limited decompression (spec §10.3): limits, bombs, corrupt and trailing data, reader
//! errors.
#![cfg(all(feature = "gzip", feature = "br"))]

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use asap_codec::compression::{
    DEFAULT_MAX_REQUEST_SIZE, DecompressError, Encoding, compress, decompress_limited,
    decompress_slice,
};
use async_compression::Level;
use async_compression::tokio::bufread::{BrotliEncoder, GzipEncoder};
use proptest::prelude::*;
use tokio::io::{AsyncBufRead, AsyncRead, AsyncReadExt, BufReader, ReadBuf};
use tokio::runtime::Runtime;

const MIB: usize = 1024 * 1024;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

/// An `AsyncBufRead` that hands out `data` in the given chunk sizes (cycling), returns
/// `Pending` before every other chunk, and optionally fails once the data is exhausted.
struct ChunkedReader {
    data: Vec<u8>,
    pos: usize,
    chunks: Vec<usize>,
    next_chunk: usize,
    available: usize,
    pending: bool,
    fail_at_end: bool,
}

impl ChunkedReader {
    fn new(data: Vec<u8>, chunks: Vec<usize>) -> Self {
        Self {
            data,
            pos: 0,
            chunks,
            next_chunk: 0,
            available: 0,
            pending: false,
            fail_at_end: false,
        }
    }

    fn failing_at_end(mut self) -> Self {
        self.fail_at_end = true;
        self
    }
}

impl AsyncRead for ChunkedReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let chunk = match self.as_mut().poll_fill_buf(cx) {
            Poll::Ready(Ok(chunk)) => chunk,
            Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
            Poll::Pending => return Poll::Pending,
        };
        let n = chunk.len().min(buf.remaining());
        buf.put_slice(&chunk[..n]);
        self.consume(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for ChunkedReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.available == 0 {
            if this.pos == this.data.len() {
                if this.fail_at_end {
                    return Poll::Ready(Err(io::Error::other("connection reset")));
                }
                return Poll::Ready(Ok(&[]));
            }
            this.pending = !this.pending;
            if this.pending {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let size = this.chunks[this.next_chunk % this.chunks.len()].max(1);
            this.next_chunk += 1;
            this.available = size.min(this.data.len() - this.pos);
        }
        Poll::Ready(Ok(&this.data[this.pos..this.pos + this.available]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        assert!(amt <= this.available);
        this.available -= amt;
        this.pos += amt;
    }
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop::sample::select(vec![Encoding::Identity, Encoding::Gzip, Encoding::Brotli])
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        (prop::collection::vec(any::<u8>(), 1..16), 0usize..3000)
            .prop_map(|(pattern, times)| pattern.repeat(times)),
    ]
}

fn assert_too_large(result: Result<Vec<u8>, DecompressError>, limit: usize) -> usize {
    match result {
        Err(DecompressError::TooLarge {
            produced,
            limit: reported,
        }) => {
            assert_eq!(reported, limit);
            assert!(produced > limit);
            produced
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

fn assert_invalid(result: Result<Vec<u8>, DecompressError>) -> String {
    match result {
        Err(error @ DecompressError::Invalid { .. }) => {
            let message = error.to_string();
            assert!(
                message.starts_with("Invalid compressed data: "),
                "{message}"
            );
            message
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

proptest! {
    /// The limit is never exceeded: Ok iff the body fits, TooLarge otherwise, and the output
    /// buffer never grows past `limit + 1` bytes.
    #[test]
    fn limit_is_never_exceeded(
        encoding in encoding(),
        data in body(),
        limit_seed in any::<usize>(),
        chunks in prop::collection::vec(1usize..600, 1..8),
    ) {
        let limit = limit_seed % (data.len() + 64);
        runtime().block_on(async {
            let compressed = compress(encoding, &data).await.unwrap();

            let streamed = decompress_limited(
                encoding,
                ChunkedReader::new(compressed.clone(), chunks),
                limit,
            )
            .await;
            let sliced = decompress_slice(encoding, &compressed, limit).await;

            if data.len() <= limit {
                let streamed = streamed.unwrap();
                prop_assert!(streamed.capacity() <= limit + 1);
                prop_assert_eq!(&streamed, &data);
                prop_assert_eq!(&sliced.unwrap(), &data);
            } else {
                prop_assert_eq!(assert_too_large(streamed, limit), limit + 1);
                assert_too_large(sliced, limit);
            }
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn exactly_the_limit_is_allowed() {
    let data = vec![b'x'; 4096];
    for encoding in [Encoding::Identity, Encoding::Gzip, Encoding::Brotli] {
        let compressed = compress(encoding, &data).await.unwrap();
        let exact = decompress_slice(encoding, &compressed, data.len())
            .await
            .unwrap();
        assert_eq!(exact, data, "{encoding}");
        let streamed = decompress_limited(encoding, &compressed[..], data.len())
            .await
            .unwrap();
        assert_eq!(streamed, data, "{encoding}");

        let over = decompress_limited(encoding, &compressed[..], data.len() - 1).await;
        assert_eq!(
            assert_too_large(over, data.len() - 1),
            data.len(),
            "{encoding}"
        );
    }
}

#[tokio::test]
async fn zero_limit_allows_only_empty_bodies() {
    for encoding in [Encoding::Identity, Encoding::Gzip, Encoding::Brotli] {
        let empty = compress(encoding, b"").await.unwrap();
        assert_eq!(
            decompress_limited(encoding, &empty[..], 0).await.unwrap(),
            b""
        );
        let one = compress(encoding, b"x").await.unwrap();
        let result = decompress_limited(encoding, &one[..], 0).await;
        assert_eq!(assert_too_large(result, 0), 1);
    }
}

#[tokio::test]
async fn too_large_message_uses_the_reference_format() {
    let compressed = compress(Encoding::Gzip, &[0; 100]).await.unwrap();
    let err = decompress_slice(Encoding::Gzip, &compressed, 10)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Decompressed request size (11 bytes) exceeds maximum (10 bytes)"
    );
    let err = decompress_slice(Encoding::Identity, &[0; 100], 10)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Decompressed request size (100 bytes) exceeds maximum (10 bytes)"
    );
}

/// Streams `len` zero bytes through an encoder, so building the bomb stays cheap in memory.
async fn zeros_bomb(encoding: Encoding, len: usize) -> Vec<u8> {
    let zeros = BufReader::with_capacity(64 * 1024, tokio::io::repeat(0).take(len as u64));
    let mut out = Vec::new();
    match encoding {
        Encoding::Gzip => GzipEncoder::with_quality(zeros, Level::Default)
            .read_to_end(&mut out)
            .await
            .unwrap(),
        Encoding::Brotli => BrotliEncoder::with_quality(zeros, Level::Precise(5))
            .read_to_end(&mut out)
            .await
            .unwrap(),
        _ => unreachable!(),
    };
    out
}

#[tokio::test]
async fn decompression_bomb_is_stopped_early() {
    for (encoding, inflated) in [(Encoding::Gzip, 64 * MIB), (Encoding::Brotli, 64 * MIB)] {
        let bomb = zeros_bomb(encoding, inflated).await;
        assert!(bomb.len() < 100 * 1024, "{encoding}: {} bytes", bomb.len());

        let mut input = &bomb[..];
        let started = Instant::now();
        let result = decompress_limited(encoding, &mut input, DEFAULT_MAX_REQUEST_SIZE).await;
        let elapsed = started.elapsed();

        assert_eq!(
            assert_too_large(result, DEFAULT_MAX_REQUEST_SIZE),
            DEFAULT_MAX_REQUEST_SIZE + 1
        );
        // Decoding stopped well before the end of the compressed input. (Brotli packs 64 MiB
        // of zeros into a few dozen bytes, so only "not everything was read" is meaningful.)
        let min_left = if encoding == Encoding::Gzip {
            bomb.len() / 2
        } else {
            1
        };
        assert!(
            input.len() >= min_left,
            "{encoding}: only {} of {} compressed bytes left",
            input.len(),
            bomb.len()
        );
        assert!(elapsed < Duration::from_secs(30), "{encoding}: {elapsed:?}");
    }
}

#[tokio::test]
async fn multi_member_gzip_decodes_every_member() {
    let first = compress(Encoding::Gzip, b"{\"a\":").await.unwrap();
    let second = compress(Encoding::Gzip, b"1}").await.unwrap();
    let empty = compress(Encoding::Gzip, b"").await.unwrap();
    let body = [first.clone(), empty, second.clone()].concat();
    assert_eq!(
        decompress_slice(Encoding::Gzip, &body, 100).await.unwrap(),
        b"{\"a\":1}"
    );

    // The limit covers all members together.
    let result = decompress_slice(Encoding::Gzip, &body, 6).await;
    assert_eq!(assert_too_large(result, 6), 7);

    // Many small members of zeros: the limit still stops decoding.
    let member = compress(Encoding::Gzip, &vec![0; MIB]).await.unwrap();
    let members = member.repeat(40);
    let mut input = &members[..];
    let result = decompress_limited(Encoding::Gzip, &mut input, 10 * MIB).await;
    assert_too_large(result, 10 * MIB);
    assert!(input.len() > members.len() / 2);
}

#[tokio::test]
async fn gzip_zero_padding_is_skipped() {
    let member = compress(Encoding::Gzip, b"hello").await.unwrap();
    let padded = [member.clone(), vec![0; 10]].concat();
    assert_eq!(
        decompress_slice(Encoding::Gzip, &padded, 100)
            .await
            .unwrap(),
        b"hello"
    );
    let between = [member.clone(), vec![0; 3], member.clone(), vec![0]].concat();
    assert_eq!(
        decompress_slice(Encoding::Gzip, &between, 100)
            .await
            .unwrap(),
        b"hellohello"
    );
    // Zero bytes before the first member are not padding.
    let leading = [vec![0; 2], member].concat();
    assert_invalid(decompress_slice(Encoding::Gzip, &leading, 100).await);
}

#[tokio::test]
async fn gzip_trailing_garbage_is_invalid() {
    let member = compress(Encoding::Gzip, b"hello").await.unwrap();
    for trailer in [&b"garbage"[..], b"\x1f", b"\x1f\x8b", b"\0\0x"] {
        let body = [member.as_slice(), trailer].concat();
        assert_invalid(decompress_slice(Encoding::Gzip, &body, 100).await);
    }
}

#[tokio::test]
async fn corrupt_gzip_is_invalid() {
    let data = br#"{"jsonrpc":"2.0","method":"asap.send"}"#.repeat(10);
    let good = compress(Encoding::Gzip, &data).await.unwrap();

    assert_invalid(decompress_slice(Encoding::Gzip, b"definitely not gzip", 1000).await);

    // Broken header magic.
    let mut bad_magic = good.clone();
    bad_magic[0] ^= 0xff;
    assert_invalid(decompress_slice(Encoding::Gzip, &bad_magic, 1000).await);

    // Wrong CRC in the trailer.
    let mut bad_crc = good.clone();
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 0x01;
    let message = assert_invalid(decompress_slice(Encoding::Gzip, &bad_crc, 1000).await);
    assert!(message.contains("CRC"), "{message}");

    // Wrong length in the trailer.
    let mut bad_len = good.clone();
    let len_at = bad_len.len() - 4;
    bad_len[len_at] ^= 0x01;
    assert_invalid(decompress_slice(Encoding::Gzip, &bad_len, 1000).await);

    // Truncated anywhere.
    for cut in [1, 5, 10, good.len() / 2, good.len() - 4, good.len() - 1] {
        assert_invalid(decompress_slice(Encoding::Gzip, &good[..cut], 1000).await);
    }
}

#[tokio::test]
async fn empty_gzip_body_is_empty() {
    // Like the reference (`gzip.decompress(b"") == b""`); JSON parsing then rejects it.
    assert_eq!(
        decompress_slice(Encoding::Gzip, b"", 10).await.unwrap(),
        b""
    );
}

#[tokio::test]
async fn corrupt_brotli_is_invalid() {
    let data = br#"{"jsonrpc":"2.0","method":"asap.send"}"#.repeat(10);
    let good = compress(Encoding::Brotli, &data).await.unwrap();

    assert_invalid(decompress_slice(Encoding::Brotli, b"", 1000).await);
    assert_invalid(decompress_slice(Encoding::Brotli, &[0xff; 64], 1000).await);
    for cut in [1, good.len() / 2, good.len() - 1] {
        assert_invalid(decompress_slice(Encoding::Brotli, &good[..cut], 1000).await);
    }
    let trailing = [good.as_slice(), b"x"].concat();
    let message = assert_invalid(decompress_slice(Encoding::Brotli, &trailing, 1000).await);
    assert!(message.contains("after the end"), "{message}");
    // A (valid, empty) large-window brotli stream: window bits 30, ISLAST, ISLASTEMPTY.
    let message = assert_invalid(decompress_slice(Encoding::Brotli, &[0x11, 0xde], 1000).await);
    assert!(message.contains("large-window"), "{message}");
    // Two concatenated brotli streams are not one stream.
    let twice = good.repeat(2);
    assert_invalid(decompress_slice(Encoding::Brotli, &twice, 10_000).await);
}

#[tokio::test]
async fn reader_errors_are_io_errors() {
    let data = vec![b'a'; 10_000];
    for encoding in [Encoding::Identity, Encoding::Gzip, Encoding::Brotli] {
        let compressed = compress(encoding, &data).await.unwrap();
        let truncated = compressed[..compressed.len() / 2].to_vec();
        let reader = ChunkedReader::new(truncated, vec![7]).failing_at_end();
        match decompress_limited(encoding, reader, DEFAULT_MAX_REQUEST_SIZE).await {
            Err(DecompressError::Io(error)) => {
                assert_eq!(error.to_string(), "connection reset", "{encoding}");
            }
            other => panic!("{encoding}: expected Io, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn buf_reader_over_async_read_works() {
    let data = br#"{"k":"v"}"#.repeat(1000);
    let compressed = compress(Encoding::Gzip, &data).await.unwrap();
    let reader = BufReader::with_capacity(3, &compressed[..]);
    let inflated = decompress_limited(Encoding::Gzip, reader, data.len())
        .await
        .unwrap();
    assert_eq!(inflated, data);
}

#[tokio::test]
async fn large_bodies_let_other_tasks_run() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let data = vec![b'z'; 8 * MIB];
    let compressed = compress(Encoding::Gzip, &data).await.unwrap();

    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = tokio::spawn({
        let ticks = Arc::clone(&ticks);
        async move {
            loop {
                ticks.fetch_add(1, Ordering::Relaxed);
                // Reschedule right away (tokio's `yield_now` defers the wake-up).
                let mut yielded = false;
                std::future::poll_fn(|cx| {
                    if yielded {
                        Poll::Ready(())
                    } else {
                        yielded = true;
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                })
                .await;
            }
        }
    });
    let before = ticks.load(Ordering::Relaxed);
    // `&[u8]` never returns `Pending`: only the decoder's own yields let the ticker run.
    let inflated = decompress_slice(Encoding::Gzip, &compressed, data.len())
        .await
        .unwrap();
    let during = ticks.load(Ordering::Relaxed) - before;
    ticker.abort();
    assert_eq!(inflated.len(), data.len());
    assert!(during >= 4, "the ticker ran {during} times");
}
