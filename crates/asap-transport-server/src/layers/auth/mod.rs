//! Bearer authentication (PROTOCOL §11.1).
//!
//! Two layers, because authentication happens at two points of the processing order:
//!
//! - [`AuthLayer`] (HTTP level) reads `Authorization: Bearer <token>`, asks a
//!   [`TokenValidator`] and records an [`AuthOutcome`] in the request extensions. It never
//!   answers by itself: framing errors (parse error, unknown method) win over authentication,
//!   so the [`RpcEndpoint`](crate::endpoint::RpcEndpoint) applies the outcome after decoding the
//!   JSON-RPC framing and before looking at the envelope: `-32600` with `status_code` 401.
//! - [`SenderMatchLayer`] (envelope level) refuses an envelope whose `sender` differs from the
//!   authenticated identity: `-32602` with `status_code` 403.
//!
//! Scheme names are compared case-insensitively (the reference requires a literal lowercase
//! `bearer` in the manifest, I-09). `basic` can be declared but is not a way to authenticate.

mod layer;
mod sender;
mod validator;

use std::sync::Arc;
use std::task::{Context, Poll};

use asap_codec::rpc::RpcError;
use futures_util::future::BoxFuture;
use http::{Request, header};
use tower_service::Service;

pub use layer::AuthLayer;
pub use sender::{SenderMatch, SenderMatchLayer};
pub use validator::{StaticTokens, TokenValidator, ValidatorFn, validator_fn};

use crate::context::Identity;

/// What authentication concluded, stored in request extensions by [`Auth`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuthOutcome {
    /// The token was valid for this agent.
    Authenticated(Identity),
    /// Refused with this error (`-32600`, `status_code` 401).
    Rejected(RpcError),
}

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

impl<S, B> Service<Request<B>> for Auth<S>
where
    S: Service<Request<B>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let validator = Arc::clone(&self.validator);
        let bearer_declared = self.bearer_declared;
        Box::pin(async move {
            let outcome = match bearer_token(request.headers()) {
                None => AuthOutcome::Rejected(RpcError::authentication_required()),
                Some(_) if !bearer_declared => AuthOutcome::Rejected(RpcError::invalid_token()),
                Some(token) => match validator.validate(token).await {
                    Some(agent) => AuthOutcome::Authenticated(Identity(agent)),
                    None => {
                        tracing::debug!(
                            target: crate::LOG_TARGET,
                            token = %crate::sanitize::truncate_secret(token),
                            "rejected bearer token"
                        );
                        AuthOutcome::Rejected(RpcError::invalid_token())
                    }
                },
            };
            request.extensions_mut().insert(outcome);
            inner.call(request).await
        })
    }
}
