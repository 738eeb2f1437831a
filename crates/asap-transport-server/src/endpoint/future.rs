use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use asap_codec::rpc::{Id, decode_request_keyed, encode_error, encode_success};
use asap_model::Envelope;
use http::request::Parts;
use http::{Response, StatusCode};
use http_body::Body as HttpBody;
use http_body_util::combinators::Collect;
use tower_service::Service;

use crate::context::{PeerAddr, RequestContext, RpcCall};
use crate::events::Logged;
use crate::observe::Observation;
use crate::registry::BoxError;
use crate::rejection::Rejection;
use crate::response::{self, Body};
use crate::trace::TraceContext;

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<C, R, F> {
        Reading { #[pin] body: C, parts: Option<Parts>, service: Option<R> },
        Calling { #[pin] future: F, id: Option<Id>, trace: Option<TraceContext> },
        Answered { response: Option<Response<Body>> },
        Done,
    }
}

pin_project_lite::pin_project! {
    /// Response future of [`RpcEndpoint`](super::RpcEndpoint): reads the body (once), decodes
    /// the framing, drives the RPC-level service and encodes its answer. A state machine
    /// rather than a boxed `async` block: no allocation of its own per request.
    pub struct EndpointFuture<R, B>
    where
        R: Service<RpcCall>,
        B: HttpBody,
    {
        #[pin]
        state: State<Collect<B>, R, R::Future>,
        observed: Option<Observed>,
        logged: Option<Logged>,
    }
}

/// What a request reports to its observer: when it arrived, the size of its body and,
/// once its envelope is decoded, its payload type label. Made when the request arrives
/// (`on_request_start`); dropped when it is over, answered or not (`on_request_end`).
struct Observed {
    observation: Observation,
    started: Instant,
    label: Option<Arc<str>>,
    request_bytes: Option<usize>,
}

impl Observed {
    fn new(observation: &Observation) -> Self {
        observation.observer().on_request_start();
        Self {
            observation: observation.clone(),
            started: Instant::now(),
            label: None,
            request_bytes: None,
        }
    }

    fn respond(&self, outcome: asap_observability::observe::Outcome, response: &Response<Body>) {
        let label = self.label.as_deref().unwrap_or(crate::observe::OTHER);
        let sizes = (self.request_bytes, body_size(response));
        self.observation
            .respond(label, self.started, outcome, sizes);
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        self.observation.observer().on_request_end();
    }
}

/// The exact size of a reply's body (every reply of the endpoint has one).
pub(crate) fn body_size(response: &Response<Body>) -> Option<usize> {
    use http_body::Body as _;
    response
        .body()
        .size_hint()
        .exact()
        .and_then(|n| usize::try_from(n).ok())
}

impl<R, B> std::fmt::Debug for EndpointFuture<R, B>
where
    R: Service<RpcCall>,
    B: HttpBody,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Reading { .. } => "reading",
            State::Calling { .. } => "calling",
            State::Answered { .. } => "answered",
            State::Done => "done",
        };
        f.debug_struct("EndpointFuture")
            .field("state", &state)
            .finish()
    }
}

impl<R, B> EndpointFuture<R, B>
where
    R: Service<RpcCall>,
    B: HttpBody,
{
    pub(super) fn new(
        parts: Parts,
        body: Collect<B>,
        service: R,
        observation: Option<&Observation>,
        debug_log: bool,
    ) -> Self {
        Self {
            state: State::Reading {
                body,
                parts: Some(parts),
                service: Some(service),
            },
            observed: observation.map(Observed::new),
            logged: Logged::start(debug_log),
        }
    }

    pub(super) fn answered(response: Response<Body>) -> Self {
        Self {
            state: State::Answered {
                response: Some(response),
            },
            observed: None,
            logged: None,
        }
    }
}

/// The call for `envelope` (or its error), with the request's headers, peer address, trace
/// context and `params.idempotency_key`.
fn rpc_call(
    parts: Parts,
    envelope: Result<Envelope, asap_codec::rpc::RpcError>,
    idempotency_key: Option<String>,
) -> RpcCall {
    let trace = match &envelope {
        Ok(envelope) => TraceContext::from_request(envelope, &parts.headers).aligned(),
        Err(_) => TraceContext::default(),
    };
    let mut ctx = RequestContext::with_trace(parts.headers, trace);
    ctx.peer_addr = parts.extensions.get::<PeerAddr>().map(|p| p.0);
    ctx.idempotency_key = idempotency_key;
    RpcCall::new(envelope, ctx)
}

impl<R, B> Future for EndpointFuture<R, B>
where
    R: Service<RpcCall, Response = Envelope, Error = Rejection>,
    B: HttpBody,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<Body>, std::convert::Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut state = this.state;
        let observed = this.observed;
        let logged = this.logged;
        loop {
            let next = match state.as_mut().project() {
                StateProj::Reading {
                    body,
                    parts,
                    service,
                } => {
                    let read = ready!(body.poll(cx));
                    let (Some(parts), Some(mut service)) = (parts.take(), service.take()) else {
                        state.set(State::Done);
                        continue;
                    };
                    let bytes = match read {
                        Ok(collected) => collected.to_bytes(),
                        Err(e) => {
                            state.set(State::Done);
                            let rejection = Rejection::from_body_error(e.into());
                            let outcome = Observation::outcome(Err(&rejection));
                            if let Some(logged) = logged.as_ref() {
                                logged.rejected(&rejection);
                            }
                            let response = rejection.into_response(None);
                            if let Some(observed) = observed.as_ref() {
                                observed.respond(outcome, &response);
                            }
                            return Poll::Ready(Ok(response));
                        }
                    };
                    if let Some(observed) = observed.as_mut() {
                        observed.request_bytes = Some(bytes.len());
                    }
                    let (call, key) = match decode_request_keyed(&bytes) {
                        Ok(keyed) => (keyed.call, keyed.idempotency_key),
                        Err(error) => {
                            state.set(State::Done);
                            if let Some(logged) = logged.as_ref() {
                                logged.framing_error(&error.error);
                            }
                            let response = response::json(StatusCode::OK, encode_error(&error));
                            if let Some(observed) = observed.as_ref() {
                                let sizes = (observed.request_bytes, body_size(&response));
                                observed.observation.framing_error(
                                    observed.started,
                                    &error.error,
                                    sizes,
                                );
                            }
                            return Poll::Ready(Ok(response));
                        }
                    };
                    let valid = call.envelope.is_ok();
                    if let (Some(logged), Ok(envelope)) = (logged.as_mut(), &call.envelope) {
                        logged.decoded(envelope);
                    }
                    if let Some(observed) = observed.as_mut() {
                        let payload_type =
                            call.envelope.as_ref().ok().map(|e| e.payload_type.as_str());
                        observed.label = Some(observed.observation.label(payload_type));
                    }
                    let rpc = rpc_call(parts, call.envelope, key);
                    let trace = valid.then_some(rpc.ctx.trace);
                    State::Calling {
                        future: service.call(rpc),
                        id: Some(call.id),
                        trace,
                    }
                }
                StateProj::Calling { future, id, trace } => {
                    let result = ready!(future.poll(cx));
                    let id = id.take();
                    let trace = trace.take();
                    state.set(State::Done);
                    let outcome = observed
                        .as_ref()
                        .map(|_| Observation::outcome(result.as_ref().map(|_| ())));
                    let response = match (result, id) {
                        (Ok(mut reply), Some(id)) => {
                            if let Some(trace) = trace {
                                trace.inject(&mut reply);
                            }
                            if let Some(logged) = logged.as_ref() {
                                logged.processed(&reply);
                            }
                            response::json(StatusCode::OK, encode_success(&id, &reply))
                        }
                        (Err(rejection), id) => {
                            if let Some(logged) = logged.as_ref() {
                                logged.rejected(&rejection);
                            }
                            rejection.into_response(id)
                        }
                        (Ok(_), None) => Rejection::Rpc(asap_codec::rpc::RpcError::internal())
                            .into_response(None),
                    };
                    if let (Some(observed), Some(outcome)) = (observed.as_ref(), outcome) {
                        observed.respond(outcome, &response);
                    }
                    return Poll::Ready(Ok(response));
                }
                StateProj::Answered { response } => {
                    return response
                        .take()
                        .map_or(Poll::Pending, |r| Poll::Ready(Ok(r)));
                }
                // Polled after completion.
                StateProj::Done => return Poll::Pending,
            };
            state.set(next);
        }
    }
}
