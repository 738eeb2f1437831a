//! `axum-echo`: what a user would write instead of asap-rs, as a baseline of the load
//! benchmarks.
//!
//! An axum 0.8 `POST /asap` route whose `Json` extractor parses the body with serde into
//! typed structs mirroring `{"jsonrpc","method","params":{"envelope":{…}},"id"}` (every
//! envelope field, a typed `task.request` payload), checks the JSON-RPC framing and answers
//! a JSON-RPC result carrying a `task.response` envelope that echoes the input, shaped like
//! the one `asap serve` answers. Nothing else: no size limit beyond axum's default 2 MB, no
//! rate limit, no timestamp window, no sender check.
//!
//! ```text
//! axum-echo --bind 127.0.0.1:8102 --workers 2
//! ```
//!
//! Stops on SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::post;
use axum::serve::ListenerExt as _;
use axum::{Json, Router};
use clap::Parser;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Serve an ASAP-shaped echo agent written directly on axum.
#[derive(Debug, Parser)]
struct Args {
    /// Listen address (keep it on 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1:8102")]
    bind: SocketAddr,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

const AGENT: &str = "urn:asap:agent:axum-echo";

#[derive(Debug, Deserialize)]
struct RpcRequest {
    jsonrpc: String,
    method: String,
    params: Params,
    #[serde(default)]
    id: Value,
}

#[derive(Debug, Deserialize)]
struct Params {
    envelope: Envelope<TaskRequest>,
}

#[derive(Debug, Deserialize, Serialize)]
struct Envelope<P> {
    #[serde(default)]
    id: Option<String>,
    asap_version: String,
    #[serde(default)]
    timestamp: Option<String>,
    sender: String,
    recipient: String,
    payload_type: String,
    payload: P,
    #[serde(default)]
    correlation_id: Option<String>,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    extensions: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // parsed like a real agent would, not all fields are used by an echo
struct TaskRequest {
    conversation_id: String,
    #[serde(default)]
    parent_task_id: Option<String>,
    skill_id: String,
    input: Map<String, Value>,
    #[serde(default)]
    config: Option<TaskConfig>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct TaskConfig {
    #[serde(default)]
    timeout_seconds: Option<u64>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    streaming: Option<bool>,
}

#[derive(Debug, Serialize)]
struct TaskResponse {
    task_id: String,
    status: &'static str,
    result: Map<String, Value>,
    final_state: Option<Value>,
    metrics: Option<Value>,
}

#[derive(Debug, Serialize)]
struct RpcSuccess {
    jsonrpc: &'static str,
    result: SendResult,
    id: Value,
}

#[derive(Debug, Serialize)]
struct SendResult {
    envelope: Envelope<TaskResponse>,
}

#[derive(Debug, Serialize)]
struct RpcFailure {
    jsonrpc: &'static str,
    error: RpcError,
    id: Value,
}

#[derive(Debug, Serialize)]
struct RpcError {
    code: i32,
    message: &'static str,
}

async fn asap(Json(request): Json<RpcRequest>) -> Result<Json<RpcSuccess>, Json<RpcFailure>> {
    if request.jsonrpc != "2.0" || request.method != "asap.send" {
        return Err(Json(RpcFailure {
            jsonrpc: "2.0",
            error: RpcError {
                code: -32601,
                message: "Method not found",
            },
            id: request.id,
        }));
    }
    let incoming = request.params.envelope;
    let mut result = Map::new();
    result.insert("echoed".into(), Value::Object(incoming.payload.input));
    let envelope = Envelope {
        id: Some(ulid::Ulid::generate().to_string()),
        asap_version: incoming.asap_version,
        timestamp: Some(now_rfc3339()),
        sender: AGENT.to_owned(),
        recipient: incoming.sender,
        payload_type: "task.response".to_owned(),
        payload: TaskResponse {
            task_id: format!("task_{}", ulid::Ulid::generate()),
            status: "completed",
            result,
            final_state: None,
            metrics: None,
        },
        correlation_id: incoming.id,
        trace_id: incoming.trace_id,
        extensions: None,
    };
    Ok(Json(RpcSuccess {
        jsonrpc: "2.0",
        result: SendResult { envelope },
        id: request.id,
    }))
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` for the current UTC time.
fn now_rfc3339() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        now.subsec_micros()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers.max(1))
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(args.bind).await?;
            eprintln!("axum-echo: serving on http://{}", listener.local_addr()?);
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let app = Router::new().route("/asap", post(asap));
            axum::serve(listener, app)
                .with_graceful_shutdown(asap_benches::stop())
                .await
        })
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_512), (2026, 2, 28));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
    }
}
