use asap_model::{ConversationId, JsonObject, Task, TaskId, TaskStatus, Timestamp};

use super::{RACERS, concurrently};
use crate::{ErrorKind, StatusChange, StoreError, TaskStore};

use TaskStatus::*;

fn progress(step: u64) -> JsonObject {
    let mut object = JsonObject::new();
    object.insert("percent".into(), step.into());
    object.insert("message".into(), format!("step {step}").into());
    object
}

fn new_task() -> Task {
    Task::new(ConversationId::generate())
}

fn expect_kind<T: std::fmt::Debug>(result: Result<T, StoreError>, kind: ErrorKind, what: &str) {
    match result {
        Err(e) if e.kind() == kind => {}
        other => panic!("TaskStore: {what}: expected {kind:?}, got {other:?}"),
    }
}

async fn ok<T>(result: Result<T, StoreError>, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("TaskStore: {what}: {e} ({:?})", e.kind()))
}

/// Checks a [`TaskStore`] against every clause of its contract.
pub async fn task_store<S: TaskStore + ?Sized>(store: &S) {
    create_get_and_history(store).await;
    transitions(store).await;
    unknown_ids(store).await;
    listing(store).await;
    racing_creates(store).await;
    racing_terminal_transitions(store).await;
    racing_cycle(store).await;
    super::task_walk::walk_and_import(store).await;
}

async fn create_get_and_history<S: TaskStore + ?Sized>(store: &S) {
    let mut task = new_task().subtask().unwrap_or_else(|_| new_task());
    task.progress = Some(progress(0));
    ok(store.create(&task).await, "create").await;
    let stored = ok(store.get(&task.id).await, "get").await;
    assert_eq!(
        stored.as_ref(),
        Some(&task),
        "TaskStore: get returns the task as created"
    );
    let history = ok(store.history(&task.id).await, "history").await;
    assert_eq!(
        history,
        [StatusChange {
            from: None,
            to: Submitted,
            at: task.updated_at
        }],
        "TaskStore: create stores the first history entry"
    );
    let mut twin = task.clone();
    twin.status = Working;
    twin.progress = None;
    expect_kind(
        store.create(&twin).await,
        ErrorKind::AlreadyExists,
        "creating an id twice",
    );
    let stored = ok(store.get(&task.id).await, "get").await;
    assert_eq!(
        stored.as_ref(),
        Some(&task),
        "TaskStore: a refused create overwrites nothing"
    );
    finish(store, &task.id, Submitted).await;
}

async fn transitions<S: TaskStore + ?Sized>(store: &S) {
    let task = new_task();
    ok(store.create(&task).await, "create").await;
    let working = ok(
        store.transition(&task.id, Working, Some(progress(1))).await,
        "submitted -> working",
    )
    .await;
    assert_eq!(
        working.status, Working,
        "TaskStore: transition stores the new status"
    );
    assert_eq!(
        working.progress,
        Some(progress(1)),
        "TaskStore: transition stores the given progress"
    );
    assert!(
        working.updated_at.unix_micros() >= task.updated_at.unix_micros(),
        "TaskStore: transition stamps updated_at"
    );
    assert_eq!(
        (working.id.clone(), working.created_at),
        (task.id.clone(), task.created_at),
        "TaskStore: transition keeps id and created_at"
    );
    let stored = ok(store.get(&task.id).await, "get").await;
    assert_eq!(
        stored.as_ref(),
        Some(&working),
        "TaskStore: transition returns the task as stored"
    );

    // Illegal moves: refused with the typed error, nothing changed.
    for to in [Working, Submitted] {
        let err = store
            .transition(&task.id, to, Some(progress(9)))
            .await
            .expect_err("illegal move refused");
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidTransition,
            "TaskStore: working -> {to} is InvalidTransition"
        );
        let refused = err
            .invalid_transition()
            .expect("InvalidTransition carries the refused move");
        assert_eq!(
            (refused.from, refused.to),
            (Working, to),
            "TaskStore: the refused move is reported"
        );
    }
    let stored = ok(store.get(&task.id).await, "get").await;
    assert_eq!(
        stored.as_ref(),
        Some(&working),
        "TaskStore: a refused transition changes nothing"
    );

    // set_progress: new progress, same status, no history entry, updated_at stamped.
    let updated = ok(
        store.set_progress(&task.id, progress(2)).await,
        "set_progress",
    )
    .await;
    assert_eq!(
        (updated.status, updated.progress.clone()),
        (Working, Some(progress(2))),
        "TaskStore: set_progress replaces the progress only"
    );
    assert!(
        updated.updated_at.unix_micros() >= working.updated_at.unix_micros(),
        "TaskStore: set_progress stamps updated_at"
    );
    assert_eq!(
        ok(store.get(&task.id).await, "get").await.as_ref(),
        Some(&updated),
        "TaskStore: set_progress returns the task as stored"
    );

    // A transition without progress keeps it.
    let waiting = ok(
        store.transition(&task.id, InputRequired, None).await,
        "working -> input_required",
    )
    .await;
    assert_eq!(
        waiting.progress,
        Some(progress(2)),
        "TaskStore: transition without progress keeps it"
    );
    let working2 = ok(
        store.transition(&task.id, Working, None).await,
        "input_required -> working",
    )
    .await;
    let done = ok(
        store.transition(&task.id, Completed, None).await,
        "working -> completed",
    )
    .await;
    let err = store
        .transition(&task.id, Working, None)
        .await
        .expect_err("leaving a terminal status");
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidTransition,
        "TaskStore: leaving completed is InvalidTransition"
    );
    assert_eq!(
        err.invalid_transition().map(|t| t.from),
        Some(Completed),
        "TaskStore: the refused move starts at the stored status"
    );

    let history = ok(store.history(&task.id).await, "history").await;
    let expected = [
        StatusChange {
            from: None,
            to: Submitted,
            at: task.updated_at,
        },
        StatusChange {
            from: Some(Submitted),
            to: Working,
            at: working.updated_at,
        },
        StatusChange {
            from: Some(Working),
            to: InputRequired,
            at: waiting.updated_at,
        },
        StatusChange {
            from: Some(InputRequired),
            to: Working,
            at: working2.updated_at,
        },
        StatusChange {
            from: Some(Working),
            to: Completed,
            at: done.updated_at,
        },
    ];
    assert_eq!(
        history, expected,
        "TaskStore: history lists every change, oldest first, nothing for refused moves or progress"
    );
}

async fn unknown_ids<S: TaskStore + ?Sized>(store: &S) {
    let id = TaskId::generate();
    assert_eq!(
        ok(store.get(&id).await, "get").await,
        None,
        "TaskStore: get of an unknown id is None"
    );
    assert_eq!(
        ok(store.history(&id).await, "history").await,
        [],
        "TaskStore: history of an unknown id is []"
    );
    expect_kind(
        store.transition(&id, Working, None).await,
        ErrorKind::NotFound,
        "transition of an unknown id",
    );
    expect_kind(
        store.set_progress(&id, progress(1)).await,
        ErrorKind::NotFound,
        "set_progress of an unknown id",
    );
}

/// Tasks in `input_required`, with `updated_at` set in the past so that they sort before
/// the ones other checks create meanwhile.
async fn listing<S: TaskStore + ?Sized>(store: &S) {
    let base = Timestamp::now().unix_micros() - 3_600_000_000;
    let mut tasks: Vec<Task> = (0..3)
        .map(|i| {
            let mut task = new_task();
            task.status = InputRequired;
            task.updated_at = Timestamp::from_unix_micros(base + i * 1_000_000);
            task.created_at = task.updated_at;
            task
        })
        .collect();
    // Created out of order: the listing follows updated_at, not insertion.
    for i in [2, 0, 1] {
        ok(store.create(&tasks[i]).await, "create").await;
    }
    let ids: Vec<TaskId> = tasks.iter().map(|t| t.id.clone()).collect();
    let listed = ok(
        store.list_by_status(InputRequired, usize::MAX).await,
        "list_by_status",
    )
    .await;
    check_listing(&listed, InputRequired);
    let ours: Vec<&TaskId> = listed
        .iter()
        .map(|t| &t.id)
        .filter(|id| ids.contains(id))
        .collect();
    assert_eq!(
        ours,
        [&ids[0], &ids[1], &ids[2]],
        "TaskStore: list_by_status lists least recently updated first"
    );
    // Updating the oldest moves it to the end.
    tasks[0] = ok(
        store.set_progress(&tasks[0].id, progress(5)).await,
        "set_progress",
    )
    .await;
    let listed = ok(
        store.list_by_status(InputRequired, usize::MAX).await,
        "list_by_status",
    )
    .await;
    let ours: Vec<&TaskId> = listed
        .iter()
        .map(|t| &t.id)
        .filter(|id| ids.contains(id))
        .collect();
    assert_eq!(
        ours,
        [&ids[1], &ids[2], &ids[0]],
        "TaskStore: list_by_status follows updated_at"
    );
    let two = ok(
        store.list_by_status(InputRequired, 2).await,
        "list_by_status",
    )
    .await;
    assert!(
        two.len() <= 2,
        "TaskStore: list_by_status returns at most `limit` tasks"
    );
    assert!(
        two.len() == 2,
        "TaskStore: list_by_status fills `limit` when enough tasks are in the status"
    );
    check_listing(&two, InputRequired);
    assert_eq!(
        ok(
            store.list_by_status(InputRequired, 0).await,
            "list_by_status"
        )
        .await,
        [],
        "TaskStore: limit 0 lists nothing"
    );
    for task in &tasks {
        finish(store, &task.id, InputRequired).await;
    }
    let listed = ok(
        store.list_by_status(InputRequired, usize::MAX).await,
        "list_by_status",
    )
    .await;
    assert!(
        listed.iter().all(|t| !ids.contains(&t.id)),
        "TaskStore: a task leaves the listing of its old status"
    );
}

fn check_listing(listed: &[Task], status: TaskStatus) {
    assert!(
        listed.iter().all(|t| t.status == status),
        "TaskStore: list_by_status lists only tasks in the status"
    );
    assert!(
        listed
            .windows(2)
            .all(|w| w[0].updated_at.unix_micros() <= w[1].updated_at.unix_micros()),
        "TaskStore: list_by_status is ordered by updated_at"
    );
}

async fn racing_creates<S: TaskStore + ?Sized>(store: &S) {
    let task = new_task();
    let results = concurrently(RACERS, |_| store.create(&task)).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(
        created, 1,
        "TaskStore: of concurrent creates of one id exactly one succeeds"
    );
    for result in results {
        if let Err(e) = result {
            assert_eq!(
                e.kind(),
                ErrorKind::AlreadyExists,
                "TaskStore: the losing creates are AlreadyExists"
            );
        }
    }
    assert_eq!(
        ok(store.history(&task.id).await, "history").await.len(),
        1,
        "TaskStore: one creation entry"
    );
    finish(store, &task.id, Submitted).await;
}

async fn racing_terminal_transitions<S: TaskStore + ?Sized>(store: &S) {
    let task = new_task();
    ok(store.create(&task).await, "create").await;
    ok(
        store.transition(&task.id, Working, None).await,
        "submitted -> working",
    )
    .await;
    let targets = [Completed, Failed];
    let results = concurrently(RACERS, |i| store.transition(&task.id, targets[i % 2], None)).await;
    let winners: Vec<&Task> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(
        winners.len(),
        1,
        "TaskStore: of racing working -> completed | failed exactly one wins"
    );
    let winner = winners[0].status;
    for result in &results {
        if let Err(e) = result {
            assert_eq!(
                e.kind(),
                ErrorKind::InvalidTransition,
                "TaskStore: the losers are InvalidTransition"
            );
            assert_eq!(
                e.invalid_transition().map(|t| t.from),
                Some(winner),
                "TaskStore: the losers are refused from the winner's status"
            );
        }
    }
    let stored = ok(store.get(&task.id).await, "get")
        .await
        .expect("task stored");
    assert_eq!(
        stored.status, winner,
        "TaskStore: the stored status is the winner's"
    );
    let history = ok(store.history(&task.id).await, "history").await;
    let tos: Vec<TaskStatus> = history.iter().map(|c| c.to).collect();
    assert_eq!(
        tos,
        [Submitted, Working, winner],
        "TaskStore: the history shows only the winning change"
    );
}

/// Racing `working <-> input_required` moves: every success must appear in the history as a
/// chain, and the chain must end at the stored status.
async fn racing_cycle<S: TaskStore + ?Sized>(store: &S) {
    let task = new_task();
    ok(store.create(&task).await, "create").await;
    ok(
        store.transition(&task.id, Working, None).await,
        "submitted -> working",
    )
    .await;
    let targets = [InputRequired, Working];
    let results = concurrently(RACERS, |i| store.transition(&task.id, targets[i % 2], None)).await;
    let successes = results.iter().filter(|r| r.is_ok()).count();
    assert!(
        successes >= 1,
        "TaskStore: at least the first racing move succeeds"
    );
    for result in &results {
        if let Err(e) = result {
            assert_eq!(
                e.kind(),
                ErrorKind::InvalidTransition,
                "TaskStore: a racing move is refused only as InvalidTransition"
            );
        }
    }
    let history = ok(store.history(&task.id).await, "history").await;
    assert_eq!(
        history.len(),
        2 + successes,
        "TaskStore: one history entry per successful transition"
    );
    for pair in history.windows(2) {
        assert_eq!(
            pair[1].from,
            Some(pair[0].to),
            "TaskStore: history entries chain (no lost update)"
        );
    }
    let stored = ok(store.get(&task.id).await, "get")
        .await
        .expect("task stored");
    assert_eq!(
        history.last().map(|c| c.to),
        Some(stored.status),
        "TaskStore: the history ends at the stored status"
    );
    finish(store, &task.id, stored.status).await;
}

/// Cancels a task so that nothing this suite created stays live in a shared store.
async fn finish<S: TaskStore + ?Sized>(store: &S, id: &TaskId, from: TaskStatus) {
    if from.can_transition(Cancelled) {
        ok(store.transition(id, Cancelled, None).await, "cancel").await;
    }
}
