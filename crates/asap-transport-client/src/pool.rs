//! Per-host request slots: the bound on connections per host.
//!
//! hyper's pool keeps idle connections but does not cap how many it opens, so each host gets
//! a [`Semaphore`] of `max_connections_per_host` permits and every HTTP attempt holds one for
//! its duration. With HTTP/1.1 an in-flight request occupies a whole connection, so this
//! bounds the connections per host in use at once; with HTTP/2 requests share one connection
//! and the bound applies to concurrent streams. (When a request starts connecting and an idle
//! connection is returned before the handshake ends, hyper uses the idle one and finishes the
//! new connection in the background, parking it in the idle pool — so the number of open
//! connections can briefly exceed the bound, never the number of requests on the wire. Idle
//! ones are capped by `pool_max_idle_per_host` and expire after `pool_idle_timeout`.) A request that cannot get a permit within
//! `pool_acquire_timeout` fails with [`ClientError::PoolTimeout`]. Waiters are served in
//! FIFO order (tokio semaphores are fair). Permits are not held during backoff sleeps.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ClientError;

/// Most distinct hosts whose semaphores are remembered; beyond it, idle ones are dropped.
const MAX_TRACKED_HOSTS: usize = 1024;

/// Request slots per host.
#[derive(Debug)]
pub(crate) struct HostSlots {
    per_host: usize,
    acquire_timeout: Duration,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostSlots {
    pub(crate) fn new(per_host: usize, acquire_timeout: Duration) -> Self {
        Self {
            per_host: per_host.max(1),
            acquire_timeout,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    fn semaphore(&self, host: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(semaphore) = hosts.get(host) {
            return Arc::clone(semaphore);
        }
        if hosts.len() >= MAX_TRACKED_HOSTS {
            // Forget hosts with no request in flight (their permits are all back).
            let per_host = self.per_host;
            hosts.retain(|_, s| s.available_permits() < per_host);
        }
        let semaphore = Arc::new(Semaphore::new(self.per_host));
        hosts.insert(host.to_owned(), Arc::clone(&semaphore));
        semaphore
    }

    /// Waits up to the acquire timeout for a slot to `host` (`host:port`).
    pub(crate) async fn acquire(&self, host: &str) -> Result<OwnedSemaphorePermit, ClientError> {
        let semaphore = self.semaphore(host);
        match tokio::time::timeout(self.acquire_timeout, semaphore.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; treat it like a timeout if it ever were.
            Ok(Err(_)) | Err(_) => Err(ClientError::PoolTimeout {
                host: host.to_owned(),
                after: self.acquire_timeout,
            }),
        }
    }

    /// Slots to `host` not in use right now.
    /// Slots in use of the host `permit` was taken for (`permit` included).
    pub(crate) fn in_use(&self, permit: &OwnedSemaphorePermit) -> usize {
        self.per_host
            .saturating_sub(permit.semaphore().available_permits())
    }

    #[cfg(test)]
    pub(crate) fn available(&self, host: &str) -> usize {
        self.semaphore(host).available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn times_out_when_all_slots_are_taken() {
        let slots = HostSlots::new(2, Duration::from_millis(100));
        let a = slots.acquire("h:1").await.unwrap();
        let _b = slots.acquire("h:1").await.unwrap();
        assert!(matches!(
            slots.acquire("h:1").await,
            Err(ClientError::PoolTimeout { .. })
        ));
        assert!(slots.acquire("other:1").await.is_ok());
        drop(a);
        assert!(slots.acquire("h:1").await.is_ok());
        assert_eq!(slots.available("h:1"), 1);
    }
}
