//! The servers under test: starting them on 127.0.0.1, checking they answer the benchmark
//! request with a JSON-RPC result, sampling their memory, stopping them.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::client::call_blocking;
use crate::request::Template;

/// Rate limit given to `asap serve`: every default layer stays on, the per-IP limit is
/// just out of the way of a single load-generating client.
pub(crate) const ASAP_RATE_LIMIT: &str = "1000000/second";

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `raw-hyper`: hyper reading the body and answering a fixed JSON (the ceiling).
    RawHyper,
    /// `axum-echo`: axum + serde typed echo (what a user would write).
    AxumEcho,
    /// `actix-echo`: the same typed echo on actix-web.
    ActixEcho,
    /// `asap serve`: the full asap-rs path.
    Asap,
    /// `asap serve --no-metrics`: the same without its metrics (for their cost).
    AsapNoMetrics,
    /// The Python reference 1.0.0 under uvicorn.
    Reference,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::RawHyper => "raw-hyper",
            Kind::AxumEcho => "axum-echo",
            Kind::ActixEcho => "actix-echo",
            Kind::Asap => "asap",
            Kind::AsapNoMetrics => "asap-nometrics",
            Kind::Reference => "reference",
        }
    }

    pub(crate) fn description(self) -> &'static str {
        match self {
            Kind::RawHyper => {
                "hyper 1 + hyper-util auto; reads the body, answers a fixed 48-byte JSON"
            }
            Kind::AxumEcho => "axum 0.8 POST /asap, serde typed parse, echo task.response",
            Kind::ActixEcho => {
                "actix-web 4 POST /asap, the same serde typed parse and echo as axum-echo"
            }
            Kind::Asap => {
                "asap serve: echo agent, every default layer, --rate-limit 1000000/second"
            }
            Kind::AsapNoMetrics => "asap serve as above, with --no-metrics",
            Kind::Reference => "Python reference asap-protocol 1.0.0, uvicorn, 1 process",
        }
    }
}

/// Where the programs are.
#[derive(Debug, Clone)]
pub(crate) struct Programs {
    /// Directory of `asap`, `raw-hyper`, `axum-echo` and `actix-echo`.
    pub(crate) bin_dir: PathBuf,
    /// The reference venv's python, when present.
    pub(crate) python: Option<PathBuf>,
    /// `reference_server.py`.
    pub(crate) reference_script: PathBuf,
    /// Where server logs go.
    pub(crate) log_dir: PathBuf,
    /// Added to every `asap serve` command line.
    pub(crate) asap_args: Vec<String>,
}

/// A running server, stopped when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) kind: Kind,
    pub(crate) workers: Option<usize>,
    pub(crate) addr: SocketAddr,
    /// Pinned to [`crate::pinning::SERVER_CPU`]; its load generator then runs on
    /// [`crate::pinning::LOAD_CPU`].
    pub(crate) pinned: bool,
    child: Option<Child>,
    log: PathBuf,
    /// `asap serve`'s data directory, removed when the server stops.
    data: Option<PathBuf>,
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("no free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

impl Server {
    /// Starts `kind` with `workers` runtime threads (ignored by the reference) and waits
    /// until it answers the benchmark request (`body`, the template with a fresh key) with
    /// a JSON-RPC result.
    pub(crate) fn start(
        kind: Kind,
        workers: Option<usize>,
        programs: &Programs,
        body: &[u8],
    ) -> Result<Self> {
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let bind = addr.to_string();
        let mut data_dir = None;
        let mut command = match kind {
            Kind::RawHyper | Kind::AxumEcho | Kind::ActixEcho => {
                let mut c = Command::new(programs.bin_dir.join(kind.name()));
                c.args(["--bind", &bind]);
                c.args(["--workers", &workers.unwrap_or(2).to_string()]);
                c
            }
            Kind::Asap | Kind::AsapNoMetrics => {
                let mut c = Command::new(programs.bin_dir.join("asap"));
                c.args(["serve", "--bind", &bind, "--rate-limit", ASAP_RATE_LIMIT]);
                if kind == Kind::AsapNoMetrics {
                    c.arg("--no-metrics");
                }
                // Its default state store (SQLite) in a fresh directory per run, beside the
                // logs: the measured path includes the idempotency records it writes.
                let data = programs.log_dir.join(format!("asap-state-{port}"));
                let _ = std::fs::remove_dir_all(&data);
                c.arg("--data-dir").arg(&data);
                data_dir = Some(data);
                if let Some(w) = workers {
                    c.args(["--workers", &w.to_string()]);
                }
                c.args(&programs.asap_args);
                // Only the flags above configure it.
                for (key, _) in std::env::vars_os() {
                    let name = key.to_string_lossy();
                    if name.starts_with("ASAP_") || name == "RUST_LOG" {
                        c.env_remove(key);
                    }
                }
                // Warnings only: like the echo peers, no log line per request (at the
                // default level `asap serve` writes three, docs/operations/logging.md).
                c.env("ASAP_LOG_LEVEL", "warn");
                c
            }
            Kind::Reference => {
                let python = programs
                    .python
                    .as_ref()
                    .context("the reference venv is missing")?;
                let mut c = Command::new(python);
                c.arg(&programs.reference_script).arg(port.to_string());
                c.env("ASAP_RATE_LIMIT", "100000/second");
                c
            }
        };
        std::fs::create_dir_all(&programs.log_dir)?;
        let log = programs.log_dir.join(format!(
            "{}-w{}.log",
            kind.name(),
            workers.map_or_else(|| "default".to_owned(), |w| w.to_string())
        ));
        let log_file = File::create(&log)?;
        command
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", kind.name()))?;
        let mut server = Self {
            kind,
            workers,
            addr,
            pinned: false,
            child: Some(child),
            log,
            data: data_dir,
        };
        server.wait_ready(body, Duration::from_secs(30))?;
        Ok(server)
    }

    fn wait_ready(&mut self, body: &[u8], limit: Duration) -> Result<()> {
        let mut request = Template::new(self.addr, body, false)?.lane();
        let started = Instant::now();
        let mut last = String::from("no answer");
        while started.elapsed() < limit {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "{} exited with {status} before answering; log {}:\n{}",
                    self.kind.name(),
                    self.log.display(),
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            match call_blocking(self.addr, request.next_request(), Duration::from_secs(5)) {
                Ok((Ok(()), _)) => return Ok(()),
                Ok((Err(failure), text)) => {
                    bail!(
                        "{} does not answer the benchmark request with a JSON-RPC result ({}):\n{text}",
                        self.kind.name(),
                        failure.name()
                    );
                }
                Err(error) => last = error.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "{} did not answer within {limit:?} ({last}); log {}",
            self.kind.name(),
            self.log.display()
        )
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `VmRSS` in KiB.
    pub(crate) fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid()?)
    }

    /// Open file descriptors.
    pub(crate) fn open_fds(&self) -> Option<usize> {
        let pid = self.pid()?;
        Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
    }

    /// Label such as `asap w2`.
    pub(crate) fn label(&self) -> String {
        label(self.kind, self.workers)
    }

    /// SIGTERM, then SIGKILL after 5 s. Returns whether SIGKILL was needed.
    pub(crate) fn stop(&mut self) -> Result<bool> {
        let Some(mut child) = self.child.take() else {
            return Ok(false);
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if child.try_wait()?.is_some() {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "warning: {} (pid {}) still running 5 s after SIGTERM; killing it",
            self.label(),
            child.id()
        );
        child.kill()?;
        child.wait()?;
        Ok(true)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(data) = &self.data {
            let _ = std::fs::remove_dir_all(data);
        }
    }
}

/// `asap w2`, `reference`.
pub(crate) fn label(kind: Kind, workers: Option<usize>) -> String {
    match workers {
        Some(w) if kind != Kind::Reference => format!("{} w{w}", kind.name()),
        _ => kind.name().to_owned(),
    }
}

/// `VmRSS` of `pid` in KiB.
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The venv python of the reference 1.0.0 (`ASAP_PEER_VENV` or `/tmp/asap-peer-1.0.0`,
/// like `asap-testing`).
pub(crate) fn reference_python() -> Option<PathBuf> {
    let venv = std::env::var_os("ASAP_PEER_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let prefix =
                std::env::var("ASAP_PEER_PREFIX").unwrap_or_else(|_| "/tmp/asap-peer-".into());
            PathBuf::from(format!("{prefix}1.0.0"))
        });
    let python = venv.join("bin/python");
    python.exists().then_some(python)
}

/// Whether `path` is an executable file.
pub(crate) fn exists(path: &Path) -> bool {
    path.is_file()
}
