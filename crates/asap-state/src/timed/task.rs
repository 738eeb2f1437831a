//! Timed [`TaskStore`] calls.

use asap_model::{JsonObject, Task, TaskId, TaskStatus};

use super::Timed;
use crate::{StatusChange, StoreFuture, TaskStore};

impl<S: TaskStore + ?Sized> TaskStore for Timed<S> {
    fn create<'a>(&'a self, task: &'a Task) -> StoreFuture<'a, ()> {
        self.time("create", self.inner.create(task))
    }

    fn get<'a>(&'a self, id: &'a TaskId) -> StoreFuture<'a, Option<Task>> {
        self.time("get", self.inner.get(id))
    }

    fn transition<'a>(
        &'a self,
        id: &'a TaskId,
        to: TaskStatus,
        progress: Option<JsonObject>,
    ) -> StoreFuture<'a, Task> {
        self.time("transition", self.inner.transition(id, to, progress))
    }

    fn set_progress<'a>(&'a self, id: &'a TaskId, progress: JsonObject) -> StoreFuture<'a, Task> {
        self.time("set_progress", self.inner.set_progress(id, progress))
    }

    fn history<'a>(&'a self, id: &'a TaskId) -> StoreFuture<'a, Vec<StatusChange>> {
        self.time("history", self.inner.history(id))
    }

    fn list_by_status(&self, status: TaskStatus, limit: usize) -> StoreFuture<'_, Vec<Task>> {
        self.time("list_by_status", self.inner.list_by_status(status, limit))
    }

    fn list_ids<'a>(
        &'a self,
        after: Option<&'a TaskId>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<TaskId>> {
        self.time("list_ids", self.inner.list_ids(after, limit))
    }

    fn count_by_status(&self) -> StoreFuture<'_, Vec<(TaskStatus, u64)>> {
        self.time("count_by_status", self.inner.count_by_status())
    }

    fn import<'a>(&'a self, task: &'a Task, history: &'a [StatusChange]) -> StoreFuture<'a, ()> {
        self.time("import", self.inner.import(task, history))
    }
}
