//! Handler traits and adapters for closures.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use asap_codec::rpc::RpcError;
use asap_model::{AsapError, Envelope};

use crate::context::AsapRequest;

/// Boxed error type for unexpected handler failures.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The future an async handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Envelope, HandlerError>> + Send>>;

/// Why a handler did not produce a response envelope.
///
/// How each variant reaches the wire is decided in one place, the dispatcher:
/// [`HandlerError::Rpc`] is sent as is; [`HandlerError::Asap`] and [`HandlerError::Internal`]
/// become `-32603 Internal error` with `{"error": "Internal server error"}` in production and
/// the error text and type in debug mode, like the reference.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandlerError {
    /// A protocol error raised by the handler (task not found, invalid state…).
    #[error("{0}")]
    Asap(AsapError),
    /// A JSON-RPC error the handler wants sent verbatim.
    #[error("{0}")]
    Rpc(RpcError),
    /// Any other failure.
    #[error("{0}")]
    Internal(BoxError),
}

impl HandlerError {
    /// Wraps any error as an internal failure.
    pub fn internal(error: impl Into<BoxError>) -> Self {
        HandlerError::Internal(error.into())
    }
}

impl From<AsapError> for HandlerError {
    fn from(e: AsapError) -> Self {
        HandlerError::Asap(e)
    }
}

impl From<RpcError> for HandlerError {
    fn from(e: RpcError) -> Self {
        HandlerError::Rpc(e)
    }
}

impl From<asap_model::ValidationError> for HandlerError {
    fn from(e: asap_model::ValidationError) -> Self {
        HandlerError::Asap(AsapError::malformed_envelope(&e.to_string()))
    }
}

/// An async handler for one payload type.
pub trait Handler: Send + Sync + 'static {
    /// Handles a request, producing the response envelope.
    fn call(&self, request: AsapRequest) -> HandlerFuture;
}

/// A synchronous handler, run on the bounded blocking pool.
pub trait BlockingHandler: Send + Sync + 'static {
    /// Handles a request on a blocking thread.
    fn call(&self, request: AsapRequest) -> Result<Envelope, HandlerError>;
}

/// An async closure as a [`Handler`]; see [`handler_fn`].
#[derive(Clone)]
pub struct HandlerFn<F>(F);

impl<F> std::fmt::Debug for HandlerFn<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandlerFn")
    }
}

/// Makes an async handler from `async fn(AsapRequest) -> Result<Envelope, HandlerError>`.
pub fn handler_fn<F, Fut>(f: F) -> HandlerFn<F>
where
    F: Fn(AsapRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Envelope, HandlerError>> + Send + 'static,
{
    HandlerFn(f)
}

impl<F, Fut> Handler for HandlerFn<F>
where
    F: Fn(AsapRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Envelope, HandlerError>> + Send + 'static,
{
    fn call(&self, request: AsapRequest) -> HandlerFuture {
        Box::pin((self.0)(request))
    }
}

impl<F> BlockingHandler for F
where
    F: Fn(AsapRequest) -> Result<Envelope, HandlerError> + Send + Sync + 'static,
{
    fn call(&self, request: AsapRequest) -> Result<Envelope, HandlerError> {
        self(request)
    }
}

impl<H: Handler + ?Sized> Handler for Arc<H> {
    fn call(&self, request: AsapRequest) -> HandlerFuture {
        (**self).call(request)
    }
}
