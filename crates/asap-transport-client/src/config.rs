//! Client configuration: timeouts, retries, pool, compression, transport security — every
//! default written down.

use std::time::Duration;

use asap_codec::compression::{DEFAULT_COMPRESSION_THRESHOLD, DEFAULT_MAX_REQUEST_SIZE};

use crate::breaker::BreakerConfig;
use crate::error::ClientError;

/// Default of [`ClientConfig::deadline`].
const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// Environment variable: idle keep-alive connections kept per host
/// ([`ClientConfig::pool_max_idle_per_host`]).
pub const ENV_POOL_CONNECTIONS: &str = "ASAP_POOL_CONNECTIONS";

/// Environment variable: maximum connections (in-flight requests) per host
/// ([`ClientConfig::max_connections_per_host`]).
pub const ENV_POOL_MAXSIZE: &str = "ASAP_POOL_MAXSIZE";

/// Settings of an [`AsapClient`](crate::AsapClient).
///
/// | setting | default | notes |
/// |---|---|---|
/// | `timeout` | 60 s | one HTTP attempt: connect, write the request, read the whole response |
/// | `deadline` | 60 s | a whole send: every attempt and every wait between them (`None`: unbounded); see below |
/// | `max_retries` | 3 | **total attempts**, not extra retries; `0` fails at once with `Max retries (0) exceeded` |
/// | `base_delay` / `max_delay` | 1 s / 60 s | `backoff(a) = min(base·2^a, max)` |
/// | `jitter` | on | adds `U(0, 0.1·backoff)` |
/// | `max_retry_after` | `None`: `max_delay` | longest `Retry-After` honoured; a longer one ends the send at once, see below |
/// | `circuit_breaker` | **off** | [`BreakerConfig::default`]: threshold 5, timeout 60 s, 1 half-open probe |
/// | `max_connections_per_host` | 100 | in-flight requests per host; `ASAP_POOL_MAXSIZE` |
/// | `pool_max_idle_per_host` | 100 | idle keep-alive connections kept per host; `ASAP_POOL_CONNECTIONS` |
/// | `pool_idle_timeout` | 5 s | keep-alive expiry of an idle connection (`None`: never) |
/// | `pool_acquire_timeout` | 5 s | wait for a free slot, then [`ClientError::PoolTimeout`] |
/// | `tcp_keepalive` | 60 s | `SO_KEEPALIVE` idle time on client sockets (`None`: off) |
/// | `http2_prior_knowledge` | off | speak HTTP/2 without negotiation (h2c on `http://`); `https://` negotiates h2 by ALPN anyway |
/// | `compression` | on | request bodies ≥ `compression_threshold` are sent as brotli (else gzip) when smaller |
/// | `compression_threshold` | 1024 bytes | |
/// | `max_response_size` | 10 485 760 bytes (10 MiB) | received and decompressed response body |
/// | `require_https` | on | `http://` only for `localhost`, `127.0.0.1`, `::1` |
/// | `batch_concurrency` | `None`: `max_connections_per_host` | sends in flight at once in [`send_batch`](crate::AsapClient::send_batch) |
/// | `manifest_timeout` | 10 s | manifest fetches use `min(timeout, manifest_timeout)` |
///
/// # Deadline and `Retry-After`
///
/// `timeout` bounds one attempt; `deadline` bounds the whole send, waiting for a pool slot,
/// every attempt and every backoff or `Retry-After` wait included, so a server that accepts
/// and never answers costs at most `deadline`, not `timeout × max_retries`. An attempt in
/// flight when the deadline passes is dropped, and a wait that would end at or after the
/// deadline is not started: either way the send fails with
/// [`ClientError::DeadlineExceeded`], carrying the server's last `Retry-After`. The default
/// of 60 s equals the default `timeout`: raising `timeout` for slow agents needs a larger
/// `deadline` too (or [`no_deadline`](ClientConfigBuilder::no_deadline)). Each send of a
/// [`send_batch`](crate::AsapClient::send_batch) has its own deadline, started when that
/// send starts; wrap the batch in `tokio::time::timeout` to bound it as a whole.
///
/// A 429 or 503 answer with a `Retry-After` up to `max_retry_after` is retried after that
/// delay (instead of the backoff). A longer one is **not waited for**: the send stops at
/// once with the HTTP error ([`ClientError::Connection`]), whose
/// [`retry_after`](ClientError::retry_after) says when the server is willing to be called
/// again. Sleeping only the cap would retry before the server asked to be called, most
/// likely to be refused again while holding the caller; returning the hint lets the caller
/// schedule the retry (or give up) itself.
///
/// Only the two pool sizes have environment variables ([`ClientConfig::from_env`]); the
/// reference client has none at all, so they are an addition of this implementation.
///
/// ```
/// use std::time::Duration;
/// use asap_transport_client::ClientConfig;
///
/// let config = ClientConfig::builder()
///     .timeout(Duration::from_secs(5))
///     .max_retries(5)
///     .build();
/// assert_eq!(config.timeout, Duration::from_secs(5));
/// assert_eq!(config.max_connections_per_host, 100);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Time allowed for one HTTP attempt (connect, send, read the whole response).
    pub timeout: Duration,
    /// Time allowed for a whole send: every attempt and every wait between them; `None`
    /// puts no bound beyond `timeout` per attempt.
    pub deadline: Option<Duration>,
    /// Total attempts per send (not extra retries).
    pub max_retries: u32,
    /// Backoff before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// Largest backoff (before jitter).
    pub max_delay: Duration,
    /// Add up to 10 % random jitter to each backoff.
    pub jitter: bool,
    /// Longest `Retry-After` (on 429 and 503) waited for; a longer one ends the send with
    /// the HTTP error and the hint. `None`: `max_delay`.
    pub max_retry_after: Option<Duration>,
    /// Circuit breaker for the base URL; `None` disables it.
    pub circuit_breaker: Option<BreakerConfig>,
    /// Requests in flight at once per host (bounds HTTP/1.1 connections, HTTP/2 streams).
    pub max_connections_per_host: usize,
    /// Idle keep-alive connections kept per host.
    pub pool_max_idle_per_host: usize,
    /// How long an idle connection is kept; `None` keeps it until the server closes it.
    pub pool_idle_timeout: Option<Duration>,
    /// Time allowed to wait for a free request slot.
    pub pool_acquire_timeout: Duration,
    /// TCP keepalive idle time; `None` disables `SO_KEEPALIVE`.
    pub tcp_keepalive: Option<Duration>,
    /// Use HTTP/2 without negotiation (h2c on plain `http://`).
    pub http2_prior_knowledge: bool,
    /// Compress large request bodies.
    pub compression: bool,
    /// Smallest request body (bytes) that is compressed.
    pub compression_threshold: usize,
    /// Largest response body accepted, compressed and decompressed (bytes).
    pub max_response_size: usize,
    /// Refuse plain `http://` except to loopback hosts.
    pub require_https: bool,
    /// Concurrent sends of a batch; `None` uses `max_connections_per_host`.
    pub batch_concurrency: Option<usize>,
    /// Upper bound of the manifest fetch timeout.
    pub manifest_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            deadline: Some(DEFAULT_DEADLINE),
            max_retries: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            jitter: true,
            max_retry_after: None,
            circuit_breaker: None,
            max_connections_per_host: 100,
            pool_max_idle_per_host: 100,
            pool_idle_timeout: Some(Duration::from_secs(5)),
            pool_acquire_timeout: Duration::from_secs(5),
            tcp_keepalive: Some(Duration::from_secs(60)),
            http2_prior_knowledge: false,
            compression: true,
            compression_threshold: DEFAULT_COMPRESSION_THRESHOLD,
            max_response_size: DEFAULT_MAX_REQUEST_SIZE,
            require_https: true,
            batch_concurrency: None,
            manifest_timeout: Duration::from_secs(10),
        }
    }
}

impl ClientConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> ClientConfigBuilder {
        ClientConfigBuilder {
            config: Self::default(),
            env_error: None,
        }
    }

    /// The defaults, overridden by `ASAP_POOL_CONNECTIONS` and `ASAP_POOL_MAXSIZE`.
    pub fn from_env() -> Result<Self, ClientError> {
        Self::default().with_env(|name| std::env::var(name).ok())
    }

    /// Applies the pool variables read through `get` (a test can pass a closure instead of
    /// the process environment). Values must be positive integers.
    ///
    /// ```
    /// use asap_transport_client::ClientConfig;
    ///
    /// let config = ClientConfig::default()
    ///     .with_env(|name| (name == "ASAP_POOL_MAXSIZE").then(|| "8".to_owned()))
    ///     .unwrap();
    /// assert_eq!(config.max_connections_per_host, 8);
    /// assert!(ClientConfig::default().with_env(|_| Some("zero".to_owned())).is_err());
    /// ```
    pub fn with_env(mut self, get: impl Fn(&str) -> Option<String>) -> Result<Self, ClientError> {
        if let Some(value) = get(ENV_POOL_CONNECTIONS) {
            self.pool_max_idle_per_host = parse_count(ENV_POOL_CONNECTIONS, &value, true)?;
        }
        if let Some(value) = get(ENV_POOL_MAXSIZE) {
            self.max_connections_per_host = parse_count(ENV_POOL_MAXSIZE, &value, false)?;
        }
        Ok(self)
    }

    /// Checks the values that would make the client unusable.
    pub(crate) fn validate(&self) -> Result<(), ClientError> {
        if self.max_connections_per_host == 0 {
            return Err(ClientError::invalid_config(
                "max_connections_per_host must be at least 1",
            ));
        }
        if self.batch_concurrency == Some(0) {
            return Err(ClientError::invalid_config(
                "batch_concurrency must be at least 1",
            ));
        }
        if self.timeout.is_zero() {
            return Err(ClientError::invalid_config("timeout must be positive"));
        }
        if self.deadline.is_some_and(|d| d.is_zero()) {
            return Err(ClientError::invalid_config("deadline must be positive"));
        }
        if let Some(breaker) = &self.circuit_breaker {
            if breaker.threshold == 0 {
                return Err(ClientError::invalid_config(
                    "circuit breaker threshold must be at least 1",
                ));
            }
            if breaker.half_open_max_probes == 0 {
                return Err(ClientError::invalid_config(
                    "circuit breaker half_open_max_probes must be at least 1",
                ));
            }
        }
        Ok(())
    }

    /// The longest `Retry-After` waited for.
    pub(crate) fn effective_max_retry_after(&self) -> Duration {
        self.max_retry_after.unwrap_or(self.max_delay)
    }

    /// Sends in flight at once in a batch.
    pub(crate) fn effective_batch_concurrency(&self) -> usize {
        self.batch_concurrency
            .unwrap_or(self.max_connections_per_host)
            .max(1)
    }
}

fn parse_count(name: &str, value: &str, zero_ok: bool) -> Result<usize, ClientError> {
    match value.trim().parse::<usize>() {
        Ok(n) if n > 0 || zero_ok => Ok(n),
        _ => Err(ClientError::invalid_config(format!(
            "invalid {name}={value:?}: expected a {} integer",
            if zero_ok { "non-negative" } else { "positive" }
        ))),
    }
}

/// Builds a [`ClientConfig`]; every setter's default is listed on [`ClientConfig`].
#[derive(Debug, Clone)]
pub struct ClientConfigBuilder {
    config: ClientConfig,
    env_error: Option<ClientError>,
}

/// Generates the same setters for [`ClientConfigBuilder`] and
/// [`AsapClientBuilder`](crate::AsapClientBuilder) (both hold `config: ClientConfig`).
macro_rules! config_setters {
    ($builder:ty) => {
        impl $builder {
            /// Time allowed for one HTTP attempt (default 60 s). The whole send is still
            /// bounded by the deadline.
            #[must_use]
            pub fn timeout(mut self, value: std::time::Duration) -> Self {
                self.config.timeout = value;
                self
            }
            /// Time allowed for a whole send, every attempt and wait included (default
            /// 60 s); past it the send fails with `ClientError::DeadlineExceeded`.
            #[must_use]
            pub fn deadline(mut self, value: std::time::Duration) -> Self {
                self.config.deadline = Some(value);
                self
            }
            /// No overall deadline: a send takes up to `timeout` per attempt plus the waits.
            #[must_use]
            pub fn no_deadline(mut self) -> Self {
                self.config.deadline = None;
                self
            }
            /// Longest `Retry-After` waited for (default: `max_delay`); a longer one ends
            /// the send with the HTTP error carrying the hint.
            #[must_use]
            pub fn max_retry_after(mut self, value: std::time::Duration) -> Self {
                self.config.max_retry_after = Some(value);
                self
            }
            /// Total attempts per send (default 3).
            #[must_use]
            pub fn max_retries(mut self, value: u32) -> Self {
                self.config.max_retries = value;
                self
            }
            /// First backoff delay (default 1 s).
            #[must_use]
            pub fn base_delay(mut self, value: std::time::Duration) -> Self {
                self.config.base_delay = value;
                self
            }
            /// Largest backoff delay before jitter (default 60 s).
            #[must_use]
            pub fn max_delay(mut self, value: std::time::Duration) -> Self {
                self.config.max_delay = value;
                self
            }
            /// Random jitter of up to 10 % on backoffs (default on).
            #[must_use]
            pub fn jitter(mut self, value: bool) -> Self {
                self.config.jitter = value;
                self
            }
            /// Enables the circuit breaker (default off).
            #[must_use]
            pub fn circuit_breaker(mut self, value: $crate::BreakerConfig) -> Self {
                self.config.circuit_breaker = Some(value);
                self
            }
            /// Disables the circuit breaker (the default).
            #[must_use]
            pub fn no_circuit_breaker(mut self) -> Self {
                self.config.circuit_breaker = None;
                self
            }
            /// Requests in flight at once per host (default 100).
            #[must_use]
            pub fn max_connections_per_host(mut self, value: usize) -> Self {
                self.config.max_connections_per_host = value;
                self
            }
            /// Idle keep-alive connections kept per host (default 100).
            #[must_use]
            pub fn pool_max_idle_per_host(mut self, value: usize) -> Self {
                self.config.pool_max_idle_per_host = value;
                self
            }
            /// Keep-alive expiry of idle connections (default 5 s; `None`: never).
            #[must_use]
            pub fn pool_idle_timeout(mut self, value: Option<std::time::Duration>) -> Self {
                self.config.pool_idle_timeout = value;
                self
            }
            /// Wait for a free request slot (default 5 s).
            #[must_use]
            pub fn pool_acquire_timeout(mut self, value: std::time::Duration) -> Self {
                self.config.pool_acquire_timeout = value;
                self
            }
            /// TCP keepalive idle time (default 60 s; `None`: off).
            #[must_use]
            pub fn tcp_keepalive(mut self, value: Option<std::time::Duration>) -> Self {
                self.config.tcp_keepalive = value;
                self
            }
            /// HTTP/2 without negotiation, e.g. h2c on `http://` (default off).
            #[must_use]
            pub fn http2_prior_knowledge(mut self, value: bool) -> Self {
                self.config.http2_prior_knowledge = value;
                self
            }
            /// Request body compression (default on).
            #[must_use]
            pub fn compression(mut self, value: bool) -> Self {
                self.config.compression = value;
                self
            }
            /// Smallest compressed request body in bytes (default 1024).
            #[must_use]
            pub fn compression_threshold(mut self, value: usize) -> Self {
                self.config.compression_threshold = value;
                self
            }
            /// Largest accepted response body in bytes (default 10 MiB).
            #[must_use]
            pub fn max_response_size(mut self, value: usize) -> Self {
                self.config.max_response_size = value;
                self
            }
            /// Refuse plain `http://` except to loopback hosts (default on).
            #[must_use]
            pub fn require_https(mut self, value: bool) -> Self {
                self.config.require_https = value;
                self
            }
            /// Concurrent sends in a batch (default: `max_connections_per_host`).
            #[must_use]
            pub fn batch_concurrency(mut self, value: usize) -> Self {
                self.config.batch_concurrency = Some(value);
                self
            }
            /// Upper bound of the manifest fetch timeout (default 10 s).
            #[must_use]
            pub fn manifest_timeout(mut self, value: std::time::Duration) -> Self {
                self.config.manifest_timeout = value;
                self
            }
            /// Applies `ASAP_POOL_CONNECTIONS` / `ASAP_POOL_MAXSIZE` from the process
            /// environment; an invalid value is reported by `build()`.
            #[must_use]
            pub fn from_env(mut self) -> Self {
                match self
                    .config
                    .clone()
                    .with_env(|name| std::env::var(name).ok())
                {
                    Ok(config) => self.config = config,
                    Err(error) => self.env_error = Some(error),
                }
                self
            }
        }
    };
}

pub(crate) use config_setters;

config_setters!(ClientConfigBuilder);

impl ClientConfigBuilder {
    /// The configuration, or the error of an invalid environment variable read by
    /// [`from_env`](Self::from_env).
    pub fn try_build(self) -> Result<ClientConfig, ClientError> {
        match self.env_error {
            Some(error) => Err(error),
            None => Ok(self.config),
        }
    }

    /// The configuration (an invalid environment value read by
    /// [`from_env`](Self::from_env) is ignored; use [`try_build`](Self::try_build) to see it).
    pub fn build(self) -> ClientConfig {
        self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_table() {
        let c = ClientConfig::default();
        assert_eq!(c.timeout, Duration::from_secs(60));
        assert_eq!(c.deadline, Some(Duration::from_secs(60)));
        assert_eq!(c.max_retry_after, None);
        assert_eq!(c.effective_max_retry_after(), Duration::from_secs(60));
        let c = ClientConfig::builder()
            .max_delay(Duration::from_secs(5))
            .build();
        assert_eq!(c.effective_max_retry_after(), Duration::from_secs(5));
        let c = ClientConfig::builder()
            .max_retry_after(Duration::from_secs(600))
            .build();
        assert_eq!(c.effective_max_retry_after(), Duration::from_secs(600));
        assert_eq!(c.max_retries, 3);
        assert_eq!(c.base_delay, Duration::from_secs(1));
        assert_eq!(c.max_delay, Duration::from_secs(60));
        assert!(c.jitter);
        assert!(c.circuit_breaker.is_none());
        assert_eq!(c.max_connections_per_host, 100);
        assert_eq!(c.pool_max_idle_per_host, 100);
        assert_eq!(c.pool_idle_timeout, Some(Duration::from_secs(5)));
        assert_eq!(c.pool_acquire_timeout, Duration::from_secs(5));
        assert!(!c.http2_prior_knowledge);
        assert!(c.compression);
        assert_eq!(c.compression_threshold, 1024);
        assert!(c.require_https);
        assert_eq!(c.effective_batch_concurrency(), 100);
    }

    #[test]
    fn environment_sets_pool_sizes() {
        let env = |name: &str| match name {
            ENV_POOL_CONNECTIONS => Some(" 7 ".to_owned()),
            ENV_POOL_MAXSIZE => Some("9".to_owned()),
            _ => None,
        };
        let c = ClientConfig::default().with_env(env).unwrap();
        assert_eq!(c.pool_max_idle_per_host, 7);
        assert_eq!(c.max_connections_per_host, 9);
        let zero_idle = ClientConfig::default()
            .with_env(|n| (n == ENV_POOL_CONNECTIONS).then(|| "0".to_owned()))
            .unwrap();
        assert_eq!(zero_idle.pool_max_idle_per_host, 0);
        assert!(
            ClientConfig::default()
                .with_env(|n| (n == ENV_POOL_MAXSIZE).then(|| "0".to_owned()))
                .is_err()
        );
    }

    #[test]
    fn validation_rejects_unusable_values() {
        let c = ClientConfig::builder().max_connections_per_host(0).build();
        assert!(c.validate().is_err());
        let c = ClientConfig::builder().deadline(Duration::ZERO).build();
        assert!(c.validate().is_err());
        assert!(
            ClientConfig::builder()
                .no_deadline()
                .build()
                .validate()
                .is_ok()
        );
        let c = ClientConfig::builder()
            .circuit_breaker(BreakerConfig {
                half_open_max_probes: 0,
                ..BreakerConfig::default()
            })
            .build();
        assert!(c.validate().is_err());
    }
}
