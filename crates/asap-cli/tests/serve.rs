//! `asap serve` in both thread layouts: it answers concurrent clients and stops cleanly on
//! SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

const BODY: &str = r#"{"jsonrpc":"2.0","method":"asap.send","id":"r1","params":{"envelope":{"asap_version":"0.1","sender":"urn:asap:agent:client","recipient":"urn:asap:agent:default-server","payload_type":"task.request","payload":{"conversation_id":"c1","skill_id":"echo","input":{"text":"hi"}}}}}"#;

/// The process and its data directory (the SQLite state store of the default
/// configuration), removed with it.
struct Server(Child, #[allow(dead_code)] tempfile::TempDir);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `asap serve` on a free port with `extra` arguments; returns it and its address.
fn serve(extra: &[&str]) -> (Server, String) {
    let data = tempfile::tempdir().expect("data dir");
    let mut child = Command::cargo_bin("asap")
        .expect("binary")
        .args(["serve", "--bind", "127.0.0.1:0", "--rate-limit", "off"])
        .args(extra)
        .current_dir(data.path())
        .env_remove("ASAP_RUNTIME")
        .env_remove("ASAP_WORKERS")
        .env_remove("ASAP_DATA_DIR")
        .env_remove("ASAP_STATE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut reader = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("first line");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("server did not start: {line}"))
        .to_owned();
    (Server(child, data), addr)
}

/// One HTTP/1.1 request on its own connection; the whole answer.
fn post(addr: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "POST /asap HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{BODY}",
        BODY.len()
    )
    .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

fn answers_and_stops(extra: &[&str]) {
    let (mut server, addr) = serve(extra);
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || post(&addr))
        })
        .collect();
    for client in clients {
        let answer = client.join().expect("client");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains(r#""status":"completed""#), "{answer}");
    }
    let status = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    // A guard against a hang, not a timing goal.
    let guard = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = server.0.try_wait().expect("wait") {
            break exit;
        }
        assert!(Instant::now() < guard, "asap serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit}");
    assert!(
        TcpStream::connect(&addr).is_err(),
        "still listening after it exited"
    );
    assert!(
        !cfg!(feature = "sqlite") || server.1.path().join(".asap/state.db").is_file(),
        "the default state store is .asap/state.db in the working directory"
    );
}

#[test]
fn the_default_layout_serves_concurrent_clients_and_stops() {
    answers_and_stops(&["--workers", "3"]);
}

#[test]
fn work_stealing_serves_too() {
    answers_and_stops(&["--workers", "2", "--runtime", "work-stealing"]);
}

#[test]
fn one_worker_thread_per_core() {
    answers_and_stops(&["--workers", "1", "--runtime", "thread-per-core"]);
}
