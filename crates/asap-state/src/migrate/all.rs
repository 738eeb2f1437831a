//! Upgrading every stored snapshot in place.

use asap_model::TaskId;

use super::{Migrated, SnapshotMigrations};
use crate::{ErrorKind, SnapshotStore, StoreError};

/// Task ids read per [`list_tasks`](SnapshotStore::list_tasks) page.
const PAGE: usize = 500;

/// A snapshot [`migrate_all`] left as stored because it cannot be upgraded.
#[derive(Debug)]
#[non_exhaustive]
pub struct RefusedSnapshot {
    /// Its task.
    pub task_id: TaskId,
    /// Its version.
    pub version: i64,
    /// Why: [`ErrorKind::Migration`] or [`ErrorKind::SchemaTooNew`].
    pub error: StoreError,
}

/// What [`migrate_all`] or [`migrate_tasks`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct MigrationReport {
    /// Snapshots read.
    pub examined: usize,
    /// Snapshots upgraded and saved back.
    pub upgraded: usize,
    /// Snapshots already at the current version of their kind.
    pub current: usize,
    /// Snapshots of a kind with no registered lineage, left as stored.
    pub unknown_kind: usize,
    /// Snapshots that cannot be upgraded, left as stored.
    pub refused: Vec<RefusedSnapshot>,
}

/// Upgrades every snapshot of `store` to the current version of its kind and saves it back
/// under the same task and version, walking the store with
/// [`list_tasks`](SnapshotStore::list_tasks) (a backend without it answers
/// [`ErrorKind::Unsupported`]; give [`migrate_tasks`] the task ids instead).
///
/// A snapshot that cannot be upgraded (a missing or failing step, a version newer than the
/// current one) is left as stored and listed in [`MigrationReport::refused`]; the walk goes
/// on. Any other store error ends it with that error; what was saved until then stays
/// upgraded, and a second run takes up the rest (an upgraded record is current and is not
/// written again), so the function can simply be run again.
///
/// Each save is a plain [`save`](SnapshotStore::save): run it while nothing else writes the
/// snapshots it upgrades, or a save made between its read and its write-back is overwritten
/// (see [`MigratingSnapshotStore`](super::MigratingSnapshotStore#write-back)). Give it the
/// plain store, not a `MigratingSnapshotStore`, whose reads are already upgraded (so
/// nothing would be saved): use
/// [`MigratingSnapshotStore::migrate_all`](super::MigratingSnapshotStore::migrate_all).
///
/// The application calls it from its own binary, where its steps are registered: a step is
/// Rust code, which the `asap` command-line tool cannot have.
pub async fn migrate_all<S: SnapshotStore + ?Sized>(
    store: &S,
    migrations: &SnapshotMigrations,
) -> Result<MigrationReport, StoreError> {
    let mut report = MigrationReport::default();
    let mut after: Option<TaskId> = None;
    loop {
        let page = store.list_tasks(after.as_ref(), PAGE).await?;
        let Some(last) = page.last().cloned() else {
            break;
        };
        for task_id in &page {
            migrate_task(store, migrations, task_id, &mut report).await?;
        }
        after = Some(last);
    }
    Ok(report)
}

/// [`migrate_all`] for the snapshots of the given tasks only: for a backend that cannot list
/// its tasks, or to migrate a part of a store.
pub async fn migrate_tasks<S, I>(
    store: &S,
    migrations: &SnapshotMigrations,
    tasks: I,
) -> Result<MigrationReport, StoreError>
where
    S: SnapshotStore + ?Sized,
    I: IntoIterator<Item = TaskId>,
{
    let mut report = MigrationReport::default();
    for task_id in tasks {
        migrate_task(store, migrations, &task_id, &mut report).await?;
    }
    Ok(report)
}

async fn migrate_task<S: SnapshotStore + ?Sized>(
    store: &S,
    migrations: &SnapshotMigrations,
    task_id: &TaskId,
    report: &mut MigrationReport,
) -> Result<(), StoreError> {
    for version in store.list_versions(task_id).await? {
        // Deleted since the listing: nothing to upgrade.
        let Some(mut record) = store.get(task_id, Some(version)).await? else {
            continue;
        };
        report.examined += 1;
        match migrations.upgrade(&mut record) {
            Ok(Migrated::Upgraded { .. }) => {
                store.save(&record).await?;
                report.upgraded += 1;
            }
            Ok(Migrated::Current) => report.current += 1,
            Ok(Migrated::UnknownKind) => report.unknown_kind += 1,
            Err(error)
                if matches!(error.kind(), ErrorKind::Migration | ErrorKind::SchemaTooNew) =>
            {
                report.refused.push(RefusedSnapshot {
                    task_id: task_id.clone(),
                    version,
                    error,
                });
            }
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
