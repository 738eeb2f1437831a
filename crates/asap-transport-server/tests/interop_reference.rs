//! Interoperability: the Python reference clients (`asap-protocol` 1.0.0, 0.5.0 and 0.1.0,
//! `ASAPClient` and raw httpx requests) against our server, on 127.0.0.1.
//!
//! `tests/interop/reference_client.py` runs the scenarios in a reference venv and prints one
//! JSON line per scenario; each test here starts the servers they need, runs the script with
//! one release and checks every result. The older clients have no compression, no
//! `send_batch` and no `get_manifest` (their manifest is parsed with their `Manifest` model
//! instead); everything else runs against every release. Expected error answers are in
//! `interop/raw_expectations.rs`.
//!
//! The venvs are made by `cargo xtask peers install` (CI does it in `.ci/run`), at the
//! locations `asap_testing::reference::venv_dir` gives. Without one the test is skipped,
//! except under CI (`CI` set), where it fails.

#[path = "interop/raw_expectations.rs"]
mod raw_expectations;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use asap_model::{AgentUrn, AuthScheme, Manifest};
use asap_testing::TestAgent;
use asap_testing::reference::python_or_skip;
use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::layers::auth::StaticTokens;
use asap_transport_server::{AsapServer, ServerConfig};
use serde_json::{Value, json};
use tokio::process::Command;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/interop/reference_client.py"
);
/// For the whole script; the three releases run at the same time on two cores.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

const TOKEN: &str = "interop-token-3f9a";
const CLIENT_URN: &str = "urn:asap:agent:interop-client";
/// The request size limit of the server `raw_oversize` is sent to.
const SMALL_LIMIT: usize = 4096;

/// Scenarios through `ASAPClient` that every release runs.
const CLIENT_SCENARIOS: [&str; 8] = [
    "plain",
    "manifest",
    "auth_manifest",
    "auth_ok",
    "auth_wrong_token",
    "auth_missing_token",
    "auth_sender_mismatch",
    "nonce_replay",
];

/// What only the 1.0.0 client can do.
const SCENARIOS_1_0_0_ONLY: [&str; 3] = ["brotli", "gzip", "batch"];

fn no_rate_limit() -> ServerConfig {
    ServerConfig::builder().rate_limit(None).build()
}

/// The demo echo agent declaring bearer auth, accepting [`TOKEN`] as [`CLIENT_URN`].
async fn auth_agent() -> TestAgent {
    let mut manifest = demo_manifest("http://127.0.0.1/asap");
    manifest.auth = Some(AuthScheme {
        schemes: vec!["bearer".into()],
        oauth2: None,
    });
    let client: AgentUrn = CLIENT_URN.parse().unwrap();
    let echo = EchoHandler::new(manifest.id.clone());
    TestAgent::start(
        AsapServer::builder(manifest)
            .config(no_rate_limit())
            .handler("task.request", echo)
            .token_validator(StaticTokens::new().with(TOKEN, client)),
    )
    .await
}

/// What the script printed: the `meta` line and each scenario's result by name.
struct Report {
    meta: Value,
    results: BTreeMap<String, Value>,
    stdout: String,
    stderr: String,
}

async fn run_script(python: &Path, args: &[String]) -> (std::process::ExitStatus, Report) {
    let mut command = Command::new(python);
    command
        .arg(SCRIPT)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Everything stays on 127.0.0.1: no proxy from the environment (httpx honours them).
    for proxy in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        command
            .env_remove(proxy)
            .env_remove(proxy.to_ascii_lowercase());
    }
    command
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        // The script imports its sibling modules: no __pycache__ in the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let output = tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{SCRIPT} did not finish within {RUN_TIMEOUT:?}"))
        .expect("reference client script output");

    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let mut meta = Value::Null;
    let mut results = BTreeMap::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let value: Value = serde_json::from_str(line).unwrap_or_else(|e| {
            panic!("script printed a non-JSON line ({e}): {line}\n--- stderr:\n{stderr}")
        });
        if let Some(m) = value.get("meta") {
            meta = m.clone();
        } else if let Some(name) = value["scenario"].as_str() {
            results.insert(name.to_owned(), value.clone());
        }
    }
    let report = Report {
        meta,
        results,
        stdout,
        stderr,
    };
    (output.status, report)
}

impl Report {
    /// The `details` of a scenario that passed.
    fn details(&self, scenario: &str) -> &Value {
        &self.results[scenario]["details"]
    }
}

/// The scenarios `version`'s client runs: all but what it lacks.
fn scenarios(version: &str) -> Vec<&'static str> {
    let mut all = CLIENT_SCENARIOS.to_vec();
    if version == "1.0.0" {
        all.extend(SCENARIOS_1_0_0_ONLY);
    }
    all.extend(raw_expectations::SCENARIOS);
    all
}

fn assert_manifest_seen(details: &Value, manifest: &Manifest) {
    assert_eq!(details["id"], manifest.id.as_str());
    assert_eq!(details["name"], manifest.name);
    assert_eq!(details["version"], manifest.version);
    assert_eq!(details["skills"], json!(["echo"]));
}

fn assert_echo_completed(details: &Value) {
    assert_eq!(details["status"], "completed", "{details}");
    assert_eq!(
        details["correlation_id"], details["request_id"],
        "{details}"
    );
}

fn assert_remote_error(details: &Value, code: i64, error: &str) {
    assert_eq!(details["code"], code, "{details}");
    assert_eq!(details["data"]["error"], error, "{details}");
}

/// Runs every scenario of `version`'s client against our servers and checks the results.
async fn reference_client_against_our_server(version: &str) {
    let Some(python) = python_or_skip(version) else {
        return;
    };
    let plain = TestAgent::echo().await;
    let auth = auth_agent().await;
    let nonce = TestAgent::echo_with(
        ServerConfig::builder()
            .rate_limit(None)
            .require_nonce(true)
            .build(),
    )
    .await;
    let small = TestAgent::echo_with(
        ServerConfig::builder()
            .rate_limit(None)
            .max_request_size(SMALL_LIMIT)
            .build(),
    )
    .await;

    let scenarios = scenarios(version);
    let mut args = vec![plain.base_url()];
    args.extend(scenarios.iter().map(|s| (*s).to_owned()));
    args.extend([
        "--auth-url".into(),
        auth.base_url(),
        "--token".into(),
        TOKEN.into(),
        "--sender".into(),
        CLIENT_URN.into(),
        "--nonce-url".into(),
        nonce.base_url(),
        "--limit-url".into(),
        small.base_url(),
        "--limit".into(),
        SMALL_LIMIT.to_string(),
    ]);
    let (status, report) = run_script(&python, &args).await;

    for agent in [plain, auth, nonce, small] {
        agent.shutdown().await;
    }

    assert_eq!(
        report.meta["asap_protocol"],
        version,
        "wrong reference version in {}:\n{}\n--- stderr:\n{}",
        python.display(),
        report.stdout,
        report.stderr
    );
    // What each release's client offers decides the scenarios above.
    let newest = version == "1.0.0";
    for capability in ["compression", "get_manifest", "send_batch"] {
        assert_eq!(
            report.meta["capabilities"][capability], newest,
            "{version}: {capability} in {}",
            report.meta
        );
    }
    let failed: Vec<String> = scenarios
        .iter()
        .filter_map(|name| match report.results.get(*name) {
            Some(r) if r["ok"] == true => None,
            Some(r) => Some(format!("{name}: {r}")),
            None => Some(format!("{name}: no result")),
        })
        .collect();
    assert!(
        failed.is_empty() && status.success(),
        "{version}: reference client scenarios failed (exit {status}):\n{}\n--- stdout:\n{}\n--- stderr:\n{}",
        failed.join("\n"),
        report.stdout,
        report.stderr
    );

    check_client_scenarios(version, &report);
    if newest {
        check_compression_and_batch(&report);
    }
    for name in raw_expectations::SCENARIOS {
        raw_expectations::check(name, report.details(name), SMALL_LIMIT);
    }
}

/// A plain round trip, the manifest, bearer auth and nonce replay, through `ASAPClient`.
fn check_client_scenarios(version: &str, report: &Report) {
    let plain_details = report.details("plain");
    assert_echo_completed(plain_details);
    assert_eq!(plain_details["sender"], "urn:asap:agent:default-server");

    // Our manifest parsed into the release's Manifest model (and re-serialized unchanged).
    let via = if version == "1.0.0" {
        "get_manifest"
    } else {
        "Manifest.model_validate"
    };
    let demo = demo_manifest("http://127.0.0.1/asap");
    let manifest = report.details("manifest");
    assert_eq!(manifest["via"], via);
    assert_manifest_seen(manifest, &demo);
    assert_eq!(manifest["auth"], Value::Null);
    let auth_manifest = report.details("auth_manifest");
    assert_manifest_seen(auth_manifest, &demo);
    assert_eq!(
        auth_manifest["auth"],
        json!({"schemes": ["bearer"], "oauth2": null})
    );

    // Bearer auth set on the client's httpx client.
    assert_echo_completed(report.details("auth_ok"));
    let wrong = report.details("auth_wrong_token");
    assert_remote_error(wrong, -32600, "Invalid authentication token");
    assert_eq!(wrong["data"]["status_code"], 401);
    let missing = report.details("auth_missing_token");
    assert_remote_error(missing, -32600, "Authentication required");
    assert_eq!(missing["data"]["status_code"], 401);
    let mismatch = report.details("auth_sender_mismatch");
    assert_remote_error(
        mismatch,
        -32602,
        "Sender does not match authenticated identity",
    );
    assert_eq!(mismatch["data"]["status_code"], 403);

    // Nonce replay protection.
    let nonce_details = report.details("nonce_replay");
    assert_echo_completed(&nonce_details["first"]);
    assert_echo_completed(&nonce_details["fresh"]);
    for replay in ["same_envelope", "same_nonce"] {
        let details = &nonce_details[replay];
        assert_remote_error(details, -32602, "Invalid envelope nonce");
        assert_eq!(
            details["data"]["code"], "asap:protocol/invalid_nonce",
            "{replay}: {details}"
        );
    }
}

/// 1.0.0 only: compressed requests and `send_batch`.
fn check_compression_and_batch(report: &Report) {
    // Bodies over 1 KiB, compressed by the client and inflated by the server.
    for (scenario, encoding) in [("brotli", "br"), ("gzip", "gzip")] {
        let details = report.details(scenario);
        assert_echo_completed(details);
        assert_eq!(
            details["content_encoding"], encoding,
            "{scenario}: {details}"
        );
        assert!(
            details["uncompressed_bytes"].as_u64().unwrap() >= 1024,
            "{scenario}: {details}"
        );
        assert!(
            details["sent_bytes"].as_u64() < details["uncompressed_bytes"].as_u64(),
            "{scenario}: {details}"
        );
    }

    // send_batch: 10 responses, in order.
    let batch = report.details("batch");
    assert_eq!(batch["count"], 10);
    assert_eq!(batch["correlation_ids_in_order"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_1_0_0_client_talks_to_our_server() {
    reference_client_against_our_server("1.0.0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_0_5_0_client_talks_to_our_server() {
    reference_client_against_our_server("0.5.0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_0_1_0_client_talks_to_our_server() {
    reference_client_against_our_server("0.1.0").await;
}
