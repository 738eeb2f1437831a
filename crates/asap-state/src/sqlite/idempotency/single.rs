//! One call, one statement (or two): keys already present, keys seen twice in a batch,
//! releases.

use std::time::Duration;

use sqlx::{Row, SqliteConnection};

use super::super::error::db_error;
use super::super::{micros_after, now_micros};
use crate::{Begin, IdempotencyKey, StoreError, StoredResponse};

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

pub(super) async fn begin(
    conn: &mut SqliteConnection,
    key: &IdempotencyKey,
    fingerprint: &str,
    lease: Duration,
    ttl: Duration,
) -> Result<Begin, StoreError> {
    let err = |e| db_error("idempotency begin", e);
    let now = now_micros();
    // A fresh key (the common case: clients send a new one per request) is claimed by one
    // statement; a key already present is read and classified.
    let inserted = sqlx::query(
        "INSERT INTO idempotency (sender, key, fingerprint, lease_until, body, expires_at)
         VALUES (?, ?, ?, ?, NULL, ?)
         ON CONFLICT (sender, key) DO NOTHING",
    )
    .bind(key.sender.as_str())
    .bind(key.key.as_str())
    .bind(fingerprint)
    .bind(micros_after(now, lease))
    .bind(micros_after(now, ttl))
    .execute(&mut *conn)
    .await
    .map_err(err)?
    .rows_affected();
    if inserted == 1 {
        return Ok(Begin::Started);
    }
    let row = sqlx::query(
        "SELECT fingerprint, lease_until, body FROM idempotency
         WHERE sender = ? AND key = ? AND expires_at > ?",
    )
    .bind(key.sender.as_str())
    .bind(key.key.as_str())
    .bind(now)
    .fetch_optional(&mut *conn)
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
        .execute(&mut *conn)
        .await
        .map_err(err)?;
    }
    Ok(answer)
}

pub(super) async fn complete(
    conn: &mut SqliteConnection,
    key: &IdempotencyKey,
    response: &StoredResponse,
    ttl: Duration,
) -> Result<(), StoreError> {
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
    .execute(&mut *conn)
    .await
    .map_err(|e| db_error("idempotency complete", e))?;
    Ok(())
}

pub(super) async fn release(
    conn: &mut SqliteConnection,
    key: &IdempotencyKey,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM idempotency WHERE sender = ? AND key = ? AND lease_until IS NOT NULL")
        .bind(key.sender.as_str())
        .bind(key.key.as_str())
        .execute(&mut *conn)
        .await
        .map_err(|e| db_error("idempotency release", e))?;
    Ok(())
}
