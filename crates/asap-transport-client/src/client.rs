//! [`AsapClient`] and its builder; the send algorithm itself is in `retry`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use asap_cache::{CacheConfig, ManifestCache};
use asap_codec::compression::Compression;
use asap_model::Envelope;

use crate::backoff::Backoff;
use crate::breaker::{BreakerState, CircuitBreaker};
use crate::config::{ClientConfig, config_setters};
use crate::error::ClientError;
use crate::peer_coding::PeerCoding;
use crate::retry::max_retries_zero;
use crate::transport::{TlsConfig, Transport};
use crate::url::BaseUrl;

/// An ASAP client for one agent (one base URL).
///
/// Cheap to clone: clones share the connection pool, the request-id counter, the circuit
/// breaker, the manifest cache and the old-server detection.
///
/// ```no_run
/// use asap_transport_client::AsapClient;
/// # async fn run(envelope: asap_model::Envelope) -> Result<(), asap_transport_client::ClientError> {
/// let client = AsapClient::builder("https://agent.example").build()?;
/// let reply = client.send(envelope).await?;
/// println!("{}", reply.payload_type);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AsapClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) base: BaseUrl,
    pub(crate) config: ClientConfig,
    pub(crate) transport: Transport,
    breaker: Option<Arc<CircuitBreaker>>,
    pub(crate) backoff: Backoff,
    pub(crate) compression: Compression,
    /// Set once the server has shown it cannot read compressed bodies.
    pub(crate) compression_off: AtomicBool,
    /// Whether the server advertised `asap-zstd-v1` request bodies.
    pub(crate) peer_coding: PeerCoding,
    pub(crate) next_id: AtomicU64,
    pub(crate) manifests: ManifestCache,
    /// Where sends and retries are reported.
    pub(crate) reporter: crate::observe::Reporter,
}

impl fmt::Debug for AsapClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsapClient")
            .field("base_url", &self.inner.base.masked())
            .field("config", &self.inner.config)
            .field("breaker_state", &self.breaker_state())
            .field("compression", &self.compression_enabled())
            .finish_non_exhaustive()
    }
}

/// Builds an [`AsapClient`]; see [`ClientConfig`] for every setting and its default.
///
/// ```
/// use std::time::Duration;
/// use asap_transport_client::{AsapClient, BreakerConfig};
///
/// let client = AsapClient::builder("http://127.0.0.1:8000")
///     .timeout(Duration::from_secs(10))
///     .max_retries(5)
///     .circuit_breaker(BreakerConfig::default())
///     .bearer_token("secret-token")
///     .build()
///     .unwrap();
/// assert_eq!(client.base_url(), "http://127.0.0.1:8000");
/// ```
pub struct AsapClientBuilder {
    base_url: String,
    config: ClientConfig,
    env_error: Option<ClientError>,
    bearer_token: Option<String>,
    cache: Option<CacheConfig>,
    tls: TlsConfig,
    #[cfg(feature = "metrics")]
    observers: asap_observability::observe::Observers,
    /// Also read the manifest cache's counts from, at each scrape.
    #[cfg(feature = "metrics")]
    metrics: Option<Arc<asap_observability::metrics::Metrics>>,
}

impl fmt::Debug for AsapClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsapClientBuilder")
            .field("base_url", &crate::url::mask_credentials(&self.base_url))
            .field("config", &self.config)
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "***"))
            .field("manifest_cache", &self.cache)
            .field("custom_tls", &self.tls.is_some())
            .finish()
    }
}

config_setters!(AsapClientBuilder);

impl AsapClientBuilder {
    /// Replaces every setting with `config`.
    #[must_use]
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// Sends `Authorization: Bearer <token>` with every request.
    #[must_use]
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// Settings of the client's manifest cache (default: 1000 entries, TTL 300 s).
    #[must_use]
    pub fn manifest_cache(mut self, config: CacheConfig) -> Self {
        self.cache = Some(config);
        self
    }

    /// A rustls configuration for `https://` (custom roots, client certificates). Its ALPN
    /// protocols are replaced: `h2` and `http/1.1` (only `h2` with prior knowledge).
    /// Default: the ring provider with the Mozilla roots of `webpki-roots`.
    #[cfg(feature = "rustls")]
    #[must_use]
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Reports every send, retry, circuit-breaker change and connection slot to `metrics`:
    /// `asap_transport_send_total` and the other client metrics of PROTOCOL §14.1, and the
    /// `asap_client_*` and `asap_circuit_breaker_*` series by `peer` (this client's
    /// `host:port`), and the manifest cache's `asap_manifest_cache_{hits,misses,evictions}_total`
    /// by peer, read at each scrape while the client lives. Give it the agent's own `Metrics`
    /// to serve them at `GET /asap/metrics`.
    #[cfg(feature = "metrics")]
    #[must_use]
    pub fn metrics(mut self, metrics: Arc<asap_observability::metrics::Metrics>) -> Self {
        self.metrics = Some(metrics.clone());
        self.observer(metrics)
    }

    /// Reports every send, retry, circuit-breaker change and connection slot to `observer`
    /// (after any given before).
    #[cfg(feature = "metrics")]
    #[must_use]
    pub fn observer(mut self, observer: Arc<dyn asap_observability::observe::Observer>) -> Self {
        self.observers.push(observer);
        self
    }

    /// The client.
    ///
    /// Fails on an unusable URL ([`ClientError::InvalidUrl`]), plain `http://` to a
    /// non-loopback host while `require_https` is on ([`ClientError::InsecureUrl`]), or an
    /// invalid setting ([`ClientError::InvalidConfig`]).
    pub fn build(self) -> Result<AsapClient, ClientError> {
        if let Some(error) = self.env_error {
            return Err(error);
        }
        self.config.validate()?;
        let base = BaseUrl::parse(&self.base_url, self.config.require_https)?;
        #[cfg(feature = "metrics")]
        let reporter = {
            let observer: Option<Arc<dyn asap_observability::observe::Observer>> =
                (!self.observers.is_empty()).then(|| Arc::new(self.observers) as _);
            crate::observe::Reporter::new(observer, &crate::transport::host_key(base.rpc()))
        };
        #[cfg(not(feature = "metrics"))]
        let reporter = crate::observe::Reporter::default();
        let transport = Transport::new(
            &self.config,
            self.tls,
            self.bearer_token.as_deref(),
            reporter.clone(),
        )?;
        let breaker = self
            .config
            .circuit_breaker
            .map(|c| CircuitBreaker::new(c, base.masked().to_owned(), reporter.clone()));
        let compression = if self.config.compression {
            Compression::new().with_threshold(self.config.compression_threshold)
        } else {
            Compression::disabled()
        };
        let backoff = Backoff::new(
            self.config.base_delay,
            self.config.max_delay,
            self.config.jitter,
        );
        let client = AsapClient {
            inner: Arc::new(Inner {
                base,
                transport,
                breaker,
                backoff,
                compression,
                compression_off: AtomicBool::new(false),
                peer_coding: PeerCoding::default(),
                next_id: AtomicU64::new(0),
                manifests: ManifestCache::new(self.cache.unwrap_or_default()),
                config: self.config,
                reporter,
            }),
        };
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            crate::observe::register_cache(metrics, &client.inner);
        }
        Ok(client)
    }
}

impl AsapClient {
    /// A builder for a client of the agent at `base_url` (`http(s)://host[:port][/prefix]`;
    /// requests go to `<base_url>/asap`, a trailing `/` is ignored).
    pub fn builder(base_url: impl Into<String>) -> AsapClientBuilder {
        AsapClientBuilder {
            base_url: base_url.into(),
            config: ClientConfig::default(),
            env_error: None,
            bearer_token: None,
            cache: None,
            tls: None,
            #[cfg(feature = "metrics")]
            observers: asap_observability::observe::Observers::new(),
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }

    /// The base URL (without trailing `/`, password masked).
    pub fn base_url(&self) -> &str {
        self.inner.base.masked()
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The circuit breaker's state, or `None` when it is disabled.
    pub fn breaker_state(&self) -> Option<BreakerState> {
        self.inner.breaker.as_ref().map(|b| b.state())
    }

    /// Consecutive failed sends counted by the circuit breaker, or `None` when it is
    /// disabled.
    pub fn consecutive_failures(&self) -> Option<u32> {
        self.inner
            .breaker
            .as_ref()
            .map(|b| b.consecutive_failures())
    }

    /// Whether request bodies are compressed: the `compression` setting, turned off for good
    /// once the server has shown it cannot decompress (see the crate docs on old servers).
    pub fn compression_enabled(&self) -> bool {
        self.inner.config.compression && !self.inner.compression_off.load(Ordering::Relaxed)
    }

    /// Sends `envelope` as an `asap.send` call and returns the response envelope
    /// (PROTOCOL §12.2).
    ///
    /// 1. With the circuit breaker on, an open circuit fails at once with
    ///    [`ClientError::CircuitOpen`] (no request).
    /// 2. The body gets id `req-<n>` (per-client counter) and a fresh ULID idempotency key
    ///    (`params.idempotency_key` and `X-Idempotency-Key`), and is compressed once when at
    ///    least `compression_threshold` bytes and smaller compressed.
    /// 3. Up to `max_retries` attempts in total, with the same body, id and key, each
    ///    limited to `timeout`:
    ///    - HTTP 5xx, 429, connect errors and timeouts are retried after
    ///      [`backoff(attempt)`](crate::Backoff);
    ///    - HTTP 429 and 503 with a `Retry-After` (seconds or HTTP-date) are retried after
    ///      it instead when it is at most `max_retry_after` (default: `max_delay`), and
    ///      fail at once with [`ClientError::Connection`] carrying the hint
    ///      ([`ClientError::retry_after`]) when it is longer;
    ///    - other HTTP 4xx fail at once with [`ClientError::Connection`];
    ///    - a JSON-RPC error reply fails with [`ClientError::Remote`];
    ///    - a body that is not JSON gives `Remote(-32700, "Invalid JSON response: …")`, one
    ///      without `result.envelope` `Remote(-32603, "Missing envelope in response")`.
    /// 4. The whole send — slot waits, attempts, waits between them — is limited to
    ///    `deadline` (default 60 s): an attempt still running then is dropped, and a wait
    ///    that would end at or after it is not started; the send fails with
    ///    [`ClientError::DeadlineExceeded`] (with the server's last `Retry-After`, if any).
    /// 5. The breaker records one failure per failed send (after its retries, a deadline
    ///    error included) and a success for a response envelope or a JSON-RPC error.
    ///
    /// Dropping the future cancels the send, like any future.
    ///
    /// A compressed request answered by `-32700` or HTTP 415 is sent again uncompressed
    /// (not counted as an attempt), and compression stays off for this client.
    pub async fn send(&self, envelope: Envelope) -> Result<Envelope, ClientError> {
        self.send_ref(&envelope).await
    }

    /// [`send`](Self::send) without giving up the envelope.
    pub async fn send_ref(&self, envelope: &Envelope) -> Result<Envelope, ClientError> {
        let reporter = &self.inner.reporter;
        let started = reporter.is_on().then(std::time::Instant::now);
        let result = self.send_admitted(envelope).await;
        if let Some(started) = started {
            reporter.send(result.as_ref().err(), started.elapsed());
        }
        result
    }

    /// [`send_ref`](Self::send_ref) without its report.
    async fn send_admitted(&self, envelope: &Envelope) -> Result<Envelope, ClientError> {
        let inner = &*self.inner;
        let admission = inner.breaker.as_ref().map(|b| b.admit()).transpose()?;
        if inner.config.max_retries == 0 {
            // No attempt, so nothing for the breaker to learn (the admission is released).
            return Err(max_retries_zero());
        }
        let result = inner.send_with_retries(envelope).await;
        if let Some(admission) = admission {
            match &result {
                Ok(_) | Err(ClientError::Remote { .. }) => admission.success(),
                Err(error) if error.is_breaker_failure() => admission.failure(),
                Err(_) => drop(admission),
            }
        }
        result
    }
}
