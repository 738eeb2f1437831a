use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Row, SqlitePool};

use super::error::db_error;
use super::{SqliteStore, sql_limit};
use crate::{RateDecision, RateLimitStore, RateQuota, StoreError, StoreFuture, gcra};

/// Nanoseconds since the Unix epoch (fits an `i64` until 2262).
fn now_nanos() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or_default()
}

fn to_sql(nanos: i128) -> i64 {
    i64::try_from(nanos).unwrap_or(i64::MAX)
}

impl RateLimitStore for SqliteStore {
    fn check<'a>(&'a self, key: &'a str, quota: RateQuota) -> StoreFuture<'a, RateDecision> {
        Box::pin(async move {
            let err = |e| db_error("rate limit check", e);
            let mut tx = self
                .writer
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(err)?;
            // The clock is read under the write lock, so decisions are made in clock order.
            let now = now_nanos();
            let tat: Option<i64> = sqlx::query("SELECT tat FROM rate_limits WHERE key = ?")
                .bind(key)
                .fetch_optional(&mut *tx)
                .await
                .and_then(|row| row.map(|r| r.try_get("tat")).transpose())
                .map_err(err)?;
            let (decision, next) = gcra::decide(tat.map(i128::from), now, quota);
            if let Some(next) = next {
                sqlx::query(
                    "INSERT INTO rate_limits (key, tat) VALUES (?, ?)
                     ON CONFLICT (key) DO UPDATE SET tat = excluded.tat",
                )
                .bind(key)
                .bind(to_sql(next))
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                tx.commit().await.map_err(err)?;
            } else {
                tx.rollback().await.map_err(err)?;
            }
            Ok(decision)
        })
    }
}

/// A key whose TAT has passed is as good as new: its row can go.
pub(super) async fn purge_expired(pool: &SqlitePool, limit: usize) -> Result<u64, StoreError> {
    let removed = sqlx::query(
        "DELETE FROM rate_limits WHERE key IN
             (SELECT key FROM rate_limits WHERE tat <= ? LIMIT ?)",
    )
    .bind(to_sql(now_nanos()))
    .bind(sql_limit(limit))
    .execute(pool)
    .await
    .map_err(|e| db_error("rate limit purge", e))?
    .rows_affected();
    Ok(removed)
}
