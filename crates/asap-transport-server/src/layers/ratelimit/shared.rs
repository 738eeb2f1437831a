//! [`SharedRateLimitLayer`]: the rate limit counted in an [`asap_state::RateLimitStore`], so
//! that several server processes enforce one budget.

use std::sync::Arc;
use std::task::{Context, Poll};

use asap_state::{RateDecision, RateLimitStore, RateQuota};
use futures_util::future::BoxFuture;
use tower_layer::Layer;
use tower_service::Service;

use super::layer::ip_key;
use super::limiter::retry_after_secs;
use super::{RateLimitKey, RateLimitSpec};
use crate::context::AsapRequest;
use crate::rejection::Rejection;

/// The spec's items as store quotas, with the labels refusals carry.
struct Quotas {
    store: Arc<dyn RateLimitStore>,
    items: Vec<(RateQuota, String)>,
    key: RateLimitKey,
}

impl std::fmt::Debug for Quotas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quotas")
            .field("items", &self.items)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// Counts requests in a shared [`RateLimitStore`], per peer IP or per sender.
///
/// Every item of the spec is one GCRA budget in the store, under the key
/// `ip:<address>:<n>` or `sender:<urn>:<n>` (`n` the item's position), so per-IP and
/// per-sender budgets never collide. Items are checked in order and the first refusal
/// answers, HTTP 429 with `Retry-After`, exactly as the in-process limiter does (and, like
/// it, the items checked before a refusing one have counted the request).
///
/// Unlike the in-process per-IP [`RateLimit`](super::RateLimit), which refuses before the
/// body is read, this runs at the envelope level (the store call is asynchronous): a refused
/// request has been read (within the body limit) and parsed.
///
/// **A store that fails lets the request through** (logged at warn): the limit protects the
/// agent, it is not a correctness guarantee, and a rate limiter that turns a store outage into
/// an outage of the agent would do more harm. `/ready` reports the store's reachability when
/// it is given to [`AsapServerBuilder::ping_store`](crate::AsapServerBuilder::ping_store).
#[derive(Debug, Clone)]
pub struct SharedRateLimitLayer {
    quotas: Arc<Quotas>,
}

impl SharedRateLimitLayer {
    /// Enforces `spec` per `key` in `store`.
    pub fn new(store: Arc<dyn RateLimitStore>, spec: &RateLimitSpec, key: RateLimitKey) -> Self {
        let items = spec
            .items()
            .iter()
            .map(|item| {
                let quota = RateQuota {
                    limit: item.count(),
                    period: item.period(),
                };
                (quota, item.to_string())
            })
            .collect();
        Self {
            quotas: Arc::new(Quotas { store, items, key }),
        }
    }
}

impl<S> Layer<S> for SharedRateLimitLayer {
    type Service = SharedRateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SharedRateLimit {
            inner,
            quotas: self.quotas.clone(),
        }
    }
}

/// The service of [`SharedRateLimitLayer`].
#[derive(Debug, Clone)]
pub struct SharedRateLimit<S> {
    inner: S,
    quotas: Arc<Quotas>,
}

impl Quotas {
    fn key_of(&self, request: &AsapRequest) -> String {
        match self.key {
            RateLimitKey::Sender => format!("sender:{}", request.envelope.sender),
            RateLimitKey::PeerIp => {
                // The same key as the in-process limiter's (`peer_ip`).
                let ip = ip_key(request.ctx.peer_addr);
                format!("ip:{ip}")
            }
        }
    }

    async fn check(&self, key: &str) -> Result<(), Rejection> {
        for (n, (quota, label)) in self.items.iter().enumerate() {
            let item_key = format!("{key}:{n}");
            match self.store.check(&item_key, *quota).await {
                Ok(RateDecision::Allowed { .. }) => {}
                Ok(RateDecision::Limited { retry_after }) => {
                    tracing::debug!(target: crate::LOG_TARGET, key, limit = %label, "rate limited");
                    return Err(Rejection::RateLimited {
                        retry_after: retry_after_secs(retry_after),
                        limit: label.clone(),
                    });
                }
                Err(error) => {
                    tracing::warn!(
                        target: crate::LOG_TARGET,
                        %error,
                        "the rate-limit store failed; the request is let through"
                    );
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

impl<S> Service<AsapRequest> for SharedRateLimit<S>
where
    S: Service<AsapRequest, Error = Rejection> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = Rejection;
    type Future = BoxFuture<'static, Result<S::Response, Rejection>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Rejection>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: AsapRequest) -> Self::Future {
        let quotas = self.quotas.clone();
        // The clone waits for the store; the ready one goes with the request (tower's rule for
        // calling a service from inside a future).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let key = quotas.key_of(&request);
            quotas.check(&key).await?;
            inner.call(request).await
        })
    }
}
