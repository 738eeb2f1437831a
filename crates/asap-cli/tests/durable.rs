//! `asap serve` on its default SQLite store, killed and restarted: long-running tasks resume
//! from their checkpoints with nothing acknowledged missing, and an idempotent retry after a
//! lost response (cut by a TCP proxy, with or without a restart in between) gets the first
//! run's response and starts nothing twice.
#![cfg(feature = "sqlite")]

mod durable_support;

use std::time::Duration;

use asap_model::{TaskId, TaskStatus};
use asap_state::TaskStore;
use durable_support::{Proxy, Serve, post, submit_body, wait_for};
use serde_json::Value;

fn task_id(reply: &Value) -> TaskId {
    let payload = &reply["result"]["envelope"]["payload"];
    assert_eq!(payload["status"], "working", "{reply}");
    TaskId::new(payload["task_id"].as_str().expect("task_id"))
}

#[test]
fn tasks_acknowledged_before_a_kill_complete_from_their_checkpoints_after_restart() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Serve::start(data.path());
    // Acknowledged: each reply (status working) was received before the kill.
    let acknowledged: Vec<TaskId> = (0..4)
        .map(|i| {
            let body = submit_body(&format!("crash-{i}"), 40, 25);
            task_id(&post(&server.addr, &body))
        })
        .collect();
    let store = server.open_store();
    // Mid-task: every task has checkpointed at least twice, none has finished.
    wait_for("two checkpoints of every task", || {
        acknowledged.iter().all(|id| {
            server
                .block_on(store.snapshots.list_versions(id))
                .is_ok_and(|v| v.len() >= 3)
        })
    });
    let before: Vec<Vec<i64>> = acknowledged
        .iter()
        .map(|id| server.block_on(store.snapshots.list_versions(id)).unwrap())
        .collect();
    server.kill();

    let restarted = Serve::start(data.path());
    let store = restarted.open_store();
    for (id, versions_before) in acknowledged.iter().zip(&before) {
        wait_for("the task completes after the restart", || {
            restarted
                .block_on(store.tasks.get(id))
                .ok()
                .flatten()
                .is_some_and(|task| task.status == TaskStatus::Completed)
        });
        let versions = restarted
            .block_on(store.snapshots.list_versions(id))
            .unwrap();
        // Every snapshot stored before the kill is still there, none is missing after.
        assert!(versions_before.iter().all(|v| versions.contains(v)));
        assert_eq!(versions, (1..=42).collect::<Vec<i64>>());
        let last = restarted
            .block_on(store.snapshots.get(id, None))
            .unwrap()
            .unwrap();
        let result = &last.snapshot.data["result"];
        assert_eq!(result["steps"], 40);
        let resumed_from = result["resumed_from"].as_u64().unwrap();
        assert!(
            (2..40).contains(&resumed_from),
            "resumed mid-task from its checkpoint: {result}"
        );
        let history: Vec<TaskStatus> = restarted
            .block_on(store.tasks.history(id))
            .unwrap()
            .into_iter()
            .map(|c| c.to)
            .collect();
        assert_eq!(
            history,
            [
                TaskStatus::Submitted,
                TaskStatus::Working,
                TaskStatus::Completed
            ]
        );
    }
}

#[test]
fn a_retry_after_a_lost_response_gets_the_first_response() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Serve::start(data.path());
    let proxy = Proxy::start(&server.addr, 1);
    let body = submit_body("lost-1", 1, 1);

    // The proxy cuts the first exchange after the server answered it.
    let lost = durable_support::post_raw(&proxy.addr, &body);
    assert!(lost.is_none(), "the first response must be lost: {lost:?}");
    let retried = post(&proxy.addr, &body);
    let id = task_id(&retried);
    assert_eq!(proxy.cut(), 1);

    let store = server.open_store();
    let all = server.block_on(all_tasks(store.tasks.as_ref()));
    assert_eq!(all, [id], "one task for one key: the handler ran once");
}

#[test]
fn a_retry_after_a_lost_response_and_a_restart_gets_the_first_response() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Serve::start(data.path());
    let proxy = Proxy::start(&server.addr, 1);
    let body = submit_body("lost-2", 1, 1);
    assert!(durable_support::post_raw(&proxy.addr, &body).is_none());
    assert_eq!(proxy.cut(), 1);
    server.kill();

    let restarted = Serve::start(data.path());
    let retried = post(&restarted.addr, &body);
    let id = task_id(&retried);
    let store = restarted.open_store();
    let all = restarted.block_on(all_tasks(store.tasks.as_ref()));
    assert_eq!(
        all,
        [id],
        "the record written before the kill answered the retry"
    );
}

#[test]
fn the_rust_client_retries_a_lost_response_with_its_key() {
    let data = tempfile::tempdir().expect("data dir");
    let server = Serve::start(data.path());
    let proxy = Proxy::start(&server.addr, 1);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reply = runtime.block_on(async {
        let client = asap_transport_client::AsapClient::builder(format!("http://{}", proxy.addr))
            .config(
                asap_transport_client::ClientConfig::builder()
                    .max_retries(3)
                    .base_delay(Duration::from_millis(20))
                    .jitter(false)
                    .build(),
            )
            .build()
            .expect("client");
        let envelope: asap_model::Envelope =
            serde_json::from_value(submit_body("unused", 1, 1)["params"]["envelope"].clone())
                .unwrap();
        client.send(envelope).await
    });
    let reply = reply.expect("the retry is answered");
    assert_eq!(proxy.cut(), 1, "the first attempt's response was cut");
    let response: asap_model::payload::TaskResponse = reply.payload_as().expect("a task.response");
    assert_eq!(response.status, TaskStatus::Working);
    let store = server.open_store();
    let all = server.block_on(all_tasks(store.tasks.as_ref()));
    assert_eq!(
        all,
        [response.task_id],
        "one handler run for the client's key"
    );
}

/// Every task in the store, once all have completed (a task moving between statuses while
/// listed would otherwise be missed or seen twice).
async fn all_tasks(store: &dyn TaskStore) -> Vec<TaskId> {
    for _ in 0..3000 {
        let open = store
            .list_by_status(TaskStatus::Working, 100)
            .await
            .unwrap();
        let new = store
            .list_by_status(TaskStatus::Submitted, 100)
            .await
            .unwrap();
        if open.is_empty() && new.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut ids = Vec::new();
    for status in [
        TaskStatus::Submitted,
        TaskStatus::Working,
        TaskStatus::Completed,
    ] {
        ids.extend(
            store
                .list_by_status(status, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.id),
        );
    }
    ids
}
