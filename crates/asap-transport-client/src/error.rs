//! Client-side errors (PROTOCOL §12.7): never on the wire.

use std::time::Duration;

use asap_model::{AsapError, ErrorCode};
use serde_json::Value;

/// Why a send (or a manifest fetch) failed.
///
/// | variant | when | retried | circuit breaker |
/// |---|---|---|---|
/// | [`Connection`](Self::Connection) | connect/IO error, HTTP ≥ 400 (after retries for 5xx and 429) | 5xx, 429, connect errors | failure |
/// | [`Timeout`](Self::Timeout) | an attempt exceeded the request timeout | yes | failure |
/// | [`Remote`](Self::Remote) | the server answered a JSON-RPC error, a non-JSON body (`-32700`) or no `result.envelope` (`-32603`) | no | **success** |
/// | [`InvalidResponse`](Self::InvalidResponse) | undecodable body: bad compression, too large, invalid envelope | no | failure |
/// | [`CircuitOpen`](Self::CircuitOpen) | the breaker refused the send; no request was made | — | — |
/// | [`PoolTimeout`](Self::PoolTimeout) | no free request slot within the pool-acquire timeout | no | not counted |
/// | [`InvalidUrl`](Self::InvalidUrl), [`InsecureUrl`](Self::InsecureUrl), [`InvalidConfig`](Self::InvalidConfig) | building the client | — | — |
/// | [`EmptyBatch`](Self::EmptyBatch) | `send_batch` with no envelope | — | — |
/// | [`Manifest`](Self::Manifest) | a manifest fetch failed | no | not used |
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server could not be reached, or answered with an HTTP error status.
    #[error("{message}")]
    Connection {
        /// What happened; for HTTP errors, the status and up to 200 characters of the body.
        message: String,
        /// The HTTP status, when the server answered.
        status: Option<u16>,
    },

    /// An attempt took longer than the request timeout.
    #[error("Request timeout after {}s", format_secs(*after))]
    Timeout {
        /// The timeout that elapsed.
        after: Duration,
    },

    /// A JSON-RPC error from the server (or a response that is not a usable JSON-RPC reply).
    #[error("JSON-RPC error {code}: {message}")]
    Remote {
        /// JSON-RPC error code.
        code: i32,
        /// Error message.
        message: String,
        /// Error `data`.
        data: Option<Value>,
    },

    /// The circuit breaker is open for the base URL; no request was sent.
    #[error(
        "Circuit breaker is OPEN for {base_url}. Too many consecutive failures ({consecutive_failures}). Service temporarily unavailable."
    )]
    CircuitOpen {
        /// The base URL (credentials masked).
        base_url: String,
        /// Consecutive failed sends recorded by the breaker.
        consecutive_failures: u32,
    },

    /// No request slot became free within the pool-acquire timeout.
    #[error("Timed out after {}s waiting for a connection slot to {host}", format_secs(*after))]
    PoolTimeout {
        /// `host:port` whose slots were all in use.
        host: String,
        /// The pool-acquire timeout.
        after: Duration,
    },

    /// The URL cannot be used (not `http`/`https`, no host, unparsable).
    #[error("Invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Plain `http://` to a non-loopback host while `require_https` is on (PROTOCOL §11.7).
    #[error(
        "HTTPS is required for non-localhost connections (got {url}); use https:// or disable require_https"
    )]
    InsecureUrl {
        /// The URL (credentials masked).
        url: String,
    },

    /// The response could not be decoded (bad compression, too large, invalid envelope).
    #[error("Invalid response: {message}")]
    InvalidResponse {
        /// What is wrong with it.
        message: String,
    },

    /// A configuration value cannot be used.
    #[error("Invalid client configuration: {message}")]
    InvalidConfig {
        /// What is wrong.
        message: String,
    },

    /// `send_batch` was called with no envelope.
    #[error("send_batch needs at least one envelope")]
    EmptyBatch,

    /// Fetching a manifest failed.
    #[error("Failed to get manifest from {url}: {message}")]
    Manifest {
        /// The manifest URL.
        url: String,
        /// Why.
        message: String,
    },
}

impl ClientError {
    pub(crate) fn invalid_config(message: impl Into<String>) -> Self {
        Self::InvalidConfig {
            message: message.into(),
        }
    }

    pub(crate) fn invalid_response(message: impl Into<String>) -> Self {
        Self::InvalidResponse {
            message: message.into(),
        }
    }

    pub(crate) fn connection(message: impl Into<String>) -> Self {
        Self::Connection {
            message: message.into(),
            status: None,
        }
    }

    /// `HTTP error <status>: <≤200 characters of the body>`.
    pub(crate) fn http_status(status: u16, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let excerpt: String = text.chars().take(200).collect();
        Self::Connection {
            message: format!("HTTP error {status}: {excerpt}"),
            status: Some(status),
        }
    }

    pub(crate) fn remote(code: i32, message: impl Into<String>, data: Option<Value>) -> Self {
        Self::Remote {
            code,
            message: message.into(),
            data,
        }
    }

    /// The HTTP status the server answered, for [`Connection`](Self::Connection) errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Connection { status, .. } => *status,
            _ => None,
        }
    }

    /// The JSON-RPC code of a [`Remote`](Self::Remote) error.
    pub fn rpc_code(&self) -> Option<i32> {
        match self {
            Self::Remote { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The ASAP error code of errors that have one (`asap:transport/circuit_open`).
    pub fn asap_code(&self) -> Option<ErrorCode> {
        match self {
            Self::CircuitOpen { .. } => Some(ErrorCode::CircuitOpen),
            _ => None,
        }
    }

    /// The error as an [`AsapError`], for errors the protocol names: circuit open gives code
    /// `asap:transport/circuit_open` with details `{base_url, consecutive_failures}`.
    ///
    /// ```
    /// use asap_transport_client::ClientError;
    ///
    /// let e = ClientError::CircuitOpen {
    ///     base_url: "https://agent.example".into(),
    ///     consecutive_failures: 5,
    /// };
    /// let asap = e.to_asap_error().unwrap();
    /// assert_eq!(asap.code.as_str(), "asap:transport/circuit_open");
    /// assert_eq!(asap.details["consecutive_failures"], 5);
    /// assert!(asap.message.starts_with("Circuit breaker is OPEN for https://agent.example."));
    /// ```
    pub fn to_asap_error(&self) -> Option<AsapError> {
        match self {
            Self::CircuitOpen {
                base_url,
                consecutive_failures,
            } => Some(
                AsapError::new(ErrorCode::CircuitOpen, self.to_string())
                    .with_detail("base_url", base_url.clone())
                    .with_detail("consecutive_failures", *consecutive_failures),
            ),
            _ => None,
        }
    }

    /// Whether this error ends a send as a circuit-breaker failure.
    pub(crate) fn is_breaker_failure(&self) -> bool {
        matches!(
            self,
            Self::Connection { .. } | Self::Timeout { .. } | Self::InvalidResponse { .. }
        )
    }
}

/// `60`, `0.5`, `0.001` — seconds as the reference prints them, without trailing zeros.
fn format_secs(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0}")
    } else {
        let text = format!("{secs:.3}");
        text.trim_end_matches('0').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let e = ClientError::Timeout {
            after: Duration::from_secs(60),
        };
        assert_eq!(e.to_string(), "Request timeout after 60s");
        let e = ClientError::Timeout {
            after: Duration::from_millis(1500),
        };
        assert_eq!(e.to_string(), "Request timeout after 1.5s");
        let e = ClientError::CircuitOpen {
            base_url: "http://localhost:8000".into(),
            consecutive_failures: 5,
        };
        assert_eq!(
            e.to_string(),
            "Circuit breaker is OPEN for http://localhost:8000. Too many consecutive failures (5). Service temporarily unavailable."
        );
        let body = "x".repeat(500);
        let e = ClientError::http_status(503, body.as_bytes());
        assert_eq!(e.status(), Some(503));
        assert_eq!(e.to_string().len(), "HTTP error 503: ".len() + 200);
    }
}
