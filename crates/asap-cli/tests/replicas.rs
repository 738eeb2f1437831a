//! Two `asap serve` replicas sharing PostgreSQL (`--state`) and Redis (`--shared-state`): a
//! nonce used on A is refused on B, the rate limit is one budget, an idempotent retry sent
//! to B after A processed it returns A's stored response, and a task created through A is
//! visible through B. Also: `/ready` follows the shared store's reachability.
//!
//! Needs ASAP_TEST_POSTGRES_URL and ASAP_TEST_REDIS_URL (`.ci/run` starts both): skipped
//! without them, failed under `CI=true`.
#![cfg(all(feature = "postgres", feature = "redis"))]

mod durable_support;
mod pg_support;

use std::io::{Read, Write};
use std::net::TcpStream;

use durable_support::{Serve, get, post_status, wait_for};
use pg_support::{TestDb, block_on};
use serde_json::{Value, json};

/// The Redis database this file uses alone (flushed at the start of each test).
const REDIS_DB: u32 = 9;

/// `redis://host:port/REDIS_DB`, emptied.
fn fresh_redis(url: &str) -> String {
    let rest = url.trim_start_matches("redis://");
    let host = rest.split('/').next().unwrap_or(rest);
    let mut stream = TcpStream::connect(host).expect("connect to Redis");
    let db = REDIS_DB.to_string();
    write!(
        stream,
        "*2\r\n$6\r\nSELECT\r\n${}\r\n{db}\r\n*1\r\n$7\r\nFLUSHDB\r\n",
        db.len()
    )
    .expect("write");
    let mut answer = [0u8; 10];
    let mut read = 0;
    while read < answer.len() {
        let n = stream.read(&mut answer[read..]).expect("read");
        assert!(n > 0, "Redis closed the connection");
        read += n;
    }
    assert_eq!(&answer, b"+OK\r\n+OK\r\n", "SELECT and FLUSHDB");
    format!("redis://{host}/{REDIS_DB}")
}

fn services() -> Option<(TestDb, String)> {
    let postgres = asap_testing::services::require_postgres()?;
    let redis = asap_testing::services::require_redis()?;
    Some((TestDb::create(&postgres), fresh_redis(&redis)))
}

fn replica(dir: &tempfile::TempDir, db: &TestDb, redis: &str, name: &str, extra: &[&str]) -> Serve {
    let mut args = vec![
        "--state",
        db.url.as_str(),
        "--shared-state",
        redis,
        "--instance",
        name,
    ];
    args.extend_from_slice(extra);
    Serve::start_with(dir.path(), &args)
}

fn envelope(skill: &str, input: Value) -> Value {
    json!({
        "asap_version": "0.1",
        "sender": "urn:asap:agent:client",
        "recipient": "urn:asap:agent:default-server",
        "payload_type": "task.request",
        "payload": {"conversation_id": "conv_replicas", "skill_id": skill, "input": input},
    })
}

fn send(envelope: Value, key: Option<&str>) -> Value {
    let mut params = json!({ "envelope": envelope });
    if let Some(key) = key {
        params["idempotency_key"] = json!(key);
    }
    json!({"jsonrpc": "2.0", "method": "asap.send", "id": "r", "params": params})
}

#[test]
fn replicas_share_nonces_idempotency_and_tasks() {
    let Some((db, redis)) = services() else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let extra = ["--rate-limit", "off", "--require-nonce"];
    let a = replica(&dir, &db, &redis, "a", &extra);
    let b = replica(&dir, &db, &redis, "b", &extra);

    // A nonce used on A is refused on B.
    let nonce = format!("n-{}", asap_model::ids::new_ulid());
    let mut with_nonce = envelope("echo", json!({"n": 1}));
    with_nonce["extensions"] = json!({ "nonce": nonce });
    let (status, first) = post_status(&a.addr, &send(with_nonce.clone(), None));
    assert_eq!(status, 200);
    assert!(first.get("result").is_some(), "{first}");
    let (_, replay) = post_status(&b.addr, &send(with_nonce, None));
    assert!(
        replay["error"].to_string().to_lowercase().contains("nonce"),
        "B must refuse A's nonce: {replay}"
    );

    // An idempotent retry sent to B after A processed it gets A's stored response.
    let keyed = |n: u32| {
        let mut e = envelope("echo", json!({ "n": n }));
        e["extensions"] = json!({ "nonce": format!("n-{}", asap_model::ids::new_ulid()) });
        e
    };
    let original = keyed(2);
    let (_, on_a) = post_status(&a.addr, &send(original.clone(), Some("key-replicas")));
    let (_, on_b) = post_status(&b.addr, &send(original, Some("key-replicas")));
    assert_eq!(
        on_a["result"]["envelope"]["id"], on_b["result"]["envelope"]["id"],
        "B replays A's response: {on_a} / {on_b}"
    );

    // A long-running task submitted through A runs there; both see it in the shared store.
    let mut countdown = envelope("countdown", json!({"steps": 2, "step_ms": 1}));
    countdown["extensions"] = json!({ "nonce": format!("n-{}", asap_model::ids::new_ulid()) });
    let (_, submitted) = post_status(&a.addr, &send(countdown, Some("key-task")));
    let task_id = submitted["result"]["envelope"]["payload"]["task_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{submitted}"))
        .to_owned();
    let store = block_on(asap_state::Stores::open(&db.url)).expect("open the shared store");
    wait_for("the task completes", || {
        block_on(store.tasks.get(&asap_model::TaskId::new(task_id.as_str())))
            .ok()
            .flatten()
            .is_some_and(|t| t.status == asap_model::TaskStatus::Completed)
    });
    let query = |addr: &str| {
        let mut e = json!({
            "asap_version": "0.1",
            "sender": "urn:asap:agent:client",
            "recipient": "urn:asap:agent:default-server",
            "payload_type": "state.query",
            "payload": {"task_id": task_id},
            "extensions": {"nonce": format!("n-{}", asap_model::ids::new_ulid())},
        });
        e["payload"]["version"] = Value::Null;
        post_status(addr, &send(e, None)).1
    };
    let through_b = query(&b.addr);
    let snapshot = &through_b["result"]["envelope"]["payload"]["result"];
    assert_eq!(
        snapshot["task_id"], task_id,
        "the task created through A is visible through B: {through_b}"
    );
    assert_eq!(
        snapshot["data"]["result"],
        json!({"steps": 2, "resumed_from": 0})
    );
}

#[test]
fn replicas_share_one_rate_limit_budget() {
    let Some((db, redis)) = services() else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let extra = ["--rate-limit", "4/minute"];
    let a = replica(&dir, &db, &redis, "a", &extra);
    let b = replica(&dir, &db, &redis, "b", &extra);
    let mut statuses = Vec::new();
    for i in 0..6 {
        let target = if i % 2 == 0 { &a.addr } else { &b.addr };
        statuses.push(post_status(target, &send(envelope("echo", json!({ "i": i })), None)).0);
    }
    // Four in all pass, whichever replica they reached; then both refuse.
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429], "{statuses:?}");
}

#[test]
fn ready_follows_the_shared_store() {
    let Some((db, _redis)) = services() else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    // Nothing listens on port 9 of 127.0.0.1: the shared store is down.
    let down = replica(
        &dir,
        &db,
        "redis://127.0.0.1:9/0",
        "down",
        &["--rate-limit", "off"],
    );
    wait_for("/ready says not ready", || {
        get(&down.addr, "/ready").0 == 503
    });
    assert_eq!(
        get(&down.addr, "/health").0,
        200,
        "the process itself is alive"
    );
    let up = replica(
        &dir,
        &db,
        &fresh_redis(&asap_testing::services::redis_url().unwrap()),
        "up",
        &["--rate-limit", "off"],
    );
    wait_for("/ready says ready", || get(&up.addr, "/ready").0 == 200);
}
