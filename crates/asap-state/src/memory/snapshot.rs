use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use asap_model::{SnapshotId, TaskId};

use super::ready;
use crate::{Ping, SnapshotRecord, SnapshotStore, StoreFuture};

/// Default [`MemorySnapshotStore`] capacity, in snapshot records.
pub const DEFAULT_SNAPSHOT_CAPACITY: usize = 100_000;

/// An in-process [`SnapshotStore`]: one lock over all records, bounded.
///
/// At most `capacity` records are held; saving a new (task, version) pair into a full store
/// evicts the **least recently saved** record. Nothing survives the process.
pub struct MemorySnapshotStore {
    inner: Mutex<Inner>,
    capacity: usize,
}

#[derive(Default)]
struct Inner {
    by_task: HashMap<TaskId, BTreeMap<i64, Slot>>,
    by_id: HashMap<SnapshotId, (TaskId, i64)>,
    /// Save sequence → pair, oldest first (eviction order).
    saved: BTreeMap<u64, (TaskId, i64)>,
    next_seq: u64,
    len: usize,
}

struct Slot {
    record: SnapshotRecord,
    seq: u64,
}

impl std::fmt::Debug for MemorySnapshotStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySnapshotStore")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl MemorySnapshotStore {
    /// A store with the default capacity.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_SNAPSHOT_CAPACITY)
    }

    /// A store holding at most `capacity` records (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
        }
    }

    /// Records held now.
    pub fn len(&self) -> usize {
        self.lock().len
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every write of a call happens after its last fallible step, so a poisoned lock guards
    /// consistent data.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    fn remove(&mut self, task_id: &TaskId, version: i64) -> bool {
        let Some(versions) = self.by_task.get_mut(task_id) else {
            return false;
        };
        let Some(slot) = versions.remove(&version) else {
            return false;
        };
        if versions.is_empty() {
            self.by_task.remove(task_id);
        }
        self.saved.remove(&slot.seq);
        let id = &slot.record.snapshot.id;
        if self
            .by_id
            .get(id)
            .is_some_and(|(t, v)| t == task_id && *v == version)
        {
            self.by_id.remove(id);
        }
        self.len -= 1;
        true
    }

    fn save(&mut self, record: &SnapshotRecord, capacity: usize) {
        let task_id = &record.snapshot.task_id;
        let version = record.snapshot.version;
        self.remove(task_id, version);
        while self.len >= capacity {
            let Some((_, (t, v))) = self.saved.pop_first() else {
                break;
            };
            self.remove(&t, v);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.saved.insert(seq, (task_id.clone(), version));
        self.by_id
            .insert(record.snapshot.id.clone(), (task_id.clone(), version));
        self.by_task.entry(task_id.clone()).or_default().insert(
            version,
            Slot {
                record: record.clone(),
                seq,
            },
        );
        self.len += 1;
    }
}

impl Default for MemorySnapshotStore {
    fn default() -> Self {
        Self::new()
    }
}

impl SnapshotStore for MemorySnapshotStore {
    fn save<'a>(&'a self, record: &'a SnapshotRecord) -> StoreFuture<'a, ()> {
        self.lock().save(record, self.capacity);
        ready(Ok(()))
    }

    fn get<'a>(
        &'a self,
        task_id: &'a TaskId,
        version: Option<i64>,
    ) -> StoreFuture<'a, Option<SnapshotRecord>> {
        let inner = self.lock();
        let found = inner
            .by_task
            .get(task_id)
            .and_then(|versions| match version {
                Some(v) => versions.get(&v),
                None => versions.values().next_back(),
            });
        ready(Ok(found.map(|slot| slot.record.clone())))
    }

    fn list_versions<'a>(&'a self, task_id: &'a TaskId) -> StoreFuture<'a, Vec<i64>> {
        let inner = self.lock();
        let versions = inner
            .by_task
            .get(task_id)
            .map(|v| v.keys().copied().collect())
            .unwrap_or_default();
        ready(Ok(versions))
    }

    fn delete<'a>(&'a self, task_id: &'a TaskId, version: Option<i64>) -> StoreFuture<'a, bool> {
        let mut inner = self.lock();
        let removed = match version {
            Some(v) => inner.remove(task_id, v),
            None => {
                let versions: Vec<i64> = inner
                    .by_task
                    .get(task_id)
                    .map(|v| v.keys().copied().collect())
                    .unwrap_or_default();
                let mut any = false;
                for v in versions {
                    any |= inner.remove(task_id, v);
                }
                any
            }
        };
        ready(Ok(removed))
    }

    fn get_by_id<'a>(&'a self, id: &'a SnapshotId) -> StoreFuture<'a, Option<SnapshotRecord>> {
        let inner = self.lock();
        let found = inner.by_id.get(id).and_then(|(task_id, version)| {
            inner
                .by_task
                .get(task_id)
                .and_then(|versions| versions.get(version))
                .map(|slot| slot.record.clone())
        });
        ready(Ok(found))
    }

    fn list_tasks<'a>(
        &'a self,
        after: Option<&'a TaskId>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<TaskId>> {
        let inner = self.lock();
        let mut page: Vec<&TaskId> = inner
            .by_task
            .keys()
            .filter(|id| after.is_none_or(|after| *id > after))
            .collect();
        // The ids are not kept in order; one partition per page keeps a walk over the whole
        // store linear in its size per page instead of sorting every id each time.
        if page.len() > limit {
            if limit == 0 {
                page.clear();
            } else {
                page.select_nth_unstable(limit - 1);
                page.truncate(limit);
            }
        }
        page.sort_unstable();
        ready(Ok(page.into_iter().cloned().collect()))
    }
}

impl Ping for MemorySnapshotStore {
    fn ping(&self) -> StoreFuture<'_, ()> {
        ready(Ok(()))
    }
}
