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

use std::time::Duration;

use sqlx::{Row, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::error::db_error;
use super::{SqliteStore, micros_after, now_micros, sql_limit};
use crate::{
    Begin, ErrorKind, IdempotencyKey, IdempotencyStore, StoreError, StoreFuture, StoredResponse,
};

/// Most calls one transaction applies.
pub(super) const MAX_BATCH: usize = 256;

/// Calls waiting for the writer before senders wait for room.
const QUEUE: usize = 4096;

/// One call for the writer task.
enum Op {
    Begin {
        key: IdempotencyKey,
        fingerprint: String,
        lease: Duration,
        ttl: Duration,
        reply: oneshot::Sender<Result<Begin, StoreError>>,
    },
    Complete {
        key: IdempotencyKey,
        response: StoredResponse,
        ttl: Duration,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    Release {
        key: IdempotencyKey,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// What an applied call answers once its batch has committed.
enum Outcome {
    Begin(
        oneshot::Sender<Result<Begin, StoreError>>,
        Result<Begin, StoreError>,
    ),
    Unit(
        oneshot::Sender<Result<(), StoreError>>,
        Result<(), StoreError>,
    ),
}

impl Outcome {
    fn send(self, commit: &Result<(), StoreError>) {
        // A caller that went away does not want its answer.
        match (self, commit) {
            (Outcome::Begin(reply, result), Ok(())) => drop(reply.send(result)),
            (Outcome::Unit(reply, result), Ok(())) => drop(reply.send(result)),
            (Outcome::Begin(reply, _), Err(e)) => drop(reply.send(Err(copy(e)))),
            (Outcome::Unit(reply, _), Err(e)) => drop(reply.send(Err(copy(e)))),
        }
    }
}

/// The sending side of the writer task; the task ends when every clone is dropped.
#[derive(Debug, Clone)]
pub(super) struct Batcher {
    ops: mpsc::Sender<Op>,
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Op::Begin { .. } => "Begin",
            Op::Complete { .. } => "Complete",
            Op::Release { .. } => "Release",
        })
    }
}

impl Batcher {
    /// Starts the writer task on the current tokio runtime, writing through `writer`.
    pub(super) fn start(writer: SqlitePool) -> Self {
        let (ops, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(writer, queue));
        Self { ops }
    }

    async fn call<T>(
        &self,
        op: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Op,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.ops.send(op(reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The same error for every call of a failed batch (a source error cannot be cloned; its
/// text is kept).
fn copy(error: &StoreError) -> StoreError {
    StoreError::new(error.kind(), error.to_string())
}

fn stopped() -> StoreError {
    StoreError::new(
        ErrorKind::Unavailable,
        "the SQLite idempotency writer has stopped (its runtime ended)",
    )
}

async fn run(writer: SqlitePool, mut queue: mpsc::Receiver<Op>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (outcomes, commit) = apply(&writer, batch.drain(..)).await;
        for outcome in outcomes {
            outcome.send(&commit);
        }
    }
}

/// Applies `ops` in one transaction: their outcomes, and whether it committed (when it did
/// not, every call is answered with that error, whatever its own outcome).
async fn apply(
    writer: &SqlitePool,
    ops: impl Iterator<Item = Op>,
) -> (Vec<Outcome>, Result<(), StoreError>) {
    let err = |e| db_error("idempotency batch", e);
    let mut outcomes = Vec::new();
    let mut tx = match writer.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => {
            let error = err(e);
            // Nothing was applied.
            for op in ops {
                outcomes.push(match op {
                    Op::Begin { reply, .. } => Outcome::Begin(reply, Err(copy(&error))),
                    Op::Complete { reply, .. } | Op::Release { reply, .. } => {
                        Outcome::Unit(reply, Err(copy(&error)))
                    }
                });
            }
            return (outcomes, Err(error));
        }
    };
    for op in ops {
        outcomes.push(match op {
            Op::Begin {
                key,
                fingerprint,
                lease,
                ttl,
                reply,
            } => Outcome::Begin(reply, begin(&mut tx, &key, &fingerprint, lease, ttl).await),
            Op::Complete {
                key,
                response,
                ttl,
                reply,
            } => Outcome::Unit(reply, complete(&mut tx, &key, &response, ttl).await),
            Op::Release { key, reply } => Outcome::Unit(reply, release(&mut tx, &key).await),
        });
    }
    let commit = tx.commit().await.map_err(err);
    (outcomes, commit)
}

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

async fn begin(
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

async fn complete(
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

async fn release(conn: &mut SqliteConnection, key: &IdempotencyKey) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM idempotency WHERE sender = ? AND key = ? AND lease_until IS NOT NULL")
        .bind(key.sender.as_str())
        .bind(key.key.as_str())
        .execute(&mut *conn)
        .await
        .map_err(|e| db_error("idempotency release", e))?;
    Ok(())
}

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
