//! The optional walk and restore methods of [`TaskStore`]: `list_ids` and `import`, which
//! `asap state export` and `import` use. A backend that keeps their default (answering
//! [`ErrorKind::Unsupported`]) passes by answering exactly that.

use asap_model::{ConversationId, Task, TaskId, TaskStatus, Timestamp};

use crate::{ErrorKind, StatusChange, StoreError, TaskStore};

use TaskStatus::*;

fn ok<T>(result: Result<T, StoreError>, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("TaskStore: {what}: {e} ({:?})", e.kind()))
}

fn unsupported<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(e) if e.kind() == ErrorKind::Unsupported)
}

/// Checks `list_ids` and `import`, or that the backend answers `Unsupported` for both.
pub(super) async fn walk_and_import<S: TaskStore + ?Sized>(store: &S) {
    let probe = store.list_ids(None, 1).await;
    if unsupported(&probe) {
        return;
    }
    ok(probe, "list_ids");
    walk(store).await;
    import(store).await;
}

/// Every page ascends strictly, holds at most `limit` ids, each greater than `after`, and a
/// walk from the start meets every task (other callers may add tasks meanwhile: the walk
/// only has to contain ours).
async fn walk<S: TaskStore + ?Sized>(store: &S) {
    let mine: Vec<TaskId> = {
        let mut ids = Vec::new();
        for _ in 0..12 {
            let mut task = Task::new(ConversationId::generate());
            task.status = Completed;
            ok(store.create(&task).await, "create");
            ids.push(task.id);
        }
        ids
    };
    assert!(
        ok(store.list_ids(None, 0).await, "list_ids").is_empty(),
        "TaskStore: list_ids with limit 0 lists nothing"
    );
    let mut seen: Vec<TaskId> = Vec::new();
    loop {
        let page = ok(store.list_ids(seen.last(), 5).await, "list_ids");
        assert!(
            page.len() <= 5,
            "TaskStore: list_ids returns at most limit ids"
        );
        assert!(
            page.windows(2).all(|w| w[0].as_str() < w[1].as_str()),
            "TaskStore: list_ids pages ascend strictly: {page:?}"
        );
        if let (Some(after), Some(first)) = (seen.last(), page.first()) {
            assert!(
                after.as_str() < first.as_str(),
                "TaskStore: list_ids lists ids greater than after ({after} then {first})"
            );
        }
        if page.is_empty() {
            break;
        }
        seen.extend(page);
    }
    for id in &mine {
        assert!(
            seen.contains(id),
            "TaskStore: a walk with list_ids meets every task ({id} missing)"
        );
    }
}

fn change(from: Option<TaskStatus>, to: TaskStatus, at: i64) -> StatusChange {
    StatusChange {
        from,
        to,
        at: Timestamp::from_unix_micros(at),
    }
}

/// `import` stores task and history as given, refuses an existing id without writing, and
/// refuses a history that cannot belong to the task without storing anything.
async fn import<S: TaskStore + ?Sized>(store: &S) {
    let base = Timestamp::now().unix_micros() - 7_200_000_000;
    let mut task = Task::new(ConversationId::generate());
    task.created_at = Timestamp::from_unix_micros(base);
    task.updated_at = Timestamp::from_unix_micros(base + 3_000_000);
    task.status = Completed;
    let history = [
        change(None, Submitted, base),
        change(Some(Submitted), Working, base + 1_000_000),
        change(Some(Working), InputRequired, base + 2_000_000),
        change(Some(InputRequired), Working, base + 2_500_000),
        change(Some(Working), Completed, base + 3_000_000),
    ];
    ok(store.import(&task, &history).await, "import");
    assert_eq!(
        ok(store.get(&task.id).await, "get").as_ref(),
        Some(&task),
        "TaskStore: import stores the task as given"
    );
    assert_eq!(
        ok(store.history(&task.id).await, "history"),
        history,
        "TaskStore: import stores the history as given"
    );
    let mut twin = task.clone();
    twin.status = Failed;
    let twin_history = [change(None, Failed, base)];
    match store.import(&twin, &twin_history).await {
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        other => {
            panic!("TaskStore: importing an existing id: expected AlreadyExists, got {other:?}")
        }
    }
    assert_eq!(
        ok(store.history(&task.id).await, "history"),
        history,
        "TaskStore: a refused import overwrites nothing"
    );
    assert_eq!(ok(store.get(&task.id).await, "get").as_ref(), Some(&task));

    let mut broken = Task::new(ConversationId::generate());
    broken.status = Completed;
    let gaps = [
        change(None, Submitted, base),
        change(Some(Working), Completed, base + 1),
    ];
    let wrong_end = [change(None, Submitted, base)];
    for (history, what) in [
        (&gaps[..], "a gap"),
        (&wrong_end[..], "the wrong end"),
        (&[][..], "no entry"),
    ] {
        match store.import(&broken, history).await {
            Err(e) if e.kind() == ErrorKind::Corrupt => {}
            other => panic!(
                "TaskStore: importing a history with {what}: expected Corrupt, got {other:?}"
            ),
        }
        assert_eq!(
            ok(store.get(&broken.id).await, "get"),
            None,
            "TaskStore: a refused import stores nothing ({what})"
        );
    }
}
