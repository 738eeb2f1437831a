//! [`Stores`]: one handle per contract, chosen at start-up from a URL.

use std::sync::Arc;

use crate::memory::{
    MemoryIdempotencyStore, MemoryNonceStore, MemoryRateLimitStore, MemorySnapshotStore,
    MemoryTaskStore,
};
use crate::{
    ErrorKind, IdempotencyStore, NonceStore, Ping, RateLimitStore, SchemaStatus, SnapshotStore,
    StoreError, TaskStore,
};

/// Every store a server needs, as trait objects, plus a [`Ping`] for its readiness probe.
///
/// Built by [`Stores::open`] from a URL, by [`Stores::memory`], or field by field to mix
/// backends (for instance tasks in SQLite and nonces in memory).
#[derive(Clone)]
pub struct Stores {
    /// Tasks and their history.
    pub tasks: Arc<dyn TaskStore>,
    /// State snapshots.
    pub snapshots: Arc<dyn SnapshotStore>,
    /// Seen nonces.
    pub nonces: Arc<dyn NonceStore>,
    /// Rate-limit budgets.
    pub rate_limits: Arc<dyn RateLimitStore>,
    /// Idempotency records.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Whether the backend answers (for `/ready`).
    pub ping: Arc<dyn Ping>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores").finish_non_exhaustive()
    }
}

/// The URL schemes [`Stores::open`] accepts in this build.
///
/// A backend feature adds its scheme here and one arm to [`Stores::open`].
pub fn accepted_schemes() -> Vec<&'static str> {
    let mut schemes = vec!["memory:"];
    if cfg!(feature = "sqlite") {
        schemes.push("sqlite:");
    }
    if cfg!(feature = "postgres") {
        schemes.push("postgres:");
        schemes.push("postgresql:");
    }
    schemes
}

impl Stores {
    /// In-process stores with default capacities (see [`crate::memory`]).
    pub fn memory() -> Self {
        let tasks = Arc::new(MemoryTaskStore::new());
        Self {
            tasks: tasks.clone(),
            snapshots: Arc::new(MemorySnapshotStore::new()),
            nonces: Arc::new(MemoryNonceStore::new()),
            rate_limits: Arc::new(MemoryRateLimitStore::new()),
            idempotency: Arc::new(MemoryIdempotencyStore::new()),
            ping: tasks,
        }
    }

    /// Opens the backend `url` names:
    ///
    /// | URL | backend |
    /// |---|---|
    /// | `memory:` or `memory://` | [`Stores::memory`] |
    /// | `sqlite://PATH` or `sqlite:PATH` (feature `sqlite`) | [`SqliteStore`](crate::sqlite::SqliteStore) on the file at PATH (parent directories created, schema migrated); `sqlite:///var/lib/asap/state.db` is absolute, `sqlite://data/state.db` relative |
    /// | `postgres://…` or `postgresql://…` (feature `postgres`) | `PostgresStore` on that database (schema migrated), the whole URL passed to [`PostgresOptions`](crate::postgres::PostgresOptions) |
    ///
    /// PATH is taken literally (no query parameters); use
    /// [`SqliteOptions`](crate::sqlite::SqliteOptions) for `synchronous = FULL` and the pool
    /// size, and `PostgresOptions` for the PostgreSQL pool size and acquire timeout. Any other
    /// scheme, or one whose feature is not enabled, is refused with an error that names the
    /// accepted schemes (an error about a `postgres:` URL never repeats the URL, which may
    /// hold a password).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        match Backend::of(url)? {
            Backend::Memory => Ok(Self::memory()),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(path) => {
                Ok(crate::sqlite::SqliteStore::open(path).await?.into_stores())
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => Ok(crate::postgres::PostgresStore::open(url)
                .await?
                .into_stores()),
        }
    }

    /// Where the schema of the database `url` names stands against this build's
    /// migrations, read without creating or changing anything; the URLs are those of
    /// [`Stores::open`]. A `memory:` store has no schema: `0` of `0`.
    pub async fn schema_status(url: &str) -> Result<SchemaStatus, StoreError> {
        match Backend::of(url)? {
            Backend::Memory => Ok(SchemaStatus::new(0, 0)),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(path) => crate::sqlite::SqliteStore::schema_status(path).await,
            #[cfg(feature = "postgres")]
            Backend::Postgres => crate::postgres::PostgresStore::schema_status(url).await,
        }
    }
}

/// The backend a store URL names, or why it names none usable in this build.
enum Backend {
    Memory,
    #[cfg(feature = "sqlite")]
    Sqlite(String),
    #[cfg(feature = "postgres")]
    Postgres,
}

impl Backend {
    fn of(url: &str) -> Result<Self, StoreError> {
        let (scheme, rest) = url.split_once(':').unwrap_or((url, ""));
        match scheme.to_ascii_lowercase().as_str() {
            "memory" if rest.is_empty() || rest == "//" => Ok(Self::Memory),
            "memory" => Err(StoreError::new(
                ErrorKind::Other,
                format!("a memory: store URL takes no path, got {url:?}"),
            )),
            #[cfg(feature = "sqlite")]
            "sqlite" => Ok(Self::Sqlite(
                rest.strip_prefix("//").unwrap_or(rest).to_owned(),
            )),
            #[cfg(not(feature = "sqlite"))]
            "sqlite" => Err(StoreError::new(
                ErrorKind::Other,
                format!(
                    "{url:?}: sqlite: URLs need the `sqlite` feature of asap-state; accepted \
                     schemes are {}",
                    accepted_schemes().join(", ")
                ),
            )),
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => Ok(Self::Postgres),
            #[cfg(not(feature = "postgres"))]
            "postgres" | "postgresql" => Err(StoreError::new(
                ErrorKind::Other,
                format!(
                    "{scheme}: URLs need the `postgres` feature of asap-state; accepted schemes \
                     are {}",
                    accepted_schemes().join(", ")
                ),
            )),
            _ => Err(StoreError::new(
                ErrorKind::Other,
                format!(
                    "unsupported store URL {url:?}: accepted schemes are {}",
                    accepted_schemes().join(", ")
                ),
            )),
        }
    }
}
