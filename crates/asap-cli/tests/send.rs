//! `asap send` and `asap manifest` against a running `asap serve`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

struct Server(Child, String, #[allow(dead_code)] tempfile::TempDir);

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
    let data = tempfile::tempdir().expect("data dir");
    let mut child = Command::cargo_bin("asap")
        .expect("binary")
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--rate-limit",
            "off",
            "--data-dir",
        ])
        .arg(data.path())
        .stdout(Stdio::null())
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
    Server(child, format!("http://127.0.0.1:{port}"), data)
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

/// A server on 127.0.0.1 that accepts up to `connections` connections, reads nothing and
/// never answers; it holds them open for a minute at most.
fn silent_server(connections: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    thread::spawn(move || {
        let held: Vec<TcpStream> = listener.incoming().take(connections).flatten().collect();
        thread::sleep(Duration::from_secs(60));
        drop(held);
    });
    url
}

/// A server on 127.0.0.1 that answers each of up to `requests` requests (one per
/// connection) with HTTP 429 and `Retry-After: 3600`.
fn rate_limited_server(requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    thread::spawn(move || {
        for mut stream in listener.incoming().take(requests).flatten() {
            read_request(&mut stream);
            let body = r#"{"jsonrpc":"2.0","error":{"code":429,"message":"Rate limit exceeded"},"id":null}"#;
            let reply = format!(
                "HTTP/1.1 429 Too Many Requests\r\nretry-after: 3600\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    url
}

/// Reads one request's head and its `content-length` body (bounded by a read timeout).
fn read_request(stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    while data.len() < 1 << 20 {
        let Ok(n) = stream.read(&mut buf) else { return };
        if n == 0 {
            return;
        }
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return;
            }
        }
    }
}

/// Runs `asap send URL --skill echo --recipient … <extra>`; returns the exit code, stderr
/// and how long it took.
fn send_to(url: &str, extra: &[&str]) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let out = asap()
        .args([
            "send",
            url,
            "--skill",
            "echo",
            "--recipient",
            "urn:asap:agent:x",
        ])
        .args(extra)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), stderr, started.elapsed())
}

#[test]
fn deadline_bounds_a_send_to_a_server_that_never_answers() {
    let url = silent_server(4);
    // Without the deadline: 3 attempts of the 60 s timeout.
    let (code, stderr, elapsed) = send_to(&url, &["--deadline", "500ms"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: Send deadline of 0.5s ran out after 1 attempt ("),
        "{stderr}"
    );
    // Process start-up included; far below the minutes it would take without the deadline.
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
}

#[test]
fn a_long_retry_after_is_reported_not_waited_for() {
    let url = rate_limited_server(2);
    let (code, stderr, elapsed) = send_to(&url, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("error: HTTP error 429: "), "{stderr}");
    assert!(
        stderr.contains("the server asked to retry after 3600s, longer than max_retry_after 60s"),
        "{stderr}"
    );
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");

    // A cap above the hint: the wait would pass the deadline, so it is not started.
    let (code, stderr, elapsed) = send_to(&url, &["--max-retry-after", "2h", "--deadline", "30s"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: Send deadline of 30s ran out after 1 attempt ("),
        "{stderr}"
    );
    assert!(
        stderr.contains("; the server asked to retry after 3600s: HTTP error 429: "),
        "the last attempt's error follows: {stderr}"
    );
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
}

#[test]
fn bad_durations_are_usage_errors() {
    for args in [
        ["--deadline", "soon"],
        ["--deadline", "0s"],
        ["--max-retry-after", "5 days"],
    ] {
        let (code, stderr, _) = send_to("http://127.0.0.1:9", &args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(args[0]), "{stderr}");
    }
}
