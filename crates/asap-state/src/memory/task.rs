use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use asap_model::{JsonObject, Task, TaskId, TaskStatus, Timestamp};

use super::ready;
use crate::{ErrorKind, Ping, StatusChange, StoreError, StoreFuture, TaskStore, check_history};

/// Default [`MemoryTaskStore`] capacity, in tasks.
pub const DEFAULT_TASK_CAPACITY: usize = 100_000;

/// An in-process [`TaskStore`]: one lock over all tasks, bounded.
///
/// Every call runs under one mutex, so a transition's read-check-write is atomic. At most
/// `capacity` tasks are held: creating a task in a full store evicts the least recently
/// updated task in a **terminal** status (with its history). When every task is still live,
/// `create` is refused with [`ErrorKind::Unavailable`] rather than dropping work in progress.
/// Nothing survives the process.
pub struct MemoryTaskStore {
    inner: Mutex<Inner>,
    capacity: usize,
}

#[derive(Default)]
struct Inner {
    tasks: HashMap<TaskId, Entry>,
    /// (status, updated_at µs, write sequence, id): `list_by_status` and terminal eviction
    /// read it in order.
    index: BTreeSet<IndexKey>,
    next_seq: u64,
}

type IndexKey = (usize, i64, u64, TaskId);

struct Entry {
    task: Task,
    history: Vec<StatusChange>,
    key: IndexKey,
}

fn status_rank(status: TaskStatus) -> usize {
    TaskStatus::ALL
        .iter()
        .position(|s| *s == status)
        .unwrap_or(usize::MAX)
}

impl std::fmt::Debug for MemoryTaskStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTaskStore")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl MemoryTaskStore {
    /// A store with the default capacity.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_TASK_CAPACITY)
    }

    /// A store holding at most `capacity` tasks (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
        }
    }

    /// Tasks held now.
    pub fn len(&self) -> usize {
        self.lock().tasks.len()
    }

    /// Whether no task is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A panic under the lock happens before any write of the call (the writes are plain
    /// inserts that do not panic), so the state is consistent and poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a new `task` with `history`.
    fn insert_now(&self, task: &Task, history: Vec<StatusChange>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.tasks.contains_key(&task.id) {
            return Err(StoreError::new(
                ErrorKind::AlreadyExists,
                format!("task {} already exists", task.id),
            ));
        }
        if inner.tasks.len() >= self.capacity && !inner.evict_terminal() {
            return Err(StoreError::new(
                ErrorKind::Unavailable,
                format!(
                    "task store full: {} tasks, none in a terminal status",
                    self.capacity
                ),
            ));
        }
        let key = inner.key_for(task);
        inner.index.insert(key.clone());
        inner.tasks.insert(
            task.id.clone(),
            Entry {
                task: task.clone(),
                history,
                key,
            },
        );
        Ok(())
    }

    fn update(
        &self,
        id: &TaskId,
        change: impl FnOnce(&Task) -> Result<Task, StoreError>,
    ) -> Result<Task, StoreError> {
        let mut inner = self.lock();
        let Some(entry) = inner.tasks.get(id) else {
            return Err(not_found(id));
        };
        let next = change(&entry.task)?;
        let from = entry.task.status;
        let old_key = entry.key.clone();
        let key = inner.key_for(&next);
        inner.index.remove(&old_key);
        inner.index.insert(key.clone());
        let entry = inner.tasks.get_mut(id).ok_or_else(|| not_found(id))?;
        if next.status != from {
            entry.history.push(StatusChange {
                from: Some(from),
                to: next.status,
                at: next.updated_at,
            });
        }
        entry.task = next.clone();
        entry.key = key;
        Ok(next)
    }
}

fn not_found(id: &TaskId) -> StoreError {
    StoreError::new(ErrorKind::NotFound, format!("task {id} not found"))
}

impl Inner {
    fn key_for(&mut self, task: &Task) -> IndexKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        (
            status_rank(task.status),
            task.updated_at.unix_micros(),
            seq,
            task.id.clone(),
        )
    }

    /// Drops the least recently updated terminal task; `false` when there is none.
    fn evict_terminal(&mut self) -> bool {
        let oldest = TaskStatus::ALL
            .iter()
            .filter(|s| s.is_terminal())
            .filter_map(|s| {
                let rank = status_rank(*s);
                self.index
                    .range((rank, i64::MIN, 0, TaskId::default())..)
                    .next()
                    .filter(|k| k.0 == rank)
                    .cloned()
            })
            .min_by_key(|k| (k.1, k.2));
        match oldest {
            Some(key) => {
                self.index.remove(&key);
                self.tasks.remove(&key.3);
                true
            }
            None => false,
        }
    }
}

impl Default for MemoryTaskStore {
    fn default() -> Self {
        Self::new()
    }
}

impl TaskStore for MemoryTaskStore {
    fn create<'a>(&'a self, task: &'a Task) -> StoreFuture<'a, ()> {
        let creation = StatusChange {
            from: None,
            to: task.status,
            at: task.updated_at,
        };
        ready(self.insert_now(task, vec![creation]))
    }

    fn get<'a>(&'a self, id: &'a TaskId) -> StoreFuture<'a, Option<Task>> {
        ready(Ok(self.lock().tasks.get(id).map(|e| e.task.clone())))
    }

    fn transition<'a>(
        &'a self,
        id: &'a TaskId,
        to: TaskStatus,
        progress: Option<JsonObject>,
    ) -> StoreFuture<'a, Task> {
        ready(self.update(id, |task| {
            let mut next = task.transition(to)?;
            if let Some(progress) = progress {
                next.progress = Some(progress);
            }
            Ok(next)
        }))
    }

    fn set_progress<'a>(&'a self, id: &'a TaskId, progress: JsonObject) -> StoreFuture<'a, Task> {
        ready(self.update(id, |task| {
            let mut next = task.clone();
            next.progress = Some(progress);
            next.updated_at = Timestamp::now();
            Ok(next)
        }))
    }

    fn history<'a>(&'a self, id: &'a TaskId) -> StoreFuture<'a, Vec<StatusChange>> {
        let history = self
            .lock()
            .tasks
            .get(id)
            .map(|e| e.history.clone())
            .unwrap_or_default();
        ready(Ok(history))
    }

    fn list_by_status(&self, status: TaskStatus, limit: usize) -> StoreFuture<'_, Vec<Task>> {
        let rank = status_rank(status);
        let inner = self.lock();
        let tasks = inner
            .index
            .range((rank, i64::MIN, 0, TaskId::default())..)
            .take_while(|k| k.0 == rank)
            .take(limit)
            .filter_map(|k| inner.tasks.get(&k.3).map(|e| e.task.clone()))
            .collect();
        ready(Ok(tasks))
    }

    fn count_by_status(&self) -> StoreFuture<'_, Vec<(TaskStatus, u64)>> {
        let inner = self.lock();
        let mut counts: Vec<(TaskStatus, u64)> = Vec::new();
        for entry in inner.tasks.values() {
            match counts.iter_mut().find(|(s, _)| *s == entry.task.status) {
                Some((_, n)) => *n += 1,
                None => counts.push((entry.task.status, 1)),
            }
        }
        ready(Ok(counts))
    }

    fn list_ids<'a>(
        &'a self,
        after: Option<&'a TaskId>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<TaskId>> {
        ready(Ok(self.ids_after(after, limit)))
    }

    fn import<'a>(&'a self, task: &'a Task, history: &'a [StatusChange]) -> StoreFuture<'a, ()> {
        ready(check_history(task, history).and_then(|()| self.insert_now(task, history.to_vec())))
    }
}

impl MemoryTaskStore {
    fn ids_after(&self, after: Option<&TaskId>, limit: usize) -> Vec<TaskId> {
        let inner = self.lock();
        // The map has no order: sort the page's candidates (at most the store's capacity).
        let mut ids: Vec<&TaskId> = inner
            .tasks
            .keys()
            .filter(|id| after.is_none_or(|after| id.as_str() > after.as_str()))
            .collect();
        ids.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        ids.into_iter().take(limit).cloned().collect()
    }
}

impl Ping for MemoryTaskStore {
    fn ping(&self) -> StoreFuture<'_, ()> {
        ready(Ok(()))
    }
}
