//! Applying a batch of calls: grouped statements where they fit, call by call elsewhere.

use std::collections::{HashMap, HashSet};

use sqlx::{SqliteConnection, SqlitePool};

use super::super::error::db_error;
use super::super::{micros_after, now_micros};
use super::batcher::{Op, Outcome, copy};
use super::grouped;
use super::single::{begin, complete, release};
use crate::{Begin, IdempotencyKey};

/// Applies a batch: in one round trip to SQLite when it is made of claims of fresh keys and
/// completions only (the steady state under load), else in a transaction of its own.
pub(super) async fn apply(writer: &SqlitePool, ops: Vec<Op>) -> Vec<Outcome> {
    let single = keys_seen_once(&ops);
    let simple =
        single.iter().all(|s| *s) && !ops.iter().any(|op| matches!(op, Op::Release { .. }));
    if !simple {
        return transaction(writer, ops).await;
    }
    let mut conn = match writer.acquire().await {
        Ok(conn) => conn,
        Err(e) => {
            let error = db_error("idempotency batch", e);
            return ops.into_iter().map(|op| op.fail(&error)).collect();
        }
    };
    let now = now_micros();
    let claimed =
        grouped::in_one_transaction(&mut conn, &claims(&ops, now), &completions(&ops, now)).await;
    drop(conn);
    let claimed = match claimed {
        Ok(claimed) => claimed,
        Err(error) => return ops.into_iter().map(|op| op.fail(&error)).collect(),
    };
    let mut outcomes = Vec::with_capacity(ops.len());
    let mut existing = Vec::new();
    for op in ops {
        match op {
            Op::Begin { key, reply, .. } if claimed.contains(&key) => {
                outcomes.push(Outcome::Begin(reply, Ok(Begin::Started)));
            }
            Op::Complete { reply, .. } => outcomes.push(Outcome::Unit(reply, Ok(()))),
            // A key that has a row (live or expired): decided by reading it.
            op => existing.push(op),
        }
    }
    if !existing.is_empty() {
        outcomes.extend(transaction(writer, existing).await);
    }
    outcomes
}

/// The claims of fresh-looking keys among `ops` (begins whose key occurs once).
fn claims(ops: &[Op], now: i64) -> Vec<grouped::Claim<'_>> {
    let single = keys_seen_once(ops);
    ops.iter()
        .zip(single)
        .filter_map(|(op, single)| match op {
            Op::Begin {
                key,
                fingerprint,
                lease,
                ttl,
                ..
            } if single => Some(grouped::Claim {
                key,
                fingerprint,
                lease_until: micros_after(now, *lease),
                expires_at: micros_after(now, *ttl),
            }),
            _ => None,
        })
        .collect()
}

/// The completions among `ops` whose key occurs once.
fn completions(ops: &[Op], now: i64) -> Vec<grouped::Completion<'_>> {
    let single = keys_seen_once(ops);
    ops.iter()
        .zip(single)
        .filter_map(|(op, single)| match op {
            Op::Complete {
                key, response, ttl, ..
            } if single => Some(grouped::Completion {
                key,
                fingerprint: &response.fingerprint,
                body: &response.body,
                expires_at: micros_after(now, *ttl),
            }),
            _ => None,
        })
        .collect()
}

/// Applies `ops` in one transaction (when it does not commit, every call is answered with
/// that error, whatever its own outcome).
async fn transaction(writer: &SqlitePool, ops: Vec<Op>) -> Vec<Outcome> {
    let err = |e| db_error("idempotency batch", e);
    let mut tx = match writer.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => {
            let error = err(e);
            // Nothing was applied.
            return ops.into_iter().map(|op| op.fail(&error)).collect();
        }
    };
    let outcomes = apply_ops(&mut tx, ops).await;
    let commit = tx.commit().await.map_err(err);
    outcomes.into_iter().map(|o| o.settle(&commit)).collect()
}

/// Applies `ops` on `conn`: the claims of fresh keys and the completions in one statement
/// each, every other call (a key seen twice in the batch, an existing key, a release) one by
/// one in arrival order.
async fn apply_ops(conn: &mut SqliteConnection, ops: Vec<Op>) -> Vec<Outcome> {
    let single = keys_seen_once(&ops);
    let now = now_micros();
    let claims = claims(&ops, now);
    let claimed = if claims.is_empty() {
        Ok(HashSet::new())
    } else {
        grouped::claim(conn, &claims).await
    };
    drop(claims);
    let completions = completions(&ops, now);
    let completed = if completions.is_empty() {
        Ok(())
    } else {
        grouped::complete(conn, &completions).await
    };
    drop(completions);
    let (claimed, claim_error) = match claimed {
        Ok(claimed) => (claimed, None),
        Err(error) => (HashSet::new(), Some(error)),
    };
    let mut outcomes = Vec::with_capacity(ops.len());
    for (op, single) in ops.into_iter().zip(single) {
        outcomes.push(match op {
            Op::Begin {
                key,
                fingerprint,
                lease,
                ttl,
                reply,
            } => {
                let result = match &claim_error {
                    Some(error) if single => Err(copy(error)),
                    _ if single && claimed.contains(&key) => Ok(Begin::Started),
                    // Grouped but present already (live or expired), or not grouped.
                    _ => begin(conn, &key, &fingerprint, lease, ttl).await,
                };
                Outcome::Begin(reply, result)
            }
            Op::Complete { reply, .. } if single => {
                Outcome::Unit(reply, completed.as_ref().map_err(copy).copied())
            }
            Op::Complete {
                key,
                response,
                ttl,
                reply,
            } => Outcome::Unit(reply, complete(conn, &key, &response, ttl).await),
            Op::Release { key, reply } => Outcome::Unit(reply, release(conn, &key).await),
        });
    }
    outcomes
}

/// For each op, whether its key occurs only once in `ops`.
fn keys_seen_once(ops: &[Op]) -> Vec<bool> {
    let mut counts: HashMap<&IdempotencyKey, u32> = HashMap::with_capacity(ops.len());
    for op in ops {
        *counts.entry(op.key()).or_default() += 1;
    }
    ops.iter().map(|op| counts[op.key()] == 1).collect()
}
