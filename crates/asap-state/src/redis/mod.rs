//! The Redis backend (feature `redis`): nonces, rate limits and idempotency records shared by
//! every replica that points at one Redis server.
//!
//! Redis holds no tasks or snapshots: those need a SQL backend (SQLite, PostgreSQL). A
//! server mixing backends fills the fields of [`Stores`](crate::Stores) itself, for instance
//! tasks in SQL and nonces, rate limits and idempotency in Redis.
//!
//! # What replicas share
//!
//! Everything this store writes lives in the Redis server under the configured key prefix, so
//! every process using the same server and prefix sees the same nonces, budgets and records.
//! Each read-check-write is one Redis command or one Lua script, which Redis runs alone, so
//! the contracts' atomicity holds across processes:
//!
//! - a nonce check is one `SET <prefix>nonce:<nonce> 1 NX PX <ttl-ms>` (fresh iff `OK`);
//! - a rate-limit check is one script that reads the server's clock with `TIME`, so replicas
//!   whose clocks disagree still make the same decisions;
//! - an idempotency `begin` is one script; lease expiry is judged by the server's clock too.
//!
//! # Durability
//!
//! As durable as the server is configured to be: with Redis's defaults (RDB snapshots, no
//! append-only file) a Redis crash or restart loses the writes since the last snapshot,
//! which for these stores means a replay window for recent nonces, refilled rate-limit
//! budgets and forgotten idempotency records. Run Redis with `appendonly yes` (and
//! `appendfsync everysec` or `always`) when that matters. Nonces and rate-limit keys expire by
//! Redis's own expiry (`PX`). Idempotency records are judged by their stored expiry and
//! indexed in a sorted set for [`purge_expired`](crate::IdempotencyStore::purge_expired) (call
//! it now and then); Redis drops a record ten minutes after its expiry in any case. The
//! scripts touch several keys, so the store needs one Redis server (or one cluster slot), not
//! Redis Cluster.
//!
//! # When the server is down
//!
//! The connection is a [`ConnectionManager`]: opened lazily, reconnected in the background
//! after a failure. While the server cannot be reached every call, [`Ping`] included, fails
//! with [`ErrorKind::Unavailable`] after at most the response timeout; nothing is answered
//! from a local copy (a nonce is never let through unchecked).

mod idempotency;
mod nonce;
mod ratelimit;

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::{ErrorKind, Ping, StoreError, StoreFuture};

/// Default time allowed for connecting and for each command's answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// How to open a [`RedisStore`].
#[derive(Debug, Clone)]
pub struct RedisOptions {
    url: String,
    prefix: String,
    timeout: Duration,
}

impl RedisOptions {
    /// The server at `url` (`redis://HOST:PORT/DB`, `rediss://…`, `redis+unix://…`), key
    /// prefix `asap:`, [`DEFAULT_TIMEOUT`].
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: "asap:".to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Prefix of every key this store writes (isolates deployments or tests sharing one
    /// server).
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Time allowed for connecting and for each answer before a call fails with
    /// [`ErrorKind::Unavailable`].
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Opens the store (see [`RedisStore::open_with`]).
    pub fn open(self) -> Result<RedisStore, StoreError> {
        RedisStore::open_with(self)
    }
}

/// Nonces, rate limits and idempotency records in one Redis server; cheap to clone (clones
/// share the connection).
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// The server at `url` with the default options.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(RedisOptions::new(url))
    }

    /// Checks the URL and sets up the connection; it is made on the first call (and
    /// remade after failures), so a store opens while the server is down and [`Ping`] says
    /// so. Must run inside a Tokio runtime. A malformed URL is [`ErrorKind::Other`].
    pub fn open_with(options: RedisOptions) -> Result<Self, StoreError> {
        let client = redis::Client::open(options.url.as_str()).map_err(|e| {
            StoreError::new(ErrorKind::Other, format!("invalid Redis URL: {e}")).with_source(e)
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| redis_error("connect", e))?;
        Ok(Self {
            conn,
            prefix: options.prefix,
        })
    }

    /// The key of `kind` and `name` under this store's prefix.
    fn key(&self, kind: &str, name: &str) -> String {
        format!("{}{kind}:{name}", self.prefix)
    }

    /// A connection handle for one call (a clone of the shared manager).
    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }
}

impl Ping for RedisStore {
    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let answer: String = redis::cmd("PING")
                .query_async(&mut self.conn())
                .await
                .map_err(|e| {
                    StoreError::unavailable(format!("Redis store does not answer: {e}"), e)
                })?;
            if answer == "PONG" {
                Ok(())
            } else {
                Err(StoreError::new(
                    ErrorKind::Unavailable,
                    format!("Redis store answered PING with {answer:?}"),
                ))
            }
        })
    }
}

/// Maps a Redis error: anything about reaching the server is [`ErrorKind::Unavailable`];
/// an answer of the wrong type is [`ErrorKind::Corrupt`].
fn redis_error(what: &str, e: redis::RedisError) -> StoreError {
    let kind = if e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
    {
        ErrorKind::Unavailable
    } else if e.kind() == redis::ErrorKind::UnexpectedReturnType {
        ErrorKind::Corrupt
    } else {
        ErrorKind::Other
    };
    StoreError::new(kind, format!("Redis store: {what}: {e}")).with_source(e)
}

/// A duration in whole milliseconds, rounded up and at least 1 (`PX 0` is an error and
/// `PEXPIRE 0` deletes).
fn millis(d: Duration) -> u64 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX).max(1)
}
