//! The per-IP (HTTP level) and per-sender (envelope level) rate limit services.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::task::{Context, Poll};

use asap_model::AgentUrn;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::limiter::RateLimiter;
use super::spec::RateLimitSpec;
use crate::context::{AsapRequest, PeerAddr};
use crate::layers::future::{EnvelopeFuture, ResponseFuture};
use crate::layers::response_body::ResponseBody;
use crate::rejection::Rejection;

/// The key shared by all requests that carry no [`PeerAddr`] extension.
pub const UNKNOWN_PEER: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// The rate limit key of an HTTP request: the peer's IP address.
///
/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, seen on dual-stack sockets) count as the
/// IPv4 address. Requests without a [`PeerAddr`] extension all share the key
/// [`UNKNOWN_PEER`] (`0.0.0.0`), so they are limited together, as one client.
pub fn peer_ip<B>(request: &Request<B>) -> IpAddr {
    ip_key(request.extensions().get::<PeerAddr>().map(|peer| peer.0))
}

/// The rate limit key of a peer address, as [`peer_ip`] describes it.
pub(super) fn ip_key(peer: Option<std::net::SocketAddr>) -> IpAddr {
    peer.map_or(UNKNOWN_PEER, |peer| peer.ip().to_canonical())
}

/// Rate limits HTTP requests per peer IP (PROTOCOL §11.4, processing step 2).
///
/// The key is [`peer_ip`]: the [`PeerAddr`] extension the server inserts for each connection
/// (proxy headers such as `X-Forwarded-For` are not read, like the reference). Requests
/// without it share one key. A refused request is answered at once with HTTP 429 and
/// `Retry-After` ([`Rejection::RateLimited`]); the inner service is not called.
///
/// The reference limits only `POST /asap`, which is what the server does. The layer is
/// generic over request and response bodies, so it can also limit an application's own
/// routes (an axum `Router`, a hyper service).
#[derive(Debug)]
pub struct RateLimit<S> {
    inner: S,
    limiter: Arc<RateLimiter<IpAddr>>,
    /// Hears of each refusal (the server's metrics), when set.
    observation: Option<crate::observe::Observation>,
}

impl<S: Clone> Clone for RateLimit<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            limiter: Arc::clone(&self.limiter),
            observation: self.observation.clone(),
        }
    }
}

impl<S> RateLimit<S> {
    /// Wraps `inner`, counting requests in `limiter`.
    pub fn new(inner: S, limiter: Arc<RateLimiter<IpAddr>>) -> Self {
        Self {
            inner,
            limiter,
            observation: None,
        }
    }

    /// Reports each refusal to `observation` (as a request of type `other` refused with
    /// `rate_limited`), as the endpoint reports the requests it answers.
    pub(crate) fn observed(mut self, observation: Option<crate::observe::Observation>) -> Self {
        self.observation = observation;
        self
    }

    /// The limiter in use.
    pub fn limiter(&self) -> &Arc<RateLimiter<IpAddr>> {
        &self.limiter
    }
}

impl<S, B, ResBody> Service<Request<B>> for RateLimit<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let ip = peer_ip(&request);
        match self.limiter.check(&ip) {
            Ok(()) => ResponseFuture::inner(self.inner.call(request)),
            Err(rejection) => {
                tracing::debug!(target: crate::LOG_TARGET, peer = %ip, %rejection, "rate limited");
                if let Some(logged) = crate::events::Logged::start(false) {
                    logged.rejected(&rejection);
                }
                let response = rejection.into_response(None);
                if let Some(observation) = &self.observation {
                    observation.respond(
                        crate::observe::OTHER,
                        std::time::Instant::now(),
                        crate::observe::rate_limited(),
                        (None, crate::endpoint::body_size(&response)),
                    );
                }
                ResponseFuture::own(response)
            }
        }
    }
}

/// [`RateLimit`] or no limit, chosen when the server is assembled; either way the response
/// type is the same.
#[derive(Debug, Clone)]
pub(crate) enum OptionalRateLimit<S> {
    On(RateLimit<S>),
    Off(S),
}

impl<S> OptionalRateLimit<S> {
    pub(crate) fn on(limited: RateLimit<S>) -> Self {
        OptionalRateLimit::On(limited)
    }

    pub(crate) fn off(inner: S) -> Self {
        OptionalRateLimit::Off(inner)
    }
}

impl<S, B, ResBody> Service<Request<B>> for OptionalRateLimit<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self {
            OptionalRateLimit::On(limited) => limited.poll_ready(cx),
            OptionalRateLimit::Off(inner) => inner.poll_ready(cx),
        }
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match self {
            OptionalRateLimit::On(limited) => limited.call(request),
            OptionalRateLimit::Off(inner) => ResponseFuture::inner(inner.call(request)),
        }
    }
}

/// Applies [`RateLimit`]. All services it makes share one limiter.
///
/// ```
/// use asap_transport_server::layers::ratelimit::RateLimitLayer;
///
/// let layer = RateLimitLayer::new(&"10/second;100/minute".parse().unwrap());
/// # let _ = layer;
/// ```
#[derive(Debug, Clone)]
pub struct RateLimitLayer {
    limiter: Arc<RateLimiter<IpAddr>>,
}

impl RateLimitLayer {
    /// A layer with a new limiter enforcing `spec`.
    pub fn new(spec: &RateLimitSpec) -> Self {
        Self::with_limiter(Arc::new(RateLimiter::new(spec)))
    }

    /// A layer counting in an existing limiter.
    pub fn with_limiter(limiter: Arc<RateLimiter<IpAddr>>) -> Self {
        Self { limiter }
    }

    /// The shared limiter (for example to call
    /// [`retain_recent`](RateLimiter::retain_recent) from a timer).
    pub fn limiter(&self) -> &Arc<RateLimiter<IpAddr>> {
        &self.limiter
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit::new(inner, Arc::clone(&self.limiter))
    }
}

/// Rate limits envelopes per `sender` (what the reference's documentation and ADR-011
/// describe, I-04; the reference itself limits per IP).
///
/// Runs after authentication and the sender check, so with authentication on the key is a
/// verified identity; without it, any client can spread its requests over invented senders,
/// and the per-IP [`RateLimit`] is the better choice. A refused envelope yields
/// [`Rejection::RateLimited`] (HTTP 429 once turned into a response) without calling the
/// inner service.
#[derive(Debug)]
pub struct SenderRateLimit<S> {
    inner: S,
    limiter: Arc<RateLimiter<AgentUrn>>,
}

impl<S: Clone> Clone for SenderRateLimit<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            limiter: Arc::clone(&self.limiter),
        }
    }
}

impl<S> SenderRateLimit<S> {
    /// Wraps `inner`, counting envelopes in `limiter`.
    pub fn new(inner: S, limiter: Arc<RateLimiter<AgentUrn>>) -> Self {
        Self { inner, limiter }
    }

    /// The limiter in use.
    pub fn limiter(&self) -> &Arc<RateLimiter<AgentUrn>> {
        &self.limiter
    }
}

impl<S> Service<AsapRequest> for SenderRateLimit<S>
where
    S: Service<AsapRequest, Error = Rejection>,
{
    type Response = S::Response;
    type Error = Rejection;
    type Future = EnvelopeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Rejection>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: AsapRequest) -> Self::Future {
        match self.limiter.check(&request.envelope.sender) {
            Ok(()) => EnvelopeFuture::inner(self.inner.call(request)),
            Err(rejection) => {
                tracing::debug!(
                    target: crate::LOG_TARGET,
                    sender = %request.envelope.sender,
                    %rejection,
                    "rate limited"
                );
                EnvelopeFuture::rejected(rejection)
            }
        }
    }
}

/// Applies [`SenderRateLimit`]. All services it makes share one limiter.
///
/// ```
/// use asap_transport_server::layers::ratelimit::{RateLimitSpec, SenderRateLimitLayer};
///
/// let layer = SenderRateLimitLayer::new(&RateLimitSpec::default());
/// # let _ = layer;
/// ```
#[derive(Debug, Clone)]
pub struct SenderRateLimitLayer {
    limiter: Arc<RateLimiter<AgentUrn>>,
}

impl SenderRateLimitLayer {
    /// A layer with a new limiter enforcing `spec`.
    pub fn new(spec: &RateLimitSpec) -> Self {
        Self::with_limiter(Arc::new(RateLimiter::new(spec)))
    }

    /// A layer counting in an existing limiter.
    pub fn with_limiter(limiter: Arc<RateLimiter<AgentUrn>>) -> Self {
        Self { limiter }
    }

    /// The shared limiter.
    pub fn limiter(&self) -> &Arc<RateLimiter<AgentUrn>> {
        &self.limiter
    }
}

impl<S> Layer<S> for SenderRateLimitLayer {
    type Service = SenderRateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SenderRateLimit::new(inner, Arc::clone(&self.limiter))
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv6Addr, SocketAddr};

    use super::*;

    fn request(peer: Option<SocketAddr>) -> Request<()> {
        let mut request = Request::new(());
        if let Some(peer) = peer {
            request.extensions_mut().insert(PeerAddr(peer));
        }
        request
    }

    #[test]
    fn peer_ip_key() {
        let v4: SocketAddr = "192.0.2.7:4000".parse().unwrap();
        assert_eq!(peer_ip(&request(Some(v4))), v4.ip());
        let mapped = SocketAddr::new(
            IpAddr::V6(Ipv4Addr::new(192, 0, 2, 7).to_ipv6_mapped()),
            4001,
        );
        assert_eq!(peer_ip(&request(Some(mapped))), v4.ip());
        let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 1);
        assert_eq!(peer_ip(&request(Some(v6))), IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(peer_ip(&request(None)), UNKNOWN_PEER);
    }

    #[test]
    fn services_made_by_one_layer_share_the_limiter() {
        let layer = RateLimitLayer::new(&"1/minute".parse().unwrap());
        let a = layer.layer(());
        let b = layer.layer(());
        assert!(Arc::ptr_eq(a.limiter(), b.limiter()));
        assert!(Arc::ptr_eq(a.limiter(), &a.clone().limiter));
    }
}
