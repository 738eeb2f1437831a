//! Idempotency records in SQLite, written by group commit.
//!
//! Every request with a key costs a `begin` and a `complete` (or `release`): two writes on
//! the hot path of `asap.send`. Each write as its own transaction makes the server pay one
//! commit per call, and concurrent callers queue for SQLite's single writer one commit at a
//! time. Instead, calls are sent to one writer task ([`Batcher`]) that takes every call
//! waiting (up to [`MAX_BATCH`]), applies them in order in **one** `BEGIN IMMEDIATE`
//! transaction, commits, and only then answers each caller. Nothing is acknowledged before
//! its commit (a process kill loses no answered call), while under load one commit serves
//! many calls. An idle server commits each call at once: batching adds no wait, only the
//! queueing that waiting for the writer lock would have cost anyway.
//!
//! Inside the transaction, the claims of fresh keys and the completions each go to SQLite as
//! one statement for the whole batch ([`grouped`]); only a key with several calls in the
//! batch, an existing key and a release take a statement of their own.

mod apply;
mod batcher;
mod grouped;
mod single;

use std::time::Duration;

use sqlx::SqlitePool;

use batcher::Op;
pub(super) use batcher::{Batcher, MAX_BATCH};

use super::error::db_error;
use super::{SqliteStore, now_micros, sql_limit};
use crate::{Begin, IdempotencyKey, IdempotencyStore, StoreError, StoreFuture, StoredResponse};

impl IdempotencyStore for SqliteStore {
    fn begin<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        fingerprint: &'a str,
        lease: Duration,
        ttl: Duration,
    ) -> StoreFuture<'a, Begin> {
        Box::pin(self.batcher.call(move |reply| Op::Begin {
            key: key.clone(),
            fingerprint: fingerprint.to_owned(),
            lease,
            ttl,
            reply,
        }))
    }

    fn complete<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        response: &'a StoredResponse,
        ttl: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.batcher.call(move |reply| Op::Complete {
            key: key.clone(),
            response: response.clone(),
            ttl,
            reply,
        }))
    }

    fn release<'a>(&'a self, key: &'a IdempotencyKey) -> StoreFuture<'a, ()> {
        Box::pin(self.batcher.call(move |reply| Op::Release {
            key: key.clone(),
            reply,
        }))
    }

    fn purge_expired(&self, limit: usize) -> StoreFuture<'_, u64> {
        Box::pin(purge_expired(&self.writer, limit))
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
