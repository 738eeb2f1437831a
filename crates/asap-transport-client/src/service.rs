//! [`AsapClient`] as a `tower::Service<Envelope>`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use asap_model::Envelope;
use futures_util::future::BoxFuture;
use tower_service::Service;

use crate::client::AsapClient;
use crate::error::ClientError;

/// `call` sends the envelope with [`AsapClient::send`] (retries, breaker, compression and
/// the send's deadline included: each call fails with [`ClientError::DeadlineExceeded`]
/// once the client's `deadline` has passed), so tower middleware wraps the whole send:
///
/// ```no_run
/// use std::time::Duration;
/// use tower::{ServiceBuilder, ServiceExt};
/// use asap_transport_client::AsapClient;
///
/// # async fn run(envelope: asap_model::Envelope) -> Result<(), tower::BoxError> {
/// let client = AsapClient::builder("https://agent.example").build()?;
/// let service = ServiceBuilder::new()
///     .timeout(Duration::from_secs(30))
///     .concurrency_limit(16)
///     .service(client);
/// let reply = service.oneshot(envelope).await?;
/// # let _ = reply;
/// # Ok(())
/// # }
/// ```
///
/// `poll_ready` is always ready. Back-pressure is not expressed through readiness: the pool
/// bounds requests in flight per host (waiting up to `pool_acquire_timeout`), and an open
/// circuit breaker rejects calls immediately with [`ClientError::CircuitOpen`] instead of
/// parking callers in `poll_ready` — a half-open breaker needs a call to probe with, which a
/// not-ready service would never receive. Add tower's `concurrency_limit` or `load_shed`
/// for readiness-based limits.
impl Service<Envelope> for AsapClient {
    type Response = Envelope;
    type Error = ClientError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, envelope: Envelope) -> Self::Future {
        let client = self.clone();
        ResponseFuture {
            inner: Box::pin(async move { client.send(envelope).await }),
        }
    }
}

/// The future of [`AsapClient`]'s `Service::call`.
///
/// The send is an `async fn` whose future type cannot be named, so it is boxed: one
/// allocation per request, negligible next to the HTTP round trip it wraps.
pub struct ResponseFuture {
    inner: BoxFuture<'static, Result<Envelope, ClientError>>,
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl Future for ResponseFuture {
    type Output = Result<Envelope, ClientError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}
