use asap_model::{JsonObject, SnapshotId, StateSnapshot, TaskId, Timestamp};

use super::{RACERS, concurrently};
use crate::{SnapshotRecord, SnapshotStore, StoreError};

fn record(task_id: &TaskId, version: i64, writer: u64) -> SnapshotRecord {
    let mut data = JsonObject::new();
    data.insert("writer".into(), writer.into());
    data.insert(
        "nested".into(),
        serde_json::json!({"list": [1, 2.5, "three", null], "ok": true}),
    );
    SnapshotRecord {
        snapshot: StateSnapshot {
            id: SnapshotId::generate(),
            task_id: task_id.clone(),
            version,
            data,
            checkpoint: writer.is_multiple_of(2),
            created_at: Timestamp::now(),
        },
        schema_version: 1 + (writer % 3) as u32,
    }
}

fn ok<T>(result: Result<T, StoreError>, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("SnapshotStore: {what}: {e} ({:?})", e.kind()))
}

/// Checks a [`SnapshotStore`] against every clause of its contract.
pub async fn snapshot_store<S: SnapshotStore + ?Sized>(store: &S) {
    versions(store).await;
    overwrite_and_delete(store).await;
    racing_saves(store).await;
    walk(store).await;
}

async fn versions<S: SnapshotStore + ?Sized>(store: &S) {
    let task = TaskId::generate();
    assert_eq!(
        ok(store.get(&task, None).await, "get"),
        None,
        "SnapshotStore: get of an unknown task is None"
    );
    assert_eq!(
        ok(store.list_versions(&task).await, "list_versions"),
        Vec::<i64>::new(),
        "SnapshotStore: list_versions of an unknown task is []"
    );
    // Saved out of order: `get(None)` is the highest version, not the latest save.
    let records: Vec<SnapshotRecord> = [3, 1, 5, 2, 4]
        .iter()
        .map(|v| record(&task, *v, *v as u64))
        .collect();
    for r in &records {
        ok(store.save(r).await, "save");
    }
    assert_eq!(
        ok(store.list_versions(&task).await, "list_versions"),
        [1, 2, 3, 4, 5],
        "SnapshotStore: list_versions is ascending"
    );
    for r in &records {
        let version = r.snapshot.version;
        assert_eq!(
            ok(store.get(&task, Some(version)).await, "get").as_ref(),
            Some(r),
            "SnapshotStore: get(Some(v)) gives version {version} as saved"
        );
        assert_eq!(
            ok(store.get_by_id(&r.snapshot.id).await, "get_by_id").as_ref(),
            Some(r),
            "SnapshotStore: get_by_id finds the record"
        );
    }
    let highest = ok(store.get(&task, None).await, "get").map(|r| r.snapshot.version);
    assert_eq!(
        highest,
        Some(5),
        "SnapshotStore: get(None) gives the highest version"
    );
    assert_eq!(
        ok(store.get(&task, Some(6)).await, "get"),
        None,
        "SnapshotStore: get of a missing version is None"
    );
    assert_eq!(
        ok(store.get_by_id(&SnapshotId::generate()).await, "get_by_id"),
        None,
        "SnapshotStore: get_by_id of an unknown id is None"
    );
    ok(store.delete(&task, None).await, "delete");
}

async fn overwrite_and_delete<S: SnapshotStore + ?Sized>(store: &S) {
    let task = TaskId::generate();
    let other = TaskId::generate();
    let first: Vec<SnapshotRecord> = (1..=3).map(|v| record(&task, v, v as u64)).collect();
    for r in &first {
        ok(store.save(r).await, "save");
    }
    let untouched = record(&other, 1, 7);
    ok(store.save(&untouched).await, "save");

    let replacement = record(&task, 2, 20);
    ok(store.save(&replacement).await, "save");
    assert_eq!(
        ok(store.get(&task, Some(2)).await, "get").as_ref(),
        Some(&replacement),
        "SnapshotStore: saving a pair again overwrites it"
    );
    assert_eq!(
        ok(store.get_by_id(&first[1].snapshot.id).await, "get_by_id"),
        None,
        "SnapshotStore: an overwritten record is gone from get_by_id"
    );
    assert_eq!(
        ok(store.list_versions(&task).await, "list_versions"),
        [1, 2, 3],
        "SnapshotStore: an overwrite adds no version"
    );

    assert!(
        ok(store.delete(&task, Some(3)).await, "delete"),
        "SnapshotStore: deleting a stored version answers true"
    );
    assert!(
        !ok(store.delete(&task, Some(3)).await, "delete"),
        "SnapshotStore: deleting a missing version answers false"
    );
    assert_eq!(
        ok(store.get(&task, None).await, "get").as_ref(),
        Some(&replacement),
        "SnapshotStore: after deleting the highest, get(None) gives the next highest"
    );
    assert_eq!(
        ok(store.get_by_id(&first[2].snapshot.id).await, "get_by_id"),
        None,
        "SnapshotStore: a deleted record is gone from get_by_id"
    );

    assert!(
        ok(store.delete(&task, None).await, "delete"),
        "SnapshotStore: deleting all answers true when something was stored"
    );
    assert_eq!(
        ok(store.list_versions(&task).await, "list_versions"),
        Vec::<i64>::new(),
        "SnapshotStore: delete(None) removes every version"
    );
    assert_eq!(
        ok(store.get(&task, None).await, "get"),
        None,
        "SnapshotStore: nothing left after delete(None)"
    );
    assert_eq!(
        ok(store.get_by_id(&first[0].snapshot.id).await, "get_by_id"),
        None,
        "SnapshotStore: delete(None) removes from get_by_id"
    );
    assert!(
        !ok(store.delete(&task, None).await, "delete"),
        "SnapshotStore: deleting all of nothing answers false"
    );

    assert_eq!(
        ok(store.get(&other, None).await, "get").as_ref(),
        Some(&untouched),
        "SnapshotStore: another task's snapshots are untouched"
    );
    ok(store.delete(&other, None).await, "delete");
}

/// Racing saves of one pair leave exactly one of them; racing reads see whole records.
async fn racing_saves<S: SnapshotStore + ?Sized>(store: &S) {
    let task = TaskId::generate();
    let candidates: Vec<SnapshotRecord> = (0..RACERS as u64).map(|i| record(&task, 1, i)).collect();
    ok(store.save(&candidates[0]).await, "save");
    let (task, candidates) = (&task, &candidates);
    let reads = concurrently(RACERS * 2, |i| async move {
        if i % 2 == 0 {
            ok(store.save(&candidates[i / 2]).await, "save");
            None
        } else {
            ok(store.get(task, Some(1)).await, "get")
        }
    })
    .await;
    for seen in reads.into_iter().flatten() {
        assert!(
            candidates.contains(&seen),
            "SnapshotStore: a read during saves sees one whole record"
        );
    }
    let stored = ok(store.get(task, Some(1)).await, "get").expect("one record stored");
    assert!(
        candidates.contains(&stored),
        "SnapshotStore: racing saves leave one of them stored"
    );
    let mut found = 0;
    for c in candidates {
        if let Some(r) = ok(store.get_by_id(&c.snapshot.id).await, "get_by_id") {
            assert_eq!(r, stored, "SnapshotStore: get_by_id agrees with get");
            found += 1;
        }
    }
    assert_eq!(
        found, 1,
        "SnapshotStore: after racing saves exactly one id is stored"
    );
    assert_eq!(
        ok(store.list_versions(task).await, "list_versions"),
        [1],
        "SnapshotStore: racing saves of one pair store one version"
    );
    ok(store.delete(task, None).await, "delete");
}

/// `list_tasks`, where the backend has it (the default answers `Unsupported`): pages ascend
/// strictly, hold at most `limit` ids, each greater than `after`, name every task with
/// snapshots once (however many versions it has) and no task whose snapshots are deleted.
async fn walk<S: SnapshotStore + ?Sized>(store: &S) {
    match store.list_tasks(None, 1).await {
        Err(e) if e.kind() == crate::ErrorKind::Unsupported => return,
        other => {
            ok(other, "list_tasks");
        }
    }
    let mine: Vec<TaskId> = (0..9).map(|_| TaskId::generate()).collect();
    for (i, task) in (0_u64..).zip(&mine) {
        ok(store.save(&record(task, 1, i)).await, "save");
        ok(store.save(&record(task, 2, i)).await, "save");
    }
    let gone = &mine[4];
    ok(store.delete(gone, None).await, "delete");
    assert!(
        ok(store.list_tasks(None, 0).await, "list_tasks").is_empty(),
        "SnapshotStore: list_tasks with limit 0 lists nothing"
    );
    let mut seen: Vec<TaskId> = Vec::new();
    loop {
        let page = ok(store.list_tasks(seen.last(), 4).await, "list_tasks");
        assert!(
            page.len() <= 4,
            "SnapshotStore: list_tasks returns at most limit ids"
        );
        let mut ordered = seen.last().into_iter().chain(&page);
        let mut previous = ordered.next();
        for id in ordered {
            assert!(
                previous.is_none_or(|p| p.as_str() < id.as_str()),
                "SnapshotStore: list_tasks ascends strictly, after the given id"
            );
            previous = Some(id);
        }
        if page.is_empty() {
            break;
        }
        seen.extend(page);
    }
    for task in &mine {
        let count = seen.iter().filter(|id| *id == task).count();
        let expected = usize::from(task != gone);
        assert_eq!(
            count, expected,
            "SnapshotStore: a walk with list_tasks names each task with snapshots once ({task})"
        );
        ok(store.delete(task, None).await, "delete");
    }
}
