//! `asap send` and `asap manifest` against a running `asap serve`.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve() -> Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let mut child = Command::cargo_bin("asap")
        .expect("binary")
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--rate-limit",
            "off",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    let stderr = child.stderr.take().expect("stderr");
    let mut reader = BufReader::new(stderr);
    let started = Instant::now();
    while !line.contains("serving on") && started.elapsed() < Duration::from_secs(20) {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
    }
    assert!(line.contains("serving on"), "server did not start: {line}");
    Server(child, format!("http://127.0.0.1:{port}"))
}

fn asap() -> Command {
    Command::cargo_bin("asap").expect("binary")
}

#[test]
fn send_built_task_request_prints_the_response_envelope() {
    let server = serve();
    let out = asap()
        .args([
            "send",
            "--json",
            &server.1,
            "--skill",
            "echo",
            "--input",
            r#"{"text":"hi"}"#,
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let response: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("exactly one JSON document");
    assert_eq!(response["payload_type"], "task.response");
    assert_eq!(response["payload"]["result"]["echoed"]["text"], "hi");
    assert_eq!(response["recipient"], "urn:asap:agent:asap-cli");
}

#[test]
fn send_envelope_from_stdin_and_report_remote_errors() {
    let server = serve();
    let mut child = asap()
        .args(["send", "--json", &server.1, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(br#"{"asap_version":"0.1","sender":"urn:asap:agent:a","recipient":"urn:asap:agent:default-server","payload_type":"nope","payload":{}}"#)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("-32601"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn manifest_prints_the_agent_manifest() {
    let server = serve();
    let out = asap().args(["manifest", &server.1]).output().expect("run");
    assert!(out.status.success());
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(manifest["id"], "urn:asap:agent:default-server");
}

#[test]
fn connection_errors_exit_non_zero_with_a_message() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = asap()
        .args([
            "send",
            &url,
            "--skill",
            "echo",
            "--recipient",
            "urn:asap:agent:x",
            "--attempts",
            "1",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error:"));
    let out = asap().args(["manifest", &url]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
}
