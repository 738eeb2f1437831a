//! Timed [`SnapshotStore`] calls.

use asap_model::{SnapshotId, TaskId};

use super::Timed;
use crate::{SnapshotRecord, SnapshotStore, StoreFuture};

impl<S: SnapshotStore + ?Sized> SnapshotStore for Timed<S> {
    fn save<'a>(&'a self, record: &'a SnapshotRecord) -> StoreFuture<'a, ()> {
        self.time("save", self.inner.save(record))
    }

    fn get<'a>(
        &'a self,
        task_id: &'a TaskId,
        version: Option<i64>,
    ) -> StoreFuture<'a, Option<SnapshotRecord>> {
        self.time("get", self.inner.get(task_id, version))
    }

    fn list_versions<'a>(&'a self, task_id: &'a TaskId) -> StoreFuture<'a, Vec<i64>> {
        self.time("list_versions", self.inner.list_versions(task_id))
    }

    fn delete<'a>(&'a self, task_id: &'a TaskId, version: Option<i64>) -> StoreFuture<'a, bool> {
        self.time("delete", self.inner.delete(task_id, version))
    }

    fn get_by_id<'a>(&'a self, id: &'a SnapshotId) -> StoreFuture<'a, Option<SnapshotRecord>> {
        self.time("get_by_id", self.inner.get_by_id(id))
    }

    fn list_tasks<'a>(
        &'a self,
        after: Option<&'a TaskId>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<TaskId>> {
        self.time("list_tasks", self.inner.list_tasks(after, limit))
    }
}
