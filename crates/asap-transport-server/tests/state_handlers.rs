//! `state.query` and `state.restore` over HTTP with a snapshot store: latest and given
//! versions, restore as a new highest version, refusals for what is not stored, and
//! `-32601` without a store.

use std::sync::Arc;

use asap_model::{JsonObject, SnapshotId, StateSnapshot, TaskId, Timestamp};
use asap_state::memory::MemorySnapshotStore;
use asap_state::{SnapshotRecord, SnapshotStore};
use asap_testing::{TestAgent, TestClient};
use asap_transport_server::echo::demo_manifest;
use asap_transport_server::{AsapServer, ServerConfig};
use serde_json::{Value, json};

const AGENT: &str = "urn:asap:agent:default-server";

fn record(task: &str, version: i64, step: u64) -> SnapshotRecord {
    let mut data = JsonObject::new();
    data.insert("step".into(), json!(step));
    SnapshotRecord {
        snapshot: StateSnapshot {
            id: SnapshotId::generate(),
            task_id: TaskId::new(task),
            version,
            data,
            checkpoint: true,
            created_at: Timestamp::now(),
        },
        schema_version: 1,
    }
}

async fn agent(store: Option<Arc<dyn SnapshotStore>>) -> TestAgent {
    let mut builder = AsapServer::builder(demo_manifest("http://127.0.0.1/asap"))
        .config(ServerConfig::builder().rate_limit(None).build());
    if let Some(store) = store {
        builder = builder.snapshots(store);
    }
    TestAgent::serve(builder.build().expect("builds")).await
}

fn call(payload_type: &str, payload: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": "asap.send", "id": 1, "params": {"envelope": {
        "asap_version": "0.1",
        "sender": "urn:asap:agent:client",
        "recipient": AGENT,
        "payload_type": payload_type,
        "payload": payload,
    }}})
}

async fn send(agent: &TestAgent, body: Value) -> Value {
    TestClient::new()
        .post_json(&agent.url("/asap"), &body, &[])
        .await
        .json
}

#[tokio::test]
async fn queries_answer_the_latest_or_the_given_version() {
    let store = Arc::new(MemorySnapshotStore::new());
    for (version, step) in [(1, 10), (3, 30), (2, 20)] {
        store.save(&record("task_q", version, step)).await.unwrap();
    }
    let agent = agent(Some(store)).await;

    let latest = send(&agent, call("state.query", json!({"task_id": "task_q"}))).await;
    let envelope = &latest["result"]["envelope"];
    assert_eq!(envelope["payload_type"], "task.response", "{latest}");
    assert_eq!(envelope["sender"], AGENT);
    assert_eq!(envelope["payload"]["status"], "completed");
    assert_eq!(envelope["payload"]["task_id"], "task_q");
    assert_eq!(
        envelope["payload"]["result"]["version"], 3,
        "the highest version"
    );
    assert_eq!(envelope["payload"]["result"]["data"], json!({"step": 30}));

    let second = send(
        &agent,
        call("state.query", json!({"task_id": "task_q", "version": 2})),
    )
    .await;
    assert_eq!(
        second["result"]["envelope"]["payload"]["result"]["data"],
        json!({"step": 20})
    );

    for payload in [
        json!({"task_id": "nope"}),
        json!({"task_id": "task_q", "version": 9}),
    ] {
        let missing = send(&agent, call("state.query", payload)).await;
        assert_eq!(missing["error"]["code"], -32602, "{missing}");
        assert_eq!(missing["error"]["data"]["code"], "asap:task/not_found");
    }
}

#[tokio::test]
async fn a_restore_saves_the_named_snapshot_as_the_new_latest() {
    let store = Arc::new(MemorySnapshotStore::new());
    let first = record("task_r", 1, 1);
    store.save(&first).await.unwrap();
    store.save(&record("task_r", 2, 2)).await.unwrap();
    store.save(&record("task_other", 1, 99)).await.unwrap();
    let agent = agent(Some(store.clone())).await;

    let restored = send(
        &agent,
        call(
            "state.restore",
            json!({"task_id": "task_r", "snapshot_id": first.snapshot.id}),
        ),
    )
    .await;
    let result = &restored["result"]["envelope"]["payload"]["result"];
    assert_eq!(result["version"], 3, "{restored}");
    assert_eq!(result["data"], json!({"step": 1}));
    assert_ne!(result["id"], json!(first.snapshot.id));
    let latest = store
        .get(&TaskId::new("task_r"), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.snapshot.data, first.snapshot.data);
    assert_eq!(
        store.list_versions(&TaskId::new("task_r")).await.unwrap(),
        [1, 2, 3]
    );

    // A snapshot of another task, and an unknown one, are refused; nothing is saved.
    let other = store
        .get(&TaskId::new("task_other"), None)
        .await
        .unwrap()
        .unwrap();
    for snapshot_id in [json!(other.snapshot.id), json!("snap_unknown")] {
        let refused = send(
            &agent,
            call(
                "state.restore",
                json!({"task_id": "task_r", "snapshot_id": snapshot_id}),
            ),
        )
        .await;
        assert_eq!(refused["error"]["code"], -32602, "{refused}");
        assert_eq!(refused["error"]["data"]["code"], "asap:task/not_found");
    }
    assert_eq!(
        store.list_versions(&TaskId::new("task_r")).await.unwrap(),
        [1, 2, 3]
    );
}

#[tokio::test]
async fn without_a_store_state_payloads_have_no_handler() {
    let agent = agent(None).await;
    for (payload_type, payload) in [
        ("state.query", json!({"task_id": "t"})),
        ("state.restore", json!({"task_id": "t", "snapshot_id": "s"})),
    ] {
        let reply = send(&agent, call(payload_type, payload)).await;
        assert_eq!(reply["error"]["code"], -32601, "{reply}");
    }
}
