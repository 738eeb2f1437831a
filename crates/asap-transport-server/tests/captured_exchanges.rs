//! Replays every HTTP exchange captured from the reference server
//! (`spec/examples/jsonrpc/*.json`) against a [`TestAgent`] configured like the server the
//! capture came from, and compares status, `Content-Type` (and `Allow`/`Retry-After` where
//! captured) and the JSON body.
//!
//! Generated values are wildcards, checked for shape only (spec README §3): the response
//! envelope `id`, `timestamp` and echo `task_id`, trace ids the request did not send,
//! `details.age_seconds`, `details.envelope_id`, `validation_errors[].msg/url/input/ctx`
//! and the 429 `data.limit`. Captured request timestamps (fixed 2026 dates) are dropped so
//! the receiver fills in "now"; the deliberately stale 2020 timestamp is kept.
//!
//! Where this server deliberately differs from the reference (PROTOCOL §19) the test asserts
//! our intended value and says so next to it.

use std::time::{Duration, Instant};

use asap_model::{AuthScheme, Manifest};
use asap_testing::fixtures::{self, capture, echo_agent_manifest, jsonrpc_dir};
use asap_testing::handlers::{BlockingScriptedHandler, Gate};
use asap_testing::{HttpReply, TestAgent, TestClient, assert_envelope_valid};
use asap_transport_server::echo::EchoHandler;
use asap_transport_server::layers::auth::StaticTokens;
use asap_transport_server::{AsapServer, AsapServerBuilder, ServerConfig};
use bytes::Bytes;
use http::Method;
use serde_json::{Value, json};

const WILDCARD: &str = "<generated>";

// ---------------------------------------------------------------------------------------
// Servers like the ones the captures came from
// ---------------------------------------------------------------------------------------

/// The capture server's config: rate limiting off unless the case is about it.
fn quiet() -> ServerConfig {
    ServerConfig::builder().rate_limit(None).build()
}

/// `urn:asap:agent:echo-agent` with the echo handler on `task.request`.
fn echo_server(manifest: Manifest, config: ServerConfig) -> AsapServerBuilder {
    let echo = EchoHandler::new(manifest.id.clone());
    AsapServer::builder(manifest)
        .config(config)
        .handler("task.request", echo)
}

/// The echo agent declaring bearer auth, with `good-token` → `urn:asap:agent:coordinator`.
fn auth_server() -> AsapServerBuilder {
    let mut manifest = echo_agent_manifest();
    manifest.auth = Some(AuthScheme {
        schemes: vec!["bearer".into()],
        oauth2: None,
    });
    echo_server(manifest, quiet()).token_validator(
        StaticTokens::new().with("good-token", "urn:asap:agent:coordinator".parse().unwrap()),
    )
}

// ---------------------------------------------------------------------------------------
// Sending a captured request
// ---------------------------------------------------------------------------------------

/// The captured request body with fixed 2026 timestamps removed from the envelope.
fn request_body(capture: &Value) -> Value {
    let mut body = capture["request"]["body"].clone();
    if let Some(envelope) = body
        .pointer_mut("/params/envelope")
        .and_then(Value::as_object_mut)
    {
        let fixed = envelope
            .get("timestamp")
            .and_then(Value::as_str)
            .is_some_and(|t| t.starts_with("2026-"));
        if fixed {
            envelope.remove("timestamp");
        }
    }
    body
}

fn request_headers(capture: &Value) -> Vec<(String, String)> {
    capture["request"]["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Sends the captured request, with `body` instead of the captured one when given (for
/// placeholders such as `<gzip of a valid asap.send request>`).
async fn send(agent: &TestAgent, capture: &Value, body: Option<Bytes>) -> HttpReply {
    let request = &capture["request"];
    let method: Method = request["method"].as_str().unwrap().parse().unwrap();
    let body = body.unwrap_or_else(|| match &request["body"] {
        Value::Null => Bytes::new(),
        // A string body is raw text (e.g. truncated JSON), not a JSON string.
        Value::String(text) => Bytes::from(text.clone()),
        _ => Bytes::from(serde_json::to_vec(&request_body(capture)).unwrap()),
    });
    let headers = request_headers(capture);
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    TestClient::new()
        .send(
            method,
            &agent.url(request["path"].as_str().unwrap()),
            &headers,
            body,
        )
        .await
}

// ---------------------------------------------------------------------------------------
// Comparing
// ---------------------------------------------------------------------------------------

/// Replaces the value at `pointer` in both documents with a marker, after checking that the
/// actual one exists and has the right shape.
fn wildcard(
    expected: &mut Value,
    actual: &mut Value,
    pointer: &str,
    shape: impl Fn(&Value) -> bool,
) {
    let shown = actual.to_string();
    let value = actual
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} missing in {shown}"));
    assert!(shape(value), "{pointer} has an unexpected value {value}");
    *value = json!(WILDCARD);
    *expected
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} missing in the capture")) = json!(WILDCARD);
}

fn is_hex(value: &Value, len: usize) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_ulid(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.parse::<ulid::Ulid>().is_ok())
}

/// Keeps only `type` and `loc` of pydantic-style validation errors (msg/url/input/ctx are
/// generated text: README "Invalid inputs" and spec README §3).
fn strip_validation_details(body: &mut Value, require_msg: bool) {
    if let Some(errors) = body
        .pointer_mut("/error/data/validation_errors")
        .and_then(Value::as_array_mut)
    {
        for error in errors {
            if let Some(object) = error.as_object_mut() {
                assert!(
                    !require_msg || object.contains_key("msg"),
                    "validation error without msg"
                );
                object.retain(|k, _| k == "type" || k == "loc");
            }
        }
    }
}

/// Status, `Content-Type` and every other captured response header (unless `skip_headers`
/// names it), then the body.
fn assert_reply(
    name: &str,
    expected: &Value,
    mut expected_body: Value,
    reply: &HttpReply,
    skip_headers: &[&str],
) {
    let mut actual = reply.json.clone();
    assert_eq!(
        reply.status.as_u16() as u64,
        expected["status"].as_u64().unwrap(),
        "{name}: status; body {}",
        reply.text()
    );
    for (header, value) in expected["headers"].as_object().unwrap() {
        if skip_headers.contains(&header.as_str()) {
            continue;
        }
        assert_eq!(
            reply.header(header),
            value.as_str(),
            "{name}: header {header}"
        );
    }
    strip_validation_details(&mut expected_body, false);
    strip_validation_details(&mut actual, true);
    assert_eq!(actual, expected_body, "{name}: body");
}

/// The common wildcards of a success reply, plus the trace fields as `trace` says.
enum Trace {
    /// The request sent a lone `trace_id`: kept; `extensions.trace_id/span_id` are the
    /// server span's (generated).
    LoneTraceId,
    /// No `trace_id` sent: `trace_id` = `extensions.trace_id` = the server's trace.
    None,
    /// W3C `trace_id` + `extensions.span_id` sent: nothing injected, `extensions` stay null.
    W3c,
}

fn success_wildcards(expected: &mut Value, actual: &mut Value, trace: Trace) {
    let e = "/result/envelope";
    wildcard(expected, actual, &format!("{e}/id"), is_ulid);
    wildcard(expected, actual, &format!("{e}/timestamp"), |t| {
        let t: asap_model::Timestamp = t.as_str().unwrap_or_default().parse().expect("timestamp");
        asap_model::Timestamp::now().seconds_until(&t).abs() < 60.0
    });
    wildcard(expected, actual, &format!("{e}/payload/task_id"), |t| {
        t.as_str().is_some_and(|t| t.starts_with("task_"))
    });
    match trace {
        Trace::LoneTraceId => {
            wildcard(expected, actual, &format!("{e}/extensions/trace_id"), |v| {
                is_hex(v, 32)
            });
            wildcard(expected, actual, &format!("{e}/extensions/span_id"), |v| {
                is_hex(v, 16)
            });
        }
        Trace::None => {
            let server_trace = actual.pointer(&format!("{e}/extensions/trace_id")).cloned();
            assert_eq!(
                actual.pointer(&format!("{e}/trace_id")).cloned(),
                server_trace,
                "trace_id must be the server span's trace id"
            );
            wildcard(expected, actual, &format!("{e}/trace_id"), |v| {
                is_hex(v, 32)
            });
            wildcard(expected, actual, &format!("{e}/extensions/trace_id"), |v| {
                is_hex(v, 32)
            });
            wildcard(expected, actual, &format!("{e}/extensions/span_id"), |v| {
                is_hex(v, 16)
            });
        }
        Trace::W3c => {}
    }
}

// ---------------------------------------------------------------------------------------
// One replay per capture
// ---------------------------------------------------------------------------------------

/// A reply compared exactly (after removing validation error texts).
async fn exact(name: &str, capture: &Value, builder: AsapServerBuilder) {
    let agent = TestAgent::start(builder).await;
    let reply = send(&agent, capture, None).await;
    let response = &capture["response"];
    assert_reply(name, response, response["body"].clone(), &reply, &[]);
    agent.shutdown().await;
}

async fn success(name: &str, capture: &Value, trace: Trace, body: Option<Bytes>) {
    let agent = TestAgent::start(echo_server(echo_agent_manifest(), quiet())).await;
    let reply = send(&agent, capture, body).await;
    let response = &capture["response"];
    let mut expected = response["body"].clone();
    let mut actual = reply.json.clone();
    success_wildcards(&mut expected, &mut actual, trace);
    let mut normalized = reply.clone();
    normalized.json = actual;
    assert_reply(name, response, expected, &normalized, &[]);
    // No `Accept-Encoding` was sent: the response is not compressed (PROTOCOL §10.2).
    assert_eq!(reply.header("content-encoding"), None, "{name}");
    assert_envelope_valid(reply.envelope());
    agent.shutdown().await;
}

/// `client_request.json` has no response: it is what the reference client sends. Our server
/// must accept it (the idempotency members and headers are ignored). Its reply is below any
/// compression threshold, so it comes back uncompressed despite
/// `Accept-Encoding: br, gzip, identity`.
async fn client_request(capture: &Value) {
    let agent = TestAgent::start(echo_server(echo_agent_manifest(), quiet())).await;
    let reply = send(&agent, capture, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.content_type(), Some("application/json"));
    assert_eq!(reply.header("content-encoding"), None);
    assert_eq!(reply.json["id"], "req-1");
    let envelope = assert_envelope_valid(reply.envelope());
    let response =
        asap_testing::assert_task_completed(&envelope, Some("01M85F3B8R29Q80YP96HY8V8YR"));
    assert_eq!(envelope.sender, "urn:asap:agent:echo-agent");
    assert_eq!(envelope.recipient, "urn:asap:agent:coordinator");
    assert_eq!(
        Value::Object(response.result.unwrap()),
        json!({"echoed": {"message": "hi"}})
    );
    agent.shutdown().await;
}

/// Timestamp 2020-01-01: kept (it is the point), age and message wildcards.
async fn stale_timestamp(name: &str, capture: &Value) {
    let agent = TestAgent::start(echo_server(echo_agent_manifest(), quiet())).await;
    let reply = send(&agent, capture, None).await;
    let response = &capture["response"];
    let mut expected = response["body"].clone();
    let mut actual = reply.json.clone();
    wildcard(&mut expected, &mut actual, "/error/data/message", |m| {
        let m = m.as_str().unwrap_or_default();
        let age = m
            .strip_prefix("Envelope timestamp is too old: ")
            .and_then(|r| r.strip_suffix(" seconds (max: 300 seconds)"));
        // One decimal, like the reference's `{age:.1f}`.
        age.is_some_and(|a| {
            a.parse::<f64>().is_ok_and(|a| a > 2e8) && a.split('.').nth(1).map(str::len) == Some(1)
        })
    });
    wildcard(
        &mut expected,
        &mut actual,
        "/error/data/details/age_seconds",
        |a| a.as_f64().is_some_and(|a| a > 2e8),
    );
    wildcard(
        &mut expected,
        &mut actual,
        "/error/data/details/envelope_id",
        |id| *id == "01KDWPVNG0DE3B4WZZ6KYE37BB",
    );
    let mut normalized = reply.clone();
    normalized.json = actual;
    assert_reply(name, response, expected, &normalized, &[]);
    agent.shutdown().await;
}

/// `require_nonce`: the first send is accepted, the captured reply is the second's.
async fn duplicate_nonce(name: &str, capture: &Value) {
    let config = ServerConfig::builder()
        .rate_limit(None)
        .require_nonce(true)
        .build();
    let agent = TestAgent::start(echo_server(echo_agent_manifest(), config)).await;
    let first = send(&agent, capture, None).await;
    assert_eq!(first.status, 200);
    assert!(
        first.json.get("result").is_some(),
        "first send: {}",
        first.text()
    );
    let reply = send(&agent, capture, None).await;
    let response = &capture["response"];
    let mut expected = response["body"].clone();
    let mut actual = reply.json.clone();
    wildcard(
        &mut expected,
        &mut actual,
        "/error/data/details/envelope_id",
        |id| *id == "01KDWPVNG0DE3B4WZZ6KYE37BB",
    );
    let mut normalized = reply.clone();
    normalized.json = actual;
    assert_reply(name, response, expected, &normalized, &[]);
    agent.shutdown().await;
}

/// Default limits `10/second;100/minute`: the 11th request within a second is refused.
async fn rate_limited(name: &str, capture: &Value) {
    let config = ServerConfig::builder().build(); // the default rate limit
    assert!(config.rate_limit.is_some());
    let agent = TestAgent::start(echo_server(echo_agent_manifest(), config)).await;
    let started = Instant::now();
    let mut accepted = 0;
    let reply = loop {
        let reply = send(&agent, capture, None).await;
        if reply.status != 200 {
            break reply;
        }
        accepted += 1;
        assert!(accepted <= 20, "no 429 after {accepted} requests");
    };
    if started.elapsed() < Duration::from_millis(100) {
        // The whole burst fit in the first tenth of a second: exactly 10 passed.
        assert_eq!(accepted, 10, "{name}");
    } else {
        assert!(accepted >= 10, "{name}: only {accepted} accepted");
    }
    let response = &capture["response"];
    // Deliberate differences (PROTOCOL §11.4, I-04): `retry_after` and `Retry-After` are the
    // seconds until the violated window admits a request again (1 for `10/second`), not the
    // constant 60; `data.limit` is readable text, not a Python object repr.
    let mut expected = response["body"].clone();
    expected["error"]["data"] = json!({"retry_after": 1, "limit": "10 per 1 second"});
    assert_eq!(
        reply.header("retry-after"),
        Some("1"),
        "{name}: Retry-After"
    );
    assert_reply(name, response, expected, &reply, &["retry-after"]);
    agent.shutdown().await;
}

/// `max_request_size` 256 and a 605-byte body (the capture only records its size).
async fn payload_too_large(name: &str, capture: &Value) {
    let config = ServerConfig::builder()
        .rate_limit(None)
        .max_request_size(256)
        .build();
    let agent = TestAgent::start(echo_server(echo_agent_manifest(), config)).await;
    let envelope = fixtures::capture_envelope("success_task_request.json");
    let mut body = serde_json::to_vec(&fixtures::rpc_request(&envelope)).unwrap();
    assert!(body.len() <= 605);
    body.resize(605, b' '); // trailing whitespace keeps it valid JSON
    let reply = send(&agent, capture, Some(Bytes::from(body))).await;
    let response = &capture["response"];
    assert_reply(name, response, response["body"].clone(), &reply, &[]);
    agent.shutdown().await;
}

/// `max_threads` 1 with a blocking `task.request` handler: while one request holds the only
/// slot, the captured request gets the 503.
async fn thread_pool_exhausted(name: &str, capture: &Value) {
    let manifest = echo_agent_manifest();
    let gate = Gate::new();
    let config = ServerConfig::builder()
        .rate_limit(None)
        .max_threads(1)
        .build();
    let builder = AsapServer::builder(manifest.clone())
        .config(config)
        .blocking_handler(
            "task.request",
            BlockingScriptedHandler::new(manifest.id.clone(), gate.clone()),
        );
    let agent = TestAgent::start(builder).await;
    let mut busy = fixtures::capture_envelope("error_thread_pool_exhausted.json");
    busy["payload"]["input"] = json!({"wait": true});
    let base = agent.base_url();
    let first = tokio::spawn(async move { TestClient::new().send_envelope(&base, &busy).await });
    tokio::time::timeout(Duration::from_secs(5), gate.entered(1))
        .await
        .expect("the first request reaches its handler");
    let reply = send(&agent, capture, None).await;
    gate.open();
    let response = &capture["response"];
    assert_reply(name, response, response["body"].clone(), &reply, &[]);
    let first = first.await.unwrap();
    assert_eq!(first.status, 200, "{}", first.text());
    // The slot is free again.
    assert_eq!(send(&agent, capture, None).await.status, 200);
    agent.shutdown().await;
}

/// The capture's body is 8 bytes `not gzip`.
async fn bad_gzip(name: &str, capture: &Value) {
    let agent = TestAgent::start(echo_server(echo_agent_manifest(), quiet())).await;
    let reply = send(&agent, capture, Some(Bytes::from_static(b"not gzip"))).await;
    let response = &capture["response"];
    let mut expected = response["body"].clone();
    let mut actual = reply.json.clone();
    // The reason after the colon is the decoder's own text; the reference's is Python's
    // (`Not a gzipped file (b'no')`), which names the same failure in other words.
    wildcard(&mut expected, &mut actual, "/detail", |d| {
        d.as_str()
            .is_some_and(|d| d.starts_with("Invalid compressed data: "))
    });
    let mut normalized = reply.clone();
    normalized.json = actual;
    assert_reply(name, response, expected, &normalized, &[]);
    agent.shutdown().await;
}

/// Deliberate difference (I-01): the reference answers -32603 because it cannot encode the
/// validation error; we answer the intended -32602 `Invalid envelope structure`.
async fn invalid_urn(name: &str, capture: &Value) {
    let agent = TestAgent::start(echo_server(echo_agent_manifest(), quiet())).await;
    let reply = send(&agent, capture, None).await;
    let response = &capture["response"];
    assert_eq!(
        response["body"]["error"]["code"], -32603,
        "the capture shows REF's bug"
    );
    let expected = json!({
        "jsonrpc": "2.0",
        "error": {
            "code": -32602,
            "message": "Invalid params",
            "data": {
                "error": "Invalid envelope structure",
                "validation_errors": [{"type": reply.json.pointer("/error/data/validation_errors/0/type").cloned().unwrap_or(Value::Null), "loc": ["sender"]}],
            },
        },
        "id": "req-1",
    });
    assert_reply(name, response, expected, &reply, &[]);
    agent.shutdown().await;
}

async fn replay(name: &str, capture: &Value) {
    match name {
        "client_request.json" => client_request(capture).await,
        "health.json"
        | "ready.json"
        | "get_asap_not_allowed.json"
        | "manifest.json"
        | "error_handler_not_found.json"
        | "error_invalid_envelope.json"
        | "error_missing_envelope.json"
        | "error_missing_id.json"
        | "error_parse.json"
        | "error_unknown_method.json"
        | "error_unsupported_encoding.json" => {
            exact(name, capture, echo_server(echo_agent_manifest(), quiet())).await;
        }
        "error_auth_invalid_token.json"
        | "error_auth_missing.json"
        | "error_sender_mismatch.json" => exact(name, capture, auth_server()).await,
        "success_task_request.json" => success(name, capture, Trace::LoneTraceId, None).await,
        "success_int_id_no_trace.json" => success(name, capture, Trace::None, None).await,
        "success_w3c_trace_context.json" => success(name, capture, Trace::W3c, None).await,
        "success_gzip_request.json" => {
            // The capture's body is a placeholder: gzip the request of the same exchange
            // (its response echoes that request's input, trace_id and envelope id).
            let plain = request_body(&fixtures::capture("success_task_request.json"));
            let body = fixtures::gzip(&serde_json::to_vec(&plain).unwrap()).await;
            success(name, capture, Trace::LoneTraceId, Some(Bytes::from(body))).await;
        }
        "error_stale_timestamp.json" => stale_timestamp(name, capture).await,
        "error_duplicate_nonce.json" => duplicate_nonce(name, capture).await,
        "error_rate_limited.json" => rate_limited(name, capture).await,
        "error_payload_too_large.json" => payload_too_large(name, capture).await,
        "error_thread_pool_exhausted.json" => thread_pool_exhausted(name, capture).await,
        "error_bad_gzip.json" => bad_gzip(name, capture).await,
        "error_invalid_urn_reference_bug.json" => invalid_urn(name, capture).await,
        other => {
            panic!("unclassified capture {other}: say in captured_exchanges.rs how to replay it")
        }
    }
}

/// Every file of `examples/jsonrpc/` is replayed; each runs in its own task so that one
/// failure does not hide the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_captured_exchange_replays() {
    let mut names: Vec<String> = std::fs::read_dir(jsonrpc_dir())
        .expect("examples/jsonrpc exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        names.len() >= 26,
        "expected the 26 captures, found {names:?}"
    );
    let mut failed = Vec::new();
    for name in &names {
        let capture = capture(name);
        let task_name = name.clone();
        let run = tokio::spawn(async move { replay(&task_name, &capture).await });
        match tokio::time::timeout(Duration::from_secs(20), run).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failed.push(format!("{name}: {e}")),
            Err(_) => failed.push(format!("{name}: timed out")),
        }
    }
    assert!(failed.is_empty(), "failed captures:\n{}", failed.join("\n"));
}

/// The manifest capture is (as JSON) exactly what [`echo_agent_manifest`] serializes to.
#[test]
fn echo_agent_manifest_is_the_captured_one() {
    let captured = capture("manifest.json")["response"]["body"].clone();
    assert_eq!(
        serde_json::to_value(echo_agent_manifest()).unwrap(),
        captured
    );
}
