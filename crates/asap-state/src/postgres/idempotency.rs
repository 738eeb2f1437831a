use std::time::Duration;

use sqlx::{PgPool, Row};

use super::error::db_error;
use super::{PostgresStore, micros, sql_limit};
use crate::{Begin, IdempotencyKey, IdempotencyStore, StoreError, StoreFuture, StoredResponse};

impl IdempotencyStore for PostgresStore {
    fn begin<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        fingerprint: &'a str,
        lease: Duration,
        ttl: Duration,
    ) -> StoreFuture<'a, Begin> {
        Box::pin(async move {
            let err = |e| db_error("idempotency begin", e);
            let mut tx = self.pool.begin().await.map_err(err)?;
            // Claims the key when it is free, expired or its lease has run out (a row comes
            // back: Started). Otherwise ON CONFLICT DO UPDATE still locks the live row, so the
            // read below sees the record that holds the key, unchanged until this transaction
            // ends.
            let claimed = sqlx::query(concat!(
                "INSERT INTO idempotency AS i
                     (sender, key, fingerprint, lease_until, body, expires_at)
                 VALUES ($1, $2, $3, ",
                now_micros!(),
                " + $4, NULL, ",
                now_micros!(),
                " + $5)
                 ON CONFLICT (sender, key) DO UPDATE SET
                     fingerprint = excluded.fingerprint, lease_until = excluded.lease_until,
                     body = NULL, expires_at = excluded.expires_at
                 WHERE i.expires_at <= ",
                now_micros!(),
                " OR i.lease_until <= ",
                now_micros!(),
                " RETURNING 1"
            ))
            .bind(key.sender.as_str())
            .bind(key.key.as_str())
            .bind(fingerprint)
            .bind(micros(lease))
            .bind(micros(ttl))
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?;
            if claimed.is_some() {
                tx.commit().await.map_err(err)?;
                return Ok(Begin::Started);
            }
            let row = sqlx::query(
                "SELECT fingerprint, lease_until, body FROM idempotency
                 WHERE sender = $1 AND key = $2",
            )
            .bind(key.sender.as_str())
            .bind(key.key.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(err)?;
            let stored: String = row.try_get("fingerprint").map_err(err)?;
            let lease_until: Option<i64> = row.try_get("lease_until").map_err(err)?;
            let body: Option<Vec<u8>> = row.try_get("body").map_err(err)?;
            tx.rollback().await.map_err(err)?;
            // The record is live and, when in progress, its lease is too (else it was claimed).
            Ok(if stored != fingerprint {
                Begin::Mismatch
            } else if lease_until.is_some() {
                Begin::InProgress
            } else {
                Begin::Completed(StoredResponse {
                    fingerprint: stored,
                    body: body.unwrap_or_default(),
                })
            })
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        response: &'a StoredResponse,
        ttl: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query(concat!(
                "INSERT INTO idempotency (sender, key, fingerprint, lease_until, body, expires_at)
                 VALUES ($1, $2, $3, NULL, $4, ",
                now_micros!(),
                " + $5)
                 ON CONFLICT (sender, key) DO UPDATE SET
                     fingerprint = excluded.fingerprint, lease_until = NULL,
                     body = excluded.body, expires_at = excluded.expires_at"
            ))
            .bind(key.sender.as_str())
            .bind(key.key.as_str())
            .bind(response.fingerprint.as_str())
            .bind(response.body.as_slice())
            .bind(micros(ttl))
            .execute(&self.pool)
            .await
            .map_err(|e| db_error("idempotency complete", e))?;
            Ok(())
        })
    }

    fn release<'a>(&'a self, key: &'a IdempotencyKey) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query(
                "DELETE FROM idempotency
                 WHERE sender = $1 AND key = $2 AND lease_until IS NOT NULL",
            )
            .bind(key.sender.as_str())
            .bind(key.key.as_str())
            .execute(&self.pool)
            .await
            .map_err(|e| db_error("idempotency release", e))?;
            Ok(())
        })
    }

    fn purge_expired(&self, limit: usize) -> StoreFuture<'_, u64> {
        Box::pin(purge_expired(&self.pool, limit))
    }
}

pub(super) async fn purge_expired(pool: &PgPool, limit: usize) -> Result<u64, StoreError> {
    // The outer condition is checked again on the row's latest version, so a record that a
    // concurrent `begin` took over after the inner scan is kept.
    let removed = sqlx::query(concat!(
        "DELETE FROM idempotency WHERE (sender, key) IN
             (SELECT sender, key FROM idempotency WHERE expires_at <= ",
        now_micros!(),
        " LIMIT $1)
         AND expires_at <= ",
        now_micros!()
    ))
    .bind(sql_limit(limit))
    .execute(pool)
    .await
    .map_err(|e| db_error("idempotency purge", e))?
    .rows_affected();
    Ok(removed)
}
