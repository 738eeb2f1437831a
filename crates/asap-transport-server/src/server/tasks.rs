//! The stores' background work while the server runs: idempotency purge, readiness pings,
//! resuming long-running tasks at start.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use asap_state::{IdempotencyStore, Ping};

use crate::layers::idempotency::{IdempotencyConfig, IdempotencyCounters, purge_loop};
use crate::long_running::TaskRuntime;

/// How often a [`ping_store`](super::AsapServerBuilder::ping_store) is pinged; a ping that
/// takes longer counts as unreachable.
pub const PING_INTERVAL: Duration = Duration::from_secs(2);

/// What the builder was given.
#[derive(Default)]
pub(super) struct Stores {
    pub(super) idempotency: Option<(Arc<dyn IdempotencyStore>, IdempotencyConfig)>,
    pub(super) pings: Vec<Arc<dyn Ping>>,
    pub(super) task_runtime: Option<TaskRuntime>,
    pub(super) snapshots: Option<Arc<dyn asap_state::SnapshotStore>>,
    pub(super) rate_limits: Option<Arc<dyn asap_state::RateLimitStore>>,
}

/// What the built server runs in the background.
#[derive(Default)]
pub(super) struct Background {
    pub(super) purge: Option<(
        Arc<dyn IdempotencyStore>,
        IdempotencyConfig,
        Arc<IdempotencyCounters>,
    )>,
    pub(super) pings: Vec<(Arc<dyn Ping>, Arc<AtomicBool>)>,
    /// Resumed once, when the background work starts.
    pub(super) resume: Option<TaskRuntime>,
}

// The stores are shared by design: every store contract requires each call to be atomic
// against concurrent calls, so a store seen after a panic elsewhere is in a state another
// thread could have seen. Without these, `AsapServer` (which holds this) would stop being
// `UnwindSafe` because of the `dyn` stores.
impl std::panic::UnwindSafe for Background {}
impl std::panic::RefUnwindSafe for Background {}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Background")
            .field("purge", &self.purge.is_some())
            .field("pings", &self.pings.len())
            .field("resume", &self.resume.is_some())
            .finish()
    }
}

impl Background {
    pub(super) fn is_empty(&self) -> bool {
        self.purge.is_none() && self.pings.is_empty() && self.resume.is_none()
    }
}

pub(super) async fn run(background: Arc<Background>) {
    let mut tasks = Vec::new();
    if let Some((store, config, counters)) = &background.purge {
        tasks.push(futures_util::FutureExt::boxed(purge_loop(
            store.clone(),
            config.clone(),
            counters.clone(),
        )));
    }
    for (store, reachable) in &background.pings {
        tasks.push(futures_util::FutureExt::boxed(ping_loop(
            store.clone(),
            reachable.clone(),
        )));
    }
    if let Some(runtime) = &background.resume {
        tasks.push(futures_util::FutureExt::boxed(resume(runtime.clone())));
    }
    if tasks.is_empty() {
        std::future::pending::<()>().await;
    }
    futures_util::future::join_all(tasks).await;
}

async fn resume(runtime: TaskRuntime) {
    match runtime.resume().await {
        Ok(report) => tracing::info!(
            target: crate::LOG_TARGET,
            resumed = report.resumed.len(),
            failed = report.failed.len(),
            skipped = report.skipped,
            "long-running tasks found working at start"
        ),
        Err(error) => tracing::error!(
            target: crate::LOG_TARGET,
            %error,
            "long-running tasks could not be resumed"
        ),
    }
    // Done: the other background work goes on (join_all waits for all of it).
}

async fn ping_loop(store: Arc<dyn Ping>, reachable: Arc<AtomicBool>) {
    let mut tick = tokio::time::interval(PING_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let answered = matches!(
            tokio::time::timeout(PING_INTERVAL, store.ping()).await,
            Ok(Ok(()))
        );
        if reachable.swap(answered, Ordering::AcqRel) != answered {
            tracing::info!(target: crate::LOG_TARGET, reachable = answered, "state store reachability changed");
        }
    }
}

/// Aborts the spawned task when dropped.
pub(super) struct AbortOnDrop(pub(super) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
