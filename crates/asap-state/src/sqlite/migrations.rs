//! The schema, embedded in the binary and applied in order when a store opens.
//!
//! A migration is never edited once released: a change is a new entry at the end.

use sqlx::{Row, SqliteConnection, SqlitePool};

use super::error::db_error;
use crate::{ErrorKind, StoreError};

/// (version, SQL), versions from 1 without gaps.
const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("migrations/0001_init.sql"))];

/// The newest migration of this build.
pub(super) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// The newest migration applied to the database on `conn`, 0 when it has none, read
/// without writing anything.
pub(super) async fn applied(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
    let err = |e| db_error("schema version", e);
    let tracked: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM sqlite_master
         WHERE type = 'table' AND name = 'asap_state_migrations'",
    )
    .fetch_one(&mut *conn)
    .await
    .and_then(|row| row.try_get("n"))
    .map_err(err)?;
    if tracked == 0 {
        return Ok(0);
    }
    sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM asap_state_migrations")
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get("v"))
        .map_err(err)
}

pub(super) async fn apply(pool: &SqlitePool) -> Result<(), StoreError> {
    let err = |e| db_error("migrate", e);
    // One writer at a time: two processes opening a new file do not both migrate it.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(err)?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS asap_state_migrations (
             version INTEGER PRIMARY KEY NOT NULL,
             applied_at INTEGER NOT NULL
         )",
    )
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    let current: i64 =
        sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM asap_state_migrations")
            .fetch_one(&mut *tx)
            .await
            .and_then(|row| row.try_get("v"))
            .map_err(err)?;
    let latest = MIGRATIONS.last().map_or(0, |m| m.0);
    if current > latest {
        return Err(StoreError::new(
            ErrorKind::Corrupt,
            format!(
                "SQLite store: the database has schema version {current}, newer than this \
                 build's {latest}"
            ),
        ));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        sqlx::raw_sql(*sql).execute(&mut *tx).await.map_err(err)?;
        sqlx::query("INSERT INTO asap_state_migrations (version, applied_at) VALUES (?, ?)")
            .bind(*version)
            .bind(super::now_micros())
            .execute(&mut *tx)
            .await
            .map_err(err)?;
    }
    tx.commit().await.map_err(err)
}
