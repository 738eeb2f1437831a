//! State store benchmarks: `asap-state`'s snapshot and task stores, per backend.
//!
//! * `snapshot/save/<backend>` — `SnapshotStore::save` of a ≈ 4 KiB JSON snapshot (see
//!   [`snapshot_data`]). The saves go round-robin over 64 tasks, versions 1 to 16, so the
//!   store never holds more than 1 024 records: after the first 1 024 saves every save
//!   overwrites a stored (task, version), as a task that checkpoints over and over does.
//! * `snapshot/get/<backend>` — `get(task, Some(version))` of a stored record;
//!   `snapshot/latest/<backend>` — `get(task, None)`, the highest version of a task with 16.
//! * `task/create/<backend>` — `TaskStore::create` of a new `submitted` task (run to
//!   completion untimed afterwards, so that the memory store, which evicts only terminal
//!   tasks, never fills).
//! * `task/transitions/<backend>` — `working` then `completed` on a task created (untimed)
//!   just before: two transitions, each a read-check-write with a history entry; criterion's
//!   throughput line is transitions per second.
//! * `task/lifecycle/<backend>` — create + `submitted → working → completed`, the whole
//!   life of a task that runs once.
//!
//! Backends: `memory` (the in-process stores), `sqlite` (a file in a temporary directory,
//! opened with `SqliteStore::open` as `asap serve` opens `DATA_DIR/state.db`: WAL,
//! `synchronous = NORMAL`) and `postgres`, only when `ASAP_TEST_POSTGRES_URL` is set: a
//! database of its own is created from that URL's connection and dropped at the end
//! (without the variable a line says it is skipped; nothing fails). Every call runs with
//! `block_on` on a current-thread Tokio runtime, one call at a time: latency per call, not
//! throughput under concurrency.
//!
//! Run: `cargo bench -p asap-benches --bench state` (`-- --quick` for a short run, `-- sqlite`
//! to filter), with `ASAP_TEST_POSTGRES_URL=postgres://USER@HOST:PORT/DB` for PostgreSQL.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use asap_model::{
    ConversationId, JsonObject, SnapshotId, StateSnapshot, Task, TaskId, TaskStatus, Timestamp,
};
use asap_state::postgres::PostgresStore;
use asap_state::sqlite::SqliteStore;
use asap_state::{SnapshotRecord, SnapshotStore, Stores, TaskStore};
use criterion::{BatchSize, Criterion, Throughput};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use tokio::runtime::Runtime;

/// Tasks the snapshot benches write to, and versions per task.
const TASKS: usize = 64;
const VERSIONS: i64 = 16;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The `data` of a snapshot a research agent could checkpoint: the query, a plan, twelve
/// sources with excerpts and scores, notes and counters; ≈ 4 KiB as JSON.
fn snapshot_data(step: usize) -> JsonObject {
    let sources: Vec<_> = (0..12)
        .map(|i| {
            json!({
                "url": format!("https://example.org/reports/2025/q3/market-{i:02}.html"),
                "title": format!("Infrastructure spending, part {i}: data centres and accelerators"),
                "excerpt": "Capital expenditure on accelerated computing rose again this quarter, \
                            led by hyperscale operators; power and cooling remain the constraint.",
                "score": 0.5 + f64::from(i) / 40.0,
                "fetched_at": "2025-09-30T12:00:00Z",
            })
        })
        .collect();
    let value = json!({
        "query": "AI infrastructure market trends Q3 2025",
        "step": step,
        "plan": ["search", "fetch", "extract", "rank", "summarise", "cite"],
        "sources": sources,
        "notes": [
            "Two sources disagree on the year-over-year growth figure; prefer the filing.",
            "Inference share of accelerator demand is quoted between 40 and 60 per cent.",
        ],
        "counters": {"fetched": 12, "failed": 1, "tokens_in": 48_213, "tokens_out": 3_907},
        "cursor": {"page": 3, "next": "eyJvZmZzZXQiOjM2LCJsaW1pdCI6MTJ9"},
    });
    match value {
        serde_json::Value::Object(object) => object,
        _ => unreachable!("a json! object literal"),
    }
}

fn record(task_id: &TaskId, version: i64, data: &JsonObject) -> SnapshotRecord {
    SnapshotRecord {
        snapshot: StateSnapshot {
            id: SnapshotId::generate(),
            task_id: task_id.clone(),
            version,
            data: data.clone(),
            checkpoint: true,
            created_at: Timestamp::now(),
        },
        schema_version: 1,
    }
}

/// A PostgreSQL database created for this run, dropped when the run ends.
struct BenchDb {
    admin: String,
    name: String,
    url: String,
}

impl BenchDb {
    async fn create(admin: &str) -> Result<Self, sqlx::Error> {
        let name = format!("asap_bench_{}", asap_model::ids::new_ulid().to_lowercase());
        let mut conn = PgConnection::connect(admin).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        let _ = conn.close().await;
        Ok(Self {
            url: with_database(admin, &name),
            admin: admin.to_owned(),
            name,
        })
    }

    /// Drops the database (FORCE ends the connections the store's pool still holds).
    async fn drop_database(self) {
        let dropped = async {
            let mut conn = PgConnection::connect(&self.admin).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&mut conn)
            .await?;
            conn.close().await
        };
        if let Err(e) = dropped.await {
            eprintln!(
                "state bench: could not drop the database {}: {e}",
                self.name
            );
        }
    }
}

/// `url` with its database replaced by `database` (query parameters kept).
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = base[authority..]
        .find('/')
        .map_or(base, |i| &base[..authority + i]);
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// One backend under test.
struct Backend {
    name: &'static str,
    stores: Stores,
}

async fn open_sqlite(dir: &Path) -> Backend {
    let store = SqliteStore::open(dir.join("state.db"))
        .await
        .expect("open the SQLite store");
    Backend {
        name: "sqlite",
        stores: store.into_stores(),
    }
}

async fn open_postgres() -> Option<(Backend, BenchDb)> {
    let Some(admin) = std::env::var("ASAP_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!("state bench: postgres skipped (ASAP_TEST_POSTGRES_URL is not set)");
        return None;
    };
    let db = match BenchDb::create(&admin).await {
        Ok(db) => db,
        Err(e) => {
            println!("state bench: postgres skipped (cannot create a database: {e})");
            return None;
        }
    };
    let store = PostgresStore::open(&db.url)
        .await
        .expect("open the PostgreSQL store");
    let backend = Backend {
        name: "postgres",
        stores: store.into_stores(),
    };
    Some((backend, db))
}

fn snapshots(c: &mut Criterion, rt: &Runtime, backends: &[Backend]) {
    let data = snapshot_data(7);
    let size = serde_json::to_vec(&data).map_or(0, |v| v.len());
    println!("state bench: snapshot data is {size} bytes of JSON");
    let tasks: Vec<TaskId> = (0..TASKS).map(|_| TaskId::generate()).collect();
    let mut group = c.benchmark_group("snapshot");
    group.throughput(Throughput::Elements(1));
    for backend in backends {
        let store: Arc<dyn SnapshotStore> = backend.stores.snapshots.clone();
        // Every (task, version) stored once, so that `get` always finds its record.
        let records: Vec<SnapshotRecord> = tasks
            .iter()
            .flat_map(|t| (1..=VERSIONS).map(move |v| (t, v)))
            .map(|(t, v)| record(t, v, &data))
            .collect();
        rt.block_on(async {
            for r in &records {
                store.save(r).await.expect("save");
            }
        });
        let mut next = 0usize;
        group.bench_function(format!("save/{}", backend.name), |b| {
            b.iter(|| {
                let r = &records[next % records.len()];
                next = next.wrapping_add(1);
                rt.block_on(store.save(black_box(r))).expect("save");
            });
        });
        let mut next = 0usize;
        group.bench_function(format!("get/{}", backend.name), |b| {
            b.iter(|| {
                let r = &records[next % records.len()];
                next = next.wrapping_add(1);
                let got = rt.block_on(store.get(&r.snapshot.task_id, Some(r.snapshot.version)));
                black_box(got.expect("get").expect("a stored record"));
            });
        });
        let mut next = 0usize;
        group.bench_function(format!("latest/{}", backend.name), |b| {
            b.iter(|| {
                let task = &tasks[next % tasks.len()];
                next = next.wrapping_add(1);
                let got = rt.block_on(store.get(task, None)).expect("get");
                assert_eq!(got.map(|r| r.snapshot.version), Some(VERSIONS));
            });
        });
    }
    group.finish();
}

fn new_task(conversation: &ConversationId) -> Task {
    Task::new(conversation.clone())
}

async fn run_to_completion(store: &dyn TaskStore, id: &TaskId) {
    store
        .transition(id, TaskStatus::Working, None)
        .await
        .expect("submitted → working");
    let done = store
        .transition(id, TaskStatus::Completed, None)
        .await
        .expect("working → completed");
    debug_assert_eq!(done.status, TaskStatus::Completed);
}

fn tasks(c: &mut Criterion, rt: &Runtime, backends: &[Backend]) {
    let conversation = ConversationId::generate();
    let mut group = c.benchmark_group("task");
    for backend in backends {
        let store: Arc<dyn TaskStore> = backend.stores.tasks.clone();
        // Timed by hand around the measured calls only: the task each iteration creates is
        // run to completion untimed (the memory store evicts only terminal tasks, so a run
        // of creates alone would fill it), and `transitions` creates its task untimed.
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("create/{}", backend.name), |b| {
            b.iter_custom(|n| {
                let mut timed = Duration::ZERO;
                for _ in 0..n {
                    let task = new_task(&conversation);
                    let start = Instant::now();
                    rt.block_on(store.create(&task)).expect("create");
                    timed += start.elapsed();
                    rt.block_on(run_to_completion(store.as_ref(), &task.id));
                }
                timed
            });
        });
        group.throughput(Throughput::Elements(2));
        group.bench_function(format!("transitions/{}", backend.name), |b| {
            b.iter_custom(|n| {
                let mut timed = Duration::ZERO;
                for _ in 0..n {
                    let task = new_task(&conversation);
                    rt.block_on(store.create(&task)).expect("create");
                    let start = Instant::now();
                    rt.block_on(run_to_completion(store.as_ref(), &task.id));
                    timed += start.elapsed();
                }
                timed
            });
        });
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("lifecycle/{}", backend.name), |b| {
            b.iter_batched(
                || new_task(&conversation),
                |task| {
                    rt.block_on(async {
                        store.create(&task).await.expect("create");
                        run_to_completion(store.as_ref(), &task.id).await;
                    });
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

// What `criterion_group!` + `criterion_main!` expand to, without their undocumented `pub fn`.
fn main() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut backends = vec![Backend {
        name: "memory",
        stores: Stores::memory(),
    }];
    backends.push(rt.block_on(open_sqlite(dir.path())));
    let postgres = rt.block_on(open_postgres()).map(|(backend, db)| {
        backends.push(backend);
        db
    });
    let mut criterion = config().configure_from_args();
    snapshots(&mut criterion, &rt, &backends);
    tasks(&mut criterion, &rt, &backends);
    criterion.final_summary();
    // The stores (and their pools) go before the database and the directory they live in.
    drop(backends);
    if let Some(db) = postgres {
        rt.block_on(db.drop_database());
    }
}
