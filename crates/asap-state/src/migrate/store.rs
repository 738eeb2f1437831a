//! [`MigratingSnapshotStore`]: a snapshot store that upgrades what it reads.

use std::sync::Arc;

use asap_model::{SnapshotId, TaskId};

use super::{Migrated, SnapshotMigrations};
use crate::{SnapshotRecord, SnapshotStore, StoreFuture};

/// A [`SnapshotStore`] over another one whose reads ([`get`](SnapshotStore::get),
/// [`get_by_id`](SnapshotStore::get_by_id)) answer records upgraded to the current schema
/// version of their kind ([`SnapshotMigrations::upgrade`]); a record that cannot be upgraded
/// is refused with the upgrade's error, never returned at its old version.
///
/// Saves, deletes and listings pass through unchanged: the application saves data of the
/// current version, stamped with it.
///
/// # Write-back
///
/// Off by default: the stored record keeps its old version and every read upgrades it again
/// (cheap for small data, and the store is never written by a read). With
/// [`write_back(true)`](Self::write_back) an upgraded record is saved back under the same
/// task and version, so later reads find it current. That save is a plain
/// [`save`](SnapshotStore::save), not a compare-and-swap: a save of the same (task, version)
/// made between the read and the write-back is overwritten by the upgraded older record.
/// Turn it on only where each (task, version) is written once, as checkpoints are. A failed
/// write-back does not fail the read (the answer is right; the next read upgrades again).
///
/// ```
/// use std::sync::Arc;
/// use asap_state::memory::MemorySnapshotStore;
/// use asap_state::migrate::{MigratingSnapshotStore, SnapshotMigrations};
/// use asap_state::SnapshotStore;
///
/// let migrations = SnapshotMigrations::new().step("", 1, |data| Ok(data));
/// let store: Arc<dyn SnapshotStore> = Arc::new(
///     MigratingSnapshotStore::new(Arc::new(MemorySnapshotStore::new()), migrations)
///         .write_back(true),
/// );
/// # let _ = store;
/// ```
pub struct MigratingSnapshotStore<S: ?Sized = dyn SnapshotStore> {
    migrations: Arc<SnapshotMigrations>,
    write_back: bool,
    inner: Arc<S>,
}

impl<S: ?Sized> std::fmt::Debug for MigratingSnapshotStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigratingSnapshotStore")
            .field("migrations", &self.migrations)
            .field("write_back", &self.write_back)
            .finish_non_exhaustive()
    }
}

impl<S: ?Sized> Clone for MigratingSnapshotStore<S> {
    fn clone(&self) -> Self {
        Self {
            migrations: self.migrations.clone(),
            write_back: self.write_back,
            inner: self.inner.clone(),
        }
    }
}

impl<S: SnapshotStore + ?Sized> MigratingSnapshotStore<S> {
    /// Wraps `inner`, upgrading with `migrations`; write-back off.
    pub fn new(inner: Arc<S>, migrations: impl Into<Arc<SnapshotMigrations>>) -> Self {
        Self {
            migrations: migrations.into(),
            write_back: false,
            inner,
        }
    }

    /// Whether upgraded records are saved back (see [Write-back](Self#write-back)).
    #[must_use]
    pub fn write_back(mut self, on: bool) -> Self {
        self.write_back = on;
        self
    }

    /// The wrapped store.
    pub fn inner(&self) -> &Arc<S> {
        &self.inner
    }

    /// The registry.
    pub fn migrations(&self) -> &SnapshotMigrations {
        &self.migrations
    }

    /// [`migrate_all`](super::migrate_all) over the wrapped store with this registry: the
    /// whole store rewritten at the current versions. (Given this wrapper itself,
    /// `migrate_all` would read records already upgraded and find nothing to save.)
    pub async fn migrate_all(&self) -> Result<super::MigrationReport, crate::StoreError> {
        super::migrate_all(&*self.inner, &self.migrations).await
    }

    async fn upgraded(
        &self,
        found: Option<SnapshotRecord>,
    ) -> Result<Option<SnapshotRecord>, crate::StoreError> {
        let Some(mut record) = found else {
            return Ok(None);
        };
        if let Migrated::Upgraded { .. } = self.migrations.upgrade(&mut record)?
            && self.write_back
        {
            let _ = self.inner.save(&record).await;
        }
        Ok(Some(record))
    }
}

impl<S: SnapshotStore + ?Sized> SnapshotStore for MigratingSnapshotStore<S> {
    fn save<'a>(&'a self, record: &'a SnapshotRecord) -> StoreFuture<'a, ()> {
        self.inner.save(record)
    }

    fn get<'a>(
        &'a self,
        task_id: &'a TaskId,
        version: Option<i64>,
    ) -> StoreFuture<'a, Option<SnapshotRecord>> {
        Box::pin(async move {
            let found = self.inner.get(task_id, version).await?;
            self.upgraded(found).await
        })
    }

    fn list_versions<'a>(&'a self, task_id: &'a TaskId) -> StoreFuture<'a, Vec<i64>> {
        self.inner.list_versions(task_id)
    }

    fn delete<'a>(&'a self, task_id: &'a TaskId, version: Option<i64>) -> StoreFuture<'a, bool> {
        self.inner.delete(task_id, version)
    }

    fn get_by_id<'a>(&'a self, id: &'a SnapshotId) -> StoreFuture<'a, Option<SnapshotRecord>> {
        Box::pin(async move {
            let found = self.inner.get_by_id(id).await?;
            self.upgraded(found).await
        })
    }

    fn list_tasks<'a>(
        &'a self,
        after: Option<&'a TaskId>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<TaskId>> {
        self.inner.list_tasks(after, limit)
    }
}
