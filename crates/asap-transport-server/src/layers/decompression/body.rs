//! The request body the decompression layer hands on.

use std::pin::Pin;
use std::task::{Context, Poll};

use asap_codec::compression::{Encoding, decompress_limited};
use bytes::{Buf, Bytes};
use futures_util::future::BoxFuture;
use http_body::{Body, Frame, SizeHint};
use tokio::io::AsyncBufReadExt;

use super::reader::BodyReader;
use crate::observe::Observation;
use crate::registry::BoxError;
use asap_observability::observe::BodyKind;

type Inflate = BoxFuture<'static, Result<Bytes, BoxError>>;

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<B> {
        /// `identity`: the body itself, frame by frame.
        Plain { #[pin] body: B },
        /// Compressed, not polled yet.
        Compressed { body: Option<B>, encoding: Encoding, max: usize, observation: Option<Observation> },
        Inflating { future: Inflate },
        Done,
    }
}

pin_project_lite::pin_project! {
    /// A request body as the layers behind [`Decompression`](super::Decompression) see it:
    /// the plain bytes, whatever the `Content-Encoding` was.
    ///
    /// An `identity` body is passed through frame by frame, with no copy. A compressed body is
    /// inflated when it is first polled, streaming from the received frames and capped at
    /// `max` bytes, and comes out as one data frame. Failures are errors of the body stream,
    /// so they reach whoever reads it, in the protocol's order
    /// ([`Rejection::from_body_error`](crate::Rejection::from_body_error) maps them):
    ///
    /// 1. an error of the received body itself (such as [`BodyTooLarge`]), even when the
    ///    data were already known to be corrupt or to inflate past `max`: the received size
    ///    is checked first (PROTOCOL §10.3), so after a decoding failure the rest of the
    ///    received body (at most `max` bytes more) is read and discarded to see whether it
    ///    fails;
    /// 2. then the [`DecompressError`]: inflated size (413) or corrupt data (400).
    ///
    /// [`DecompressError`]: asap_codec::compression::DecompressError
    /// [`BodyTooLarge`]: crate::layers::body_limit::BodyTooLarge
    pub struct DecompressionBody<B> {
        #[pin]
        state: State<B>,
    }
}

impl<B> std::fmt::Debug for DecompressionBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Plain { .. } => "plain",
            State::Compressed { .. } => "compressed",
            State::Inflating { .. } => "inflating",
            State::Done => "done",
        };
        f.debug_struct("DecompressionBody")
            .field("state", &state)
            .finish()
    }
}

impl<B> DecompressionBody<B> {
    /// `body` encoded with `encoding`, inflated to at most `max` bytes.
    pub fn new(body: B, encoding: Encoding, max: usize) -> Self {
        let state = if encoding.is_identity() {
            State::Plain { body }
        } else {
            State::Compressed {
                body: Some(body),
                encoding,
                max,
                observation: None,
            }
        };
        Self { state }
    }

    /// This body, reporting its inflated size to `observation` when it is compressed (the
    /// observation is cloned only then: a plain body, the common case, costs no reference
    /// count that every worker writes).
    pub(crate) fn observed(mut self, observation: &Option<Observation>) -> Self {
        if let State::Compressed {
            observation: slot, ..
        } = &mut self.state
        {
            slot.clone_from(observation);
        }
        self
    }
}

/// Inflates `body`; see [`DecompressionBody`] for the order of the errors.
async fn inflate<B>(
    body: B,
    encoding: Encoding,
    max: usize,
    observation: Option<Observation>,
) -> Result<Bytes, BoxError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let mut body = std::pin::pin!(body);
    let mut reader = BodyReader::new(body.as_mut());
    let result = decompress_limited(encoding, &mut reader, max).await;
    if let Some(error) = reader.error.take() {
        return Err(error);
    }
    let error = match result {
        Ok(plain) => {
            if let Some(observation) = observation {
                let received = usize::try_from(reader.read).unwrap_or(usize::MAX);
                observation.coded(BodyKind::Request, encoding, received, plain.len());
            }
            return Ok(Bytes::from(plain));
        }
        Err(error) => error,
    };
    // The received size answers before the decoding: read on (at most `max` bytes in all,
    // the size a body limit in front allows) to see whether the body itself fails.
    while reader.read <= max as u64 {
        match reader.fill_buf().await {
            Ok([]) => break,
            Ok(chunk) => {
                let len = chunk.len();
                reader.consume(len);
            }
            Err(_) => break,
        }
    }
    if let Some(error) = reader.error.take() {
        return Err(error);
    }
    Err(Box::new(error) as BoxError)
}

impl<B> Body for DecompressionBody<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            let mut state = self.as_mut().project().state;
            let next = match state.as_mut().project() {
                StateProj::Plain { body } => {
                    return body.poll_frame(cx).map(|frame| {
                        frame.map(|result| {
                            result
                                .map(|frame| {
                                    frame.map_data(|mut data| data.copy_to_bytes(data.remaining()))
                                })
                                .map_err(Into::into)
                        })
                    });
                }
                StateProj::Compressed {
                    body,
                    encoding,
                    max,
                    observation,
                } => match body.take() {
                    Some(body) => State::Inflating {
                        future: Box::pin(inflate(body, *encoding, *max, observation.take())),
                    },
                    None => State::Done,
                },
                StateProj::Inflating { future } => {
                    let result = std::task::ready!(future.as_mut().poll(cx));
                    state.set(State::Done);
                    return Poll::Ready(Some(result.map(Frame::data)));
                }
                StateProj::Done => return Poll::Ready(None),
            };
            state.set(next);
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.state {
            State::Plain { body } => body.is_end_stream(),
            State::Done => true,
            _ => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.state {
            State::Plain { body } => body.size_hint(),
            State::Done => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}
