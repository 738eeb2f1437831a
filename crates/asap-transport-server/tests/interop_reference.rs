//! Interoperability: the Python reference client (`asap-protocol` 1.0.0, `ASAPClient`) against
//! our server, on 127.0.0.1.
//!
//! `tests/interop/reference_client.py` runs the scenarios with the reference client and prints
//! one JSON line per scenario; this test starts the servers they need, runs the script in the
//! reference venv and checks every result.
//!
//! The venv is made by `../shared/tools/asap-reference-venv.sh 1.0.0` (CI does it in
//! `.ci/run`). Its location is `$ASAP_PEER_VENV`, else `/tmp/asap-peer-1.0.0`. Without it the
//! test is skipped, except under CI (`CI` set), where it fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use asap_model::{AgentUrn, AuthScheme, Manifest};
use asap_testing::TestAgent;
use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::layers::auth::StaticTokens;
use asap_transport_server::{AsapServer, ServerConfig};
use serde_json::{Value, json};
use tokio::process::Command;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/interop/reference_client.py"
);
const DEFAULT_VENV: &str = "/tmp/asap-peer-1.0.0";
const REFERENCE_VERSION: &str = "1.0.0";
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

const TOKEN: &str = "interop-token-3f9a";
const CLIENT_URN: &str = "urn:asap:agent:interop-client";

/// Every scenario of the script; all must report `ok`.
const SCENARIOS: [&str; 11] = [
    "plain",
    "brotli",
    "gzip",
    "batch",
    "manifest",
    "auth_manifest",
    "auth_ok",
    "auth_wrong_token",
    "auth_missing_token",
    "auth_sender_mismatch",
    "nonce_replay",
];

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// The reference venv's python, or `None` (test skipped) when it is absent outside CI.
fn reference_python() -> Option<PathBuf> {
    let venv = std::env::var_os("ASAP_PEER_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_VENV));
    let python = venv.join("bin").join("python");
    if python.is_file() {
        return Some(python);
    }
    let reason = format!(
        "reference venv not found: {} does not exist (create it with \
         `bash ../shared/tools/asap-reference-venv.sh {REFERENCE_VERSION}` from the workspace \
         root, or point ASAP_PEER_VENV at one)",
        python.display()
    );
    assert!(
        !is_ci(),
        "CI is set and the interop test cannot run: {reason}"
    );
    eprintln!("skipping the reference-client interop test: {reason}");
    None
}

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
        .env("no_proxy", "127.0.0.1,localhost");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_client_talks_to_our_server() {
    let Some(python) = reference_python() else {
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

    let mut args = vec![plain.base_url()];
    args.extend(SCENARIOS.iter().map(|s| (*s).to_owned()));
    args.extend([
        "--auth-url".into(),
        auth.base_url(),
        "--token".into(),
        TOKEN.into(),
        "--sender".into(),
        CLIENT_URN.into(),
        "--nonce-url".into(),
        nonce.base_url(),
    ]);
    let (status, report) = run_script(&python, &args).await;

    plain.shutdown().await;
    auth.shutdown().await;
    nonce.shutdown().await;

    assert_eq!(
        report.meta["asap_protocol"],
        REFERENCE_VERSION,
        "wrong reference version in {}:\n{}\n--- stderr:\n{}",
        python.display(),
        report.stdout,
        report.stderr
    );
    let failed: Vec<String> = SCENARIOS
        .iter()
        .filter_map(|name| match report.results.get(*name) {
            Some(r) if r["ok"] == true => None,
            Some(r) => Some(format!("{name}: {r}")),
            None => Some(format!("{name}: no result")),
        })
        .collect();
    assert!(
        failed.is_empty() && status.success(),
        "reference client scenarios failed (exit {status}):\n{}\n--- stdout:\n{}\n--- stderr:\n{}",
        failed.join("\n"),
        report.stdout,
        report.stderr
    );

    // (a) a plain, uncompressed request.
    let plain_details = report.details("plain");
    assert_echo_completed(plain_details);
    assert_eq!(plain_details["sender"], "urn:asap:agent:default-server");

    // (b), (c) bodies over 1 KiB, compressed by the client and inflated by the server.
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

    // (f) send_batch: 10 responses, in order.
    let batch = report.details("batch");
    assert_eq!(batch["count"], 10);
    assert_eq!(batch["correlation_ids_in_order"], true);

    // (g) our manifest parsed into the reference's Manifest model.
    let demo = demo_manifest("http://127.0.0.1/asap");
    assert_manifest_seen(report.details("manifest"), &demo);
    assert_eq!(report.details("manifest")["auth"], Value::Null);
    let auth_manifest = report.details("auth_manifest");
    assert_manifest_seen(auth_manifest, &demo);
    assert_eq!(
        auth_manifest["auth"],
        json!({"schemes": ["bearer"], "oauth2": null})
    );

    // (d) bearer auth set on the client's httpx client.
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

    // (e) nonce replay protection.
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
