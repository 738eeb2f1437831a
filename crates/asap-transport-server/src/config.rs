//! Server configuration: limits and policies, every default written down.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use asap_codec::compression::DEFAULT_MAX_REQUEST_SIZE;

use crate::layers::ratelimit::{DEFAULT_RATE_LIMIT, RateLimitKey, RateLimitSpec};
use crate::registry::default_max_threads;

/// Limits and policies of an ASAP server.
///
/// | setting | default | environment |
/// |---|---|---|
/// | `bind` | `127.0.0.1:8000` | `ASAP_HOST`, `ASAP_PORT` |
/// | `max_request_size` | 10 485 760 bytes (10 MiB), compressed and inflated | `ASAP_MAX_REQUEST_SIZE` |
/// | `rate_limit` | `10/second;100/minute` per client IP (`off` disables) | `ASAP_RATE_LIMIT` |
/// | `rate_limit_key` | client IP | `ASAP_RATE_LIMIT_KEY` (`ip` or `sender`) |
/// | `max_threads` | `min(32, cpus + 4)` concurrent blocking handlers, then HTTP 503 | `ASAP_MAX_THREADS` |
/// | `debug` | off: `-32603` carries no internal detail | `ASAP_DEBUG` |
/// | `debug_log` | off; on: every request and response envelope is logged, sanitized (`asap.request.envelope`, `asap.response.envelope`) | `ASAP_DEBUG_LOG` |
/// | `require_nonce` | off (nonces are checked when on) | — |
/// | `nonce_ttl` | 600 s (twice the maximum envelope age) | — |
/// | `nonce_capacity` | 100 000 remembered nonces | — |
/// | `max_envelope_age` / `max_future_tolerance` | 300 s / 30 s | — |
/// | `validate_payloads` | on: known payload types are checked against their model before dispatch | — |
/// | `header_read_timeout` | 10 s to receive request headers (slowloris) | — |
/// | `request_timeout` | 60 s per request, then 408 | — |
/// | `max_connections` | 10 000 concurrent connections; when all are taken, the longest-idle ones are closed to make room, and accepts wait only while none is idle | — |
/// | `max_connections_per_ip` | `None`: no bound (behind a proxy or load balancer every client has its address); `Some(n)`: further connections from one address are closed at once | — |
/// | `idle_timeout` | 60 s without a request in flight, then the connection is closed (GOAWAY for HTTP/2) | — |
/// | `http2_keep_alive_interval` | 20 s between HTTP/2 pings (`None`: no pings) | — |
/// | `http2_keep_alive_timeout` | 20 s for a ping's acknowledgement, then the connection is closed | — |
/// | `http2_max_concurrent_streams` | 100 concurrent requests per HTTP/2 connection (the minimum RFC 9113 recommends) | — |
/// | `shutdown_timeout` | 30 s to drain in-flight requests on shutdown | — |
/// | `lingering_time` | 30 s at most of reading and discarding the rest of an HTTP/1.1 request body answered with an error before it was read, so that the client sees the answer (a lingering close, as nginx's `lingering_time`); zero turns it off | — |
/// | `lingering_timeout` | 5 s at most waiting for more of that body (nginx's `lingering_timeout`) | — |
/// | `lingering_bytes` | 64 MiB at most discarded by one lingering close | — |
/// | `http2` | on: HTTP/1.1 and h2c (prior knowledge) on one port | — |
/// | `response_compression` | responses of at least 1024 bytes are compressed (br, gzip) when `Accept-Encoding` allows; `None` turns it off | `ASAP_RESPONSE_COMPRESSION` (`off` or a byte threshold) |
/// | `workers` | number of CPUs (runtime worker threads, used by `asap serve`) | `ASAP_WORKERS` |
///
/// Truthy environment values are `true`, `1`, `yes`, `on` (case-insensitive).
///
/// ```
/// use asap_transport_server::ServerConfig;
///
/// let config = ServerConfig::builder()
///     .max_request_size(1024 * 1024)
///     .rate_limit(None)
///     .require_nonce(true)
///     .build();
/// assert_eq!(config.max_request_size, 1024 * 1024);
/// assert!(config.rate_limit.is_none());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Listen address.
    pub bind: SocketAddr,
    /// Maximum request body, before and after decompression.
    pub max_request_size: usize,
    /// Rate limit; `None` disables it.
    pub rate_limit: Option<RateLimitSpec>,
    /// What the rate limit is keyed by.
    pub rate_limit_key: RateLimitKey,
    /// Concurrent blocking handlers.
    pub max_threads: usize,
    /// Detailed internal errors in responses.
    pub debug: bool,
    /// Log every request and response envelope, with secrets redacted (PROTOCOL §11.6), at
    /// info under [`LOG_TARGET`](crate::LOG_TARGET). `ASAP_DEBUG_LOG` sets it.
    pub debug_log: bool,
    /// Check `extensions.nonce` against replays.
    pub require_nonce: bool,
    /// How long a nonce is remembered.
    pub nonce_ttl: Duration,
    /// How many nonces are remembered at most.
    pub nonce_capacity: usize,
    /// Oldest accepted envelope timestamp.
    pub max_envelope_age: Duration,
    /// Furthest accepted future timestamp.
    pub max_future_tolerance: Duration,
    /// Validate payloads of known types before dispatch.
    pub validate_payloads: bool,
    /// Time allowed to receive request headers.
    pub header_read_timeout: Duration,
    /// Time allowed for a whole request.
    pub request_timeout: Duration,
    /// Maximum concurrent connections.
    pub max_connections: usize,
    /// Maximum concurrent connections from one IP address (`None`: no bound).
    pub max_connections_per_ip: Option<usize>,
    /// Time a connection may stay open without a request in flight.
    pub idle_timeout: Duration,
    /// Interval of HTTP/2 keep-alive pings (`None`: no pings).
    pub http2_keep_alive_interval: Option<Duration>,
    /// Time allowed for a ping's acknowledgement.
    pub http2_keep_alive_timeout: Duration,
    /// Concurrent streams per HTTP/2 connection.
    pub http2_max_concurrent_streams: u32,
    /// Time allowed to drain in-flight requests at shutdown.
    pub shutdown_timeout: Duration,
    /// Longest lingering close (zero: none); see [`crate::serve::ConnectionSettings`].
    pub lingering_time: Duration,
    /// Longest wait for more data during a lingering close.
    pub lingering_timeout: Duration,
    /// Most bytes discarded by one lingering close.
    pub lingering_bytes: u64,
    /// Accept h2c (HTTP/2 prior knowledge) besides HTTP/1.1.
    pub http2: bool,
    /// Runtime worker threads (`None`: one per CPU).
    pub workers: Option<usize>,
    /// Minimum body size for response compression; `None` disables it.
    pub response_compression: Option<usize>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8000),
            max_request_size: DEFAULT_MAX_REQUEST_SIZE,
            rate_limit: DEFAULT_RATE_LIMIT.parse().ok(),
            rate_limit_key: RateLimitKey::PeerIp,
            max_threads: default_max_threads(),
            debug: false,
            debug_log: false,
            require_nonce: false,
            nonce_ttl: Duration::from_secs(600),
            nonce_capacity: 100_000,
            max_envelope_age: Duration::from_secs(300),
            max_future_tolerance: Duration::from_secs(30),
            validate_payloads: true,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            max_connections_per_ip: None,
            idle_timeout: Duration::from_secs(60),
            http2_keep_alive_interval: Some(Duration::from_secs(20)),
            http2_keep_alive_timeout: Duration::from_secs(20),
            http2_max_concurrent_streams: 100,
            shutdown_timeout: Duration::from_secs(30),
            lingering_time: Duration::from_secs(30),
            lingering_timeout: Duration::from_secs(5),
            lingering_bytes: 64 * 1024 * 1024,
            http2: true,
            workers: None,
            response_compression: Some(asap_codec::compression::DEFAULT_COMPRESSION_THRESHOLD),
        }
    }
}

/// An environment variable with an unusable value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {name}={value:?}: {reason}")]
pub struct ConfigError {
    /// Variable name.
    pub name: &'static str,
    /// Its value.
    pub value: String,
    /// What is wrong.
    pub reason: String,
}

/// Whether an environment value is truthy (`true`, `1`, `yes`, `on`).
pub fn is_truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on"
    )
}

impl ServerConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> ServerConfigBuilder {
        ServerConfigBuilder {
            config: Self::default(),
        }
    }

    /// The defaults overridden by the environment variables of the table above.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::default().with_env(|name| std::env::var(name).ok())
    }

    /// Applies variables read through `get` (testable without touching the process
    /// environment).
    pub fn with_env(mut self, get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        fn parse<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            value.trim().parse().map_err(|e: T::Err| ConfigError {
                name,
                value: value.to_owned(),
                reason: e.to_string(),
            })
        }
        if let Some(v) = get("ASAP_HOST") {
            let ip: IpAddr = parse("ASAP_HOST", &v)?;
            self.bind.set_ip(ip);
        }
        if let Some(v) = get("ASAP_PORT") {
            self.bind.set_port(parse("ASAP_PORT", &v)?);
        }
        if let Some(v) = get("ASAP_MAX_REQUEST_SIZE") {
            let size: usize = parse("ASAP_MAX_REQUEST_SIZE", &v)?;
            if size < 1 {
                return Err(ConfigError {
                    name: "ASAP_MAX_REQUEST_SIZE",
                    value: v,
                    reason: "must be at least 1".into(),
                });
            }
            self.max_request_size = size;
        }
        if let Some(v) = get("ASAP_RATE_LIMIT") {
            self.rate_limit =
                if matches!(v.trim().to_ascii_lowercase().as_str(), "off" | "none" | "") {
                    None
                } else {
                    Some(parse("ASAP_RATE_LIMIT", &v)?)
                };
        }
        if let Some(v) = get("ASAP_RATE_LIMIT_KEY") {
            self.rate_limit_key = parse("ASAP_RATE_LIMIT_KEY", &v)?;
        }
        if let Some(v) = get("ASAP_MAX_THREADS") {
            let n: usize = parse("ASAP_MAX_THREADS", &v)?;
            self.max_threads = n.max(1);
        }
        if let Some(v) = get("ASAP_DEBUG") {
            self.debug = is_truthy(&v);
        }
        if let Some(v) = get("ASAP_DEBUG_LOG") {
            self.debug_log = is_truthy(&v);
        }
        if let Some(v) = get("ASAP_RESPONSE_COMPRESSION") {
            self.response_compression = if matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "off" | "none" | "false" | "0"
            ) {
                None
            } else {
                Some(parse("ASAP_RESPONSE_COMPRESSION", &v)?)
            };
        }
        if let Some(v) = get("ASAP_WORKERS") {
            let n: usize = parse("ASAP_WORKERS", &v)?;
            self.workers = Some(n.max(1));
        }
        Ok(self)
    }
}

/// Builds a [`ServerConfig`]; every setter documents its default on [`ServerConfig`].
#[derive(Debug, Clone)]
pub struct ServerConfigBuilder {
    config: ServerConfig,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {
        impl ServerConfigBuilder {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $name(mut self, value: $ty) -> Self {
                    self.config.$name = value;
                    self
                }
            )*
        }
    };
}

setters! {
    /// Listen address.
    bind: SocketAddr;
    /// Maximum request body in bytes.
    max_request_size: usize;
    /// Rate limit (`None` disables).
    rate_limit: Option<RateLimitSpec>;
    /// Rate limit key.
    rate_limit_key: RateLimitKey;
    /// Concurrent blocking handlers.
    max_threads: usize;
    /// Detailed internal errors.
    debug: bool;
    /// Log request and response envelopes, sanitized (`ASAP_DEBUG_LOG`).
    debug_log: bool;
    /// Nonce replay protection.
    require_nonce: bool;
    /// Nonce memory.
    nonce_ttl: Duration;
    /// Nonce capacity.
    nonce_capacity: usize;
    /// Oldest accepted timestamp.
    max_envelope_age: Duration;
    /// Furthest future timestamp.
    max_future_tolerance: Duration;
    /// Payload validation before dispatch.
    validate_payloads: bool;
    /// Header read timeout.
    header_read_timeout: Duration;
    /// Whole-request timeout.
    request_timeout: Duration;
    /// Concurrent connections.
    max_connections: usize;
    /// Concurrent connections from one IP address (`None`: no bound).
    max_connections_per_ip: Option<usize>;
    /// Idle connection timeout.
    idle_timeout: Duration;
    /// HTTP/2 ping interval (`None`: no pings).
    http2_keep_alive_interval: Option<Duration>;
    /// HTTP/2 ping acknowledgement timeout.
    http2_keep_alive_timeout: Duration;
    /// Concurrent streams per HTTP/2 connection.
    http2_max_concurrent_streams: u32;
    /// Drain time at shutdown.
    shutdown_timeout: Duration;
    /// Longest lingering close (zero: none).
    lingering_time: Duration;
    /// Longest wait for data during a lingering close.
    lingering_timeout: Duration;
    /// Most bytes discarded by a lingering close.
    lingering_bytes: u64;
    /// h2c support.
    http2: bool;
    /// Runtime worker threads.
    workers: Option<usize>;
    /// Response compression threshold (`None` disables).
    response_compression: Option<usize>;
}

impl ServerConfigBuilder {
    /// The configuration.
    pub fn build(self) -> ServerConfig {
        self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_defaults() {
        let env = |name: &str| match name {
            "ASAP_PORT" => Some("9001".to_owned()),
            "ASAP_MAX_REQUEST_SIZE" => Some("2048".to_owned()),
            "ASAP_RATE_LIMIT" => Some("off".to_owned()),
            "ASAP_DEBUG" => Some(" Yes ".to_owned()),
            "ASAP_MAX_THREADS" => Some("4".to_owned()),
            _ => None,
        };
        let config = ServerConfig::default().with_env(env).expect("valid");
        assert_eq!(config.bind.port(), 9001);
        assert_eq!(config.max_request_size, 2048);
        assert!(config.rate_limit.is_none());
        assert!(config.debug);
        assert_eq!(config.max_threads, 4);
        let bad = ServerConfig::default()
            .with_env(|n| (n == "ASAP_MAX_REQUEST_SIZE").then(|| "0".to_owned()));
        assert!(bad.is_err());
        let bad = ServerConfig::default()
            .with_env(|n| (n == "ASAP_RATE_LIMIT").then(|| "5/sec".to_owned()));
        assert!(bad.is_err());
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = ServerConfig::default();
        assert_eq!(c.max_request_size, 10 * 1024 * 1024);
        assert_eq!(
            c.rate_limit.map(|r| r.to_string()).as_deref(),
            Some(DEFAULT_RATE_LIMIT)
        );
        assert!(!c.debug && !c.require_nonce && c.validate_payloads && c.http2);
        assert_eq!(c.max_connections, 10_000);
        assert_eq!(c.max_connections_per_ip, None);
        assert_eq!(c.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.http2_keep_alive_interval, Some(Duration::from_secs(20)));
        assert_eq!(c.http2_keep_alive_timeout, Duration::from_secs(20));
        assert_eq!(c.http2_max_concurrent_streams, 100);
        assert_eq!(c.lingering_time, Duration::from_secs(30));
        assert_eq!(c.lingering_timeout, Duration::from_secs(5));
        assert_eq!(c.lingering_bytes, 64 * 1024 * 1024);
    }
}
