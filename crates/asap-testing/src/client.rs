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

/// A small HTTP/1.1 client for tests (or h2c with [`TestClient::http2`]).
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

    /// Sends a request; panics on transport errors (tests want to see them).
    pub async fn request(&self, request: Request<Full<Bytes>>) -> HttpReply {
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .expect("request timed out")
            .expect("request failed");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("read body").to_bytes();
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        HttpReply {
            status: parts.status,
            headers: parts.headers,
            body,
            json,
        }
    }

    /// `GET url`.
    pub async fn get(&self, url: &str) -> HttpReply {
        self.request(
            Request::builder()
                .method(Method::GET)
                .uri(url)
                .body(Full::default())
                .expect("request"),
        )
        .await
    }

    /// `POST url` with a body and extra headers.
    pub async fn post(
        &self,
        url: &str,
        body: impl Into<Bytes>,
        headers: &[(&str, &str)],
    ) -> HttpReply {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(url)
            .header("content-type", "application/json");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.request(builder.body(Full::new(body.into())).expect("request"))
            .await
    }

    /// `POST <base>/asap` with `{"jsonrpc":"2.0","method":"asap.send","params":{"envelope":…},"id":"req-1"}`.
    pub async fn send_envelope(&self, base_url: &str, envelope: &Value) -> HttpReply {
        let body = serde_json::json!({
            "jsonrpc": "2.0", "method": "asap.send", "params": {"envelope": envelope}, "id": "req-1"
        });
        self.post(
            &format!("{base_url}/asap"),
            serde_json::to_vec(&body).expect("json"),
            &[],
        )
        .await
    }
}
