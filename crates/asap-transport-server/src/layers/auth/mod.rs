//! Bearer authentication (PROTOCOL §11.1).
//!
//! Two layers, because authentication happens at two points of the processing order:
//!
//! - [`AuthLayer`] (RPC level, `Service<RpcCall>`) reads `Authorization: Bearer <token>`,
//!   asks a [`TokenValidator`] and either refuses the call by itself (`-32600` with
//!   `status_code` 401) or records the identity in [`RequestContext::identity`] and calls the
//!   inner service. It runs after the JSON-RPC framing is decoded, so framing errors (parse
//!   error, unknown method) win over authentication, and before the envelope is checked.
//! - [`SenderMatchLayer`] (envelope level) refuses an envelope whose `sender` differs from the
//!   authenticated identity: `-32602` with `status_code` 403.
//!
//! Scheme names are compared case-insensitively (the reference requires a literal lowercase
//! `bearer` in the manifest, I-09). `basic` can be declared but is not a way to authenticate.
//!
//! [`RequestContext::identity`]: crate::RequestContext::identity

mod future;
mod layer;
mod sender;
mod validator;

use std::sync::Arc;
use std::task::{Context, Poll};

use asap_codec::rpc::RpcError;
use http::header;
use tower_service::Service;

pub use future::AuthFuture;
pub use layer::AuthLayer;
pub use sender::{SenderMatch, SenderMatchLayer};
pub use validator::{StaticTokens, TokenValidator, ValidatorFn, validator_fn};

use crate::context::RpcCall;
use crate::rejection::Rejection;

/// Authenticates requests; see the [module docs](self).
#[derive(Clone)]
pub struct Auth<S> {
    inner: S,
    validator: Arc<dyn TokenValidator>,
    bearer_declared: bool,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Auth<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("inner", &self.inner)
            .field("bearer_declared", &self.bearer_declared)
            .finish_non_exhaustive()
    }
}

impl<S> Auth<S> {
    /// Wraps `inner`. `bearer_declared` says whether the manifest's `auth.schemes` lists
    /// `bearer`; when it does not, every token is refused.
    pub fn new(inner: S, validator: Arc<dyn TokenValidator>, bearer_declared: bool) -> Self {
        Self {
            inner,
            validator,
            bearer_declared,
        }
    }
}

/// Extracts the bearer token: `None` when the header is missing, not `Bearer` or empty.
pub fn bearer_token(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credentials) = value.split_once(' ')?;
    let credentials = credentials.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credentials.is_empty()).then_some(credentials)
}

impl<S> Service<RpcCall> for Auth<S>
where
    S: Service<RpcCall, Error = Rejection> + Clone,
{
    type Response = S::Response;
    type Error = Rejection;
    type Future = AuthFuture<S, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Rejection>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: RpcCall) -> Self::Future {
        match bearer_token(&call.ctx.headers) {
            None => {
                return AuthFuture::rejected(Rejection::Rpc(RpcError::authentication_required()));
            }
            Some(_) if !self.bearer_declared => {
                return AuthFuture::rejected(Rejection::Rpc(RpcError::invalid_token()));
            }
            Some(_) => {}
        }
        // The ready service goes into the future; a clone stays for the next call.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let validator = Arc::clone(&self.validator);
        let check: future::Check = Box::pin(async move {
            let token = bearer_token(&call.ctx.headers).unwrap_or_default();
            let outcome = match validator.validate(token).await {
                Some(agent) => Ok(agent),
                None => {
                    tracing::debug!(
                        target: crate::LOG_TARGET,
                        token = %crate::sanitize::truncate_secret(token),
                        "rejected bearer token"
                    );
                    Err(RpcError::invalid_token())
                }
            };
            (call, outcome)
        });
        AuthFuture::checking(check, inner)
    }
}
