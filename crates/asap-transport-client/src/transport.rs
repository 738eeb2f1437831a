//! One HTTP attempt: a request slot, the hyper call under a timeout, the body read with a
//! size limit and decompressed.

use std::time::Duration;

use asap_codec::compression::{Encoding, accept_encoding_header, decompress_slice};
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::config::ClientConfig;
use crate::error::{ClientError, ErrorSource, chain_text};
use crate::pool::HostSlots;

/// The connector under the hyper client: plain TCP, wrapped in rustls for `https://` when
/// the `rustls` feature is on.
#[cfg(feature = "rustls")]
type Dialer = hyper_rustls::HttpsConnector<HttpConnector>;
/// The connector under the hyper client: plain TCP.
#[cfg(not(feature = "rustls"))]
type Dialer = HttpConnector;

/// The dialer, its connections counted for the observer.
pub(crate) type Connector = crate::connections::Counting<Dialer>;

/// `X-Idempotency-Key`.
pub(crate) const IDEMPOTENCY_KEY: &str = "x-idempotency-key";

const USER_AGENT: &str = concat!("asap-rs/", env!("CARGO_PKG_VERSION"));

/// A complete response: status, headers and the (decompressed) body.
#[derive(Debug)]
pub(crate) struct HttpReply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Why an attempt produced no [`HttpReply`].
#[derive(Debug)]
pub(crate) enum AttemptError {
    /// Connecting, writing or reading failed (retryable): the message names the causes.
    Connect(String, ErrorSource),
    /// The attempt timed out (retryable).
    Timeout(Duration),
    /// No request slot (not retried).
    Pool(ClientError),
    /// The body could not be read as a response (too large, bad compression; not retried).
    Invalid(String, Option<ErrorSource>),
}

impl AttemptError {
    /// A connect, write or read failure, with `context` and the causes in its message.
    fn connect(context: &str, error: Box<dyn std::error::Error + Send + Sync>) -> Self {
        let message = format!("{context}: {}", chain_text(&*error));
        Self::Connect(message, ErrorSource::new(error))
    }

    pub(crate) fn into_client_error(self) -> ClientError {
        match self {
            Self::Connect(message, source) => ClientError::connection(message).caused_by(source),
            Self::Timeout(after) => ClientError::Timeout { after },
            Self::Pool(error) => error,
            Self::Invalid(message, source) => {
                let error = ClientError::invalid_response(message);
                match source {
                    Some(source) => error.caused_by(source),
                    None => error,
                }
            }
        }
    }
}

/// The hyper client and what every request shares.
#[derive(Debug)]
pub(crate) struct Transport {
    client: Client<Connector, Full<Bytes>>,
    slots: HostSlots,
    max_response_size: usize,
    authorization: Option<HeaderValue>,
    reporter: crate::observe::Reporter,
}

/// TLS settings given to the builder.
#[cfg(feature = "rustls")]
pub(crate) type TlsConfig = Option<rustls::ClientConfig>;
/// TLS settings given to the builder (none without the `rustls` feature).
#[cfg(not(feature = "rustls"))]
pub(crate) type TlsConfig = Option<std::convert::Infallible>;

impl Transport {
    pub(crate) fn new(
        config: &ClientConfig,
        tls: TlsConfig,
        bearer_token: Option<&str>,
        reporter: crate::observe::Reporter,
    ) -> Result<Self, ClientError> {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_keepalive(config.tcp_keepalive);
        http.set_connect_timeout(Some(config.timeout));
        let connector = crate::connections::Counting::new(connector(http, config, tls)?, &reporter);

        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .http2_only(config.http2_prior_knowledge);
        let client = builder.build(connector);

        let authorization = bearer_token
            .map(|token| {
                let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| {
                    ClientError::invalid_config("bearer token is not a valid header value")
                        .caused_by(ErrorSource::new(e))
                })?;
                value.set_sensitive(true);
                Ok::<_, ClientError>(value)
            })
            .transpose()?;
        Ok(Self {
            client,
            slots: HostSlots::new(config.max_connections_per_host, config.pool_acquire_timeout),
            max_response_size: config.max_response_size,
            authorization,
            reporter,
        })
    }

    /// `POST` of a JSON-RPC body, with the reference client's headers (PROTOCOL §9.1).
    pub(crate) fn post(
        &self,
        uri: &Uri,
        body: Bytes,
        encoding: Option<Encoding>,
        idempotency_key: &str,
    ) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri.clone();
        let headers = request.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(value) = HeaderValue::from_str(idempotency_key) {
            headers.insert(IDEMPOTENCY_KEY, value);
        }
        if let Some(encoding) = encoding {
            headers.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(encoding.as_str()),
            );
        }
        self.common_headers(headers);
        request
    }

    /// `GET`, with `If-None-Match` when an entity tag is known.
    pub(crate) fn get(&self, uri: &Uri, if_none_match: Option<&str>) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(Bytes::new()));
        *request.uri_mut() = uri.clone();
        let headers = request.headers_mut();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(value) = if_none_match.and_then(|tag| HeaderValue::from_str(tag).ok()) {
            headers.insert(header::IF_NONE_MATCH, value);
        }
        self.common_headers(headers);
        request
    }

    fn common_headers(&self, headers: &mut HeaderMap) {
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static(accept_encoding_header()),
        );
        headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        if let Some(value) = &self.authorization {
            headers.insert(header::AUTHORIZATION, value.clone());
        }
    }

    /// Runs one request: waits for a slot to its host, then sends it and reads the whole
    /// response within `timeout`.
    pub(crate) async fn execute(
        &self,
        request: Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<HttpReply, AttemptError> {
        let host = host_key(request.uri());
        let waiting = self.reporter.is_on().then(std::time::Instant::now);
        let slot = self
            .slots
            .acquire(&host)
            .await
            .map_err(AttemptError::Pool)?;
        let _slot = match waiting {
            Some(started) => {
                let in_use = self.slots.in_use(&slot);
                self.reporter.pool(&host, in_use, Some(started.elapsed()));
                Slot::Reported {
                    permit: Some(slot),
                    host,
                    slots: &self.slots,
                    reporter: &self.reporter,
                }
            }
            None => Slot::Plain(slot),
        };
        match tokio::time::timeout(timeout, self.round_trip(request)).await {
            Ok(result) => result,
            Err(_) => Err(AttemptError::Timeout(timeout)),
        }
    }

    async fn round_trip(&self, request: Request<Full<Bytes>>) -> Result<HttpReply, AttemptError> {
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| AttemptError::connect("Connection error", Box::new(e)))?;
        let (parts, body) = response.into_parts();
        let raw = Limited::new(body, self.max_response_size)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    let message = format!("response body exceeds {} bytes", self.max_response_size);
                    AttemptError::Invalid(message, Some(ErrorSource::new(e)))
                } else {
                    AttemptError::connect("Connection error while reading the response", e)
                }
            })?
            .to_bytes();
        let encoding = parts
            .headers
            .get(header::CONTENT_ENCODING)
            .map(|value| {
                value
                    .to_str()
                    .ok()
                    .and_then(|v| Encoding::from_content_encoding(v).ok())
                    .ok_or_else(|| {
                        AttemptError::Invalid(
                            format!("unsupported response Content-Encoding {value:?}"),
                            None,
                        )
                    })
            })
            .transpose()?
            .unwrap_or_default();
        let body = if encoding.is_identity() {
            raw
        } else {
            decompress_slice(encoding, &raw, self.max_response_size)
                .await
                .map(Bytes::from)
                .map_err(|e| {
                    let message = format!("cannot decode {encoding} response: {e}");
                    AttemptError::Invalid(message, Some(ErrorSource::new(e)))
                })?
        };
        Ok(HttpReply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

#[cfg(feature = "rustls")]
fn connector(
    mut http: HttpConnector,
    config: &ClientConfig,
    tls: TlsConfig,
) -> Result<Dialer, ClientError> {
    http.enforce_http(false);
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = match tls {
        Some(mut tls) => {
            // hyper-rustls panics on a preset ALPN list; ours replaces it (see `tls_config`).
            tls.alpn_protocols.clear();
            builder.with_tls_config(tls)
        }
        None => builder
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| {
                ClientError::invalid_config(format!("TLS setup failed: {e}"))
                    .caused_by(ErrorSource::new(e))
            })?,
    }
    .https_or_http();
    Ok(if config.http2_prior_knowledge {
        builder.enable_http2().wrap_connector(http)
    } else {
        builder.enable_all_versions().wrap_connector(http)
    })
}

#[cfg(not(feature = "rustls"))]
fn connector(
    http: HttpConnector,
    _config: &ClientConfig,
    _tls: TlsConfig,
) -> Result<Dialer, ClientError> {
    Ok(http)
}

/// `host:port` of a URI (the pool key).
pub(crate) fn host_key(uri: &Uri) -> String {
    let host = uri.host().unwrap_or_default();
    let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    });
    format!("{host}:{port}")
}

/// A connection slot held for one attempt; when reporting, giving it back is reported too.
enum Slot<'a> {
    Plain(#[allow(dead_code)] tokio::sync::OwnedSemaphorePermit),
    Reported {
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
        host: String,
        slots: &'a HostSlots,
        reporter: &'a crate::observe::Reporter,
    },
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Slot::Reported {
            permit,
            host,
            slots,
            reporter,
        } = self
            && let Some(permit) = permit.take()
        {
            let in_use = slots.in_use(&permit).saturating_sub(1);
            drop(permit);
            reporter.pool(host, in_use, None);
        }
    }
}
