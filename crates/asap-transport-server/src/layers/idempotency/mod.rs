//! Idempotent sends: a request with an idempotency key runs its handler once; a retry gets
//! the first run's response.
//!
//! Off unless [`AsapServerBuilder::idempotency`](crate::AsapServerBuilder::idempotency) gives
//! it an [`IdempotencyStore`]; requests without a key are never affected (the key is read
//! from the decoded call, nothing else is done for them).
//!
//! # The key
//!
//! `params.idempotency_key` (a string) or the `X-Idempotency-Key` header, as the reference
//! client sends both with the same ULID. When both are present they must be equal: a request
//! whose two keys differ is refused with `-32602` ([`KEY_CONFLICT`]), since either choice
//! could replay the wrong response. A key must be 1 to [`MAX_KEY_LEN`] bytes
//! (otherwise `-32602` [`INVALID_KEY`]). Keys are scoped by sender
//! ([`IdempotencyKey`]`{ sender, key }`): two senders never share a record.
//!
//! # What makes two requests "the same"
//!
//! The fingerprint is a SHA-256 over the envelope's `payload_type`, `recipient`,
//! `correlation_id` and `payload` (as this server serializes it). The envelope `id`,
//! `timestamp` and `extensions` (its nonce) are left out: both the reference client and
//! `asap-transport-client` resend the identical body on a retry, but a client that rebuilds
//! its envelope (a fresh nonce for a server with `require_nonce`, a new timestamp) still sends
//! the same request. The sender is part of the key. Same key, other fingerprint → `-32602`
//! ([`KEY_REUSED`], `data.code` `asap:protocol/idempotency_mismatch`): the key was reused for a
//! different request, which no retry will fix.
//!
//! # Outcomes
//!
//! | store answers | the request |
//! |---|---|
//! | [`Begin::Started`] | runs the handler; the result is stored or the key released (below) |
//! | [`Begin::Completed`] | gets the stored response under its own JSON-RPC id; the handler does not run |
//! | [`Begin::InProgress`] | waits for the first run: woken in-process when it finishes here, polling the store with backoff for a run on another replica; past [`IdempotencyConfig::wait`] → HTTP 503 `{"detail"}` [`STILL_IN_PROGRESS`] (retryable: clients retry 5xx) |
//! | [`Begin::Mismatch`] | `-32602` [`KEY_REUSED`] |
//! | a store error | HTTP 503 `{"detail"}` [`STORE_UNAVAILABLE`] (retryable); the handler does not run |
//!
//! A success envelope and every JSON-RPC error of the handler except `-32603` are stored and
//! replayed. `-32603` (a handler failure or panic, sanitized), 429, 503 and HTTP-level
//! refusals release the key, as does a request dropped before it finished (connection lost,
//! request timeout): a retry runs again. A process that crashes mid-run leaves the key in
//! progress until its lease runs out ([`IdempotencyConfig::lease`], by default the server's
//! request timeout, which bounds how long a run can be awaited); the first retry after that
//! runs again. Records expire after [`IdempotencyConfig::ttl`] (by default twice the maximum
//! envelope age: 600 s, as long as a nonce is remembered, beyond any client's retries);
//! [`AsapServer::store_tasks`](crate::AsapServer::store_tasks) purges expired records in
//! batches while the server runs.
//!
//! # Order
//!
//! In an assembled server, after authentication, the sender match and the timestamp window,
//! and **before** the nonce check, the per-sender rate limit, the
//! [envelope hooks](crate::AsapServerBuilder#hooks) and the handler (docs/adr/0008). A
//! retry resends its envelope unchanged, nonce included, so with `require_nonce` it must be
//! matched here before the nonce layer would refuse it as a replay: it gets the first run's
//! response, and the handler still runs once. A request with a fresh key and a nonce already
//! seen is refused by the nonce layer as before (and that refusal is what its key replays).
//! A replay of a captured request within the record's TTL therefore gets the stored response
//! instead of a nonce refusal; it has no effect, and it needs what the original needed
//! (a valid token, a timestamp inside the window).

mod fingerprint;
mod service;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use asap_state::{Begin, IdempotencyKey, IdempotencyStore, StoredResponse};
pub use fingerprint::fingerprint;
pub use service::{Idempotency, IdempotencyLayer};

/// Longest accepted key, in bytes.
pub const MAX_KEY_LEN: usize = 255;

/// `data.error` when `params.idempotency_key` and `X-Idempotency-Key` differ.
pub const KEY_CONFLICT: &str = "params.idempotency_key and X-Idempotency-Key differ";

/// `data.error` for an empty or over-long key.
pub const INVALID_KEY: &str = "Invalid idempotency key";

/// `data.error` when a key is reused for a different request.
pub const KEY_REUSED: &str = "Idempotency key reused for a different request";

/// `detail` of the 503 answered when the first run did not finish within the wait.
pub const STILL_IN_PROGRESS: &str = "A request with this idempotency key is still in progress";

/// `detail` of the 503 answered when the store failed.
pub const STORE_UNAVAILABLE: &str = "Idempotency store unavailable";

/// `data.code` of a [`KEY_REUSED`] refusal.
pub const MISMATCH_CODE: &str = "asap:protocol/idempotency_mismatch";

/// The header carrying the key.
pub const HEADER: &str = "x-idempotency-key";

/// Settings of the idempotency layer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdempotencyConfig {
    /// How long a run holds its key before another request may take it over (a crashed
    /// process's key becomes usable after it). `None`: the server's request timeout.
    pub lease: Option<Duration>,
    /// How long a record is kept. `None`: twice the server's maximum envelope age.
    pub ttl: Option<Duration>,
    /// How long a duplicate waits for the first run. `None`: the server's request timeout.
    pub wait: Option<Duration>,
    /// How often expired records are purged.
    pub purge_interval: Duration,
    /// How many expired records one purge removes at most.
    pub purge_batch: usize,
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        Self {
            lease: None,
            ttl: None,
            wait: None,
            purge_interval: Duration::from_secs(60),
            purge_batch: 1000,
        }
    }
}

impl IdempotencyConfig {
    /// Sets [`lease`](Self::lease).
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = Some(lease);
        self
    }

    /// Sets [`ttl`](Self::ttl).
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Sets [`wait`](Self::wait).
    #[must_use]
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = Some(wait);
        self
    }

    /// Sets [`purge_interval`](Self::purge_interval) and [`purge_batch`](Self::purge_batch).
    #[must_use]
    pub fn with_purge(mut self, interval: Duration, batch: usize) -> Self {
        self.purge_interval = interval;
        self.purge_batch = batch;
        self
    }
}

/// What the idempotency layer did, readable at any time (for metrics).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct IdempotencyCounters {
    /// Keyed requests whose handler ran (the store answered [`Begin::Started`]).
    pub runs: AtomicU64,
    /// Stored responses answered instead of running the handler.
    pub replays: AtomicU64,
    /// Keyed requests that found their key in progress and waited.
    pub waits: AtomicU64,
    /// Keys reused for a different request (refused).
    pub mismatches: AtomicU64,
    /// Runs whose key was released instead of completed (failure, panic, dropped request).
    pub releases: AtomicU64,
    /// Store errors (the request was refused with 503).
    pub store_errors: AtomicU64,
    /// Expired records removed by the purge task.
    pub purged: AtomicU64,
}

impl IdempotencyCounters {
    /// A snapshot of the counters, in the order of the fields.
    pub fn snapshot(&self) -> CountersSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CountersSnapshot {
            runs: get(&self.runs),
            replays: get(&self.replays),
            waits: get(&self.waits),
            mismatches: get(&self.mismatches),
            releases: get(&self.releases),
            store_errors: get(&self.store_errors),
            purged: get(&self.purged),
        }
    }
}

/// Plain values of [`IdempotencyCounters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CountersSnapshot {
    /// See [`IdempotencyCounters::runs`].
    pub runs: u64,
    /// See [`IdempotencyCounters::replays`].
    pub replays: u64,
    /// See [`IdempotencyCounters::waits`].
    pub waits: u64,
    /// See [`IdempotencyCounters::mismatches`].
    pub mismatches: u64,
    /// See [`IdempotencyCounters::releases`].
    pub releases: u64,
    /// See [`IdempotencyCounters::store_errors`].
    pub store_errors: u64,
    /// See [`IdempotencyCounters::purged`].
    pub purged: u64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Removes expired records every `config.purge_interval`, in batches of `config.purge_batch`
/// until a batch comes back short, until dropped.
pub(crate) async fn purge_loop(
    store: Arc<dyn IdempotencyStore>,
    config: IdempotencyConfig,
    counters: Arc<IdempotencyCounters>,
) {
    let mut tick = tokio::time::interval(config.purge_interval.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // Drain in batches: under a sustained rate of fresh keys more than one batch
        // expires per interval, and removing only one would let the store grow without
        // bound. Each batch is one short store call, with a yield between batches.
        let batch = config.purge_batch.max(1);
        loop {
            match store.purge_expired(batch).await {
                Ok(n) => {
                    counters.purged.fetch_add(n, Ordering::Relaxed);
                    if n < batch as u64 {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                Err(error) => {
                    tracing::warn!(target: crate::LOG_TARGET, %error, "idempotency purge failed");
                    break;
                }
            }
        }
    }
}
