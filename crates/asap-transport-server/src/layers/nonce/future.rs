use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use asap_codec::rpc::RpcError;
use futures_util::future::BoxFuture;
use tower_service::Service;

use super::{NonceError, log_refusal};
use crate::context::AsapRequest;
use crate::rejection::Rejection;

/// The store's answer, with the request handed back.
type Check = BoxFuture<'static, (AsapRequest, Result<(), NonceError>)>;

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<S, F> {
        Checking { check: Check, service: Option<S> },
        Inner { #[pin] future: F },
        Done { rejection: Option<Rejection> },
    }
}

pin_project_lite::pin_project! {
    /// Future of [`NonceCheck`](super::NonceCheck): waits for the [`NonceStore`](super::NonceStore)
    /// (only when the envelope carries a nonce), then drives the inner service's future.
    pub struct NonceFuture<S, F> {
        #[pin]
        state: State<S, F>,
    }
}

impl<S, F> NonceFuture<S, F> {
    pub(super) fn inner(future: F) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    pub(super) fn rejected(rejection: Rejection) -> Self {
        Self {
            state: State::Done {
                rejection: Some(rejection),
            },
        }
    }

    pub(super) fn checking(check: Check, service: S) -> Self {
        Self {
            state: State::Checking {
                check,
                service: Some(service),
            },
        }
    }
}

impl<S, F> std::fmt::Debug for NonceFuture<S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Checking { .. } => "checking",
            State::Inner { .. } => "inner",
            State::Done { .. } => "done",
        };
        f.debug_struct("NonceFuture")
            .field("state", &state)
            .finish()
    }
}

impl<S, F, T> Future for NonceFuture<S, F>
where
    S: Service<AsapRequest, Response = T, Error = Rejection, Future = F>,
    F: Future<Output = Result<T, Rejection>>,
{
    type Output = Result<T, Rejection>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let mut state = self.as_mut().project().state;
            let next = match state.as_mut().project() {
                StateProj::Inner { future } => return future.poll(cx),
                StateProj::Done { rejection } => {
                    return rejection
                        .take()
                        .map_or(Poll::Pending, |r| Poll::Ready(Err(r)));
                }
                StateProj::Checking { check, service } => {
                    let (request, outcome) = ready!(check.as_mut().poll(cx));
                    match (outcome, service.take()) {
                        (Ok(()), Some(mut service)) => State::Inner {
                            future: service.call(request),
                        },
                        (Err(error), _) => {
                            log_refusal(&request.envelope, &error);
                            State::Done {
                                rejection: Some(Rejection::Rpc(error.to_rpc_error())),
                            }
                        }
                        // The service is only taken together with the transition above.
                        (Ok(()), None) => State::Done {
                            rejection: Some(Rejection::Rpc(RpcError::internal())),
                        },
                    }
                }
            };
            state.set(next);
        }
    }
}
