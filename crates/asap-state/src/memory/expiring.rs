//! A sharded, bounded map whose entries expire: the core of the in-memory nonce, rate-limit
//! and idempotency stores.
//!
//! Each shard is a `Mutex<HashMap + VecDeque>`; one call holds one shard lock for the whole
//! read-decide-write, which is what makes the stores' operations atomic. The queue keeps keys
//! in write order so that a full shard evicts its least recently written entry first, and
//! expired entries at its front are dropped whenever the shard is touched.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

// SipHash (std's default) hashed every key four times per idempotent request, at a cost
// comparable to the rest of the store's work; foldhash is seeded per map at random like
// SipHash (keys are chosen by peers), several times faster on short strings.
use foldhash::quality::RandomState;

/// Expiry used when `now + ttl` does not fit an [`Instant`] (about 100 years).
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `now + ttl`, saturating far in the future.
pub(crate) fn expiry(now: Instant, ttl: Duration) -> Instant {
    now.checked_add(ttl).unwrap_or(now + FAR_FUTURE)
}

/// What an [`ExpiringMap::update`] callback does with the entry it looked at.
pub(crate) enum Write<V> {
    /// Leave the entry as it is.
    Keep,
    /// Store `value` until `expires` (a new write: the entry becomes the newest).
    Set { value: V, expires: Instant },
    /// Remove the entry.
    Remove,
}

pub(crate) struct ExpiringMap<K, V> {
    shards: Box<[Mutex<Shard<K, V>>]>,
    /// Selects the shard; independent of the maps' own hashers so that the keys of one shard
    /// do not share hash bits inside its map.
    selector: RandomState,
    capacity: usize,
    evicted_live: AtomicU64,
}

struct Shard<K, V> {
    map: HashMap<K, Slot<V>, RandomState>,
    /// Keys in write order with the write's sequence number; an item whose sequence is not the
    /// map's (the key was written again, or removed) is stale and skipped.
    order: VecDeque<(K, u64)>,
    capacity: usize,
    next_seq: u64,
}

struct Slot<V> {
    value: V,
    expires: Instant,
    seq: u64,
}

impl<K: Hash + Eq + Clone, V> ExpiringMap<K, V> {
    /// At most `capacity` entries (at least 1) in `shards` shards (1‥=`capacity`).
    pub(crate) fn new(capacity: usize, shards: usize) -> Self {
        let capacity = capacity.max(1);
        let count = shards.clamp(1, capacity);
        let shards = (0..count)
            .map(|i| {
                Mutex::new(Shard {
                    map: HashMap::with_hasher(RandomState::default()),
                    order: VecDeque::new(),
                    capacity: capacity / count + usize::from(i < capacity % count),
                    next_seq: 0,
                })
            })
            .collect();
        Self {
            shards,
            selector: RandomState::default(),
            capacity,
            evicted_live: AtomicU64::new(0),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Entries held now, expired ones not removed yet included.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).map.len()).sum()
    }

    /// Entries removed before they expired because their shard was full.
    pub(crate) fn evicted_live(&self) -> u64 {
        self.evicted_live.load(Ordering::Relaxed)
    }

    /// Looks at the live entry of `key` (`None` when absent or expired at `now`) and applies
    /// what `f` decides, all under the shard's lock.
    pub(crate) fn update<Q, R>(
        &self,
        key: &Q,
        now: Instant,
        f: impl FnOnce(Option<&V>) -> (Write<V>, R),
    ) -> R
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let index = (self.selector.hash_one(key) % self.shards.len() as u64) as usize;
        let mut shard = lock(&self.shards[index]);
        shard.purge_front(now);
        let live = shard.map.get(key).filter(|slot| slot.expires > now);
        let (write, answer) = f(live.map(|slot| &slot.value));
        match write {
            Write::Keep => {}
            Write::Remove => {
                shard.map.remove(key);
            }
            Write::Set { value, expires } => {
                let evicted = shard.set(key.to_owned(), value, expires, now);
                if evicted > 0 {
                    self.evicted_live.fetch_add(evicted, Ordering::Relaxed);
                }
            }
        }
        answer
    }

    /// Removes up to `limit` entries expired at `now`; returns how many.
    pub(crate) fn purge_expired(&self, now: Instant, limit: usize) -> u64 {
        let mut removed = 0usize;
        for shard in self.shards.iter() {
            if removed >= limit {
                break;
            }
            let mut shard = lock(shard);
            let before = shard.map.len();
            shard.map.retain(|_, slot| {
                if removed < limit && slot.expires <= now {
                    removed += 1;
                    false
                } else {
                    true
                }
            });
            if shard.map.len() != before {
                shard.compact();
            }
        }
        removed as u64
    }
}

/// A panic while a shard is locked leaves at most one entry written or not, never a broken
/// map, so poisoning is ignored.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<K: Hash + Eq + Clone, V> Shard<K, V> {
    /// Writes `key`; returns how many unexpired entries were evicted to make room.
    fn set(&mut self, key: K, value: V, expires: Instant, now: Instant) -> u64 {
        let mut evicted = 0;
        if !self.map.contains_key(&key) {
            while self.map.len() >= self.capacity {
                match self.pop_front() {
                    Some(slot) if slot.expires > now => evicted += 1,
                    Some(_) => {}
                    None => break,
                }
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.push_back((key.clone(), seq));
        self.map.insert(
            key,
            Slot {
                value,
                expires,
                seq,
            },
        );
        if self.order.len() > self.capacity.saturating_mul(2) {
            self.compact();
        }
        evicted
    }

    /// Drops stale items and expired entries from the front of the queue.
    fn purge_front(&mut self, now: Instant) {
        while let Some((key, seq)) = self.order.front() {
            match self.map.get(key) {
                Some(slot) if slot.seq == *seq => {
                    if slot.expires > now {
                        return;
                    }
                    self.map.remove(key);
                }
                _ => {}
            }
            self.order.pop_front();
        }
    }

    /// Removes the least recently written entry and returns it.
    fn pop_front(&mut self) -> Option<Slot<V>> {
        while let Some((key, seq)) = self.order.pop_front() {
            if self.map.get(&key).is_some_and(|slot| slot.seq == seq) {
                return self.map.remove(&key);
            }
        }
        None
    }

    /// Drops every stale item from the queue.
    fn compact(&mut self) {
        let map = &self.map;
        self.order
            .retain(|(key, seq)| map.get(key).is_some_and(|slot| slot.seq == *seq));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(600);

    fn mark(map: &ExpiringMap<String, ()>, key: &str, now: Instant, ttl: Duration) -> bool {
        map.update(key, now, |seen| match seen {
            Some(()) => (Write::Keep, false),
            None => (
                Write::Set {
                    value: (),
                    expires: expiry(now, ttl),
                },
                true,
            ),
        })
    }

    #[test]
    fn full_shard_evicts_the_oldest_write() {
        let map = ExpiringMap::new(3, 1);
        let now = Instant::now();
        for key in ["a", "b", "c", "d"] {
            assert!(mark(&map, key, now, LONG));
        }
        assert_eq!(map.len(), 3);
        assert_eq!(map.evicted_live(), 1);
        assert!(mark(&map, "a", now, LONG), "a was evicted");
        assert!(!mark(&map, "d", now, LONG));
    }

    #[test]
    fn expired_entries_make_room_without_counting_as_evictions() {
        let map = ExpiringMap::new(2, 1);
        let start = Instant::now();
        assert!(mark(&map, "a", start, Duration::from_secs(1)));
        assert!(mark(&map, "b", start, LONG));
        let later = start + Duration::from_secs(2);
        assert!(mark(&map, "c", later, LONG));
        assert_eq!(map.evicted_live(), 0);
        assert!(!mark(&map, "b", later, LONG));
    }

    #[test]
    fn size_stays_within_capacity_and_the_queue_stays_bounded() {
        let map = ExpiringMap::new(64, 4);
        let start = Instant::now();
        for i in 0..5_000u64 {
            let now = start + Duration::from_millis(i);
            assert!(mark(
                &map,
                &format!("k{}", i % 100),
                now,
                Duration::from_millis(1)
            ));
            assert!(map.len() <= 64);
        }
        for shard in map.shards.iter() {
            let shard = lock(shard);
            assert!(shard.order.len() <= 2 * shard.capacity + 1);
        }
    }

    #[test]
    fn purge_expired_honours_its_limit() {
        let map = ExpiringMap::new(100, 4);
        let start = Instant::now();
        for i in 0..10 {
            assert!(mark(&map, &format!("k{i}"), start, Duration::from_secs(1)));
        }
        let later = start + Duration::from_secs(2);
        assert_eq!(map.purge_expired(later, 4), 4);
        assert_eq!(map.len(), 6);
        assert_eq!(map.purge_expired(later, 100), 6);
        assert_eq!(map.len(), 0);
    }
}
