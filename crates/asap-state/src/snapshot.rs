use asap_model::{SnapshotId, StateSnapshot, TaskId};

use crate::{ErrorKind, StoreError, StoreFuture};

/// A stored snapshot and the schema version its `data` was written with.
///
/// The schema version belongs to the application (the handler that writes the snapshot), not to
/// the protocol: migration functions registered for a task kind upgrade `data` written by an
/// older version when it is read (see the crate's migration support).
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotRecord {
    /// The snapshot as on the wire (§13).
    pub snapshot: StateSnapshot,
    /// The version of the schema `snapshot.data` follows, starting at 1.
    pub schema_version: u32,
}

/// Versioned task snapshots: the §13 contract, plus lookup by snapshot id.
///
/// # Contract
///
/// - [`save`](SnapshotStore::save) stores under (`task_id`, `version`); the **caller** chooses
///   `version`; the same pair overwrites (the previous record of that pair is gone, also from
///   [`get_by_id`](SnapshotStore::get_by_id) under its old id).
/// - [`get`](SnapshotStore::get) with `Some(version)` gives that version; with `None` the
///   **highest version number** stored (not the most recently saved); nothing → `None`.
/// - [`list_versions`](SnapshotStore::list_versions): ascending; unknown task → `[]`.
/// - [`delete`](SnapshotStore::delete) with `Some(version)` removes one version, with `None` all of
///   the task's; returns whether anything was removed. After deleting the highest version,
///   `get(task, None)` gives the next highest.
/// - [`get_by_id`](SnapshotStore::get_by_id): the record whose `snapshot.id` is `id` (fixing the
///   reference's I-16), or `None`.
/// - [`list_tasks`](SnapshotStore::list_tasks) (optional, for tools that walk the whole store):
///   the task ids with at least one stored snapshot, ascending in the byte order of the id,
///   from strictly after `after`, at most `limit`; a backend that cannot list answers
///   [`ErrorKind::Unsupported`].
///
/// # Atomicity
///
/// Each call is atomic: a concurrent `get` sees a record entirely before or entirely after a
/// `save`, never a mix, and concurrent saves of one pair leave exactly one of them stored.
pub trait SnapshotStore: Send + Sync {
    /// Stores (or overwrites) `record` under its task id and version.
    fn save<'a>(&'a self, record: &'a SnapshotRecord) -> StoreFuture<'a, ()>;

    /// One version of a task's snapshots, or the highest when `version` is `None`.
    fn get<'a>(
        &'a self,
        task_id: &'a TaskId,
        version: Option<i64>,
    ) -> StoreFuture<'a, Option<SnapshotRecord>>;

    /// The stored versions of `task_id`, ascending.
    fn list_versions<'a>(&'a self, task_id: &'a TaskId) -> StoreFuture<'a, Vec<i64>>;

    /// Removes one version, or all when `version` is `None`; `true` when anything was removed.
    fn delete<'a>(&'a self, task_id: &'a TaskId, version: Option<i64>) -> StoreFuture<'a, bool>;

    /// The record whose snapshot id is `id`.
    fn get_by_id<'a>(&'a self, id: &'a SnapshotId) -> StoreFuture<'a, Option<SnapshotRecord>>;

    /// Up to `limit` task ids that have snapshots, ascending, each greater than `after`:
    /// one page of a walk over the whole store (pass the last id of a page as `after` of the
    /// next; an empty page ends the walk). Used by
    /// [`migrate_all`](crate::migrate::migrate_all) and `asap state export`.
    ///
    /// Provided so that adding it breaks no backend: the default answers
    /// [`ErrorKind::Unsupported`]. The memory, SQLite and PostgreSQL backends implement it.
    fn list_tasks<'a>(
        &'a self,
        after: Option<&'a TaskId>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<TaskId>> {
        let _ = (after, limit);
        Box::pin(std::future::ready(Err(StoreError::new(
            ErrorKind::Unsupported,
            "this snapshot store cannot list its tasks",
        ))))
    }
}
