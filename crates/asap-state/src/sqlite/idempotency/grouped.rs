//! One statement for many calls: the claims of fresh keys and the completions of a batch.
//!
//! sqlx runs every SQLite statement on the connection's worker thread and hands the result
//! back: each statement is a round trip between threads (two context switches when the server
//! runs on one CPU), which cost more than the row work of an idempotency record. A batch of
//! `n` keyed requests used to run about `2n` statements; grouped, it runs a claim statement
//! and a completion statement whatever `n` is. Both take the batch as **one** JSON array
//! parameter unpacked by `json_each`, so the SQL text never changes (sqlx keeps it prepared)
//! and no bind-parameter limit applies.
//!
//! Only keys that occur once in a batch are grouped; a key with several calls in one batch is
//! applied call by call in arrival order (see `apply` in the parent module), so grouping never
//! reorders two calls on one key.

use std::collections::HashSet;

use sqlx::{Row, SqliteConnection};

use super::super::error::db_error;
use crate::{ErrorKind, IdempotencyKey, StoreError};

/// A fresh claim: key, fingerprint, lease end and expiry (µs since the epoch).
pub(super) struct Claim<'a> {
    pub(super) key: &'a IdempotencyKey,
    pub(super) fingerprint: &'a str,
    pub(super) lease_until: i64,
    pub(super) expires_at: i64,
}

/// A completion: key, fingerprint, body and expiry.
pub(super) struct Completion<'a> {
    pub(super) key: &'a IdempotencyKey,
    pub(super) fingerprint: &'a str,
    pub(super) body: &'a [u8],
    pub(super) expires_at: i64,
}

/// Inserts an in-progress record for every claim whose key has no row yet; returns the keys
/// inserted (the others exist, live or expired, and are decided one by one).
pub(super) async fn claim(
    conn: &mut SqliteConnection,
    claims: &[Claim<'_>],
) -> Result<HashSet<IdempotencyKey>, StoreError> {
    let err = |e| db_error("idempotency begin", e);
    let inserted = sqlx::query(CLAIM)
        .bind(claims_json(claims)?)
        .fetch_all(&mut *conn)
        .await
        .map_err(err)?;
    keys(&inserted, err)
}

/// Stores every completion's response (replacing its in-progress record).
pub(super) async fn complete(
    conn: &mut SqliteConnection,
    completions: &[Completion<'_>],
) -> Result<(), StoreError> {
    sqlx::query(COMPLETE)
        .bind(completions_json(completions)?)
        .execute(&mut *conn)
        .await
        .map_err(|e| db_error("idempotency complete", e))?;
    Ok(())
}

/// Claims and completions in one transaction sent to SQLite as **one** query (`BEGIN
/// IMMEDIATE; claim; complete; COMMIT`): one round trip to the connection's thread for the
/// whole batch. Returns the keys claimed. On an error nothing is kept: the transaction is
/// rolled back.
pub(super) async fn in_one_transaction(
    conn: &mut SqliteConnection,
    claims: &[Claim<'_>],
    completions: &[Completion<'_>],
) -> Result<HashSet<IdempotencyKey>, StoreError> {
    let err = |e| db_error("idempotency batch", e);
    let rows = sqlx::query(batch_sql())
        .bind(claims_json(claims)?)
        .bind(completions_json(completions)?)
        .fetch_all(&mut *conn)
        .await;
    match rows {
        Ok(rows) => keys(&rows, err),
        Err(e) => {
            // The statements after the failed one did not run, COMMIT included. Without a
            // transaction open (BEGIN itself failed) this fails too, harmlessly.
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            Err(err(e))
        }
    }
}

/// `BEGIN IMMEDIATE; CLAIM; COMPLETE; COMMIT` (sqlx binds the `?`s of a multi-statement
/// query in order across its statements).
fn batch_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| format!("BEGIN IMMEDIATE; {CLAIM}; {COMPLETE}; COMMIT"))
}

/// Inserts an in-progress record for each `[sender, key, fingerprint, lease_until,
/// expires_at]` of the parameter whose key has no row; returns the keys inserted. `WHERE true`
/// is SQLite's documented way to let an upsert clause follow a SELECT.
const CLAIM: &str = "INSERT INTO idempotency
         (sender, key, fingerprint, lease_until, body, expires_at)
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, NULL, j.value ->> 4
     FROM json_each(?) AS j WHERE true
     ON CONFLICT (sender, key) DO NOTHING
     RETURNING sender, key";

/// Stores each `[sender, key, fingerprint, body_hex, expires_at]` of the parameter as a
/// completed record. Bodies are opaque bytes and JSON carries text: they travel as hex,
/// `unhex` restores them.
const COMPLETE: &str = "INSERT INTO idempotency
         (sender, key, fingerprint, lease_until, body, expires_at)
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, NULL, unhex(j.value ->> 3),
            j.value ->> 4
     FROM json_each(?) AS j WHERE true
     ON CONFLICT (sender, key) DO UPDATE SET
         fingerprint = excluded.fingerprint, lease_until = NULL,
         body = excluded.body, expires_at = excluded.expires_at";

/// The parameter of [`CLAIM`]. Tuples serialize as JSON arrays.
fn claims_json(claims: &[Claim<'_>]) -> Result<String, StoreError> {
    let rows: Vec<_> = claims
        .iter()
        .map(|c| {
            (
                &c.key.sender,
                &c.key.key,
                c.fingerprint,
                c.lease_until,
                c.expires_at,
            )
        })
        .collect();
    serde_json::to_string(&rows).map_err(json_error)
}

/// The parameter of [`COMPLETE`].
fn completions_json(completions: &[Completion<'_>]) -> Result<String, StoreError> {
    let rows: Vec<_> = completions
        .iter()
        .map(|c| {
            (
                &c.key.sender,
                &c.key.key,
                c.fingerprint,
                hex(c.body),
                c.expires_at,
            )
        })
        .collect();
    serde_json::to_string(&rows).map_err(json_error)
}

/// The `(sender, key)` rows a claim returned.
fn keys(
    rows: &[sqlx::sqlite::SqliteRow],
    err: impl Fn(sqlx::Error) -> StoreError,
) -> Result<HashSet<IdempotencyKey>, StoreError> {
    rows.iter()
        .map(|row| {
            Ok(IdempotencyKey {
                sender: row.try_get(0).map_err(&err)?,
                key: row.try_get(1).map_err(&err)?,
            })
        })
        .collect()
}

/// A batch that did not serialize (strings, numbers and tuples of them always do; kept an
/// error, not a panic).
fn json_error(error: serde_json::Error) -> StoreError {
    StoreError::new(ErrorKind::Other, format!("idempotency batch: {error}"))
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = Vec::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        hex.push(DIGITS[usize::from(byte >> 4)]);
        hex.push(DIGITS[usize::from(byte & 0x0f)]);
    }
    // Only ASCII digits were pushed.
    String::from_utf8(hex).unwrap_or_default()
}
