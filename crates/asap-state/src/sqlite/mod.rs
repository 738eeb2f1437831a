//! The SQLite backend (feature `sqlite`): every store in one database file.
//!
//! # Storage
//!
//! One file under a data directory (its parent directories are created), opened in WAL
//! journal mode with a `busy_timeout`, through a pool of connections (readers do not block
//! the writer, writers queue on SQLite's lock). The schema is embedded in the binary and
//! brought up to date when the store opens; a file written by a newer schema is refused
//! ([`ErrorKind::Corrupt`]).
//!
//! Every read-check-write (a task transition, a rate-limit check, an idempotency `begin`) is
//! one `BEGIN IMMEDIATE` transaction, and the nonce check is one `INSERT … ON CONFLICT`
//! statement, so the contracts' atomicity holds across connections and across processes
//! sharing the file on one host (not over a network file system).
//!
//! # Durability
//!
//! A call that returned `Ok` has committed its transaction. With the default
//! `synchronous = NORMAL`:
//!
//! - a **process crash** (kill -9, panic, OOM) loses nothing committed: the WAL is written
//!   before the commit returns and the operating system keeps it;
//! - a **power loss or OS crash** may lose the transactions committed since the last WAL sync
//!   (they roll back as a whole; the file stays consistent).
//!
//! [`SqliteOptions::synchronous_full`] syncs the WAL on every commit, so committed data also
//! survives a power loss, at the cost of one `fsync` per write.
//!
//! # Expiry
//!
//! Expired nonces, rate-limit keys and idempotency records are never answered but stay in the
//! file until removed: call [`SqliteStore::purge_expired`] now and then (a background task
//! every minute is plenty); each call removes a bounded number of rows so it never holds the
//! write lock for long.

mod error;
mod idempotency;
mod migrations;
mod nonce;
mod ratelimit;
mod snapshot;
mod task;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{ErrorKind, Ping, SchemaStatus, StoreError, StoreFuture, Stores};
use error::db_error;

/// Default `busy_timeout`: how long a call waits for another connection's write lock.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Default number of pooled connections.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// How to open a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    path: PathBuf,
    synchronous_full: bool,
    busy_timeout: Duration,
    max_connections: u32,
}

impl SqliteOptions {
    /// The database file at `path` (created with its parent directories when missing), WAL,
    /// `synchronous = NORMAL`, [`DEFAULT_BUSY_TIMEOUT`], [`DEFAULT_MAX_CONNECTIONS`].
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            synchronous_full: false,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// `synchronous = FULL` when `true`: every commit syncs the WAL, so committed data
    /// survives a power loss too (see the [module documentation](self)).
    #[must_use]
    pub fn synchronous_full(mut self, full: bool) -> Self {
        self.synchronous_full = full;
        self
    }

    /// How long a call waits for the write lock before failing with
    /// [`ErrorKind::Unavailable`].
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Most pooled connections for reads (at least 1); writes have one connection of their
    /// own.
    #[must_use]
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Opens the store.
    pub async fn open(self) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(self).await
    }
}

/// Every store contract on one SQLite database; cheap to clone (the pools are shared).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Reads (WAL: readers never wait for the writer).
    pool: SqlitePool,
    /// Every write, on one connection. SQLite admits one writer at a time; writers on
    /// several connections of this process would wait for the lock in SQLite's busy handler,
    /// which sleeps in milliseconds (under load, most of a request's time). Queueing on this
    /// pool instead hands the connection over as soon as the previous write committed.
    writer: SqlitePool,
    /// The group-committing writer of idempotency records (see the `idempotency` module).
    batcher: idempotency::Batcher,
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `path` with the default options.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(SqliteOptions::new(path)).await
    }

    /// Opens the database as `options` say and applies pending migrations.
    pub async fn open_with(options: SqliteOptions) -> Result<Self, StoreError> {
        if options.path.as_os_str().is_empty() {
            return Err(StoreError::new(
                ErrorKind::Other,
                "a SQLite store needs a file path",
            ));
        }
        if let Some(parent) = options.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::unavailable(format!("cannot create {}", parent.display()), e)
            })?;
        }
        let synchronous = if options.synchronous_full {
            SqliteSynchronous::Full
        } else {
            SqliteSynchronous::Normal
        };
        let connect = SqliteConnectOptions::new()
            .filename(&options.path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true);
        let acquire = options.busy_timeout.max(Duration::from_secs(1));
        // The writer: no ping before each acquire (a round trip to the connection's thread
        // per idempotency batch, for a local file that cannot have gone away), and room for
        // a whole batch of claimed keys in the row channel, so that the connection's thread
        // runs a batch without waiting for its rows to be read.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(acquire)
            .test_before_acquire(false)
            .connect_with(connect.clone().row_buffer_size(idempotency::MAX_BATCH + 8))
            .await
            .map_err(|e| db_error(&format!("open {}", options.path.display()), e))?;
        migrations::apply(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(acquire)
            .connect_with(connect)
            .await
            .map_err(|e| db_error(&format!("open {}", options.path.display()), e))?;
        let batcher = idempotency::Batcher::new(writer.clone());
        Ok(Self {
            pool,
            writer,
            batcher,
        })
    }

    /// Where the schema of the database at `path` stands, read without creating or changing
    /// anything (a missing file has applied nothing).
    pub async fn schema_status(path: impl AsRef<Path>) -> Result<SchemaStatus, StoreError> {
        use sqlx::Connection as _;

        let path = path.as_ref();
        let latest = migrations::latest();
        if !path.exists() {
            return Ok(SchemaStatus::new(0, latest));
        }
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .create_if_missing(false);
        let mut conn = sqlx::SqliteConnection::connect_with(&connect)
            .await
            .map_err(|e| db_error(&format!("open {}", path.display()), e))?;
        let applied = migrations::applied(&mut conn).await;
        let _ = conn.close().await;
        Ok(SchemaStatus::new(applied?, latest))
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
        let nonces = nonce::purge_expired(&self.writer, limit).await?;
        let keys = ratelimit::purge_expired(&self.writer, limit).await?;
        let records = idempotency::purge_expired(&self.writer, limit).await?;
        Ok(nonces + keys + records)
    }

    /// Closes the pool: waits for the calls in progress, then checkpoints and closes every
    /// connection.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

impl Ping for SqliteStore {
    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            sqlx::query("SELECT 1")
                .execute(&self.pool)
                .await
                .map(drop)
                .map_err(|e| StoreError::unavailable("SQLite store does not answer", e))
        })
    }
}

/// Microseconds since the Unix epoch (expiry times are wall-clock so that several processes
/// sharing the file agree on them).
fn now_micros() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

/// `now + d` in microseconds, saturating.
fn micros_after(now: i64, d: Duration) -> i64 {
    now.saturating_add(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// A `LIMIT` bind value.
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
