//! Why a request was not answered with a success envelope, and how that reaches the wire.

use asap_codec::compression::DecompressError;
use asap_codec::rpc::{ErrorResponse, Id, RpcError, encode_error};
use asap_model::AsapError;
use http::{HeaderValue, Response, StatusCode, header};

use crate::layers::body_limit::BodyTooLarge;
use crate::registry::BoxError;
use crate::response::{self, Body};

/// A refusal produced by a layer or handler.
///
/// Every variant maps to exactly one HTTP response: JSON-RPC errors travel with HTTP 200,
/// rate limiting with 429 (JSON-RPC shaped, `id: null`), an exhausted blocking pool with 503,
/// and transport failures (size, encoding) with their `{"detail"}` bodies.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// A JSON-RPC error (HTTP 200).
    #[error("{0}")]
    Rpc(RpcError),
    /// Rate limit exceeded (HTTP 429 with `Retry-After`).
    #[error("rate limit exceeded ({limit}); retry after {retry_after} s")]
    RateLimited {
        /// Seconds until the violated window resets (≥ 1).
        retry_after: u64,
        /// The violated limit, e.g. `10 per 1 second`.
        limit: String,
    },
    /// Service unavailable (HTTP 503), e.g. the blocking handler pool is full.
    #[error("{0}")]
    Unavailable(AsapError),
    /// An HTTP-level failure with a `{"detail"}` body (413, 415, 400, 408…).
    #[error("HTTP {status}: {detail}")]
    Http {
        /// Status code.
        status: StatusCode,
        /// The `detail` text.
        detail: String,
    },
}

impl From<RpcError> for Rejection {
    fn from(error: RpcError) -> Self {
        Rejection::Rpc(error)
    }
}

impl Rejection {
    /// An HTTP-level failure.
    pub fn http(status: StatusCode, detail: impl Into<String>) -> Self {
        Rejection::Http {
            status,
            detail: detail.into(),
        }
    }

    /// The answer to a request body that could not be read: whoever reads the body (the
    /// endpoint, or a handler of the host application) maps the error the HTTP-level layers
    /// put in the body stream with this one function.
    ///
    /// - [`BodyTooLarge`] (body limit) → 413 with its `detail`;
    /// - [`DecompressError`] (decompression): inflated size → 413, corrupt data → 400, an
    ///   encoding this build lacks → 415;
    /// - anything else (a connection reset mid-body…) → 400
    ///   `Failed to read request body: …`.
    pub fn from_body_error(error: BoxError) -> Self {
        let error = match error.downcast::<BodyTooLarge>() {
            Ok(too_large) => {
                return Rejection::http(StatusCode::PAYLOAD_TOO_LARGE, too_large.to_string());
            }
            Err(other) => other,
        };
        match error.downcast::<DecompressError>() {
            Ok(error) => {
                let status = match *error {
                    DecompressError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                    DecompressError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    _ => StatusCode::BAD_REQUEST,
                };
                Rejection::http(status, error.to_string())
            }
            Err(other) => Rejection::http(
                StatusCode::BAD_REQUEST,
                format!("Failed to read request body: {other}"),
            ),
        }
    }

    /// The HTTP response for this rejection; `id` is echoed in JSON-RPC errors.
    pub fn into_response(self, id: Option<Id>) -> Response<Body> {
        match self {
            Rejection::Rpc(error) => {
                response::json(StatusCode::OK, encode_error(&ErrorResponse::new(error, id)))
            }
            Rejection::RateLimited { retry_after, limit } => {
                let error = RpcError::rate_limited(retry_after, &limit);
                let mut response = response::json(
                    StatusCode::TOO_MANY_REQUESTS,
                    encode_error(&ErrorResponse::new(error, None)),
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                response
            }
            Rejection::Unavailable(error) => {
                let body = serde_json::json!({
                    "error": "Service Temporarily Unavailable",
                    "code": error.code.as_str(),
                    "message": error.message,
                    "details": error.details,
                });
                response::json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    serde_json::to_vec(&body).unwrap_or_default(),
                )
            }
            Rejection::Http { status, detail } => response::detail(status, &detail),
        }
    }
}
