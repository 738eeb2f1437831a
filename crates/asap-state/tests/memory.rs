//! The in-memory backends against the conformance suite, and their bounds.
#![cfg(feature = "conformance")]

use asap_state::{Stores, conformance};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_stores_pass_the_conformance_suite() {
    conformance::all(&Stores::memory()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stores_pass_it_twice_on_one_store() {
    let stores = Stores::open("memory://").await.expect("memory://");
    conformance::all(&stores).await;
    conformance::all(&stores).await;
}

#[tokio::test]
async fn memory_counts_tasks_by_status() {
    conformance::task_counts(&*Stores::memory().tasks).await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_suite_runs_on_a_current_thread_runtime() {
    conformance::all(&Stores::memory()).await;
}

mod bounds {
    use asap_model::{ConversationId, SnapshotId, StateSnapshot, Task, TaskStatus, Timestamp};
    use asap_state::memory::{MemorySnapshotStore, MemoryTaskStore};
    use asap_state::{ErrorKind, SnapshotRecord, SnapshotStore, TaskStore};

    fn task() -> Task {
        Task::new(ConversationId::generate())
    }

    #[tokio::test]
    async fn a_full_task_store_evicts_the_oldest_terminal_task() {
        let store = MemoryTaskStore::with_capacity(3);
        let tasks: Vec<Task> = (0..3).map(|_| task()).collect();
        for t in &tasks {
            store.create(t).await.expect("create");
        }
        // Nothing terminal: a fourth task is refused, nothing is dropped.
        let err = store.create(&task()).await.expect_err("full");
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert_eq!(store.len(), 3);
        store
            .transition(&tasks[1].id, TaskStatus::Cancelled, None)
            .await
            .expect("cancel");
        store
            .transition(&tasks[0].id, TaskStatus::Cancelled, None)
            .await
            .expect("cancel");
        let fourth = task();
        store.create(&fourth).await.expect("room made");
        assert_eq!(store.len(), 3);
        // tasks[1] was the least recently updated terminal task.
        assert_eq!(store.get(&tasks[1].id).await.expect("get"), None);
        assert_eq!(store.history(&tasks[1].id).await.expect("history"), []);
        assert!(store.get(&tasks[0].id).await.expect("get").is_some());
        assert!(store.get(&tasks[2].id).await.expect("get").is_some());
    }

    #[tokio::test]
    async fn a_full_snapshot_store_evicts_the_oldest_save() {
        let store = MemorySnapshotStore::with_capacity(2);
        let task_id = asap_model::TaskId::generate();
        let record = |version| SnapshotRecord {
            snapshot: StateSnapshot {
                id: SnapshotId::generate(),
                task_id: task_id.clone(),
                version,
                data: Default::default(),
                checkpoint: false,
                created_at: Timestamp::now(),
            },
            schema_version: 1,
        };
        let (one, two, three) = (record(1), record(2), record(3));
        for r in [&two, &one, &three] {
            store.save(r).await.expect("save");
        }
        assert_eq!(store.len(), 2);
        assert_eq!(store.list_versions(&task_id).await.expect("list"), [1, 3]);
        assert_eq!(store.get_by_id(&two.snapshot.id).await.expect("get"), None);
        // Overwriting a pair in a full store evicts nothing.
        store.save(&record(3)).await.expect("save");
        assert_eq!(store.list_versions(&task_id).await.expect("list"), [1, 3]);
    }
}

/// The suite is able to fail: a nonce store that looks up, then inserts, lets racing replays
/// through, and the atomicity check catches it.
mod racy {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use asap_state::{NonceStore, StoreFuture, conformance};

    #[derive(Default)]
    struct LookUpThenInsert(Mutex<HashMap<String, Instant>>);

    impl NonceStore for LookUpThenInsert {
        fn check_and_mark<'a>(&'a self, nonce: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
            Box::pin(async move {
                let now = Instant::now();
                let fresh = self
                    .0
                    .lock()
                    .expect("lock")
                    .get(nonce)
                    .is_none_or(|expires| *expires <= now);
                // Widens the window between the check and the mark.
                std::thread::sleep(Duration::from_millis(20));
                if fresh {
                    self.0
                        .lock()
                        .expect("lock")
                        .insert(nonce.to_owned(), now + ttl);
                }
                Ok(fresh)
            })
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[should_panic(expected = "exactly one is fresh")]
    async fn a_look_up_then_insert_nonce_store_fails_the_suite() {
        conformance::nonce_store(&LookUpThenInsert::default()).await;
    }
}
