//! Long-running tasks: submitted over HTTP and answered `working`, run to completion with
//! progress and checkpoints, resumed (or failed) after an interruption, refused inputs, and
//! idempotent resubmission.

use std::sync::Arc;
use std::time::Duration;

use asap_model::{JsonObject, TaskId, TaskStatus, UpdateType};
use asap_state::memory::MemoryIdempotencyStore;
use asap_state::{Stores, TaskStore};
use asap_testing::fixtures::task_request;
use asap_testing::{TestAgent, TestClient};
use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::layers::idempotency::IdempotencyConfig;
use asap_transport_server::long_running::{TaskRun, TaskRuntime, countdown, job_fn};
use asap_transport_server::{AsapServer, ServerConfig};
use serde_json::{Value, json};

const AGENT: &str = "urn:asap:agent:default-server";
const ALICE: &str = "urn:asap:agent:alice";

fn submit_body(skill: &str, input: Value, key: Option<&str>) -> Value {
    let mut envelope = task_request(ALICE, AGENT, input);
    envelope["payload"]["skill_id"] = json!(skill);
    let mut params = json!({ "envelope": envelope });
    if let Some(key) = key {
        params["idempotency_key"] = json!(key);
    }
    json!({"jsonrpc": "2.0", "method": "asap.send", "params": params, "id": 1})
}

async fn serve(runtime: TaskRuntime) -> TestAgent {
    let manifest = demo_manifest("http://127.0.0.1/asap");
    let server = AsapServer::builder(manifest.clone())
        .config(ServerConfig::builder().rate_limit(None).build())
        .handler("task.request", EchoHandler::new(manifest.id.clone()))
        .idempotency(
            Arc::new(MemoryIdempotencyStore::new()),
            IdempotencyConfig::default(),
        )
        .task_runtime(runtime)
        .build()
        .expect("builds");
    TestAgent::serve(server).await
}

async fn until_status(tasks: &dyn TaskStore, id: &TaskId, status: TaskStatus) -> asap_model::Task {
    for _ in 0..2000 {
        if let Some(task) = tasks.get(id).await.expect("get")
            && task.status == status
        {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!(
        "task {id} never reached {status:?}: {:?}",
        tasks.get(id).await
    );
}

fn task_id_of(reply: &Value) -> TaskId {
    let payload = &reply["result"]["envelope"]["payload"];
    assert_eq!(payload["status"], "working", "reply: {reply}");
    TaskId::new(payload["task_id"].as_str().expect("task_id"))
}

#[tokio::test]
async fn a_submitted_task_is_answered_working_then_completes_with_checkpoints() {
    let stores = Stores::memory();
    let runtime = TaskRuntime::builder(stores.tasks.clone(), stores.snapshots.clone())
        .job("countdown", countdown())
        .build();
    let mut updates = runtime.subscribe();
    let agent = serve(runtime).await;
    let client = TestClient::new();

    let reply = client
        .post_json(
            &agent.url("/asap"),
            &submit_body("countdown", json!({"steps": 3, "step_ms": 1}), None),
            &[],
        )
        .await;
    let envelope = &reply.json["result"]["envelope"];
    assert_eq!(envelope["payload_type"], "task.response");
    assert_eq!(envelope["sender"], AGENT);
    assert_eq!(envelope["recipient"], ALICE);
    let id = task_id_of(&reply.json);

    let task = until_status(stores.tasks.as_ref(), &id, TaskStatus::Completed).await;
    assert_eq!(
        task.progress.as_ref().and_then(|p| p.get("percent")),
        Some(&json!(100.0))
    );
    let history: Vec<_> = stores
        .tasks
        .history(&id)
        .await
        .unwrap()
        .into_iter()
        .map(|change| change.to)
        .collect();
    assert_eq!(
        history,
        [
            TaskStatus::Submitted,
            TaskStatus::Working,
            TaskStatus::Completed
        ]
    );
    // Version 1 is the submission, 2..=4 the three steps, 5 the result.
    assert_eq!(
        stores.snapshots.list_versions(&id).await.unwrap(),
        [1, 2, 3, 4, 5]
    );
    let last = stores.snapshots.get(&id, None).await.unwrap().unwrap();
    assert!(!last.snapshot.checkpoint);
    assert_eq!(
        last.snapshot.data["result"],
        json!({"steps": 3, "resumed_from": 0})
    );
    let third = stores.snapshots.get(&id, Some(4)).await.unwrap().unwrap();
    assert!(third.snapshot.checkpoint);
    assert_eq!(third.snapshot.data["state"], json!({"done": 3}));

    let mut progress = Vec::new();
    let mut finished = None;
    while let Ok(Ok(update)) = tokio::time::timeout(Duration::from_secs(5), updates.recv()).await {
        assert_eq!(update.task_id, id);
        match update.update_type {
            UpdateType::Progress => progress.push(update.progress.unwrap()["message"].clone()),
            UpdateType::StatusChange => {
                finished = Some(update.status);
                break;
            }
            UpdateType::InputRequired => panic!("unexpected {update:?}"),
        }
    }
    assert_eq!(progress, [json!("1/3"), json!("2/3"), json!("3/3")]);
    assert_eq!(finished, Some(TaskStatus::Completed));
}

#[tokio::test]
async fn other_skills_still_reach_their_handler_and_bad_input_is_refused() {
    let stores = Stores::memory();
    let runtime = TaskRuntime::builder(stores.tasks.clone(), stores.snapshots.clone())
        .job("countdown", countdown())
        .build();
    let agent = serve(runtime).await;
    let client = TestClient::new();

    let echo = client
        .post_json(
            &agent.url("/asap"),
            &submit_body("echo", json!({"a": 1}), None),
            &[],
        )
        .await;
    assert_eq!(
        echo.json["result"]["envelope"]["payload"]["result"],
        json!({"echoed": {"a": 1}})
    );

    let refused = client
        .post_json(
            &agent.url("/asap"),
            &submit_body("countdown", json!({"steps": "many"}), None),
            &[],
        )
        .await;
    assert_eq!(refused.json["error"]["code"], -32602, "{}", refused.json);
    assert_eq!(refused.json["error"]["data"]["skill_id"], "countdown");
    assert!(
        refused.json["error"]["data"]["detail"]
            .as_str()
            .unwrap()
            .contains("`steps`")
    );
    assert!(
        stores
            .tasks
            .list_by_status(TaskStatus::Working, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_resubmission_with_the_same_key_starts_no_second_task() {
    let stores = Stores::memory();
    let runtime = TaskRuntime::builder(stores.tasks.clone(), stores.snapshots.clone())
        .job("countdown", countdown())
        .build();
    let agent = serve(runtime).await;
    let client = TestClient::new();
    let body = submit_body("countdown", json!({"steps": 1, "step_ms": 1}), Some("k-1"));
    let first = client.post_json(&agent.url("/asap"), &body, &[]).await;
    let again = client.post_json(&agent.url("/asap"), &body, &[]).await;
    let id = task_id_of(&first.json);
    assert_eq!(task_id_of(&again.json), id);
    until_status(stores.tasks.as_ref(), &id, TaskStatus::Completed).await;
    let all_done = stores
        .tasks
        .list_by_status(TaskStatus::Completed, 10)
        .await
        .unwrap();
    assert_eq!(all_done.len(), 1, "one task for one key");
}

/// Submits a task whose job checkpoints once and then never returns, as a process killed
/// mid-task leaves it: `working`, last checkpoint `{"done": 1}`.
async fn interrupted(stores: &Stores, instance: &str) -> TaskId {
    let stuck = job_fn(|mut run: TaskRun| async move {
        let mut state = JsonObject::new();
        state.insert("done".into(), json!(1));
        run.checkpoint(state).await?;
        std::future::pending::<()>().await;
        Ok(JsonObject::new())
    });
    let runtime = TaskRuntime::builder(stores.tasks.clone(), stores.snapshots.clone())
        .job("countdown", stuck)
        .instance(instance)
        .build();
    let request: asap_model::payload::TaskRequest = serde_json::from_value(json!({
        "conversation_id": "conv_1",
        "skill_id": "countdown",
        "input": {"steps": 3, "step_ms": 1},
    }))
    .unwrap();
    let task = runtime.submit(&request).await.expect("submitted");
    for _ in 0..2000 {
        if stores
            .snapshots
            .list_versions(&task.id)
            .await
            .unwrap()
            .len()
            == 2
        {
            return task.id;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the stuck job never checkpointed");
}

#[tokio::test]
async fn an_interrupted_task_resumes_from_its_last_checkpoint() {
    let stores = Stores::memory();
    let id = interrupted(&stores, "a").await;
    let other = interrupted(&stores, "b").await;

    let restarted = TaskRuntime::builder(stores.tasks.clone(), stores.snapshots.clone())
        .job("countdown", countdown())
        .instance("a")
        .build();
    let report = restarted.resume().await.expect("resume");
    assert_eq!(report.resumed, std::slice::from_ref(&id));
    assert!(report.failed.is_empty());
    assert_eq!(report.skipped, 1, "instance b's task is not ours");

    until_status(stores.tasks.as_ref(), &id, TaskStatus::Completed).await;
    let last = stores.snapshots.get(&id, None).await.unwrap().unwrap();
    assert_eq!(
        last.snapshot.data["result"],
        json!({"steps": 3, "resumed_from": 1})
    );
    let other = stores.tasks.get(&other).await.unwrap().unwrap();
    assert_eq!(other.status, TaskStatus::Working);
}

#[tokio::test]
async fn an_interrupted_task_without_a_resume_hook_is_failed_with_the_reason() {
    let stores = Stores::memory();
    let not_resumable = interrupted(&stores, "default").await;
    let second = interrupted(&stores, "default").await;
    let restarted = TaskRuntime::builder(stores.tasks.clone(), stores.snapshots.clone())
        .job(
            "countdown",
            job_fn(|_run: TaskRun| async move { Ok(JsonObject::new()) }),
        )
        .build();
    let report = restarted.resume().await.expect("resume");
    let mut failed = report.failed.clone();
    failed.sort_by_key(ToString::to_string);
    let mut expected = vec![not_resumable.clone(), second.clone()];
    expected.sort_by_key(ToString::to_string);
    assert_eq!(failed, expected);
    for id in [&not_resumable, &second] {
        let task = stores.tasks.get(id).await.unwrap().unwrap();
        assert_eq!(task.status, TaskStatus::Failed);
        let reason = task.progress.unwrap()["error"].as_str().unwrap().to_owned();
        assert!(reason.contains("no resume hook"), "{reason}");
    }

    let gone = interrupted(&stores, "default").await;
    let without_jobs = TaskRuntime::builder(stores.tasks.clone(), stores.snapshots.clone()).build();
    let report = without_jobs.resume().await.expect("resume");
    assert_eq!(report.failed, std::slice::from_ref(&gone));
    let task = stores.tasks.get(&gone).await.unwrap().unwrap();
    let reason = task.progress.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(reason.contains("no job named \"countdown\""), "{reason}");
}

#[tokio::test]
async fn a_job_error_or_panic_fails_the_task_with_its_reason() {
    let stores = Stores::memory();
    let runtime = TaskRuntime::builder(stores.tasks.clone(), stores.snapshots.clone())
        .job(
            "err",
            job_fn(|_run: TaskRun| async move { Err("out of paper".into()) }),
        )
        .job(
            "panic",
            job_fn(|_run: TaskRun| async move {
                if true {
                    panic!("boom");
                }
                Ok(JsonObject::new())
            }),
        )
        .build();
    for (skill, reason) in [("err", "out of paper"), ("panic", "the job panicked")] {
        let request: asap_model::payload::TaskRequest = serde_json::from_value(json!({
            "conversation_id": "conv_1", "skill_id": skill, "input": {},
        }))
        .unwrap();
        let task = runtime.submit(&request).await.expect("submitted");
        let task = until_status(stores.tasks.as_ref(), &task.id, TaskStatus::Failed).await;
        assert_eq!(task.progress.unwrap()["error"], reason);
        let last = stores.snapshots.get(&task.id, None).await.unwrap().unwrap();
        assert_eq!(last.snapshot.data["error"], reason);
    }
}
