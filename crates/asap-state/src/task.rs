use asap_model::{JsonObject, Task, TaskId, TaskStatus, Timestamp};

use crate::{ErrorKind, StoreError, StoreFuture};

/// One entry of a task's status history.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    /// The status before (`None` for the creation entry).
    pub from: Option<TaskStatus>,
    /// The status after.
    pub to: TaskStatus,
    /// When the change was stored (the task's `updated_at` after it).
    pub at: Timestamp,
}

/// Tasks and their status history.
///
/// # Contract
///
/// - [`create`](TaskStore::create) stores a new task and its first history entry
///   (`from: None, to: task.status`). A task id already stored is refused with
///   [`ErrorKind::AlreadyExists`](crate::ErrorKind::AlreadyExists); nothing is overwritten.
/// - [`transition`](TaskStore::transition) applies the asap-model state machine
///   ([`Task::transition`]) to the **stored** task: an illegal move (a self-transition, leaving a
///   terminal status…) is refused with [`ErrorKind::InvalidTransition`](crate::ErrorKind::InvalidTransition)
///   (built from [`asap_model::InvalidTransition`], so it maps to `asap:protocol/invalid_state`);
///   an unknown id with [`ErrorKind::NotFound`](crate::ErrorKind::NotFound). A legal move stores the
///   new status, `updated_at`, the progress when given, and one history entry, and returns the task
///   as stored.
/// - [`set_progress`](TaskStore::set_progress) replaces the progress object and stamps
///   `updated_at`, without a status change or history entry; an unknown id is
///   [`ErrorKind::NotFound`](crate::ErrorKind::NotFound).
/// - [`history`](TaskStore::history) lists the entries oldest first; an unknown id gives `[]`.
/// - [`list_by_status`](TaskStore::list_by_status) lists up to `limit` tasks in `status`, oldest
///   `updated_at` first (crash-resume asks for `working`).
///
/// # Atomicity
///
/// A transition is one atomic read-check-write with respect to every other call on the same
/// store, other processes included when the store is shared: of two concurrent transitions of
/// one task from the same status, both may only succeed if the second is legal from the first's
/// result (`working → completed` and `working → failed` racing: exactly one wins, the other is
/// refused as a transition from `completed`). The history never shows a change that the task's
/// status does not reflect. A SQL store does this in one transaction (or an `UPDATE … WHERE
/// status = <seen>` retried on conflict).
///
/// Once a call has returned `Ok`, its effect is durable to the degree the backend documents
/// (the in-memory store keeps nothing across a restart).
pub trait TaskStore: Send + Sync {
    /// Stores a new task.
    fn create<'a>(&'a self, task: &'a Task) -> StoreFuture<'a, ()>;

    /// The task with `id`, or `None`.
    fn get<'a>(&'a self, id: &'a TaskId) -> StoreFuture<'a, Option<Task>>;

    /// Moves the stored task to `to`, replacing its progress when `progress` is `Some`.
    fn transition<'a>(
        &'a self,
        id: &'a TaskId,
        to: TaskStatus,
        progress: Option<JsonObject>,
    ) -> StoreFuture<'a, Task>;

    /// Replaces the progress object of the stored task and stamps `updated_at` (no status
    /// change, no history entry).
    fn set_progress<'a>(&'a self, id: &'a TaskId, progress: JsonObject) -> StoreFuture<'a, Task>;

    /// The status history of `id`, oldest first.
    fn history<'a>(&'a self, id: &'a TaskId) -> StoreFuture<'a, Vec<StatusChange>>;

    /// Up to `limit` tasks currently in `status`, least recently updated first.
    fn list_by_status(&self, status: TaskStatus, limit: usize) -> StoreFuture<'_, Vec<Task>>;

    /// Up to `limit` task ids, ascending in the byte order of the id, each greater than
    /// `after`: one page of a walk over the whole store (pass the last id of a page as
    /// `after` of the next; an empty page ends the walk). Used by `asap state export`.
    ///
    /// Provided so that adding it breaks no backend: the default answers
    /// [`ErrorKind::Unsupported`]. The memory, SQLite and PostgreSQL backends implement it.
    fn list_ids<'a>(
        &'a self,
        after: Option<&'a TaskId>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<TaskId>> {
        let _ = (after, limit);
        Box::pin(std::future::ready(Err(StoreError::new(
            ErrorKind::Unsupported,
            "this task store cannot list its tasks",
        ))))
    }

    /// How many stored tasks are in each status, for the statuses that have any (order
    /// unspecified). For gauges such as `asap_tasks`; a scan or one grouped query, not for
    /// hot paths.
    ///
    /// Provided so that adding it breaks no backend: the default answers
    /// [`ErrorKind::Unsupported`]. The memory, SQLite and PostgreSQL backends implement it.
    fn count_by_status(&self) -> StoreFuture<'_, Vec<(TaskStatus, u64)>> {
        Box::pin(std::future::ready(Err(StoreError::new(
            ErrorKind::Unsupported,
            "this task store cannot count its tasks",
        ))))
    }

    /// Stores `task` with `history` exactly as given (restoring an export): no state machine
    /// step runs and no entry is stamped now. `history` must pass [`check_history`]; an id
    /// already stored is refused with [`ErrorKind::AlreadyExists`] and nothing is written.
    ///
    /// Provided so that adding it breaks no backend: the default answers
    /// [`ErrorKind::Unsupported`]. The memory, SQLite and PostgreSQL backends implement it.
    fn import<'a>(&'a self, task: &'a Task, history: &'a [StatusChange]) -> StoreFuture<'a, ()> {
        let _ = (task, history);
        Box::pin(std::future::ready(Err(StoreError::new(
            ErrorKind::Unsupported,
            "this task store cannot import tasks",
        ))))
    }
}

/// Whether `history` can be the status history of `task`: not empty, the first entry a
/// creation (`from: None`), each later entry starting where the one before ended, and the
/// last one ending in the task's status. A violation is [`ErrorKind::Corrupt`] naming it.
pub fn check_history(task: &Task, history: &[StatusChange]) -> Result<(), StoreError> {
    let bad = |what: String| {
        Err(StoreError::new(
            ErrorKind::Corrupt,
            format!("task {}: history {what}", task.id),
        ))
    };
    let Some(first) = history.first() else {
        return bad("is empty".into());
    };
    if let Some(from) = first.from {
        return bad(format!("starts with a change from {from}, not a creation"));
    }
    for (i, pair) in history.windows(2).enumerate() {
        if pair[1].from != Some(pair[0].to) {
            return bad(format!(
                "entry {} starts from {:?}, the entry before ended in {}",
                i + 2,
                pair[1].from,
                pair[0].to
            ));
        }
    }
    let last = history.last().map_or(first.to, |c| c.to);
    if last != task.status {
        return bad(format!("ends in {last}, the task is {}", task.status));
    }
    Ok(())
}
