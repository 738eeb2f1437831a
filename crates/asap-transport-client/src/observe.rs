//! Reports of sends, retries, circuit-breaker changes, connection slots and open
//! connections to an
//! [`Observer`](asap_observability::observe::Observer) (feature `metrics`), labelled with the
//! peer's `host:port`. Without the feature, or without an observer, every report is a no-op.

use std::time::Duration;

use crate::error::ClientError;

/// Where a client's reports go.
#[derive(Clone, Default)]
pub(crate) struct Reporter {
    #[cfg(feature = "metrics")]
    to: Option<std::sync::Arc<To>>,
}

#[cfg(feature = "metrics")]
struct To {
    observer: std::sync::Arc<dyn asap_observability::observe::Observer>,
    peer: Box<str>,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter")
            .field("on", &self.is_on())
            .finish()
    }
}

#[cfg(feature = "metrics")]
impl Reporter {
    /// Reports of a client of `peer` to `observer`.
    pub(crate) fn new(
        observer: Option<std::sync::Arc<dyn asap_observability::observe::Observer>>,
        peer: &str,
    ) -> Self {
        Self {
            to: observer.map(|observer| {
                std::sync::Arc::new(To {
                    observer,
                    peer: peer.into(),
                })
            }),
        }
    }

    pub(crate) fn is_on(&self) -> bool {
        self.to.is_some()
    }

    /// A send ended with `result` after `duration`.
    pub(crate) fn send(&self, error: Option<&ClientError>, duration: Duration) {
        use asap_observability::observe::SendEvent;
        if let Some(to) = &self.to {
            let reason = error.map(ClientError::kind_name);
            to.observer
                .on_send(&SendEvent::new(&to.peer, reason, duration));
        }
    }

    /// A send is tried again.
    pub(crate) fn retry(&self) {
        if let Some(to) = &self.to {
            to.observer.on_retry(&to.peer);
        }
    }

    /// The circuit breaker entered `state`.
    pub(crate) fn breaker(&self, state: crate::BreakerState) {
        use asap_observability::observe::BreakerEvent;
        if let Some(to) = &self.to {
            to.observer
                .on_breaker(&BreakerEvent::new(&to.peer, state.as_str()));
        }
    }

    /// `in_use` slots to `host` are taken; `waited` for a slot just taken.
    pub(crate) fn pool(&self, host: &str, in_use: usize, waited: Option<Duration>) {
        use asap_observability::observe::PoolEvent;
        if let Some(to) = &self.to {
            to.observer.on_pool(&PoolEvent::new(host, in_use, waited));
        }
    }

    /// `open` connections to `host` are open now.
    pub(crate) fn connection(&self, host: &str, open: usize) {
        use asap_observability::observe::ConnectionEvent;
        if let Some(to) = &self.to {
            to.observer.on_connection(&ConnectionEvent::new(host, open));
        }
    }
}

#[cfg(not(feature = "metrics"))]
impl Reporter {
    pub(crate) fn is_on(&self) -> bool {
        false
    }

    pub(crate) fn send(&self, _error: Option<&ClientError>, _duration: Duration) {}

    pub(crate) fn retry(&self) {}

    pub(crate) fn breaker(&self, _state: crate::BreakerState) {}

    pub(crate) fn pool(&self, _host: &str, _in_use: usize, _waited: Option<Duration>) {}

    pub(crate) fn connection(&self, _host: &str, _open: usize) {}
}

/// Registers the manifest cache counts of the client `inner` in `metrics`, read while the
/// client lives.
#[cfg(feature = "metrics")]
pub(crate) fn register_cache(
    metrics: &asap_observability::metrics::Metrics,
    inner: &std::sync::Arc<crate::client::Inner>,
) {
    use crate::CacheStats;
    let peer = crate::transport::host_key(inner.base.rpc());
    /// A family's name, help and count.
    type Count = (&'static str, &'static str, fn(&CacheStats) -> u64);
    let counts: [Count; 3] = [
        (
            "asap_manifest_cache_hits",
            "Manifest lookups answered from the cache, by peer",
            |s| s.hits,
        ),
        (
            "asap_manifest_cache_misses",
            "Manifest lookups that loaded the manifest, by peer",
            |s| s.misses,
        ),
        (
            "asap_manifest_cache_evictions",
            "Manifests evicted by the size bound or expiry, by peer",
            |s| s.evictions,
        ),
    ];
    for (name, help, read) in counts {
        let weak = std::sync::Arc::downgrade(inner);
        metrics.register_labelled_counter_fn(name, help, "peer", peer.clone(), move || {
            weak.upgrade().map(|inner| read(&inner.manifests.stats()))
        });
    }
}
