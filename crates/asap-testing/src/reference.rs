//! The Python reference implementation as a test peer.
//!
//! Venvs are made by `../shared/tools/asap-reference-venv.sh VERSION` at
//! `/tmp/asap-peer-VERSION` (or `$ASAP_PEER_PREFIX<VERSION>`). When a venv is missing, tests
//! skip with a printed reason, except under `CI` where a missing peer is a failure.

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

const SERVER_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/reference_server.py");

/// Path of the venv's Python for `version`, if it exists.
pub fn python(version: &str) -> Option<PathBuf> {
    let prefix = std::env::var("ASAP_PEER_PREFIX").unwrap_or_else(|_| "/tmp/asap-peer-".into());
    let mut venv = PathBuf::from(format!("{prefix}{version}"));
    if version == "1.0.0"
        && let Ok(explicit) = std::env::var("ASAP_PEER_VENV")
    {
        venv = PathBuf::from(explicit);
    }
    let python = venv.join("bin/python");
    python.exists().then_some(python)
}

/// Whether a missing peer must fail the test (`CI` set to anything but `false`/`0`).
pub fn peer_required() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

/// Returns the venv python or, when missing, panics under CI / prints a skip reason.
pub fn python_or_skip(version: &str) -> Option<PathBuf> {
    match python(version) {
        Some(p) => Some(p),
        None if peer_required() => panic!(
            "reference venv {version} missing; run ../shared/tools/asap-reference-venv.sh {version}"
        ),
        None => {
            eprintln!(
                "skipped: reference venv {version} missing (run ../shared/tools/asap-reference-venv.sh {version})"
            );
            None
        }
    }
}

/// A reference server process on 127.0.0.1, killed when dropped.
#[derive(Debug)]
pub struct ReferenceServer {
    child: Child,
    port: u16,
    version: String,
}

impl ReferenceServer {
    /// Starts the reference `version` (e.g. `"1.0.0"`) and waits until its manifest is
    /// served; `None` when the venv is missing outside CI.
    pub async fn start(version: &str) -> Option<Self> {
        Self::start_with(version, &[]).await
    }

    /// Like [`ReferenceServer::start`] with extra script flags (`--require-nonce`).
    pub async fn start_with(version: &str, flags: &[&str]) -> Option<Self> {
        let python = python_or_skip(version)?;
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(python)
            .arg(SERVER_SCRIPT)
            .arg(port.to_string())
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn reference server");
        let server = Self {
            child,
            port,
            version: version.to_owned(),
        };
        server.wait_ready(Duration::from_secs(30)).await;
        Some(server)
    }

    async fn wait_ready(&self, limit: Duration) {
        let started = Instant::now();
        let client = crate::TestClient::new();
        let url = self.url("/.well-known/asap/manifest.json");
        while started.elapsed() < limit {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                let reply = client.get(&url).await;
                if reply.status == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "reference server {} did not start within {limit:?}",
            self.version
        );
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The reference version.
    pub fn version(&self) -> &str {
        &self.version
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
