use std::time::Duration;

use sqlx::PgPool;

use super::error::db_error;
use super::{PostgresStore, micros, sql_limit};
use crate::{NonceStore, StoreError, StoreFuture};

impl NonceStore for PostgresStore {
    fn check_and_mark<'a>(&'a self, nonce: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            // One statement: inserts a new nonce or replaces an expired one. A live row is
            // locked and left alone, and no row is affected (a replay). A concurrent insert of
            // the same nonce makes this one wait for its commit and then see its row.
            let affected = sqlx::query(concat!(
                "INSERT INTO nonces AS n (nonce, expires_at) VALUES ($1, ",
                now_micros!(),
                " + $2)
                 ON CONFLICT (nonce) DO UPDATE SET expires_at = excluded.expires_at
                 WHERE n.expires_at <= ",
                now_micros!()
            ))
            .bind(nonce)
            .bind(micros(ttl))
            .execute(&self.pool)
            .await
            .map_err(|e| db_error("nonce check", e))?
            .rows_affected();
            Ok(affected == 1)
        })
    }
}

pub(super) async fn purge_expired(pool: &PgPool, limit: usize) -> Result<u64, StoreError> {
    // The outer condition is checked again on the row's latest version, so a nonce renewed by
    // a concurrent check after the inner scan is kept.
    let removed = sqlx::query(concat!(
        "DELETE FROM nonces WHERE nonce IN
             (SELECT nonce FROM nonces WHERE expires_at <= ",
        now_micros!(),
        " LIMIT $1)
         AND expires_at <= ",
        now_micros!()
    ))
    .bind(sql_limit(limit))
    .execute(pool)
    .await
    .map_err(|e| db_error("nonce purge", e))?
    .rows_affected();
    Ok(removed)
}
