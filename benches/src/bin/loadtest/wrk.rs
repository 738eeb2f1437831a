//! Closed-loop runs with wrk and `benches/load/post.lua` (a fresh idempotency key per
//! request, like the built-in generators).

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;

/// The figures `post.lua` prints after `ASAP_WRK_JSON `.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WrkOutput {
    pub(crate) duration_us: u64,
    pub(crate) requests: u64,
    pub(crate) errors: WrkErrors,
    pub(crate) latency_us: WrkLatency,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WrkErrors {
    pub(crate) connect: u64,
    pub(crate) read: u64,
    pub(crate) write: u64,
    pub(crate) status: u64,
    pub(crate) timeout: u64,
}

impl WrkErrors {
    pub(crate) fn total(&self) -> u64 {
        self.connect + self.read + self.write + self.status + self.timeout
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WrkLatency {
    pub(crate) mean: f64,
    pub(crate) max: f64,
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) p999: f64,
}

impl WrkOutput {
    pub(crate) fn rate(&self) -> f64 {
        self.requests as f64 / (self.duration_us as f64 / 1e6).max(1e-9)
    }
}

/// The wrk program and script.
#[derive(Debug, Clone)]
pub(crate) struct Wrk {
    pub(crate) program: PathBuf,
    pub(crate) script: PathBuf,
    /// `-t`; `None`: as many as the server has runtime workers.
    pub(crate) threads: Option<usize>,
}

impl Wrk {
    /// `wrk -v`'s first line, e.g. `wrk 4.1.0 [epoll] …`.
    pub(crate) fn version(program: &Path) -> Option<String> {
        let output = Command::new(program)
            .arg("-v")
            .stdin(Stdio::null())
            .output()
            .ok()?;
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        let line = text.lines().next()?;
        let line = line
            .split(" Copyright")
            .next()
            .unwrap_or(line)
            .trim()
            .to_owned();
        line.starts_with("wrk").then_some(line)
    }

    /// One run of `duration` with `connections` against `http://addr/asap`, whose server
    /// has `server_threads` runtime workers. The program is killed if it has not finished
    /// 15 s after `duration`. With `pinned`, wrk runs on [`crate::pinning::LOAD_CPU`] only.
    pub(crate) fn run(
        &self,
        addr: SocketAddr,
        server_threads: usize,
        connections: usize,
        duration: Duration,
        pinned: bool,
    ) -> Result<WrkOutput> {
        let threads = self
            .threads
            .unwrap_or(server_threads)
            .clamp(1, connections.max(1));
        let url = format!("http://{addr}/asap");
        let mut command = if pinned {
            crate::pinning::command_on(crate::pinning::LOAD_CPU, &self.program)
        } else {
            Command::new(&self.program)
        };
        let mut child = command
            .arg(format!("-t{threads}"))
            .arg(format!("-c{connections}"))
            .arg(format!("-d{}s", whole_seconds(duration)))
            .arg("--timeout")
            .arg("5s")
            .arg("-s")
            .arg(&self.script)
            .arg(&url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run {}", self.program.display()))?;
        let mut stdout = child.stdout.take().context("wrk stdout")?;
        let mut stderr = child.stderr.take().context("wrk stderr")?;
        let out_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let err_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let deadline = Instant::now() + Duration::from_secs(whole_seconds(duration) + 15);
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "wrk did not finish within {:?}",
                    duration + Duration::from_secs(15)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = out_reader.join().unwrap_or_default();
        let err = err_reader.join().unwrap_or_default();
        if !status.success() {
            bail!("wrk failed ({status}): {err}{out}");
        }
        let line = out
            .lines()
            .find_map(|l| l.strip_prefix("ASAP_WRK_JSON "))
            .with_context(|| format!("no ASAP_WRK_JSON line in wrk output:\n{out}{err}"))?;
        serde_json::from_str(line).with_context(|| format!("bad wrk figures: {line}"))
    }
}

/// wrk takes durations in whole seconds: `duration` rounded up, at least 1.
pub(crate) fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs_f64().ceil().max(1.0) as u64
}

/// The request body template written in `post.lua` (`local body = [==[…]==]`, with the
/// idempotency key as [`KEY_PLACEHOLDER`](crate::request::KEY_PLACEHOLDER)).
pub(crate) fn script_body(script: &str) -> Option<&str> {
    const OPEN: &str = "local body = [==[";
    let start = script.find(OPEN)? + OPEN.len();
    let len = script[start..].find("]==]")?;
    Some(&script[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_post_lua_output() {
        let line = r#"{"duration_us":3114705,"requests":76770,"bytes":57116880,"errors":{"connect":0,"read":0,"write":0,"status":2,"timeout":0},"latency_us":{"mean":423.1,"stdev":1118.5,"min":21,"max":14756,"p50":27,"p90":1497,"p99":4730,"p999":11959}}"#;
        let out: WrkOutput = serde_json::from_str(line).unwrap();
        assert_eq!(out.errors.total(), 2);
        assert!((out.rate() - 24_647.6).abs() < 1.0);
        assert_eq!(
            script_body("x\nlocal body = [==[{\"a\":1}]==]\n"),
            Some("{\"a\":1}")
        );
    }
}
