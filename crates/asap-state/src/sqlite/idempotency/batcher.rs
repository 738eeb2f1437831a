//! The writer task: calls queued, gathered into batches, applied, answered after commit.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use super::apply::apply;
use crate::{Begin, ErrorKind, IdempotencyKey, StoreError, StoredResponse};

/// Most calls one transaction applies.
pub(crate) const MAX_BATCH: usize = 256;

/// Calls waiting for the writer before senders wait for room.
pub(super) const QUEUE: usize = 4096;

/// One call for the writer task.
pub(super) enum Op {
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

/// What an applied call answers (once its transaction has committed, or with its error).
pub(super) enum Outcome {
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
    fn send(self) {
        // A caller that went away does not want its answer.
        match self {
            Outcome::Begin(reply, result) => drop(reply.send(result)),
            Outcome::Unit(reply, result) => drop(reply.send(result)),
        }
    }

    /// This outcome, or `commit`'s error when the transaction that applied it did not commit.
    pub(super) fn settle(self, commit: &Result<(), StoreError>) -> Self {
        match (self, commit) {
            (outcome, Ok(())) => outcome,
            (Outcome::Begin(reply, _), Err(e)) => Outcome::Begin(reply, Err(copy(e))),
            (Outcome::Unit(reply, _), Err(e)) => Outcome::Unit(reply, Err(copy(e))),
        }
    }
}

/// What the writer task needs, until the first call spawns it.
type Idle = (SqlitePool, mpsc::Receiver<Op>);

/// The sending side of the writer task; the task ends when every clone is dropped.
///
/// The task is spawned by the first call, on that call's runtime: in a server, the runtime
/// that serves the requests, so that handing a call to the writer and its answer back is a
/// task switch, not a wake-up of another runtime's thread, and so that the writer's yield
/// (see `run`) lets that runtime's ready requests join the batch.
#[derive(Debug, Clone)]
pub(crate) struct Batcher {
    ops: mpsc::Sender<Op>,
    idle: Arc<Mutex<Option<Idle>>>,
}

impl Op {
    pub(super) fn key(&self) -> &IdempotencyKey {
        match self {
            Op::Begin { key, .. } | Op::Complete { key, .. } | Op::Release { key, .. } => key,
        }
    }

    /// The outcome of a call that could not be applied.
    pub(super) fn fail(self, error: &StoreError) -> Outcome {
        match self {
            Op::Begin { reply, .. } => Outcome::Begin(reply, Err(copy(error))),
            Op::Complete { reply, .. } | Op::Release { reply, .. } => {
                Outcome::Unit(reply, Err(copy(error)))
            }
        }
    }
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
    /// A batcher writing through `writer`; its task starts with the first call.
    pub(crate) fn new(writer: SqlitePool) -> Self {
        let (ops, queue) = mpsc::channel(QUEUE);
        Self {
            ops,
            idle: Arc::new(Mutex::new(Some((writer, queue)))),
        }
    }

    pub(super) async fn call<T>(
        &self,
        op: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Op,
    ) -> Result<T, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((writer, queue)) = idle {
            tokio::spawn(run(writer, queue));
        }
        let (reply, answer) = oneshot::channel();
        self.ops.send(op(reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The same error for every call of a failed batch (a source error cannot be cloned; its
/// text is kept).
pub(super) fn copy(error: &StoreError) -> StoreError {
    StoreError::new(error.kind(), error.to_string())
}

fn stopped() -> StoreError {
    StoreError::new(
        ErrorKind::Unavailable,
        "the SQLite idempotency writer has stopped (its runtime ended)",
    )
}

/// Yields to the runtime at most this many times before applying a batch.
const GATHER_YIELDS: usize = 4;

async fn run(writer: SqlitePool, mut queue: mpsc::Receiver<Op>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Each commit writes its pages to the WAL whatever the number of calls it holds:
        // per call, small batches cost far more. Before applying, let the runtime run what
        // is ready (requests whose bytes have arrived) so that their calls join this batch,
        // as long as that brings new calls. An idle server loses one scheduler turn.
        for _ in 0..GATHER_YIELDS {
            if batch.len() >= MAX_BATCH {
                break;
            }
            tokio::task::yield_now().await;
            let before = batch.len();
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(op) => batch.push(op),
                    Err(_) => break,
                }
            }
            if batch.len() == before {
                break;
            }
        }
        for outcome in apply(&writer, std::mem::take(&mut batch)).await {
            outcome.send();
        }
    }
}
