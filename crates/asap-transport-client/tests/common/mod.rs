//! Test helpers: a scripted HTTP server on 127.0.0.1 and envelope builders.
//!
//! [`ScriptedServer`] answers each request with the next [`Reply`] of its script (the last
//! one repeats), or with a responder closure, and records every request: headers, raw body,
//! decompressed body, arrival time (tokio time, so paused-time tests can measure backoff)
//! and the connection it came on. It speaks HTTP/1.1 and h2c. [`SilentServer`] accepts
//! connections and never answers.
#![allow(dead_code, unreachable_pub)] // each test binary uses a subset

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asap_codec::compression::{Encoding, compress, decompress_slice};
use asap_model::Envelope;
use asap_model::payload::{TaskRequest, TaskResponse};
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// What the server sends back.
#[derive(Debug, Clone)]
pub enum ReplyBody {
    /// These bytes.
    Bytes(Vec<u8>),
    /// A JSON-RPC success echoing the request's envelope and id.
    Echo,
    /// [`ReplyBody::Echo`], gzip-compressed with `Content-Encoding: gzip`.
    GzipEcho,
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: ReplyBody,
    pub delay: Option<Duration>,
}

impl Reply {
    /// 200 echoing the envelope.
    pub fn echo() -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: ReplyBody::Echo,
            delay: None,
        }
    }

    /// 200 echoing the envelope, gzip-compressed.
    pub fn gzip_echo() -> Self {
        Self {
            body: ReplyBody::GzipEcho,
            ..Self::echo()
        }
    }

    /// `status` with a plain-text body.
    pub fn status(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: ReplyBody::Bytes(body.as_bytes().to_vec()),
            delay: None,
        }
    }

    /// `status` with a JSON body.
    pub fn json(status: u16, value: Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: ReplyBody::Bytes(serde_json::to_vec(&value).unwrap()),
            delay: None,
        }
    }

    /// A JSON-RPC error reply (HTTP 200).
    pub fn rpc_error(code: i64, message: &str) -> Self {
        Self::json(
            200,
            json!({"jsonrpc": "2.0", "error": {"code": code, "message": message, "data": {"error": "scripted"}}, "id": null}),
        )
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Waits `delay` (tokio time) before answering.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    /// The body as received.
    pub body: Vec<u8>,
    /// The body after `Content-Encoding` decoding (`None` if it could not be decoded).
    pub decoded: Option<Vec<u8>>,
    /// Arrival time (tokio clock).
    pub at: Instant,
    /// 1-based number of the connection the request came on.
    pub connection: usize,
    /// HTTP version, e.g. `HTTP/2.0`.
    pub version: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The decoded body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        self.decoded
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null)
    }

    pub fn idempotency_key(&self) -> Option<String> {
        self.header("x-idempotency-key").map(str::to_owned)
    }

    pub fn rpc_id(&self) -> Value {
        self.json()["id"].clone()
    }
}

type Responder = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

enum Mode {
    Script(VecDeque<Reply>),
    Responder(Arc<Responder>),
}

struct State {
    mode: Mutex<Mode>,
    requests: Mutex<Vec<Recorded>>,
    connections: AtomicUsize,
}

impl State {
    fn next_reply(&self, request: &Recorded, index: usize) -> Reply {
        let mut mode = self.mode.lock().unwrap();
        match &mut *mode {
            Mode::Script(queue) => {
                if queue.len() > 1 {
                    queue.pop_front().unwrap()
                } else {
                    queue.front().cloned().unwrap_or_else(Reply::echo)
                }
            }
            Mode::Responder(f) => f(request, index),
        }
    }
}

/// A scripted server on an ephemeral 127.0.0.1 port; stops when dropped.
pub struct ScriptedServer {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl ScriptedServer {
    /// Answers with `script` in order; the last reply repeats.
    pub async fn start(script: Vec<Reply>) -> Self {
        Self::spawn(Mode::Script(script.into())).await
    }

    /// Answers with `responder(request, index)` (index: 0-based request number).
    pub async fn with_responder(
        responder: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::spawn(Mode::Responder(Arc::new(responder))).await
    }

    async fn spawn(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            mode: Mutex::new(mode),
            requests: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
        });
        let accept_state = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let connection = accept_state.connections.fetch_add(1, Ordering::SeqCst) + 1;
                let state = Arc::clone(&accept_state);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = Arc::clone(&state);
                        async move { Ok::<_, Infallible>(handle(state, request, connection).await) }
                    });
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, state, task }
    }

    /// Replaces the script (the last reply repeats).
    pub fn set_script(&self, script: Vec<Reply>) {
        *self.state.mode.lock().unwrap() = Mode::Script(script.into());
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn request_count(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A server on an ephemeral 127.0.0.1 port that accepts connections and never answers:
/// it reads nothing and holds every connection open (up to 64; later ones wait in the
/// listen backlog, unanswered too). Stops, closing them, when dropped.
pub struct SilentServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl SilentServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            for _ in 0..64 {
                if let Ok((stream, _)) = listener.accept().await {
                    held.push(stream);
                }
            }
            std::future::pending::<()>().await;
        });
        Self { addr, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
    connection: usize,
) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let encoding = parts
        .headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let decoded = match Encoding::from_content_encoding(encoding) {
        Ok(encoding) => decompress_slice(encoding, &body, usize::MAX).await.ok(),
        Err(_) => None,
    };
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        body,
        decoded,
        at: Instant::now(),
        connection,
        version: format!("{:?}", parts.version),
    };
    let index = {
        let mut requests = state.requests.lock().unwrap();
        requests.push(recorded.clone());
        requests.len() - 1
    };
    let reply = state.next_reply(&recorded, index);
    if let Some(delay) = reply.delay {
        tokio::time::sleep(delay).await;
    }
    let mut headers = reply.headers.clone();
    let body = match reply.body {
        ReplyBody::Bytes(bytes) => bytes,
        ReplyBody::Echo => echo_body(&recorded),
        ReplyBody::GzipEcho => {
            headers.push(("content-encoding".into(), "gzip".into()));
            compress(Encoding::Gzip, &echo_body(&recorded))
                .await
                .unwrap()
        }
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap();
    for (name, value) in headers {
        response.headers_mut().append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}

fn echo_body(request: &Recorded) -> Vec<u8> {
    let call = request.json();
    serde_json::to_vec(&json!({
        "jsonrpc": "2.0",
        "result": {"envelope": call["params"]["envelope"]},
        "id": call["id"],
    }))
    .unwrap()
}

/// A `task.request` from `urn:asap:agent:client` to the demo agent with `input`.
pub fn envelope(input: Value) -> Envelope {
    Envelope::new(
        "urn:asap:agent:client".parse().unwrap(),
        "urn:asap:agent:default-server".parse().unwrap(),
        TaskRequest {
            conversation_id: "conv_test".into(),
            parent_task_id: None,
            skill_id: "echo".into(),
            input: input.as_object().cloned().unwrap_or_default(),
            config: None,
        },
    )
}

/// An envelope whose JSON-RPC body is comfortably above the 1 KiB compression threshold
/// (and compresses well).
pub fn large_envelope() -> Envelope {
    envelope(json!({"text": "all work and no play ".repeat(200)}))
}

/// The `Accept-Encoding` the client sends: the reference client's, with `asap-zstd-v1` first
/// when asap-codec has the `zstd` feature.
pub fn client_accept_encoding() -> &'static str {
    if Encoding::AsapZstd.is_supported() {
        "asap-zstd-v1, br, gzip, identity"
    } else {
        "br, gzip, identity"
    }
}

/// A small envelope (body well below 1 KiB).
pub fn small_envelope() -> Envelope {
    envelope(json!({"text": "hi"}))
}

/// `result.echoed` of a task response from the test agent's echo handlers.
pub fn echoed(reply: &Envelope) -> Value {
    let response: TaskResponse = reply.payload_as().expect("a task response");
    response
        .result
        .and_then(|mut result| result.remove("echoed"))
        .unwrap_or(Value::Null)
}
