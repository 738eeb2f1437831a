use sqlx::{PgPool, Row};

use super::error::db_error;
use super::{PostgresStore, sql_limit};
use crate::{RateDecision, RateLimitStore, RateQuota, StoreError, StoreFuture, gcra};

fn to_sql(nanos: i128) -> i64 {
    i64::try_from(nanos).unwrap_or(i64::MAX)
}

impl RateLimitStore for PostgresStore {
    fn check<'a>(&'a self, key: &'a str, quota: RateQuota) -> StoreFuture<'a, RateDecision> {
        Box::pin(async move {
            let err = |e| db_error("rate limit check", e);
            let mut tx = self.pool.begin().await.map_err(err)?;
            // Locks the key's row, creating it for a new key (TAT 0 decides like no state):
            // concurrent checks of one key queue here until this transaction ends. The clock
            // is read after the lock is held (RETURNING), so decisions are made in clock order.
            let row = sqlx::query(concat!(
                "INSERT INTO rate_limits AS r (key, tat) VALUES ($1, 0)
                 ON CONFLICT (key) DO UPDATE SET tat = r.tat
                 RETURNING tat, ",
                now_micros!(),
                " AS now"
            ))
            .bind(key)
            .fetch_one(&mut *tx)
            .await
            .map_err(err)?;
            let tat: i64 = row.try_get("tat").map_err(err)?;
            let now: i64 = row.try_get("now").map_err(err)?;
            let now = i128::from(now) * 1_000;
            let (decision, next) = gcra::decide(Some(i128::from(tat)), now, quota);
            if let Some(next) = next {
                sqlx::query("UPDATE rate_limits SET tat = $2 WHERE key = $1")
                    .bind(key)
                    .bind(to_sql(next))
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                tx.commit().await.map_err(err)?;
            } else {
                // A refused request consumes nothing: the row goes back as it was.
                tx.rollback().await.map_err(err)?;
            }
            Ok(decision)
        })
    }
}

/// A key whose TAT has passed is as good as new: its row can go.
pub(super) async fn purge_expired(pool: &PgPool, limit: usize) -> Result<u64, StoreError> {
    // The outer condition is checked again on the row's latest version (see the nonces).
    let removed = sqlx::query(concat!(
        "DELETE FROM rate_limits WHERE key IN
             (SELECT key FROM rate_limits WHERE tat <= ",
        now_micros!(),
        " * 1000 LIMIT $1)
         AND tat <= ",
        now_micros!(),
        " * 1000"
    ))
    .bind(sql_limit(limit))
    .execute(pool)
    .await
    .map_err(|e| db_error("rate limit purge", e))?
    .rows_affected();
    Ok(removed)
}
