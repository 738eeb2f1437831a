//! `asap trace --serve` in a real browser: the page, started with the two-hop fixture log,
//! lists its traces, draws the picked one as a waterfall and shows its ascii diagram.
//!
//! tests/trace_ui/check.mjs drives headless Chromium (/usr/bin/chromium) with the npm
//! package playwright-core, found in `$ASAP_NODE_MODULES/node_modules` (default
//! /var/tmp/asap-node; .ci/run installs it there). Without node, playwright-core or
//! Chromium the test is skipped with the reason printed, and fails under `CI=true`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// The browser the script drives.
const CHROMIUM: &str = "/usr/bin/chromium";
/// Where playwright-core is looked for without ASAP_NODE_MODULES.
const DEFAULT_NODE_MODULES: &str = "/var/tmp/asap-node";

/// `None` after printing why the test is skipped; a panic under `CI=true`.
fn missing<T>(reason: &str) -> Option<T> {
    if asap_testing::services::on_ci() {
        panic!("{reason}, and CI=true requires the browser test to run");
    }
    eprintln!("skipped: {reason}");
    None
}

/// node, and the directory to put on NODE_PATH (holding playwright-core).
fn tools() -> Option<(PathBuf, PathBuf)> {
    let node = asap_testing::services::require_tool("node")?;
    let base = std::env::var_os("ASAP_NODE_MODULES")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_NODE_MODULES), PathBuf::from);
    let modules = base.join("node_modules");
    if !modules
        .join("playwright-core")
        .join("package.json")
        .is_file()
    {
        return missing(&format!(
            "playwright-core is not installed in {} (set ASAP_NODE_MODULES)",
            modules.display()
        ));
    }
    if !Path::new(CHROMIUM).is_file() {
        return missing(&format!("{CHROMIUM} is not installed"));
    }
    Some((node, modules))
}

fn trace_dir() -> PathBuf {
    asap_testing::fixtures::examples_dir().join("trace")
}

/// Kills the viewer when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `asap trace --serve` on a free port with `log` loaded; returns it with the URL of
/// its first stderr line.
fn start_viewer(log: &Path) -> (Running, String) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("asap"))
        .env_remove("ASAP_TRACE_LOG")
        .args(["trace", "--serve", "--bind", "127.0.0.1:0", "-f"])
        .arg(log)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn asap");
    let stderr = child.stderr.take().expect("stderr");
    let running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stderr).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = tx.send(line);
        }
        // Keep draining, so that the viewer never blocks on a full pipe.
        lines.for_each(drop);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the viewer's first line in time");
    let url = line
        .strip_prefix("asap: trace viewer on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"));
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
        "{url}"
    );
    (running, url.to_owned())
}

#[test]
fn the_page_draws_the_waterfall_of_a_trace() {
    let Some((node, modules)) = tools() else {
        return;
    };
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(trace_dir().join("two_hops.expected.json")).expect("fixture"),
    )
    .expect("expected JSON");
    let trace_id = expected["trace_id"].as_str().expect("trace_id");
    let diagram =
        std::fs::read_to_string(trace_dir().join("two_hops.expected.ascii.txt")).expect("fixture");

    let (_viewer, url) = start_viewer(&trace_dir().join("two_hops.log.jsonl"));
    let shots = tempfile::tempdir().expect("tempdir");
    let screenshot = shots.path().join("trace-ui.png");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/trace_ui/check.mjs");
    let output = Command::new(node)
        .arg(&script)
        .args([url.as_str(), trace_id])
        .arg(&screenshot)
        .env("NODE_PATH", &modules)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "check.mjs failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let drawn: Value = serde_json::from_str(stdout.trim()).expect("check.mjs prints JSON");
    println!("{drawn:#}");

    assert_eq!(drawn["errors"], serde_json::json!([]), "errors on the page");
    assert!(
        drawn["log_chars"].as_u64() > Some(0),
        "the -f log is loaded"
    );
    let ids = drawn["trace_ids"].as_array().expect("trace ids");
    assert!(ids.iter().any(|id| id == trace_id), "{ids:?}");
    assert_eq!(drawn["diagram"], diagram.trim_end());

    // One row per hop, in order, labelled `sender → recipient`, each a bar as wide as its
    // duration (so ordered as the durations), the later hop starting further right.
    let hops = drawn["hops"].as_array().expect("hops");
    let wanted = expected["hops"].as_array().expect("hops");
    assert_eq!(hops.len(), wanted.len());
    let short = |urn: &Value| {
        let urn = urn.as_str().expect("urn");
        urn.rsplit(':').next().unwrap_or(urn).to_owned()
    };
    for (hop, want) in hops.iter().zip(wanted) {
        let label = format!("{} → {}", short(&want["sender"]), short(&want["recipient"]));
        assert_eq!(hop["label"], label.as_str());
        assert_eq!(hop["kind"], "hop-bar");
        assert_eq!(hop["duration_ms"], want["duration_ms"]);
        assert!(hop["width"].as_f64() > Some(0.0), "{hop}");
    }
    let number = |hop: &Value, key: &str| hop[key].as_f64().expect("a number");
    for pair in hops.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert_eq!(
            number(a, "width") < number(b, "width"),
            number(a, "duration_ms") < number(b, "duration_ms"),
            "widths ordered as durations: {a} {b}"
        );
        assert!(number(a, "left") < number(b, "left"), "{a} {b}");
    }

    let png = std::fs::read(&screenshot).expect("the screenshot");
    assert_eq!(
        drawn["screenshot"],
        screenshot.to_str().expect("utf-8 path")
    );
    assert_eq!(drawn["screenshot_bytes"].as_u64(), Some(png.len() as u64));
    assert!(png.len() > 1024, "a {}-byte screenshot", png.len());
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
}
