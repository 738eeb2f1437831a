//! The PostgreSQL backend (feature `postgres`): every store in one database, shared by every
//! replica that points at it.
//!
//! # What replicas share
//!
//! Everything: tasks and their history, snapshots, nonces, rate-limit budgets and
//! idempotency records live in the database's tables, so any number of server processes
//! opening the same database see one set of records. Each contract's atomicity holds across
//! them because every read-check-write is decided by the server under a row lock:
//!
//! - a task transition (and `set_progress`) is one transaction that reads the task with
//!   `SELECT … FOR UPDATE`, applies the state machine and writes the task and its history
//!   entry; a creation is `INSERT … ON CONFLICT DO NOTHING`;
//! - a nonce check is one `INSERT … ON CONFLICT (nonce) DO UPDATE … WHERE <the row has
//!   expired>`: fresh iff a row was written;
//! - a rate-limit check is one transaction whose first statement locks (or creates) the key's
//!   row, then stores the new GCRA state when the request is allowed;
//! - an idempotency `begin` is one transaction around `INSERT … ON CONFLICT DO UPDATE …
//!   WHERE <expired or lease run out>`, which locks the row it does not take over, so the
//!   record read back is the one that holds the key.
//!
//! Every statement runs at PostgreSQL's default `READ COMMITTED` isolation; the row locks, not
//! the isolation level, serialize concurrent calls.
//!
//! # Time
//!
//! Expiry (nonce TTLs, idempotency leases and TTLs, rate-limit budgets) is judged by the
//! **database server's clock** (`clock_timestamp()`, in microseconds), read inside the
//! statement that decides, so replicas whose clocks disagree still agree on what has
//! expired. Task timestamps (`created_at`, `updated_at`, history entries) are the task's own,
//! stamped by the process that makes the change, as with every backend.
//!
//! # Schema
//!
//! The schema is embedded in the binary and brought up to date when a store opens, in one
//! transaction under a transaction-scoped advisory lock, so replicas starting together do not
//! race: one migrates, the others wait and then find it done. A database written by a newer
//! schema is refused ([`ErrorKind::Corrupt`]). The tables live in the connection's current
//! schema (the first of the role's `search_path`, normally `public`); give each deployment
//! its own database (or role with its own `search_path`).
//!
//! # Durability
//!
//! A call that returned `Ok` has committed its transaction, which is as durable as the
//! server's `synchronous_commit` makes it: with the default `on` (and `fsync` on) the commit
//! record is flushed to the server's WAL before the commit returns, so a crash of the server
//! or its host loses nothing committed; with synchronous standbys configured, `on` also
//! waits for them. With `synchronous_commit = off` a server crash may lose the last
//! transactions (up to three times `wal_writer_delay`), never part of one.
//!
//! # Pool sizing
//!
//! Each store holds a pool of up to [`PostgresOptions::max_connections`] connections
//! ([`DEFAULT_MAX_CONNECTIONS`]); a call waits up to the acquire timeout for one and then
//! fails with [`ErrorKind::Unavailable`]. A call holds its connection for the length of one
//! statement or one short transaction, so a few connections per replica serve many
//! concurrent requests; calls that race for one row wait on the row lock while holding a
//! connection. Keep the sum over all replicas (plus any other clients) below the server's
//! `max_connections` (100 by default), or put a pooler such as PgBouncer in between (the store
//! uses prepared statements, so in transaction mode PgBouncer needs 1.21 or newer with
//! `max_prepared_statements` set). Connections are plain TCP or Unix sockets: this
//! build has no TLS.
//!
//! # Expiry
//!
//! Expired nonces, rate-limit keys and idempotency records are never answered but stay in
//! their tables until removed: call [`PostgresStore::purge_expired`] now and then (from one
//! replica or all; a background task every minute is plenty). Each call removes a bounded
//! number of rows per table.

/// The database server's clock in microseconds since the Unix epoch, as a SQL expression
/// (`clock_timestamp()` is the time of evaluation, not of the transaction's start, so a
/// statement that waited for a row lock judges expiry at the moment it decides).
macro_rules! now_micros {
    () => {
        "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
    };
}

mod error;
mod idempotency;
mod migrations;
mod nonce;
mod ratelimit;
mod snapshot;
mod task;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::{ErrorKind, Ping, SchemaStatus, StoreError, StoreFuture, Stores};
use error::db_error;

/// Default number of pooled connections per store.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// Default time a call waits for a pooled connection (connecting included) before failing
/// with [`ErrorKind::Unavailable`].
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How to open a [`PostgresStore`].
#[derive(Clone)]
pub struct PostgresOptions {
    url: String,
    max_connections: u32,
    acquire_timeout: Duration,
}

impl std::fmt::Debug for PostgresOptions {
    // The URL may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish_non_exhaustive()
    }
}

impl PostgresOptions {
    /// The database at `url` (`postgres://USER:PASSWORD@HOST:PORT/DATABASE?…` or
    /// `postgresql://…`, with libpq's query parameters such as `application_name` or
    /// `options`), [`DEFAULT_MAX_CONNECTIONS`], [`DEFAULT_ACQUIRE_TIMEOUT`].
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }

    /// Most pooled connections (at least 1); see the [module documentation](self) for sizing.
    #[must_use]
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// How long a call (and [`Ping`]) waits for a connection, connecting to a server that is
    /// down included, before failing with [`ErrorKind::Unavailable`].
    #[must_use]
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Opens the store.
    pub async fn open(self) -> Result<PostgresStore, StoreError> {
        PostgresStore::open_with(self).await
    }
}

/// Every store contract on one PostgreSQL database; cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` with the default options and applies pending
    /// migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(PostgresOptions::new(url)).await
    }

    /// Connects as `options` say and applies pending migrations.
    pub async fn open_with(options: PostgresOptions) -> Result<Self, StoreError> {
        let connect = connect_options(&options.url)?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(|e| db_error("connect", e))?;
        migrations::apply(&pool).await?;
        Ok(Self { pool })
    }

    /// Where the schema of the database at `url` stands, read on one connection without
    /// changing anything.
    pub async fn schema_status(url: &str) -> Result<SchemaStatus, StoreError> {
        use sqlx::Connection as _;

        let connect = connect_options(url)?;
        let mut conn = sqlx::PgConnection::connect_with(&connect)
            .await
            .map_err(|e| db_error("connect", e))?;
        let applied = migrations::applied(&mut conn).await;
        let _ = conn.close().await;
        Ok(SchemaStatus::new(applied?, migrations::latest()))
    }

    /// The bundle of every contract backed by this database.
    pub fn into_stores(self) -> Stores {
        let store = Arc::new(self);
        Stores {
            tasks: store.clone(),
            snapshots: store.clone(),
            nonces: store.clone(),
            rate_limits: store.clone(),
            idempotency: store.clone(),
            ping: store,
        }
    }

    /// Removes up to `limit` expired rows of each kind (nonces, rate-limit keys, idempotency
    /// records); returns how many rows it removed in all.
    pub async fn purge_expired(&self, limit: usize) -> Result<u64, StoreError> {
        let nonces = nonce::purge_expired(&self.pool, limit).await?;
        let keys = ratelimit::purge_expired(&self.pool, limit).await?;
        let records = idempotency::purge_expired(&self.pool, limit).await?;
        Ok(nonces + keys + records)
    }

    /// Closes the pool: waits for the calls in progress, then closes every connection. Calls
    /// after it fail with [`ErrorKind::Unavailable`].
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Ping for PostgresStore {
    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            sqlx::query("SELECT 1")
                .execute(&self.pool)
                .await
                .map(drop)
                .map_err(|e| StoreError::unavailable("PostgreSQL store does not answer", e))
        })
    }
}

/// A duration in microseconds, capped so that adding it to any clock reading of this era
/// cannot overflow a `bigint`.
fn micros(d: Duration) -> i64 {
    const CAP: i64 = i64::MAX / 2;
    i64::try_from(d.as_micros()).map_or(CAP, |m| m.min(CAP))
}

/// A `LIMIT` bind value.
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    // The message leaves the URL out: it may hold a password.
    PgConnectOptions::from_str(url).map_err(|e| {
        StoreError::new(
            ErrorKind::Other,
            format!("PostgreSQL store: not a usable postgres:// URL: {e}"),
        )
    })
}
