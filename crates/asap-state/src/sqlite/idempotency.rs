use std::time::Duration;

use sqlx::{Row, SqlitePool};

use super::error::db_error;
use super::{SqliteStore, micros_after, now_micros, sql_limit};
use crate::{Begin, IdempotencyKey, IdempotencyStore, StoreError, StoreFuture, StoredResponse};

/// The live record of a key, as `begin` reads it.
struct Live {
    fingerprint: String,
    lease_until: Option<i64>,
    body: Option<Vec<u8>>,
}

fn classify(live: Option<Live>, fingerprint: &str, now: i64) -> Begin {
    let Some(live) = live else {
        return Begin::Started;
    };
    match (live.lease_until, live.body) {
        (Some(lease_until), _) if lease_until <= now => Begin::Started,
        _ if live.fingerprint != fingerprint => Begin::Mismatch,
        (Some(_), _) => Begin::InProgress,
        (None, body) => Begin::Completed(StoredResponse {
            fingerprint: live.fingerprint,
            body: body.unwrap_or_default(),
        }),
    }
}

impl IdempotencyStore for SqliteStore {
    fn begin<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        fingerprint: &'a str,
        lease: Duration,
        ttl: Duration,
    ) -> StoreFuture<'a, Begin> {
        Box::pin(async move {
            let err = |e| db_error("idempotency begin", e);
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(err)?;
            let now = now_micros();
            let row = sqlx::query(
                "SELECT fingerprint, lease_until, body FROM idempotency
                 WHERE sender = ? AND key = ? AND expires_at > ?",
            )
            .bind(key.sender.as_str())
            .bind(key.key.as_str())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?;
            let live = match row {
                Some(row) => Some(Live {
                    fingerprint: row.try_get("fingerprint").map_err(err)?,
                    lease_until: row.try_get("lease_until").map_err(err)?,
                    body: row.try_get("body").map_err(err)?,
                }),
                None => None,
            };
            let answer = classify(live, fingerprint, now);
            if answer == Begin::Started {
                sqlx::query(
                    "INSERT INTO idempotency (sender, key, fingerprint, lease_until, body, expires_at)
                     VALUES (?, ?, ?, ?, NULL, ?)
                     ON CONFLICT (sender, key) DO UPDATE SET
                         fingerprint = excluded.fingerprint, lease_until = excluded.lease_until,
                         body = NULL, expires_at = excluded.expires_at",
                )
                .bind(key.sender.as_str())
                .bind(key.key.as_str())
                .bind(fingerprint)
                .bind(micros_after(now, lease))
                .bind(micros_after(now, ttl))
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                tx.commit().await.map_err(err)?;
            } else {
                tx.rollback().await.map_err(err)?;
            }
            Ok(answer)
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        response: &'a StoredResponse,
        ttl: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO idempotency (sender, key, fingerprint, lease_until, body, expires_at)
                 VALUES (?, ?, ?, NULL, ?, ?)
                 ON CONFLICT (sender, key) DO UPDATE SET
                     fingerprint = excluded.fingerprint, lease_until = NULL,
                     body = excluded.body, expires_at = excluded.expires_at",
            )
            .bind(key.sender.as_str())
            .bind(key.key.as_str())
            .bind(response.fingerprint.as_str())
            .bind(response.body.as_slice())
            .bind(micros_after(now_micros(), ttl))
            .execute(&self.pool)
            .await
            .map_err(|e| db_error("idempotency complete", e))?;
            Ok(())
        })
    }

    fn release<'a>(&'a self, key: &'a IdempotencyKey) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query(
                "DELETE FROM idempotency WHERE sender = ? AND key = ? AND lease_until IS NOT NULL",
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

pub(super) async fn purge_expired(pool: &SqlitePool, limit: usize) -> Result<u64, StoreError> {
    let removed = sqlx::query(
        "DELETE FROM idempotency WHERE (sender, key) IN
             (SELECT sender, key FROM idempotency WHERE expires_at <= ? LIMIT ?)",
    )
    .bind(now_micros())
    .bind(sql_limit(limit))
    .execute(pool)
    .await
    .map_err(|e| db_error("idempotency purge", e))?
    .rows_affected();
    Ok(removed)
}
