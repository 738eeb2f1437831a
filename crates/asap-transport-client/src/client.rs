//! [`AsapClient`], its builder and the send algorithm (PROTOCOL §12.2).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use asap_cache::{CacheConfig, ManifestCache};
use asap_codec::compression::{Compression, Encoding};
use asap_codec::rpc::{Id, Response, decode_response, encode_request};
use asap_model::Envelope;
use asap_model::error::rpc;
use bytes::Bytes;
use http::StatusCode;
use http::header::RETRY_AFTER;
use serde_json::Value;
use ulid::Ulid;

use crate::LOG_TARGET;
use crate::backoff::{Backoff, parse_retry_after};
use crate::breaker::{BreakerState, CircuitBreaker};
use crate::config::{ClientConfig, config_setters};
use crate::error::ClientError;
use crate::transport::{AttemptError, HttpReply, TlsConfig, Transport};
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
    backoff: Backoff,
    compression: Compression,
    /// Set once the server has shown it cannot read compressed bodies.
    compression_off: AtomicBool,
    next_id: AtomicU64,
    pub(crate) manifests: ManifestCache,
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
        let transport = Transport::new(&self.config, self.tls, self.bearer_token.as_deref())?;
        let breaker = self
            .config
            .circuit_breaker
            .map(|c| CircuitBreaker::new(c, base.masked().to_owned()));
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
        Ok(AsapClient {
            inner: Arc::new(Inner {
                base,
                transport,
                breaker,
                backoff,
                compression,
                compression_off: AtomicBool::new(false),
                next_id: AtomicU64::new(0),
                manifests: ManifestCache::new(self.cache.unwrap_or_default()),
                config: self.config,
            }),
        })
    }
}

/// A request body ready to send: the JSON, possibly compressed.
#[derive(Clone)]
struct Body {
    bytes: Bytes,
    encoding: Option<Encoding>,
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
    /// 3. Up to `max_retries` attempts in total, with the same body, id and key:
    ///    - HTTP 5xx, connect errors and timeouts are retried after
    ///      [`backoff(attempt)`](crate::Backoff);
    ///    - HTTP 429 after its `Retry-After` (seconds or HTTP-date), else the backoff;
    ///    - other HTTP 4xx fail at once with [`ClientError::Connection`];
    ///    - a JSON-RPC error reply fails with [`ClientError::Remote`];
    ///    - a body that is not JSON gives `Remote(-32700, "Invalid JSON response: …")`, one
    ///      without `result.envelope` `Remote(-32603, "Missing envelope in response")`.
    /// 4. The breaker records one failure per failed send (after its retries) and a success
    ///    for a response envelope or a JSON-RPC error.
    ///
    /// A compressed request answered by `-32700` or HTTP 415 is sent again uncompressed
    /// (not counted as an attempt), and compression stays off for this client.
    pub async fn send(&self, envelope: Envelope) -> Result<Envelope, ClientError> {
        self.send_ref(&envelope).await
    }

    /// [`send`](Self::send) without giving up the envelope.
    pub async fn send_ref(&self, envelope: &Envelope) -> Result<Envelope, ClientError> {
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

impl Inner {
    async fn send_with_retries(&self, envelope: &Envelope) -> Result<Envelope, ClientError> {
        let max_attempts = self.config.max_retries;
        if max_attempts == 0 {
            return Err(max_retries_zero());
        }
        let n = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let id = Id::Str(format!("req-{n}"));
        let key = Ulid::generate().to_string();
        let json = Bytes::from(encode_request(&id, envelope, Some(&key)));
        let mut body = self.prepare(&json).await;
        let mut fell_back = false;
        let mut attempt: u32 = 0;
        loop {
            let last = attempt + 1 >= max_attempts;
            let request =
                self.transport
                    .post(self.base.rpc(), body.bytes.clone(), body.encoding, &key);
            tracing::debug!(
                target: LOG_TARGET,
                request_id = %id,
                attempt = attempt + 1,
                encoding = body.encoding.map(Encoding::as_str),
                "sending"
            );
            let reply = match self.transport.execute(request, self.config.timeout).await {
                Ok(reply) => reply,
                Err(error @ (AttemptError::Connect(_) | AttemptError::Timeout(_))) if !last => {
                    let delay = self.backoff.delay(attempt);
                    tracing::warn!(
                        target: LOG_TARGET,
                        request_id = %id,
                        attempt = attempt + 1,
                        error = %error.into_client_error(),
                        delay_ms = delay.as_millis() as u64,
                        "attempt failed, retrying"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                    continue;
                }
                Err(error) => return Err(error.into_client_error()),
            };
            if body.encoding.is_some() && !fell_back && rejects_compression(&reply) {
                tracing::warn!(
                    target: LOG_TARGET,
                    base_url = %self.base.masked(),
                    status = reply.status.as_u16(),
                    "server cannot read compressed requests; resending uncompressed and no longer compressing"
                );
                self.compression_off.store(true, Ordering::Relaxed);
                body = Body {
                    bytes: json.clone(),
                    encoding: None,
                };
                fell_back = true;
                continue;
            }
            let status = reply.status;
            if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                if last {
                    return Err(ClientError::http_status(status.as_u16(), &reply.body));
                }
                let delay = if status == StatusCode::TOO_MANY_REQUESTS {
                    retry_after(&reply).unwrap_or_else(|| self.backoff.delay(attempt))
                } else {
                    self.backoff.delay(attempt)
                };
                tracing::warn!(
                    target: LOG_TARGET,
                    request_id = %id,
                    attempt = attempt + 1,
                    status = status.as_u16(),
                    delay_ms = delay.as_millis() as u64,
                    "server error, retrying"
                );
                tokio::time::sleep(delay).await;
                attempt += 1;
                continue;
            }
            if status.is_client_error() {
                return Err(ClientError::http_status(status.as_u16(), &reply.body));
            }
            return interpret(&reply.body);
        }
    }

    /// Compresses the body once, unless compression is off or not worth it.
    async fn prepare(&self, json: &Bytes) -> Body {
        let identity = Body {
            bytes: json.clone(),
            encoding: None,
        };
        if self.compression_off.load(Ordering::Relaxed) {
            return identity;
        }
        match self.compression.compress_body(json).await {
            Ok(Some((encoding, compressed))) => Body {
                bytes: Bytes::from(compressed),
                encoding: Some(encoding),
            },
            Ok(None) => identity,
            Err(error) => {
                tracing::debug!(target: LOG_TARGET, %error, "compression failed; sending uncompressed");
                identity
            }
        }
    }
}

fn max_retries_zero() -> ClientError {
    ClientError::connection("Max retries (0) exceeded")
}

/// Whether the answer to a compressed request says the server could not read it: HTTP 415,
/// or HTTP 200 with a JSON-RPC `-32700` parse error (what reference servers 0.1 and 0.5
/// answer to a gzip or brotli body, PROTOCOL §18).
fn rejects_compression(reply: &HttpReply) -> bool {
    match reply.status {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => true,
        StatusCode::OK => serde_json::from_slice::<Value>(&reply.body).is_ok_and(|v| {
            v.get("error")
                .and_then(|e| e.get("code"))
                .and_then(Value::as_i64)
                == Some(i64::from(rpc::PARSE_ERROR))
        }),
        _ => false,
    }
}

/// The `Retry-After` of a reply, when present, parsable and in the future.
fn retry_after(reply: &HttpReply) -> Option<Duration> {
    let value = reply.headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// A 2xx/3xx body → the response envelope or the remote error.
fn interpret(body: &[u8]) -> Result<Envelope, ClientError> {
    match decode_response(body) {
        Ok(Response::Success { envelope, .. }) => Ok(*envelope),
        Ok(Response::Error(reply)) => Err(ClientError::remote(
            reply.error.code,
            reply.error.message.into_owned(),
            reply.error.data,
        )),
        Ok(_) | Err(_) => interpret_leniently(body),
    }
}

/// The slow path when the body is not a well-formed reply, in the reference client's order:
/// not JSON, an `error` member, a missing envelope, an invalid envelope.
fn interpret_leniently(body: &[u8]) -> Result<Envelope, ClientError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ClientError::remote(
            rpc::PARSE_ERROR,
            format!("Invalid JSON response: {e}"),
            None,
        )
    })?;
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        let code = error
            .get("code")
            .and_then(Value::as_i64)
            .and_then(|c| i32::try_from(c).ok())
            .unwrap_or(rpc::INTERNAL_ERROR);
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("Unknown error");
        return Err(ClientError::remote(
            code,
            message,
            error.get("data").cloned(),
        ));
    }
    match value.get("result").and_then(|r| r.get("envelope")) {
        None | Some(Value::Null) => Err(ClientError::remote(
            rpc::INTERNAL_ERROR,
            "Missing envelope in response",
            None,
        )),
        Some(envelope) => serde_json::from_value(envelope.clone()).map_err(|e| {
            ClientError::invalid_response(format!("invalid envelope in response: {e}"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interprets_replies() {
        let err = interpret(b"<html>").unwrap_err();
        assert_eq!(err.rpc_code(), Some(-32700));
        assert!(err.to_string().contains("Invalid JSON response: "));
        let err = interpret(br#"{"jsonrpc":"2.0","result":{},"id":"req-1"}"#).unwrap_err();
        assert_eq!(
            err,
            ClientError::remote(-32603, "Missing envelope in response", None)
        );
        let err = interpret(
            br#"{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found","data":{"method":"x"}},"id":"req-1"}"#,
        )
        .unwrap_err();
        assert_eq!(err.rpc_code(), Some(-32601));
        let err = interpret(br#"{"result":{"envelope":{"bad":1}}}"#).unwrap_err();
        assert!(matches!(err, ClientError::InvalidResponse { .. }));
    }
}
