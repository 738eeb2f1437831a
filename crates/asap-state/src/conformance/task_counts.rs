//! [`TaskStore::count_by_status`], on a store no one else writes to while it runs.

use asap_model::TaskStatus::{self, Completed, Submitted, Working};
use asap_model::{ConversationId, Task};

use crate::TaskStore;

async fn counts<S: TaskStore + ?Sized>(store: &S) -> Vec<(TaskStatus, u64)> {
    store
        .count_by_status()
        .await
        .unwrap_or_else(|e| panic!("TaskStore: count_by_status: {e} ({:?})", e.kind()))
}

fn of(counts: &[(TaskStatus, u64)], status: TaskStatus) -> u64 {
    let mut found = counts.iter().filter(|(s, _)| *s == status);
    let n = found.next().map_or(0, |(_, n)| *n);
    assert!(
        found.next().is_none(),
        "TaskStore: count_by_status lists {status:?} twice"
    );
    n
}

/// Checks the counts follow creations and transitions (the store may hold other tasks, but
/// nothing else may change it meanwhile).
pub async fn task_counts<S: TaskStore + ?Sized>(store: &S) {
    let before = counts(store).await;
    assert!(
        before.iter().all(|(_, n)| *n > 0),
        "TaskStore: count_by_status lists a status without tasks: {before:?}"
    );
    let tasks: Vec<Task> = (0..3)
        .map(|_| Task::new(ConversationId::generate()))
        .collect();
    for task in &tasks {
        store.create(task).await.expect("create");
    }
    store
        .transition(&tasks[0].id, Working, None)
        .await
        .expect("submitted -> working");
    store
        .transition(&tasks[1].id, Working, None)
        .await
        .expect("submitted -> working");
    store
        .transition(&tasks[1].id, Completed, None)
        .await
        .expect("working -> completed");
    let after = counts(store).await;
    for (status, added) in [(Submitted, 1), (Working, 1), (Completed, 1)] {
        assert_eq!(
            of(&after, status),
            of(&before, status) + added,
            "TaskStore: count_by_status of {status:?}: before {before:?}, after {after:?}"
        );
    }
}
