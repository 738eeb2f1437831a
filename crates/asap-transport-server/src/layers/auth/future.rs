use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use asap_codec::rpc::RpcError;
use futures_util::future::BoxFuture;
use tower_service::Service;

use crate::context::RpcCall;
use crate::rejection::Rejection;

/// The validator's answer, with the call handed back.
pub(super) type Check = BoxFuture<'static, (RpcCall, Result<asap_model::AgentUrn, RpcError>)>;

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<S, F> {
        Checking { check: Check, service: Option<S> },
        Inner { #[pin] future: F },
        Done { rejection: Option<Rejection> },
    }
}

pin_project_lite::pin_project! {
    /// Future of [`Auth`](super::Auth): waits for the [`TokenValidator`](super::TokenValidator),
    /// then refuses the call or drives the inner service's future.
    pub struct AuthFuture<S, F> {
        #[pin]
        state: State<S, F>,
    }
}

impl<S, F> AuthFuture<S, F> {
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

impl<S, F> std::fmt::Debug for AuthFuture<S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Checking { .. } => "checking",
            State::Inner { .. } => "inner",
            State::Done { .. } => "done",
        };
        f.debug_struct("AuthFuture").field("state", &state).finish()
    }
}

impl<S, F, T> Future for AuthFuture<S, F>
where
    S: Service<RpcCall, Response = T, Error = Rejection, Future = F>,
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
                    let (mut call, outcome) = ready!(check.as_mut().poll(cx));
                    match (outcome, service.take()) {
                        (Ok(agent), Some(mut service)) => {
                            call.ctx.identity = Some(agent);
                            State::Inner {
                                future: service.call(call),
                            }
                        }
                        (Err(error), _) => State::Done {
                            rejection: Some(Rejection::Rpc(error)),
                        },
                        // The service is only taken together with the transition above.
                        (Ok(_), None) => State::Done {
                            rejection: Some(Rejection::Rpc(RpcError::internal())),
                        },
                    }
                }
            };
            state.set(next);
        }
    }
}
