//! The schema, embedded in the binary and applied in order when a store opens.
//!
//! A migration is never edited once released: a change is a new entry at the end.

use sqlx::{PgConnection, PgPool, Row};

use super::error::db_error;
use crate::{ErrorKind, StoreError};

/// (version, SQL), versions from 1 without gaps.
const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("migrations/0001_init.sql"))];

/// The advisory lock key that serializes migrations of one database (any constant would do;
/// this one spells "asapstat" in ASCII).
const LOCK_KEY: i64 = 0x6173_6170_7374_6174;

/// The newest migration of this build.
pub(super) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// The newest migration applied to the database on `conn`, 0 when it has none, read
/// without writing anything.
pub(super) async fn applied(conn: &mut PgConnection) -> Result<i64, StoreError> {
    let err = |e| db_error("schema version", e);
    let tracked: bool =
        sqlx::query("SELECT to_regclass('asap_state_migrations') IS NOT NULL AS tracked")
            .fetch_one(&mut *conn)
            .await
            .and_then(|row| row.try_get("tracked"))
            .map_err(err)?;
    if !tracked {
        return Ok(0);
    }
    sqlx::query("SELECT COALESCE(MAX(version), 0)::bigint AS v FROM asap_state_migrations")
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get("v"))
        .map_err(err)
}

pub(super) async fn apply(pool: &PgPool) -> Result<(), StoreError> {
    let err = |e| db_error("migrate", e);
    let mut tx = pool.begin().await.map_err(err)?;
    // Replicas opening at the same time queue here; the lock ends with the transaction, so a
    // replica that dies while migrating leaves nothing locked and nothing half applied.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS asap_state_migrations (
             version BIGINT PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    let current: i64 =
        sqlx::query("SELECT COALESCE(MAX(version), 0)::bigint AS v FROM asap_state_migrations")
            .fetch_one(&mut *tx)
            .await
            .and_then(|row| row.try_get("v"))
            .map_err(err)?;
    let latest = MIGRATIONS.last().map_or(0, |m| m.0);
    if current > latest {
        return Err(StoreError::new(
            ErrorKind::Corrupt,
            format!(
                "PostgreSQL store: the database has schema version {current}, newer than this \
                 build's {latest}"
            ),
        ));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        sqlx::raw_sql(*sql).execute(&mut *tx).await.map_err(err)?;
        sqlx::query("INSERT INTO asap_state_migrations (version) VALUES ($1)")
            .bind(*version)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
    }
    tx.commit().await.map_err(err)
}
