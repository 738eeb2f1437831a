//! Snapshot schema migrations over the memory store and (feature `sqlite`) the SQLite store:
//! upgrade on read, refusals, write-back, `migrate_all` in place, and the task listing it
//! walks.

use std::sync::Arc;

use asap_model::{JsonObject, SnapshotId, StateSnapshot, TaskId, Timestamp};
use asap_state::memory::MemorySnapshotStore;
use asap_state::migrate::{
    MigratingSnapshotStore, MigrationError, SnapshotMigrations, migrate_all, migrate_tasks,
};
use asap_state::{ErrorKind, SnapshotRecord, SnapshotStore, StoreFuture};

/// Counter snapshots: schema 1 `{"kind":"counter","count":N}`; 2 renames `count` to `total`;
/// 3 adds `"unit":"items"`.
fn counter_migrations() -> SnapshotMigrations {
    SnapshotMigrations::new()
        .kind("counter", 3)
        .step("counter", 1, rename_count)
        .step("counter", 2, add_unit)
}

fn rename_count(mut data: JsonObject) -> Result<JsonObject, MigrationError> {
    let count = data
        .remove("count")
        .ok_or_else(|| MigrationError::new("schema 1 counter without `count`"))?;
    data.insert("total".into(), count);
    Ok(data)
}

fn add_unit(mut data: JsonObject) -> Result<JsonObject, MigrationError> {
    data.insert("unit".into(), "items".into());
    Ok(data)
}

fn counter_data(count: i64) -> JsonObject {
    let mut data = JsonObject::new();
    data.insert("kind".into(), "counter".into());
    data.insert("count".into(), count.into());
    data
}

fn record(task_id: &TaskId, version: i64, data: JsonObject, schema_version: u32) -> SnapshotRecord {
    SnapshotRecord {
        snapshot: StateSnapshot {
            id: SnapshotId::generate(),
            task_id: task_id.clone(),
            version,
            data,
            checkpoint: true,
            created_at: Timestamp::now(),
        },
        schema_version,
    }
}

/// The data a schema 1 counter of `count` has at schema 3.
fn counter_v3(count: i64) -> JsonObject {
    let mut data = JsonObject::new();
    data.insert("kind".into(), "counter".into());
    data.insert("total".into(), count.into());
    data.insert("unit".into(), "items".into());
    data
}

async fn reads_upgrade_to_the_current_version(store: Arc<dyn SnapshotStore>) {
    let task = TaskId::generate();
    let v1: Vec<SnapshotRecord> = (1..=2)
        .map(|v| record(&task, v, counter_data(v * 10), 1))
        .collect();
    for r in &v1 {
        store.save(r).await.unwrap();
    }
    let migrating = MigratingSnapshotStore::new(store.clone(), counter_migrations());

    let latest = migrating.get(&task, None).await.unwrap().unwrap();
    assert_eq!(latest.schema_version, 3);
    assert_eq!(latest.snapshot.data, counter_v3(20));
    assert_eq!(
        latest.snapshot.id, v1[1].snapshot.id,
        "same snapshot, new data"
    );
    let first = migrating.get(&task, Some(1)).await.unwrap().unwrap();
    assert_eq!(first.snapshot.data, counter_v3(10));
    let by_id = migrating
        .get_by_id(&v1[0].snapshot.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_id, first);
    assert_eq!(migrating.get(&task, Some(3)).await.unwrap(), None);
    assert_eq!(migrating.list_versions(&task).await.unwrap(), [1, 2]);

    // Without write-back the store still holds schema 1.
    assert_eq!(
        store.get(&task, Some(1)).await.unwrap().as_ref(),
        Some(&v1[0])
    );

    // With it, one read rewrites the record.
    let writing = MigratingSnapshotStore::new(store.clone(), counter_migrations()).write_back(true);
    writing.get(&task, Some(1)).await.unwrap().unwrap();
    let stored = store.get(&task, Some(1)).await.unwrap().unwrap();
    assert_eq!(
        (stored.schema_version, stored.snapshot.data),
        (3, counter_v3(10))
    );
    let untouched = store.get(&task, Some(2)).await.unwrap().unwrap();
    assert_eq!(
        untouched.schema_version, 1,
        "only the record read is written back"
    );

    // A current record and one of an unregistered kind come back as stored.
    let current = record(&task, 5, counter_v3(50), 3);
    let mut other_data = JsonObject::new();
    other_data.insert("kind".into(), "timer".into());
    let other = record(&task, 6, other_data, 1);
    for r in [&current, &other] {
        store.save(r).await.unwrap();
        assert_eq!(
            migrating
                .get(&task, Some(r.snapshot.version))
                .await
                .unwrap()
                .as_ref(),
            Some(r)
        );
    }
}

async fn unusable_snapshots_are_refused(store: Arc<dyn SnapshotStore>) {
    let task = TaskId::generate();
    let v1 = record(&task, 1, counter_data(1), 1);
    let too_new = record(&task, 2, counter_v3(2), 4);
    let mut broken_data = JsonObject::new();
    broken_data.insert("kind".into(), "counter".into());
    let broken = record(&task, 3, broken_data, 1);
    for r in [&v1, &too_new, &broken] {
        store.save(r).await.unwrap();
    }

    // Current version 3, but no step from 2.
    let gap = SnapshotMigrations::new()
        .kind("counter", 3)
        .step("counter", 1, rename_count);
    let migrating = MigratingSnapshotStore::new(store.clone(), gap).write_back(true);
    let e = migrating.get(&task, Some(1)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Migration);
    assert!(
        e.message().contains("from schema version 2 to 3"),
        "{}",
        e.message()
    );
    let e = migrating.get_by_id(&v1.snapshot.id).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Migration);
    assert_eq!(
        store.get(&task, Some(1)).await.unwrap().as_ref(),
        Some(&v1),
        "a refused record is not written back"
    );

    let migrating = MigratingSnapshotStore::new(store.clone(), counter_migrations());
    let e = migrating.get(&task, Some(2)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaTooNew);
    assert!(
        e.message()
            .contains("schema version 4 is newer than the current version 3"),
        "{}",
        e.message()
    );
    // `get(None)` is version 3 here: a failing step.
    let e = migrating.get(&task, None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Migration);
    assert!(e.message().contains("without `count`"), "{}", e.message());
    let source = std::error::Error::source(&e).expect("the step's error is the source");
    assert_eq!(source.to_string(), "schema 1 counter without `count`");
}

async fn migrate_all_rewrites_in_place(store: Arc<dyn SnapshotStore>) {
    // More tasks than one listing page, so that the walk pages.
    let tasks: Vec<TaskId> = (0..620).map(|_| TaskId::generate()).collect();
    for (i, task) in tasks.iter().enumerate() {
        let count = i as i64;
        store
            .save(&record(task, 1, counter_data(count), 1))
            .await
            .unwrap();
        if i % 10 == 0 {
            store
                .save(&record(task, 2, counter_v3(count), 3))
                .await
                .unwrap();
        }
    }
    let odd = &tasks[7];
    store.save(&record(odd, 3, counter_v3(0), 9)).await.unwrap();
    let mut unnamed = JsonObject::new();
    unnamed.insert("free".into(), true.into());
    store
        .save(&record(odd, 4, unnamed.clone(), 1))
        .await
        .unwrap();

    let report = migrate_all(&*store, &counter_migrations()).await.unwrap();
    assert_eq!(report.examined, 620 + 62 + 2);
    assert_eq!(report.upgraded, 620);
    assert_eq!(report.current, 62);
    assert_eq!(report.unknown_kind, 1);
    assert_eq!(report.refused.len(), 1);
    assert_eq!(
        (&report.refused[0].task_id, report.refused[0].version),
        (odd, 3)
    );
    assert_eq!(report.refused[0].error.kind(), ErrorKind::SchemaTooNew);

    for (i, task) in tasks.iter().enumerate() {
        let stored = store.get(task, Some(1)).await.unwrap().unwrap();
        assert_eq!(stored.schema_version, 3);
        assert_eq!(stored.snapshot.data, counter_v3(i as i64));
    }
    let left = store.get(odd, Some(3)).await.unwrap().unwrap();
    assert_eq!(
        left.schema_version, 9,
        "a refused snapshot is left as stored"
    );
    assert_eq!(
        store
            .get(odd, Some(4))
            .await
            .unwrap()
            .unwrap()
            .snapshot
            .data,
        unnamed
    );

    let again = migrate_all(&*store, &counter_migrations()).await.unwrap();
    assert_eq!((again.upgraded, again.current), (0, 620 + 62));

    // The unnamed kind `""` is a lineage like any other.
    let unnamed_lineage = SnapshotMigrations::new().step("", 1, |mut data: JsonObject| {
        data.insert("seen".into(), 2.into());
        Ok(data)
    });
    let report = migrate_tasks(&*store, &unnamed_lineage, [odd.clone()])
        .await
        .unwrap();
    assert_eq!(
        (report.examined, report.upgraded, report.unknown_kind),
        (3, 1, 2)
    );
    let upgraded = store.get(odd, Some(4)).await.unwrap().unwrap();
    assert_eq!(upgraded.schema_version, 2);
    assert_eq!(
        upgraded.snapshot.data.get("seen").and_then(|v| v.as_i64()),
        Some(2)
    );
}

async fn list_tasks_pages_in_order(store: Arc<dyn SnapshotStore>) {
    let before = all_tasks(&*store, 1_000_000).await;
    let mut mine: Vec<TaskId> = (0..25).map(|_| TaskId::generate()).collect();
    for task in &mine {
        store
            .save(&record(task, 1, counter_data(1), 1))
            .await
            .unwrap();
        store
            .save(&record(task, 2, counter_data(2), 1))
            .await
            .unwrap();
    }
    let mut expected = before;
    expected.append(&mut mine);
    expected.sort();
    assert_eq!(all_tasks(&*store, 7).await, expected, "pages of 7");
    assert_eq!(all_tasks(&*store, 1).await, expected, "pages of 1");
    assert_eq!(
        store.list_tasks(None, 0).await.unwrap(),
        Vec::<TaskId>::new()
    );
    let last = expected.last().unwrap();
    assert_eq!(
        store.list_tasks(Some(last), 10).await.unwrap(),
        Vec::<TaskId>::new()
    );
}

async fn all_tasks(store: &dyn SnapshotStore, page: usize) -> Vec<TaskId> {
    let mut all = Vec::new();
    loop {
        let next = store.list_tasks(all.last(), page).await.unwrap();
        assert!(next.len() <= page);
        assert!(next.windows(2).all(|w| w[0] < w[1]), "ascending");
        if next.is_empty() {
            return all;
        }
        all.extend(next);
    }
}

async fn every_case(fresh: impl Fn() -> Arc<dyn SnapshotStore>) {
    reads_upgrade_to_the_current_version(fresh()).await;
    unusable_snapshots_are_refused(fresh()).await;
    migrate_all_rewrites_in_place(fresh()).await;
    list_tasks_pages_in_order(fresh()).await;
}

#[tokio::test]
async fn memory() {
    every_case(|| Arc::new(MemorySnapshotStore::new())).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    use asap_state::sqlite::SqliteStore;

    let dir = tempfile::tempdir().unwrap();
    let mut stores: Vec<Arc<dyn SnapshotStore>> = Vec::new();
    for i in 0..4 {
        let path = dir.path().join(format!("state-{i}.db"));
        let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();
        stores.push(Arc::new(store));
    }
    let next = std::sync::Mutex::new(stores.into_iter());
    every_case(|| next.lock().unwrap().next().expect("one store per case")).await;
}

/// A backend that does not implement the optional listing.
struct Unlisted(MemorySnapshotStore);

impl SnapshotStore for Unlisted {
    fn save<'a>(&'a self, record: &'a SnapshotRecord) -> StoreFuture<'a, ()> {
        self.0.save(record)
    }
    fn get<'a>(
        &'a self,
        task_id: &'a TaskId,
        version: Option<i64>,
    ) -> StoreFuture<'a, Option<SnapshotRecord>> {
        self.0.get(task_id, version)
    }
    fn list_versions<'a>(&'a self, task_id: &'a TaskId) -> StoreFuture<'a, Vec<i64>> {
        self.0.list_versions(task_id)
    }
    fn delete<'a>(&'a self, task_id: &'a TaskId, version: Option<i64>) -> StoreFuture<'a, bool> {
        self.0.delete(task_id, version)
    }
    fn get_by_id<'a>(&'a self, id: &'a SnapshotId) -> StoreFuture<'a, Option<SnapshotRecord>> {
        self.0.get_by_id(id)
    }
}

#[tokio::test]
async fn a_store_that_cannot_list_is_migrated_by_task() {
    let store = Unlisted(MemorySnapshotStore::new());
    let task = TaskId::generate();
    store
        .save(&record(&task, 1, counter_data(4), 1))
        .await
        .unwrap();
    let e = migrate_all(&store, &counter_migrations())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let report = migrate_tasks(&store, &counter_migrations(), [task.clone()])
        .await
        .unwrap();
    assert_eq!(report.upgraded, 1);
    let stored = store.get(&task, None).await.unwrap().unwrap();
    assert_eq!(stored.snapshot.data, counter_v3(4));

    // Through the wrapper, migrate_all goes to the wrapped store.
    let migrating =
        MigratingSnapshotStore::new(Arc::new(MemorySnapshotStore::new()), counter_migrations());
    migrating
        .inner()
        .save(&record(&task, 1, counter_data(5), 1))
        .await
        .unwrap();
    let report = migrating.migrate_all().await.unwrap();
    assert_eq!(report.upgraded, 1);
    let stored = migrating.inner().get(&task, None).await.unwrap().unwrap();
    assert_eq!(stored.schema_version, 3);
}

#[test]
fn registry_current_versions() {
    let migrations = SnapshotMigrations::new()
        .step("inferred", 1, Ok)
        .step("inferred", 2, Ok)
        .kind("declared", 1)
        .with_kind_member("type");
    assert_eq!(migrations.current("inferred"), Some(3));
    assert_eq!(migrations.current("declared"), Some(1));
    assert_eq!(migrations.current("other"), None);
    assert_eq!(migrations.kinds(), ["declared", "inferred"]);
    let mut data = JsonObject::new();
    data.insert("kind".into(), "inferred".into());
    assert_eq!(
        migrations.kind_of(&data),
        "",
        "the kind member is `type` here"
    );
    data.insert("type".into(), "declared".into());
    assert_eq!(migrations.kind_of(&data), "declared");
    data.insert("type".into(), 3.into());
    assert_eq!(
        migrations.kind_of(&data),
        "",
        "a non-string kind is the unnamed kind"
    );
}
