//! An `http_body::Body` read as a tokio `AsyncBufRead`, for the codec's decoders.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http_body::Body;
use tokio::io::{AsyncBufRead, AsyncRead, ReadBuf};

use crate::registry::BoxError;

/// Reads the data frames of a body (trailers are ignored) and keeps its first error aside,
/// so that the error reaches the request's reader as it was (a [`BodyTooLarge`] stays one)
/// instead of as the decoder's I/O error.
///
/// [`BodyTooLarge`]: crate::layers::body_limit::BodyTooLarge
pub(super) struct BodyReader<'a, B> {
    body: Pin<&'a mut B>,
    chunk: Bytes,
    /// Bytes of the body read so far.
    pub(super) read: u64,
    done: bool,
    /// The body's own error, when reading it failed.
    pub(super) error: Option<BoxError>,
}

impl<'a, B> BodyReader<'a, B> {
    pub(super) fn new(body: Pin<&'a mut B>) -> Self {
        Self {
            body,
            chunk: Bytes::new(),
            read: 0,
            done: false,
            error: None,
        }
    }
}

impl<B> AsyncBufRead for BodyReader<'_, B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        while this.chunk.is_empty() && !this.done {
            match ready!(this.body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Ok(mut data) = frame.into_data() {
                        let len = data.remaining();
                        this.read += len as u64;
                        this.chunk = data.copy_to_bytes(len);
                    }
                }
                Some(Err(error)) => {
                    this.done = true;
                    this.error = Some(error.into());
                    return Poll::Ready(Err(io::Error::other("the request body failed")));
                }
                None => this.done = true,
            }
        }
        if this.error.is_some() {
            return Poll::Ready(Err(io::Error::other("the request body failed")));
        }
        Poll::Ready(Ok(&this.chunk))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let chunk = &mut self.get_mut().chunk;
        chunk.advance(amt.min(chunk.len()));
    }
}

impl<B> AsyncRead for BodyReader<'_, B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(()))
    }
}
