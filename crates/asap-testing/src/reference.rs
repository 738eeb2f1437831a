//! The Python reference implementation as a test peer.
//!
//! `cargo xtask peers install [VERSION…]` makes the venvs, at the locations [`venv_dir`]
//! gives (`/tmp/asap-peer-VERSION` by default; `ASAP_PEER_PREFIX` and `ASAP_PEER_VENV`
//! override it). When a venv is missing, tests skip with a printed reason, except under `CI`
//! where a missing peer is a failure.

mod location;

pub use location::{
    DEFAULT_PREFIX, EXPLICIT_VENV_VERSION, VERSIONS, venv_dir, venv_dir_with, venv_python,
};

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

const SERVER_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/reference_server.py");

/// Path of the venv's Python for `version` (in [`venv_dir`]), if it exists.
pub fn python(version: &str) -> Option<PathBuf> {
    let python = venv_python(&venv_dir(version));
    python.exists().then_some(python)
}

/// Whether a missing peer must fail the test (`CI` set to anything but `false`/`0`).
pub fn peer_required() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// The command that makes the venv of `version`.
pub fn install_hint(version: &str) -> String {
    format!("cargo xtask peers install {version}")
}

/// Returns the venv python or, when missing, panics under CI / prints a skip reason.
pub fn python_or_skip(version: &str) -> Option<PathBuf> {
    if let Some(python) = python(version) {
        return Some(python);
    }
    let reason = format!(
        "reference venv {version} missing: no {} (run `{}` from the workspace root)",
        venv_python(&venv_dir(version)).display(),
        install_hint(version)
    );
    assert!(
        !peer_required(),
        "CI is set and a reference peer is required: {reason}"
    );
    eprintln!("skipped: {reason}");
    None
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
