//! The response body of [`ResponseCompression`](super::ResponseCompression).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<B, E> {
        Plain { #[pin] body: B },
        Compressed { #[pin] body: Full<Bytes> },
        Failed { error: Option<E> },
    }
}

pin_project_lite::pin_project! {
    /// A response body passed through untouched, or replaced by its compressed bytes.
    ///
    /// When reading the inner body to compress it failed, that error is this body's one
    /// frame.
    pub struct CompressionBody<B: Body> {
        #[pin]
        kind: Kind<B, B::Error>,
    }
}

impl<B: Body> std::fmt::Debug for CompressionBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            Kind::Plain { .. } => "plain",
            Kind::Compressed { .. } => "compressed",
            Kind::Failed { .. } => "failed",
        };
        f.debug_struct("CompressionBody")
            .field("kind", &kind)
            .finish()
    }
}

impl<B: Body> CompressionBody<B> {
    pub(super) fn plain(body: B) -> Self {
        Self {
            kind: Kind::Plain { body },
        }
    }

    pub(super) fn compressed(bytes: Bytes) -> Self {
        Self {
            kind: Kind::Compressed {
                body: Full::new(bytes),
            },
        }
    }

    pub(super) fn failed(error: B::Error) -> Self {
        Self {
            kind: Kind::Failed { error: Some(error) },
        }
    }
}

impl<B> Body for CompressionBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            KindProj::Plain { body } => body.poll_frame(cx),
            KindProj::Compressed { body } => body.poll_frame(cx).map_err(|never| match never {}),
            KindProj::Failed { error } => Poll::Ready(error.take().map(Err)),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Plain { body } => body.is_end_stream(),
            Kind::Compressed { body } => body.is_end_stream(),
            Kind::Failed { error } => error.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Plain { body } => body.size_hint(),
            Kind::Compressed { body } => body.size_hint(),
            Kind::Failed { .. } => SizeHint::default(),
        }
    }
}
