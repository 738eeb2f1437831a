//! `asap trace` against the reference's fixtures, its error cases, the tree rendering and
//! `--follow` on a growing file.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use assert_cmd::Command;

fn trace_dir() -> PathBuf {
    let dir = asap_testing::fixtures::examples_dir().join("trace");
    assert!(dir.is_dir(), "{} not found", dir.display());
    dir
}

/// `asap trace` with ASAP_TRACE_LOG cleared, so the caller's environment cannot leak in.
fn asap() -> Command {
    let mut cmd = Command::cargo_bin("asap").expect("asap binary");
    cmd.env_remove("ASAP_TRACE_LOG").arg("trace");
    cmd
}

/// The trace id of a fixture case: the `trace_id` of its expected JSON when there is one,
/// else the only trace id its log holds.
fn case_trace_id(name: &str) -> String {
    let json = trace_dir().join(format!("{name}.expected.json"));
    if let Ok(text) = std::fs::read_to_string(&json) {
        let value: serde_json::Value = serde_json::from_str(&text).expect("expected JSON");
        return value["trace_id"].as_str().expect("trace_id").to_owned();
    }
    let log = std::fs::read(trace_dir().join(format!("{name}.log.jsonl"))).expect("log");
    let ids = asap_observability::trace_view::list_trace_ids(&log);
    assert_eq!(ids.len(), 1, "{name}: which trace? {ids:?}");
    ids[0].clone()
}

/// Every `<name>.expected.ascii.txt` and `<name>.expected.json` in the fixture folder is
/// what `asap trace <id> -f <name>.log.jsonl [-o json]` prints, byte for byte.
#[test]
fn every_fixture_case_reproduces_byte_for_byte() {
    let mut cases = 0;
    for entry in std::fs::read_dir(trace_dir()).expect("list fixtures") {
        let path = entry.expect("entry").path();
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let (name, format) = if let Some(name) = file.strip_suffix(".expected.ascii.txt") {
            (name.to_owned(), "ascii")
        } else if let Some(name) = file.strip_suffix(".expected.json") {
            (name.to_owned(), "json")
        } else {
            continue;
        };
        let expected = std::fs::read(&path).expect("expected output");
        let log = trace_dir().join(format!("{name}.log.jsonl"));
        let output = asap()
            .arg(case_trace_id(&name))
            .arg("-f")
            .arg(&log)
            .args(["-o", format])
            .output()
            .expect("run asap");
        assert_eq!(output.status.code(), Some(0), "{file}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&expected),
            "{file}"
        );
        assert!(output.stderr.is_empty(), "{file}");
        cases += 1;
    }
    assert!(cases >= 3, "only {cases} fixture cases");
}

#[test]
fn input_from_env_then_stdin() {
    let log = trace_dir().join("two_hops.log.jsonl");
    let expected =
        std::fs::read_to_string(trace_dir().join("two_hops.expected.ascii.txt")).expect("expected");
    asap()
        .arg("t-demo-1")
        .env("ASAP_TRACE_LOG", &log)
        .write_stdin("")
        .assert()
        .success()
        .stdout(expected.clone());
    asap()
        .arg("t-demo-1")
        .env("ASAP_TRACE_LOG", "")
        .write_stdin(std::fs::read(&log).expect("log"))
        .assert()
        .success()
        .stdout(expected);
}

#[test]
fn errors_have_the_reference_messages_and_statuses() {
    let log = trace_dir().join("two_hops.log.jsonl");
    for blank in [None, Some(""), Some("   ")] {
        let mut cmd = asap();
        if let Some(id) = blank {
            cmd.arg(id);
        }
        cmd.write_stdin("").assert().code(1).stdout("").stderr(
            "Error: trace_id is required. Usage: asap trace <trace-id> [--log-file PATH]\n",
        );
    }
    asap()
        .args(["t-demo-1", "-o", "xml", "-f"])
        .arg(&log)
        .assert()
        .code(1)
        .stdout("")
        .stderr("Error: --format must be 'ascii' or 'json'\n");
    let missing = asap()
        .args(["t-demo-1", "-f", "/nonexistent/asap.log"])
        .output()
        .expect("run");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));
    asap()
        .args(["t-demo-1"])
        .env("ASAP_TRACE_LOG", "/nonexistent/asap.log")
        .assert()
        .code(2);
    // `t-other` has a hop, `t-demo` is only a prefix of `t-demo-1`: compared exactly.
    asap()
        .args(["t-demo", "-f"])
        .arg(&log)
        .assert()
        .code(1)
        .stdout("No trace found for: t-demo\n");
    asap()
        .args(["t-other", "-f"])
        .arg(&log)
        .assert()
        .success()
        .stdout("x -> y (?)\n");
}

fn received(envelope: &str, sender: &str, recipient: &str, second: u32) -> String {
    format!(
        r#"{{"event": "asap.request.received", "trace_id": "t-tree", "envelope_id": "{envelope}", "sender": "urn:asap:agent:{sender}", "recipient": "urn:asap:agent:{recipient}", "timestamp": "2026-01-01T12:00:{second:02}Z"}}"#
    )
}

fn processed(envelope: &str, ms: &str) -> String {
    format!(
        r#"{{"event": "asap.request.processed", "trace_id": "t-tree", "envelope_id": "{envelope}", "duration_ms": {ms}}}"#
    )
}

#[test]
fn branching_hops_print_a_tree_and_json_keeps_the_reference_shape() {
    let log = [
        received("e1", "coordinator", "research", 0),
        processed("e1", "15.4"),
        received("e2", "research", "writer", 1),
        processed("e2", "22.5"),
        received("e3", "coordinator", "reviewer", 2),
    ]
    .join("\n");
    asap()
        .arg("t-tree")
        .write_stdin(log.clone())
        .assert()
        .success()
        .stdout("coordinator\n|-- research (15ms)\n|   `-- writer (22ms)\n`-- reviewer (?)\n");
    let json = asap()
        .args(["t-tree", "-o", "json"])
        .write_stdin(log)
        .output()
        .expect("run");
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(value["hops"].as_array().map(Vec::len), Some(3));
    assert_eq!(value["hops"][2]["duration_ms"], serde_json::Value::Null);
}

/// Kills the child when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn follow_prints_the_trace_again_as_the_file_grows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("asap.log");
    let mut file = std::fs::File::create(&path).expect("create log");
    writeln!(file, "{}", received("e1", "coordinator", "research", 0)).expect("write");
    file.flush().expect("flush");

    let binary = assert_cmd::cargo::cargo_bin("asap");
    let mut child = std::process::Command::new(binary)
        .env_remove("ASAP_TRACE_LOG")
        .args([
            "trace",
            "t-tree",
            "--follow",
            "--follow-timeout",
            "3s",
            "-f",
        ])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn asap");
    let stdout = child.stdout.take().expect("stdout");
    let _running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.expect("utf-8 line")).is_err() {
                return;
            }
        }
    });
    // A bound on how long the test may wait for each line, so that it never hangs.
    let next = || {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("a line in time")
    };

    assert_eq!(next(), "coordinator -> research (?)");
    writeln!(file, "{}", processed("e1", "15.4")).expect("write");
    file.flush().expect("flush");
    assert_eq!(next(), "coordinator -> research (15ms)");
    // A line written in two pieces is read once it is whole.
    let second = received("e2", "research", "writer", 1);
    let (head, tail) = second.split_at(40);
    write!(file, "{head}").expect("write");
    file.flush().expect("flush");
    writeln!(file, "{tail}").expect("write");
    file.flush().expect("flush");
    assert_eq!(next(), "coordinator -> research (15ms) -> writer (?)");
    // Ends by itself once the file stops growing; the output stream closes.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Ok(line) => panic!("unexpected line {line:?}"),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                assert!(Instant::now() < deadline, "--follow did not stop");
            }
        }
    }
}
