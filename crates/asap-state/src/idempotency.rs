use std::time::Duration;

use crate::StoreFuture;

/// An idempotency key in its scope: keys are per sender, so two senders using the same key
/// never see each other's responses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    /// The sender's agent URN (the envelope's `sender`, authenticated when auth is on).
    pub sender: String,
    /// The key (`params.idempotency_key` or the `X-Idempotency-Key` header).
    pub key: String,
}

/// A response stored for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The fingerprint of the request that produced it.
    pub fingerprint: String,
    /// The response, as the idempotency layer serialized it (opaque to the store).
    pub body: Vec<u8>,
}

/// What [`IdempotencyStore::begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// No live record existed (or only an expired one, or an in-progress one whose lease
    /// ran out): the caller now holds the key in progress and must run the handler, then
    /// [`complete`](IdempotencyStore::complete) or [`release`](IdempotencyStore::release).
    Started,
    /// Another call holds the key in progress and its lease has not run out.
    InProgress,
    /// The key was completed with this response (same fingerprint: replay it).
    Completed(StoredResponse),
    /// The key is held or completed for a **different** request fingerprint: refuse.
    Mismatch,
}

/// One record per [`IdempotencyKey`]: in progress (with a lease) or completed (with the
/// response), each with an expiry.
///
/// # Contract
///
/// - [`begin`](IdempotencyStore::begin) looks at the record of `key`:
///   - none, expired, or in progress with its lease run out → stores "in progress for
///     `fingerprint` until now + `lease`, expiring at now + `ttl`" and answers
///     [`Begin::Started`] (taking over a run-out lease is how a key whose handler crashed
///     becomes usable again);
///   - in progress or completed with another fingerprint → [`Begin::Mismatch`];
///   - in progress with the same fingerprint and a live lease → [`Begin::InProgress`];
///   - completed with the same fingerprint → [`Begin::Completed`].
/// - [`complete`](IdempotencyStore::complete) replaces the in-progress record with the
///   response, expiring at now + `ttl`.
/// - [`release`](IdempotencyStore::release) removes an in-progress record (the handler could not
///   produce a response worth replaying); completed records are left alone.
/// - [`purge_expired`](IdempotencyStore::purge_expired) removes up to `limit` expired records
///   and returns how many it removed. Expired records are never answered, purged or not.
///
/// # Atomicity
///
/// `begin` is **one atomic step** against every other call, other processes included when the
/// store is shared: of any number of concurrent `begin`s for one key, at most one answers
/// [`Begin::Started`] while its lease is live. SQL: `INSERT … ON CONFLICT DO UPDATE … WHERE
/// <expired or lease run out>` and read back which row won; Redis: one Lua script.
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a run of the request with `fingerprint`, or reports what holds it.
    fn begin<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        fingerprint: &'a str,
        lease: Duration,
        ttl: Duration,
    ) -> StoreFuture<'a, Begin>;

    /// Stores the response of the run that [`begin`](IdempotencyStore::begin) started.
    fn complete<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        response: &'a StoredResponse,
        ttl: Duration,
    ) -> StoreFuture<'a, ()>;

    /// Gives up an in-progress claim.
    fn release<'a>(&'a self, key: &'a IdempotencyKey) -> StoreFuture<'a, ()>;

    /// Removes up to `limit` expired records; returns how many were removed.
    fn purge_expired(&self, limit: usize) -> StoreFuture<'_, u64>;
}
