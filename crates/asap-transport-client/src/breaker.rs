//! Circuit breaker for one base URL (PROTOCOL §12.3, with a half-open probe limit).
//!
//! ```text
//!            failures ≥ threshold                   timeout elapsed since last failure
//!   Closed ───────────────────────────▶ Open ─────────────────────────────────────▶ HalfOpen
//!     ▲                                  ▲            (on the next send attempt)        │
//!     │                                  └──────────── a probe fails ───────────────────┤
//!     └───────────────────────────────────────────── a probe succeeds ──────────────────┘
//! ```
//!
//! Counting follows the reference: one failure per failed send (after all its retries), any
//! success resets the count to zero, and a JSON-RPC error reply counts as a success (the
//! server is up). Unlike the reference — which lets every request through in half-open —
//! at most [`BreakerConfig::half_open_max_probes`] sends are admitted concurrently while
//! half-open; the others get [`ClientError::CircuitOpen`] until a probe finishes.
//!
//! Times come from [`tokio::time::Instant`], so tests can drive the breaker with paused time.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::LOG_TARGET;
use crate::error::ClientError;

/// Circuit breaker settings.
///
/// ```
/// use std::time::Duration;
/// use asap_transport_client::BreakerConfig;
///
/// let config = BreakerConfig { threshold: 3, ..BreakerConfig::default() };
/// assert_eq!(config.timeout, Duration::from_secs(60));
/// assert_eq!(config.half_open_max_probes, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failed sends that open the circuit (default 5).
    pub threshold: u32,
    /// Time after the last failure before a probe is allowed (default 60 s).
    pub timeout: Duration,
    /// Sends admitted concurrently while half-open (default 1).
    pub half_open_max_probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            threshold: 5,
            timeout: Duration::from_secs(60),
            half_open_max_probes: 1,
        }
    }
}

/// The state of a circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BreakerState {
    /// Requests flow; failures are counted.
    Closed,
    /// Requests are rejected without being sent.
    Open,
    /// A limited number of probe requests is let through.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half_open`, as the reference names them.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    failures: u32,
    last_failure: Option<Instant>,
    /// Probes admitted in the current half-open period and not finished yet.
    probes: u32,
    /// Incremented at every entry into half-open, so that probes of an earlier period do
    /// not release slots of the current one.
    epoch: u64,
}

/// The breaker of one base URL.
#[derive(Debug)]
pub(crate) struct CircuitBreaker {
    config: BreakerConfig,
    base_url: String,
    inner: Mutex<Inner>,
    /// Told of each state change, after the lock is released.
    reporter: crate::observe::Reporter,
}

impl CircuitBreaker {
    pub(crate) fn new(
        config: BreakerConfig,
        base_url: String,
        reporter: crate::observe::Reporter,
    ) -> Arc<Self> {
        Arc::new(Self {
            config,
            base_url,
            reporter,
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                failures: 0,
                last_failure: None,
                probes: 0,
                epoch: 0,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The critical sections cannot panic half-way; a poisoned lock still holds a
        // consistent state.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current state (an open breaker turns half-open only when a send asks).
    pub(crate) fn state(&self) -> BreakerState {
        self.lock().state
    }

    /// Consecutive failed sends.
    pub(crate) fn consecutive_failures(&self) -> u32 {
        self.lock().failures
    }

    /// Asks to send: `Err(CircuitOpen)` when refused.
    pub(crate) fn admit(self: &Arc<Self>) -> Result<Admission, ClientError> {
        let (result, changed) = self.admit_locked();
        if let Some(state) = changed {
            self.reporter.breaker(state);
        }
        result
    }

    /// [`admit`](Self::admit) under the lock; the state entered, if it changed.
    fn admit_locked(self: &Arc<Self>) -> (Result<Admission, ClientError>, Option<BreakerState>) {
        let mut inner = self.lock();
        let mut changed = None;
        if inner.state == BreakerState::Open {
            let elapsed = inner
                .last_failure
                .is_none_or(|at| at.elapsed() >= self.config.timeout);
            if !elapsed {
                return (Err(self.rejection(inner.failures)), None);
            }
            inner.state = BreakerState::HalfOpen;
            inner.probes = 0;
            inner.epoch += 1;
            changed = Some(BreakerState::HalfOpen);
            tracing::info!(target: LOG_TARGET, base_url = %self.base_url, "circuit breaker half-open");
        }
        let probe = if inner.state == BreakerState::HalfOpen {
            if inner.probes >= self.config.half_open_max_probes {
                return (Err(self.rejection(inner.failures)), changed);
            }
            inner.probes += 1;
            Some(inner.epoch)
        } else {
            None
        };
        let admission = Admission {
            breaker: Arc::clone(self),
            probe,
            finished: false,
        };
        (Ok(admission), changed)
    }

    fn rejection(&self, failures: u32) -> ClientError {
        ClientError::CircuitOpen {
            base_url: self.base_url.clone(),
            consecutive_failures: failures,
        }
    }

    fn finish(&self, probe: Option<u64>, outcome: Option<bool>) {
        let changed = self.finish_locked(probe, outcome);
        if let Some(state) = changed {
            self.reporter.breaker(state);
        }
    }

    /// [`finish`](Self::finish) under the lock; the state entered, if it changed.
    fn finish_locked(&self, probe: Option<u64>, outcome: Option<bool>) -> Option<BreakerState> {
        let mut inner = self.lock();
        let before = inner.state;
        if let Some(epoch) = probe
            && epoch == inner.epoch
            && inner.probes > 0
        {
            inner.probes -= 1;
        }
        match outcome {
            None => {}
            Some(true) => {
                if inner.state != BreakerState::Closed {
                    tracing::info!(target: LOG_TARGET, base_url = %self.base_url, "circuit breaker closed");
                }
                inner.state = BreakerState::Closed;
                inner.failures = 0;
            }
            Some(false) => {
                inner.failures = inner.failures.saturating_add(1);
                inner.last_failure = Some(Instant::now());
                let open = match inner.state {
                    BreakerState::Closed => inner.failures >= self.config.threshold,
                    BreakerState::HalfOpen | BreakerState::Open => true,
                };
                if open && inner.state != BreakerState::Open {
                    tracing::warn!(
                        target: LOG_TARGET,
                        base_url = %self.base_url,
                        consecutive_failures = inner.failures,
                        "circuit breaker opened"
                    );
                }
                if open {
                    inner.state = BreakerState::Open;
                }
            }
        }
        (inner.state != before).then_some(inner.state)
    }
}

/// Permission to send, returned by [`CircuitBreaker::admit`]; report the outcome with
/// [`success`](Self::success) or [`failure`](Self::failure). Dropping it without an outcome
/// (a cancelled send, a local error) only frees its probe slot.
#[derive(Debug)]
pub(crate) struct Admission {
    breaker: Arc<CircuitBreaker>,
    probe: Option<u64>,
    finished: bool,
}

impl Admission {
    pub(crate) fn success(mut self) {
        self.finished = true;
        self.breaker.finish(self.probe, Some(true));
    }

    pub(crate) fn failure(mut self) {
        self.finished = true;
        self.breaker.finish(self.probe, Some(false));
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if !self.finished {
            self.breaker.finish(self.probe, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(threshold: u32, probes: u32) -> Arc<CircuitBreaker> {
        CircuitBreaker::new(
            BreakerConfig {
                threshold,
                timeout: Duration::from_secs(10),
                half_open_max_probes: probes,
            },
            "http://localhost".into(),
            crate::observe::Reporter::default(),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_threshold_and_probes_after_timeout() {
        let b = breaker(2, 1);
        b.admit().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Closed);
        b.admit().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert!(matches!(
            b.admit(),
            Err(ClientError::CircuitOpen {
                consecutive_failures: 2,
                ..
            })
        ));
        tokio::time::advance(Duration::from_secs(10)).await;
        let probe = b.admit().unwrap();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.admit().is_err(), "only one probe at a time");
        probe.failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.consecutive_failures(), 3);
        tokio::time::advance(Duration::from_secs(10)).await;
        b.admit().unwrap().success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.consecutive_failures(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn dropped_probe_frees_its_slot() {
        let b = breaker(1, 1);
        b.admit().unwrap().failure();
        tokio::time::advance(Duration::from_secs(10)).await;
        drop(b.admit().unwrap());
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.admit().is_ok());
    }

    #[test]
    fn success_resets_the_count() {
        let b = breaker(3, 1);
        b.admit().unwrap().failure();
        b.admit().unwrap().failure();
        b.admit().unwrap().success();
        assert_eq!(b.consecutive_failures(), 0);
        b.admit().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
