use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// A reply: status, headers, raw body and the body parsed as JSON (`Null` if it is not).
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Raw body.
    pub body: Bytes,
    /// Body as JSON, or `Value::Null`.
    pub json: Value,
}

impl HttpReply {
    /// A header's value as text (`None` when absent or not visible ASCII).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Content-Type` header.
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// The JSON-RPC `error` object (`Value::Null` when the reply has none).
    pub fn rpc_error(&self) -> &Value {
        &self.json["error"]
    }

    /// The JSON-RPC `error.code` (panics when the reply is not a JSON-RPC error).
    pub fn rpc_code(&self) -> i64 {
        self.json["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("not a JSON-RPC error ({}): {}", self.status, self.text()))
    }

    /// The response envelope of a JSON-RPC success (`result.envelope`; `Value::Null` if none).
    pub fn envelope(&self) -> &Value {
        &self.json["result"]["envelope"]
    }

    /// The body as (lossy) text, for assertion messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A small HTTP/1.1 client for tests (or h2c with [`TestClient::http2`]).
///
/// Connections are pooled and kept alive between requests of one client; use one client per
/// simulated peer when that matters.
#[derive(Debug, Clone)]
pub struct TestClient {
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl Default for TestClient {
    fn default() -> Self {
        Self::new()
    }
}

impl TestClient {
    /// An HTTP/1.1 client with a 30 s timeout per request.
    pub fn new() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            timeout: Duration::from_secs(30),
        }
    }

    /// An h2c (prior knowledge) client.
    pub fn http2() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new())
                .http2_only(true)
                .build_http(),
            timeout: Duration::from_secs(30),
        }
    }

    /// The same client with another per-request timeout (headers and body).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends a request and reads the whole reply, or describes why that failed (connection
    /// refused or reset, timeout).
    pub async fn try_request(&self, request: Request<Full<Bytes>>) -> Result<HttpReply, String> {
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("request failed: {e:?}"))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| format!("reading the body failed: {e}"))?
                .to_bytes();
            let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
            Ok(HttpReply {
                status: parts.status,
                headers: parts.headers,
                body,
                json,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("no complete reply within {:?}", self.timeout))?
    }

    /// Sends a request; panics on transport errors (tests want to see them).
    pub async fn request(&self, request: Request<Full<Bytes>>) -> HttpReply {
        self.try_request(request)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Any method, with extra headers and a body.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> HttpReply {
        let mut builder = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.request(builder.body(Full::new(body.into())).expect("request"))
            .await
    }

    /// `GET url`.
    pub async fn get(&self, url: &str) -> HttpReply {
        self.send(Method::GET, url, &[], Bytes::new()).await
    }

    /// `GET url` with extra headers.
    pub async fn get_with(&self, url: &str, headers: &[(&str, &str)]) -> HttpReply {
        self.send(Method::GET, url, headers, Bytes::new()).await
    }

    /// `HEAD url`.
    pub async fn head(&self, url: &str) -> HttpReply {
        self.send(Method::HEAD, url, &[], Bytes::new()).await
    }

    /// `POST url` with a body and extra headers (`Content-Type: application/json` is added).
    pub async fn post(
        &self,
        url: &str,
        body: impl Into<Bytes>,
        headers: &[(&str, &str)],
    ) -> HttpReply {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send(Method::POST, url, &all, body).await
    }

    /// `POST url` with `body` serialized as JSON.
    pub async fn post_json(&self, url: &str, body: &Value, headers: &[(&str, &str)]) -> HttpReply {
        self.post(url, serde_json::to_vec(body).expect("json"), headers)
            .await
    }

    /// `POST <base>/asap` with `{"jsonrpc":"2.0","method":"asap.send","params":{"envelope":…},"id":"req-1"}`.
    pub async fn send_envelope(&self, base_url: &str, envelope: &Value) -> HttpReply {
        let body = crate::fixtures::rpc_request(envelope);
        self.post_json(&format!("{base_url}/asap"), &body, &[])
            .await
    }
}
