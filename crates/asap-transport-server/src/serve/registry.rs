//! The open connections of one server: connection slots, the per-address bound, and
//! reclaiming idle connections when every slot is taken.
//!
//! A slot is a semaphore permit held by a connection's task until the connection ends, so
//! `max_connections` bounds live connections exactly. The registry lock is taken when a
//! connection opens or closes, when the slots are exhausted (to pick idle connections to
//! close) and at shutdown; never per request. Design and alternatives: ADR 0001
//! (`docs/adr/0001-idle-connection-reclaim.md`).

use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::{Duration, Instant};

use super::activity::Activity;

/// Most connections asked to close in one reclaim round.
const RECLAIM_BATCH: usize = 32;
/// While every slot stays taken, idle connections are looked for again this often
/// (connections become idle as their requests finish).
const RECLAIM_RETRY: Duration = Duration::from_millis(100);

/// The open connections of a server.
#[derive(Debug)]
pub(crate) struct Registry {
    epoch: Instant,
    slots: Arc<Semaphore>,
    capacity: u32,
    per_ip_limit: Option<usize>,
    connections: Mutex<Connections>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    /// Second (after `epoch`) of the last warning that every slot was taken, plus one
    /// (0: never), so that the warning is logged at most once a second.
    warned_in_second: AtomicU64,
}

#[derive(Debug, Default)]
struct Connections {
    next_id: u64,
    open: HashMap<u64, Arc<Activity>>,
}

impl Registry {
    /// A registry with `max_connections` slots (at least 1, at most `u32::MAX`) and at most
    /// `per_ip_limit` connections from one address.
    pub(crate) fn new(max_connections: usize, per_ip_limit: Option<usize>) -> Arc<Self> {
        let capacity = u32::try_from(max_connections.max(1)).unwrap_or(u32::MAX);
        Arc::new(Self {
            epoch: Instant::now(),
            slots: Arc::new(Semaphore::new(capacity as usize)),
            capacity,
            per_ip_limit: per_ip_limit.map(|n| n.max(1)),
            connections: Mutex::default(),
            per_ip: Mutex::default(),
            warned_in_second: AtomicU64::new(0),
        })
    }

    /// Counts a new connection from `ip` against the per-address bound; `None` when that
    /// address already has its maximum of connections.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admission> {
        let ip = ip.to_canonical();
        if let Some(limit) = self.per_ip_limit {
            let mut per_ip = lock(&self.per_ip);
            let count = per_ip.entry(ip).or_insert(0);
            if *count >= limit {
                return None;
            }
            *count += 1;
        }
        Some(Admission {
            registry: Arc::clone(self),
            ip,
        })
    }

    /// A free connection slot. When none is free, the longest-idle connections are asked
    /// to close and this waits for one of them (or any other connection) to end; while no
    /// connection is idle it keeps waiting, looking again every [`RECLAIM_RETRY`]. `None`
    /// only if the slots were closed, which never happens.
    pub(crate) async fn free_slot(&self) -> Option<OwnedSemaphorePermit> {
        loop {
            match Arc::clone(&self.slots).try_acquire_owned() {
                Ok(slot) => return Some(slot),
                Err(TryAcquireError::Closed) => return None,
                Err(TryAcquireError::NoPermits) => {}
            }
            let asked = self.reclaim(RECLAIM_BATCH);
            self.warn_full(asked);
            match tokio::time::timeout(RECLAIM_RETRY, Arc::clone(&self.slots).acquire_owned()).await
            {
                Ok(Ok(slot)) => return Some(slot),
                Ok(Err(_)) => return None,
                Err(_) => {}
            }
        }
    }

    /// Asks up to `batch` of the longest-idle connections to close, counting those already
    /// closing while idle (they end within the close grace) against the batch, so that a
    /// wait repeated every [`RECLAIM_RETRY`] does not close more and more connections.
    /// Returns how many were asked now.
    ///
    /// Scans every connection (O(n) under the registry lock, n ≤ `max_connections`), which
    /// happens only while all slots are taken; keeping connections ordered by idle time
    /// would instead cost a shared update on every request.
    pub(crate) fn reclaim(&self, batch: usize) -> usize {
        let connections = lock(&self.connections);
        let mut pending = 0;
        let mut idle = 0;
        // The `batch` oldest idle connections: a max-heap on idle time, popped past `batch`.
        let mut oldest: BinaryHeap<(Instant, u64)> = BinaryHeap::with_capacity(batch + 1);
        for (&id, activity) in &connections.open {
            let Some(since) = activity.idle_since() else {
                continue;
            };
            if activity.is_closing() {
                pending += 1;
                continue;
            }
            idle += 1;
            oldest.push((since, id));
            if oldest.len() > batch {
                oldest.pop();
            }
        }
        // Like nginx's reuse of keep-alive connections: a fraction of the idle ones (an
        // eighth, at least one), so that a single new client does not empty the server.
        let wanted = batch.min(idle / 8).max(1).saturating_sub(pending);
        let mut asked = 0;
        for (_, id) in oldest.into_sorted_vec().into_iter().take(wanted) {
            if connections.open[&id].request_close() {
                asked += 1;
            }
        }
        asked
    }

    /// Logs that every slot is taken, at most once a second (a sign that `max_connections` is
    /// too low, or of a flood), and each reclaim round at debug level.
    fn warn_full(&self, asked: usize) {
        let second = self.epoch.elapsed().as_secs().saturating_add(1);
        if self.warned_in_second.swap(second, Ordering::Relaxed) != second {
            tracing::warn!(
                target: crate::LOG_TARGET,
                max_connections = self.capacity,
                "every connection slot is taken: closing the longest-idle connections to make room"
            );
        }
        if asked > 0 {
            tracing::debug!(target: crate::LOG_TARGET, asked, "closing idle connections");
        }
    }

    /// Asks every connection to close (server shutdown).
    pub(crate) fn close_all(&self) {
        for activity in lock(&self.connections).open.values() {
            activity.request_close();
        }
    }

    /// Resolves once every connection has ended and given back its slot.
    pub(crate) async fn drained(&self) {
        let _all = self.slots.acquire_many(self.capacity).await;
    }

    fn release_ip(&self, ip: IpAddr) {
        if self.per_ip_limit.is_none() {
            return;
        }
        if let Entry::Occupied(mut count) = lock(&self.per_ip).entry(ip) {
            *count.get_mut() -= 1;
            if *count.get() == 0 {
                count.remove();
            }
        }
    }
}

/// A connection counted against its address's bound, not yet holding a slot.
#[derive(Debug)]
pub(crate) struct Admission {
    registry: Arc<Registry>,
    ip: IpAddr,
}

impl Admission {
    /// Registers the connection with its slot; both are given back when the returned
    /// [`Registration`] is dropped.
    pub(crate) fn register(self, slot: OwnedSemaphorePermit) -> Registration {
        let registry = &self.registry;
        let activity = Arc::new(Activity::new(registry.epoch));
        let id = {
            let mut connections = lock(&registry.connections);
            let id = connections.next_id;
            connections.next_id += 1;
            connections.open.insert(id, Arc::clone(&activity));
            id
        };
        Registration {
            admission: self,
            id,
            activity,
            _slot: slot,
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.registry.release_ip(self.ip);
    }
}

/// A registered connection: its activity, its slot and its place in the per-address count,
/// all released on drop.
#[derive(Debug)]
pub(crate) struct Registration {
    admission: Admission,
    id: u64,
    activity: Arc<Activity>,
    _slot: OwnedSemaphorePermit,
}

impl Registration {
    /// The connection's activity.
    pub(crate) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.admission.registry.connections)
            .open
            .remove(&self.id);
    }
}

/// The registry's maps stay consistent even if a holder panicked (each update is a single
/// insert or remove), so a poisoned lock is used as is.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));

    async fn open(registry: &Arc<Registry>, ip: IpAddr) -> Registration {
        let admission = registry.admit(ip).expect("admitted");
        let slot = registry.free_slot().await.expect("a slot");
        admission.register(slot)
    }

    #[tokio::test]
    async fn the_per_address_bound_counts_open_connections_only() {
        let registry = Registry::new(10, Some(2));
        let first = open(&registry, A).await;
        let _second = open(&registry, A).await;
        assert!(registry.admit(A).is_none(), "a third from the same address");
        assert!(registry.admit(B).is_some(), "another address");
        // IPv4-mapped IPv6 is the same address.
        assert!(
            registry
                .admit("::ffff:127.0.0.2".parse().unwrap())
                .is_none()
        );
        drop(first);
        assert!(registry.admit(A).is_some(), "a slot of A was given back");
        assert!(
            lock(&registry.per_ip).get(&B).is_none(),
            "zero counts are removed"
        );
    }

    #[tokio::test]
    async fn without_a_bound_any_number_from_one_address_is_admitted() {
        let registry = Registry::new(10, None);
        let held: Vec<_> = (0..5).map(|_| registry.admit(A).unwrap()).collect();
        assert_eq!(held.len(), 5);
        assert!(lock(&registry.per_ip).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn reclaim_asks_the_longest_idle_connections_and_skips_busy_ones() {
        let registry = Registry::new(100, None);
        let mut open_connections = Vec::new();
        for _ in 0..20 {
            open_connections.push(open(&registry, A).await);
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        // The oldest connection is busy: it is not a candidate.
        let _busy = open_connections[0].activity().begin();
        // 19 idle connections: an eighth, rounded down, is 2.
        assert_eq!(registry.reclaim(RECLAIM_BATCH), 2);
        let closing: Vec<bool> = open_connections
            .iter()
            .map(|c| c.activity().is_closing())
            .collect();
        assert_eq!(&closing[..4], &[false, true, true, false]);
        assert_eq!(closing.iter().filter(|c| **c).count(), 2);
        // The two still closing count against the next round; once they have ended, the
        // next round asks the next two.
        assert_eq!(registry.reclaim(RECLAIM_BATCH), 0);
        let second = open_connections.remove(1);
        let third = open_connections.remove(1);
        drop((second, third));
        assert_eq!(registry.reclaim(RECLAIM_BATCH), 2);
        assert!(open_connections[1].activity().is_closing());
        assert!(open_connections[2].activity().is_closing());
        // The batch bounds a round.
        for _ in 0..20 {
            open_connections.push(open(&registry, B).await);
        }
        drop(open_connections.drain(1..3));
        assert_eq!(registry.reclaim(1), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_registry_frees_a_slot_by_closing_an_idle_connection() {
        let registry = Registry::new(2, None);
        let busy = open(&registry, A).await;
        let _request = busy.activity().begin();
        let idle = open(&registry, A).await;
        let activity = Arc::clone(idle.activity());
        let waiting = tokio::spawn({
            let registry = Arc::clone(&registry);
            async move { registry.free_slot().await.is_some() }
        });
        tokio::time::timeout(Duration::from_secs(1), activity.close_requested())
            .await
            .expect("the idle connection is asked to close");
        assert!(!busy.activity().is_closing());
        drop(idle);
        assert!(
            waiting.await.unwrap(),
            "its slot went to the waiting connection"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn drained_waits_for_every_connection() {
        let registry = Registry::new(3, None);
        let connection = open(&registry, A).await;
        registry.close_all();
        assert!(connection.activity().is_closing());
        let drained = tokio::spawn({
            let registry = Arc::clone(&registry);
            async move { registry.drained().await }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!drained.is_finished());
        drop(connection);
        tokio::time::timeout(Duration::from_secs(1), drained)
            .await
            .expect("drained once the connection ended")
            .unwrap();
    }
}
