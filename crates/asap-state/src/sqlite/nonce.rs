use std::time::Duration;

use sqlx::SqlitePool;

use super::error::db_error;
use super::{SqliteStore, micros_after, now_micros, sql_limit};
use crate::{NonceStore, StoreError, StoreFuture};

impl NonceStore for SqliteStore {
    fn check_and_mark<'a>(&'a self, nonce: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let now = now_micros();
            // One statement: inserts a new nonce or replaces an expired one; a live row is
            // left alone and nothing is affected (a replay).
            let affected = sqlx::query(
                "INSERT INTO nonces (nonce, expires_at) VALUES (?1, ?2)
                 ON CONFLICT (nonce) DO UPDATE SET expires_at = excluded.expires_at
                 WHERE nonces.expires_at <= ?3",
            )
            .bind(nonce)
            .bind(micros_after(now, ttl))
            .bind(now)
            .execute(&self.writer)
            .await
            .map_err(|e| db_error("nonce check", e))?
            .rows_affected();
            Ok(affected == 1)
        })
    }
}

pub(super) async fn purge_expired(pool: &SqlitePool, limit: usize) -> Result<u64, StoreError> {
    let removed = sqlx::query(
        "DELETE FROM nonces WHERE nonce IN
             (SELECT nonce FROM nonces WHERE expires_at <= ? LIMIT ?)",
    )
    .bind(now_micros())
    .bind(sql_limit(limit))
    .execute(pool)
    .await
    .map_err(|e| db_error("nonce purge", e))?
    .rows_affected();
    Ok(removed)
}
