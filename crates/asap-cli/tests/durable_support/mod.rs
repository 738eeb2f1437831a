//! What tests/durable.rs and tests/replicas.rs drive: `asap serve` processes on a data
//! directory, a TCP proxy that loses responses, and raw HTTP/1.1 posts.
// Each of the two test crates uses a part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{Value, json};

/// A guard against hangs, not a timing goal.
const PATIENCE: Duration = Duration::from_secs(60);

/// An `asap serve` process on `data_dir`, SIGKILLed when dropped.
pub(crate) struct Serve {
    child: Option<Child>,
    pub(crate) addr: String,
    data_dir: PathBuf,
    runtime: tokio::runtime::Runtime,
}

impl Serve {
    /// Starts `asap serve` with its default (SQLite) state store in `data_dir`.
    pub(crate) fn start(data_dir: &Path) -> Self {
        Self::start_with(data_dir, &["--rate-limit", "off"])
    }

    /// Starts `asap serve --data-dir data_dir` with `extra` arguments.
    pub(crate) fn start_with(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_logged(data_dir, extra, &[], Stdio::null())
    }

    /// Starts `asap serve --data-dir data_dir` with `extra` arguments, the variables `env`
    /// (no other `ASAP_*` nor `RUST_LOG`) and its standard output (its log) to `stdout`.
    pub(crate) fn start_logged(
        data_dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
        stdout: Stdio,
    ) -> Self {
        let mut command = Command::cargo_bin("asap").expect("binary");
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped());
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if name.starts_with("ASAP_") || name == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command.envs(env.iter().copied());
        let mut child = command.spawn().expect("spawn asap serve");
        let mut reader = BufReader::new(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        reader.read_line(&mut line).expect("first line");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("asap serve did not start: {line}"))
            .to_owned();
        // Keep reading its output so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).unwrap_or(0) > 0 {
                sink.clear();
            }
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Self {
            child: Some(child),
            addr,
            data_dir: data_dir.to_owned(),
            runtime,
        }
    }

    /// SIGKILL: no shutdown, no flush, no drain.
    pub(crate) fn kill(mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
        }
    }

    /// SIGTERM, then waits for the process to exit: a graceful stop, which flushes its log.
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(sent.success(), "kill -TERM failed");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            assert!(started.elapsed() < PATIENCE, "asap serve ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's state store, opened by this process beside it.
    pub(crate) fn open_store(&self) -> asap_state::Stores {
        let path = self.data_dir.join("state.db");
        self.block_on(asap_state::sqlite::SqliteStore::open(path))
            .expect("open the state store")
            .into_stores()
    }

    /// Runs a store call.
    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An `asap.send` of a `countdown` task with idempotency key `key`.
pub(crate) fn submit_body(key: &str, steps: u64, step_ms: u64) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "asap.send",
        "id": format!("req-{key}"),
        "params": {
            "idempotency_key": key,
            "envelope": {
                "asap_version": "0.1",
                "sender": "urn:asap:agent:client",
                "recipient": "urn:asap:agent:default-server",
                "payload_type": "task.request",
                "payload": {
                    "conversation_id": "conv_durable",
                    "skill_id": "countdown",
                    "input": {"steps": steps, "step_ms": step_ms},
                },
            },
        },
    })
}

/// Sends `request` on a fresh connection and reads the whole answer.
fn exchange(addr: &str, request: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

/// `POST /asap` with `body`, as one HTTP/1.1 request that closes its connection.
fn post_request(body: &Value) -> String {
    let body = body.to_string();
    format!(
        "POST /asap HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Posts `body` on a fresh connection; the reply's JSON body, or `None` when the
/// connection closed before any byte of a reply arrived.
pub(crate) fn post_raw(addr: &str, body: &Value) -> Option<Value> {
    let answer = match exchange(addr, &post_request(body)) {
        Ok(answer) if answer.is_empty() => return None,
        Ok(answer) => answer,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
        Err(e) => panic!("read: {e}"),
    };
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let json = answer.split("\r\n\r\n").nth(1).expect("a body");
    Some(serde_json::from_str(json).expect("JSON body"))
}

/// Posts `body` on a fresh connection; the status code and the JSON body.
pub(crate) fn post_status(addr: &str, body: &Value) -> (u16, Value) {
    status_and_body(&exchange(addr, &post_request(body)).expect("read"))
}

/// Posts the text `body` as it is (valid JSON or not) to `/asap`; the status code and the
/// body.
pub(crate) fn post_text(addr: &str, body: &str) -> (u16, String) {
    post_to(addr, "/asap", &[], body)
}

/// Posts the text `body` to `path` with the `headers` besides the JSON content type; the
/// status code and the body.
pub(crate) fn post_to(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    status_and_text(&exchange(addr, &request).expect("read"))
}

/// `GET path`; the status code and the JSON body.
pub(crate) fn get(addr: &str, path: &str) -> (u16, Value) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    status_and_body(&exchange(addr, &request).expect("read"))
}

/// `GET path`; the status code and the body as text.
pub(crate) fn get_text(addr: &str, path: &str) -> (u16, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    status_and_text(&exchange(addr, &request).expect("read"))
}

/// The status code and the body of an HTTP/1.1 answer.
fn status_and_text(answer: &str) -> (u16, String) {
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"));
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    (status, body.to_owned())
}

fn status_and_body(answer: &str) -> (u16, Value) {
    let (status, body) = status_and_text(answer);
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Posts `body`; the reply must arrive.
pub(crate) fn post(addr: &str, body: &Value) -> Value {
    post_raw(addr, body).expect("a reply")
}

/// Polls `done` until it holds.
pub(crate) fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < until, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A TCP proxy to `upstream` that loses the response of its first `cut` connections: it
/// forwards the request, waits until the server has started answering (so the server read
/// and processed it), then closes the client's connection without passing a byte on.
/// Later connections are passed through.
pub(crate) struct Proxy {
    pub(crate) addr: String,
    cut: Arc<AtomicUsize>,
}

impl Proxy {
    pub(crate) fn start(upstream: &str, cut: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let upstream = upstream.to_owned();
        let done = Arc::new(AtomicUsize::new(0));
        let counter = done.clone();
        std::thread::spawn(move || {
            for (n, client) in listener.incoming().enumerate() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                if n < cut {
                    lose_response(client, server, &counter);
                } else {
                    pass_through(client, server);
                }
            }
        });
        Self { addr, cut: done }
    }

    /// How many responses were lost so far.
    pub(crate) fn cut(&self) -> usize {
        self.cut.load(Ordering::SeqCst)
    }
}

fn lose_response(client: TcpStream, mut server: TcpStream, cut: &AtomicUsize) {
    let mut from_client = client.try_clone().expect("clone");
    let mut to_server = server.try_clone().expect("clone");
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_server);
    });
    server.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let mut first = [0u8; 1];
    let _ = server.read(&mut first);
    cut.fetch_add(1, Ordering::SeqCst);
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}

fn pass_through(client: TcpStream, server: TcpStream) {
    for (mut from, mut to) in [
        (
            client.try_clone().expect("clone"),
            server.try_clone().expect("clone"),
        ),
        (server, client),
    ] {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Write);
        });
    }
}
