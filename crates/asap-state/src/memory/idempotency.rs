use std::time::{Duration, Instant};

use super::expiring::{ExpiringMap, Write, expiry};
use super::nonce::DEFAULT_SHARDS;
use super::ready;
use crate::{Begin, IdempotencyKey, IdempotencyStore, Ping, StoreFuture, StoredResponse};

/// Default [`MemoryIdempotencyStore`] capacity, in records.
pub const DEFAULT_IDEMPOTENCY_CAPACITY: usize = 10_000;

/// An in-process [`IdempotencyStore`]: sharded and bounded.
///
/// Each `begin` runs under one shard lock. When a shard is full, expired records go first,
/// then the least recently written one: a key evicted that way starts afresh on its next
/// `begin`, so choose `capacity` above *keys per TTL*.
pub struct MemoryIdempotencyStore {
    records: ExpiringMap<IdempotencyKey, Record>,
}

struct Record {
    fingerprint: String,
    state: State,
}

enum State {
    InProgress { lease_until: Instant },
    Completed { body: Vec<u8> },
}

impl std::fmt::Debug for MemoryIdempotencyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryIdempotencyStore")
            .field("capacity", &self.records.capacity())
            .finish_non_exhaustive()
    }
}

impl MemoryIdempotencyStore {
    /// A store with the default capacity.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_IDEMPOTENCY_CAPACITY)
    }

    /// A store holding at most `capacity` records (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            records: ExpiringMap::new(capacity, DEFAULT_SHARDS),
        }
    }

    /// Records held now, expired ones not removed yet included.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn begin_now(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        lease: Duration,
        ttl: Duration,
    ) -> Begin {
        let now = Instant::now();
        self.records.update(key, now, |record| {
            let answer = match record {
                None => Begin::Started,
                Some(Record {
                    state: State::InProgress { lease_until },
                    ..
                }) if *lease_until <= now => Begin::Started,
                Some(record) if record.fingerprint != fingerprint => Begin::Mismatch,
                Some(Record {
                    state: State::InProgress { .. },
                    ..
                }) => Begin::InProgress,
                Some(Record {
                    fingerprint,
                    state: State::Completed { body },
                }) => Begin::Completed(StoredResponse {
                    fingerprint: fingerprint.clone(),
                    body: body.clone(),
                }),
            };
            let write = match answer {
                Begin::Started => Write::Set {
                    value: Record {
                        fingerprint: fingerprint.to_owned(),
                        state: State::InProgress {
                            lease_until: expiry(now, lease),
                        },
                    },
                    expires: expiry(now, ttl),
                },
                _ => Write::Keep,
            };
            (write, answer)
        })
    }
}

impl Default for MemoryIdempotencyStore {
    fn default() -> Self {
        Self::new()
    }
}

impl IdempotencyStore for MemoryIdempotencyStore {
    fn begin<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        fingerprint: &'a str,
        lease: Duration,
        ttl: Duration,
    ) -> StoreFuture<'a, Begin> {
        ready(Ok(self.begin_now(key, fingerprint, lease, ttl)))
    }

    fn complete<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        response: &'a StoredResponse,
        ttl: Duration,
    ) -> StoreFuture<'a, ()> {
        let now = Instant::now();
        self.records.update(key, now, |_| {
            let value = Record {
                fingerprint: response.fingerprint.clone(),
                state: State::Completed {
                    body: response.body.clone(),
                },
            };
            let expires = expiry(now, ttl);
            (Write::Set { value, expires }, ())
        });
        ready(Ok(()))
    }

    fn release<'a>(&'a self, key: &'a IdempotencyKey) -> StoreFuture<'a, ()> {
        self.records
            .update(key, Instant::now(), |record| match record {
                Some(Record {
                    state: State::InProgress { .. },
                    ..
                }) => (Write::Remove, ()),
                _ => (Write::Keep, ()),
            });
        ready(Ok(()))
    }

    fn purge_expired(&self, limit: usize) -> StoreFuture<'_, u64> {
        ready(Ok(self.records.purge_expired(Instant::now(), limit)))
    }
}

impl Ping for MemoryIdempotencyStore {
    fn ping(&self) -> StoreFuture<'_, ()> {
        ready(Ok(()))
    }
}
