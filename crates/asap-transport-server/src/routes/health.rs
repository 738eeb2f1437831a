//! Liveness, readiness and the agent health document.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use http::{Response, StatusCode};

use crate::response::{self, Body};

type Check = Arc<dyn Fn() -> bool + Send + Sync>;

/// Readiness of the server: false until the listener is bound, false again while shutting
/// down. Further checks (a state store) can be added with [`Readiness::add_check`].
#[derive(Clone, Default)]
pub struct Readiness {
    ready: Arc<AtomicBool>,
    checks: Arc<std::sync::RwLock<Vec<Check>>>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness")
            .field("ready", &self.ready.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Readiness {
    /// Starts not ready.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks the server ready or not.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }

    /// Adds a check that must also pass (e.g. "state store reachable").
    pub fn add_check(&self, check: impl Fn() -> bool + Send + Sync + 'static) {
        if let Ok(mut checks) = self.checks.write() {
            checks.push(Arc::new(check));
        }
    }

    /// Whether the server is ready and every check passes.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
            && self
                .checks
                .read()
                .map(|checks| checks.iter().all(|c| c()))
                .unwrap_or(false)
    }
}

/// `/health`: 200 `{"status":"ok"}` while the process serves.
pub fn liveness() -> Response<Body> {
    response::json(StatusCode::OK, &br#"{"status":"ok"}"#[..])
}

/// `/ready`: 200 `{"status":"ok"}` when ready, 503 `{"status":"not_ready"}` otherwise.
pub fn readiness(readiness: &Readiness) -> Response<Body> {
    if readiness.is_ready() {
        liveness()
    } else {
        response::json(
            StatusCode::SERVICE_UNAVAILABLE,
            &br#"{"status":"not_ready"}"#[..],
        )
    }
}

/// `/.well-known/asap/health`: `{"status","agent_id","version","uptime_seconds"}`.
pub fn agent_health(agent_id: &str, version: &str, started: Instant) -> Response<Body> {
    let body = serde_json::json!({
        "status": "ok",
        "agent_id": agent_id,
        "version": version,
        "uptime_seconds": started.elapsed().as_secs_f64(),
    });
    response::json(
        StatusCode::OK,
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}
