//! The response future of [`ResponseCompression`](super::ResponseCompression).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use asap_codec::compression::Encoding;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderValue, Response, header};
use http_body::Body;

use super::CompressionBody;
use crate::observe::Observation;

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F, B: Body> {
        Inner {
            #[pin] future: F,
            encoding: Encoding,
            threshold: usize,
            advert: Option<&'static str>,
            observation: Option<Observation>,
        },
        Compressing { future: BoxFuture<'static, Response<CompressionBody<B>>> },
    }
}

pin_project_lite::pin_project! {
    /// Waits for the inner response; compresses it when it qualifies. Only that path
    /// allocates (the compressor runs in a boxed future); every other response is handed on
    /// as it comes.
    pub struct CompressionFuture<F, B: Body> {
        #[pin]
        state: State<F, B>,
    }
}

impl<F, B: Body> std::fmt::Debug for CompressionFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompressionFuture").finish_non_exhaustive()
    }
}

impl<F, B: Body> CompressionFuture<F, B> {
    /// `advert`: the `Accept-Encoding` header to put on the response, if any; a compressed
    /// reply is reported to `observation`.
    pub(super) fn new(
        future: F,
        (encoding, threshold): (Encoding, usize),
        advert: Option<&'static str>,
        observation: Option<Observation>,
    ) -> Self {
        Self {
            state: State::Inner {
                future,
                encoding,
                threshold,
                advert,
                observation,
            },
        }
    }
}

impl<F, B, E> Future for CompressionFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Send,
{
    type Output = Result<Response<CompressionBody<B>>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.as_mut().project().state;
        match state.as_mut().project() {
            StateProj::Inner {
                future,
                encoding,
                threshold,
                advert,
                observation,
            } => {
                let mut response = ready!(future.poll(cx))?;
                if let Some(advert) = advert {
                    let value = HeaderValue::from_static(advert);
                    response
                        .headers_mut()
                        .insert(header::ACCEPT_ENCODING, value);
                }
                if !super::qualifies(&response, *encoding, *threshold) {
                    return Poll::Ready(Ok(response.map(CompressionBody::plain)));
                }
                let mut compressing = Box::pin(super::compress_response(
                    response,
                    *encoding,
                    observation.take(),
                ));
                match compressing.as_mut().poll(cx) {
                    Poll::Ready(response) => Poll::Ready(Ok(response)),
                    Poll::Pending => {
                        state.set(State::Compressing {
                            future: compressing,
                        });
                        Poll::Pending
                    }
                }
            }
            StateProj::Compressing { future } => future.as_mut().poll(cx).map(Ok),
        }
    }
}
