//! What the server logs, in process, through the JSON lines layer of asap-observability:
//! handler failures in full whatever the reply says, credentials redacted from them, and the
//! access line of `AccessLogLayer` around any service.

use std::io::Write;
use std::sync::{Arc, Mutex};

use asap_observability::logging::{LogConfig, LogFormat};
use asap_testing::fixtures::{rpc_request, task_request};
use asap_transport_server::echo::demo_manifest;
use asap_transport_server::layers::access_log::AccessLogLayer;
use asap_transport_server::{AsapRequest, AsapServer, HandlerError, ServerConfig, handler_fn};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tower::{ServiceBuilder, ServiceExt};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

const AGENT: &str = "urn:asap:agent:default-server";

/// Log lines written into memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A subscriber for this thread (the test's current-thread runtime) writing JSON lines.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let layer = LogConfig::default()
        .with_format(LogFormat::Json)
        .with_level("debug")
        .layer_with_writer(captured.clone())
        .unwrap();
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    (captured, guard)
}

fn post(payload_type: &str) -> Request<Full<Bytes>> {
    let mut envelope = task_request("urn:asap:agent:client", AGENT, serde_json::json!({}));
    envelope["payload_type"] = payload_type.into();
    envelope["payload"] = serde_json::json!({"task_id": "task-1"});
    let body = serde_json::to_vec(&rpc_request(&envelope)).unwrap();
    Request::post("/asap")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

async fn reply_of<B: http_body::Body>(response: Response<B>) -> Value
where
    B::Error: std::fmt::Debug,
{
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn a_handler_failure_is_logged_in_full_and_answered_without_detail() {
    let (captured, _guard) = capture();
    let server = AsapServer::builder(demo_manifest("http://127.0.0.1/asap"))
        .config(ServerConfig::builder().rate_limit(None).build())
        .handler(
            "task.cancel",
            handler_fn(|_request: AsapRequest| async {
                Err(HandlerError::internal(
                    "cannot reach postgres://asap:hunter2@db.internal/tasks: timed out",
                ))
            }),
        )
        .handler(
            "task.resume",
            handler_fn(|_request: AsapRequest| async {
                if true {
                    panic!("resume table is corrupt");
                }
                Err(HandlerError::internal("unreachable"))
            }),
        )
        .build()
        .unwrap();

    let reply = reply_of(server.service().oneshot(post("task.cancel")).await.unwrap()).await;
    assert_eq!(reply["error"]["code"], -32603, "{reply}");
    assert!(!reply.to_string().contains("postgres"), "{reply}");
    let reply = reply_of(server.service().oneshot(post("task.resume")).await.unwrap()).await;
    assert_eq!(reply["error"]["code"], -32603, "{reply}");
    assert!(!reply.to_string().contains("corrupt"), "{reply}");

    let lines = captured.lines();
    let failed = lines
        .iter()
        .find(|l| l["event"] == "handler failed")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(failed["level"], "error");
    assert_eq!(failed["payload_type"], "task.cancel");
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("cannot reach postgres://"), "{error}");
    assert!(error.contains("db.internal/tasks: timed out"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");

    let panicked = lines
        .iter()
        .find(|l| l["event"] == "handler panicked")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(panicked["panic"], "resume table is corrupt");
    assert_eq!(panicked["payload_type"], "task.resume");

    // Each also gets the protocol's error event, at error level (the server's fault).
    let errors: Vec<_> = lines
        .iter()
        .filter(|l| l["event"] == "asap.request.error")
        .collect();
    assert_eq!(errors.len(), 2, "{lines:#?}");
    for error in errors {
        assert_eq!(error["error_type"], "internal_error");
        assert_eq!(error["level"], "error");
        assert!(error["envelope_id"].is_string(), "{error}");
    }
    assert!(!captured_text(&captured).contains("hunter2"));
}

fn captured_text(captured: &Captured) -> String {
    String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
}

#[tokio::test]
async fn the_access_layer_logs_any_service() {
    let (captured, _guard) = capture();
    let service = ServiceBuilder::new()
        .layer(AccessLogLayer::new())
        .service(tower::service_fn(|request: Request<String>| async move {
            tracing::info!(inside = true, "handled");
            let status = if request.uri().path() == "/teapot" {
                StatusCode::IM_A_TEAPOT
            } else {
                StatusCode::OK
            };
            let mut response = Response::new(String::new());
            *response.status_mut() = status;
            Ok::<_, std::convert::Infallible>(response)
        }));
    let request = Request::get("/teapot?token=abc123")
        .body(String::new())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);

    let lines = captured.lines();
    let access = lines
        .iter()
        .find(|l| l["event"] == "http.request")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(access["logger"], "asap::access");
    assert_eq!(access["level"], "info");
    assert_eq!(access["method"], "GET");
    assert_eq!(access["status"], 418);
    assert!(access["duration_ms"].as_f64().is_some());
    // The path only: a query string may carry a credential.
    assert_eq!(access["path"], "/teapot");
    assert!(!captured_text(&captured).contains("abc123"));
    // The inner service's own event is inside the request span.
    let inner = lines.iter().find(|l| l["event"] == "handled").unwrap();
    assert_eq!(inner["path"], "/teapot");
}
