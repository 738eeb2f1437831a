use std::time::Duration;

use crate::StoreFuture;

/// Where seen nonces (§11.3) are remembered, possibly shared by several server processes.
///
/// # Contract
///
/// [`check_and_mark`](NonceStore::check_and_mark) returns `Ok(true)` when `nonce` was **not**
/// remembered (it is fresh, and is now remembered for `ttl`) and `Ok(false)` when it was already
/// remembered and has not expired (a replay). An expired nonce is fresh again.
///
/// # Atomicity
///
/// The check and the mark are **one atomic step** with respect to every other call on the same
/// store, including calls from other processes when the store is shared: of any number of
/// concurrent calls with the same nonce inside its TTL, exactly one returns `Ok(true)`. A "look
/// up, then insert" pair lets concurrent replays through. Redis: one `SET <prefix><nonce> 1 NX
/// PX <ttl-ms>` (fresh iff `OK`); SQL: an `INSERT … ON CONFLICT` against a unique key that
/// replaces only an expired row.
///
/// A store that cannot answer returns an error; the server then refuses the envelope (it never
/// lets an unchecked nonce through).
pub trait NonceStore: Send + Sync {
    /// Atomically checks whether `nonce` is remembered and, when it is not, remembers it for
    /// `ttl`. `Ok(true)`: fresh; `Ok(false)`: replayed within its TTL.
    fn check_and_mark<'a>(&'a self, nonce: &'a str, ttl: Duration) -> StoreFuture<'a, bool>;
}
