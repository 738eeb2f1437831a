use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};

use crate::registry::BoxError;

/// The body was longer than allowed. Its `Display` is the protocol's 413 `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Request size ({received} bytes) exceeds maximum ({limit} bytes)")]
pub struct BodyTooLarge {
    /// Bytes declared or received when the limit was passed.
    pub received: u64,
    /// The limit.
    pub limit: usize,
}

pin_project_lite::pin_project! {
    /// A body that fails with [`BodyTooLarge`] once more than `limit` bytes were read.
    #[derive(Debug)]
    pub struct LimitedBody<B> {
        #[pin]
        inner: B,
        limit: usize,
        received: u64,
    }
}

impl<B> LimitedBody<B> {
    /// Wraps `inner`.
    pub fn new(inner: B, limit: usize) -> Self {
        Self {
            inner,
            limit,
            received: 0,
        }
    }
}

impl<B> Body for LimitedBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        match this.inner.poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    *this.received += data.remaining() as u64;
                    if *this.received > *this.limit as u64 {
                        return Poll::Ready(Some(Err(Box::new(BodyTooLarge {
                            received: *this.received,
                            limit: *this.limit,
                        }))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
