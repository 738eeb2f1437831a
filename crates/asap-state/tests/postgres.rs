//! The PostgreSQL backend against the conformance suite, shared by two stores on one database
//! (the replica case), opened by several replicas at once, through URLs, and unreachable.
//! Needs `ASAP_TEST_POSTGRES_URL` (`.ci/run` starts a server): skipped without it, failed under
//! `CI=true`. Each test works in a database of its own, created from that URL's connection
//! and dropped afterwards (also when the test fails), so runs never see each other's rows.
#![cfg(all(feature = "postgres", feature = "conformance"))]

use std::time::Duration;

use asap_model::{ConversationId, SnapshotId, StateSnapshot, Task, TaskId, TaskStatus, Timestamp};
use asap_state::postgres::{PostgresOptions, PostgresStore};
use asap_state::{
    Begin, ErrorKind, IdempotencyKey, IdempotencyStore, NonceStore, Ping, RateDecision,
    RateLimitStore, RateQuota, SnapshotRecord, SnapshotStore, StoredResponse, Stores, TaskStore,
    conformance,
};
use sqlx::{Connection, PgConnection};

/// A database created for one test, dropped with it.
struct TestDb {
    admin: String,
    name: String,
    url: String,
}

impl TestDb {
    async fn create(admin: &str) -> Self {
        let name = format!("asap_t_{}", asap_model::ids::new_ulid().to_lowercase());
        let mut conn = PgConnection::connect(admin)
            .await
            .expect("connect to ASAP_TEST_POSTGRES_URL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        let _ = conn.close().await;
        Self {
            url: with_database(admin, &name),
            admin: admin.to_owned(),
            name,
        }
    }

    /// A statement on the test database itself.
    async fn execute(&self, sql: &'static str) -> u64 {
        let mut conn = PgConnection::connect(&self.url)
            .await
            .expect("connect to the test database");
        let done = sqlx::raw_sql(sql)
            .execute(&mut conn)
            .await
            .expect(sql)
            .rows_affected();
        let _ = conn.close().await;
        done
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // On a thread of its own: a drop may run on a runtime worker, which cannot block on
        // a runtime; FORCE ends the connections pools still hold.
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await?;
                conn.close().await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}", self.name);
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

async fn fresh_db() -> Option<TestDb> {
    let admin = asap_testing::services::require_postgres()?;
    Some(TestDb::create(&admin).await)
}

async fn open(db: &TestDb) -> PostgresStore {
    PostgresStore::open(&db.url).await.expect("open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_passes_the_conformance_suite() {
    let Some(db) = fresh_db().await else {
        return;
    };
    let store = open(&db).await;
    conformance::all(&store.clone().into_stores()).await;
    // Again on the same database: the suite does not assume an empty store.
    conformance::all(&store.clone().into_stores()).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_counts_tasks_by_status() {
    let Some(db) = fresh_db().await else {
        return;
    };
    let store = open(&db).await;
    conformance::task_counts(&*store.clone().into_stores().tasks).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_passes_too() {
    let Some(db) = fresh_db().await else {
        return;
    };
    let store = PostgresOptions::new(&db.url)
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .open()
        .await
        .expect("open");
    conformance::all(&store.into_stores()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_database_share_every_record() {
    let Some(db) = fresh_db().await else {
        return;
    };
    let (first, second) = (open(&db).await, open(&db).await);

    let task = Task::new(ConversationId::generate());
    first.create(&task).await.expect("create");
    let err = second.create(&task).await.expect_err("created twice");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    second
        .transition(&task.id, TaskStatus::Working, None)
        .await
        .expect("transition through the other store");
    let seen = TaskStore::get(&first, &task.id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(seen.status, TaskStatus::Working);
    assert_eq!(first.history(&task.id).await.expect("history").len(), 2);
    assert_eq!(
        second
            .list_by_status(TaskStatus::Working, 10)
            .await
            .expect("list"),
        [seen]
    );
    let err = first
        .transition(&task.id, TaskStatus::Submitted, None)
        .await
        .expect_err("back to submitted");
    assert_eq!(err.kind(), ErrorKind::InvalidTransition);

    let snapshot = SnapshotRecord {
        snapshot: StateSnapshot {
            id: SnapshotId::generate(),
            task_id: task.id.clone(),
            version: 1,
            data: asap_model::JsonObject::new(),
            checkpoint: true,
            created_at: Timestamp::now(),
        },
        schema_version: 1,
    };
    first.save(&snapshot).await.expect("save");
    assert_eq!(
        second
            .get_by_id(&snapshot.snapshot.id)
            .await
            .expect("get_by_id"),
        Some(snapshot.clone())
    );
    assert_eq!(
        SnapshotStore::get(&second, &task.id, None)
            .await
            .expect("get"),
        Some(snapshot)
    );

    let ttl = Duration::from_secs(60);
    assert!(first.check_and_mark("n-1", ttl).await.expect("first"));
    assert!(!second.check_and_mark("n-1", ttl).await.expect("replay"));
    assert!(second.check_and_mark("n-2", ttl).await.expect("second"));
    assert!(!first.check_and_mark("n-2", ttl).await.expect("replay"));

    let key = IdempotencyKey {
        sender: "urn:asap:agent:replicas".into(),
        key: "k-1".into(),
    };
    let lease = Duration::from_secs(60);
    assert_eq!(
        first.begin(&key, "fp", lease, ttl).await.expect("begin"),
        Begin::Started
    );
    assert_eq!(
        second.begin(&key, "fp", lease, ttl).await.expect("begin"),
        Begin::InProgress
    );
    let response = StoredResponse {
        fingerprint: "fp".into(),
        body: b"{\"ok\":true}".to_vec(),
    };
    first
        .complete(&key, &response, ttl)
        .await
        .expect("complete");
    assert_eq!(
        second.begin(&key, "fp", lease, ttl).await.expect("begin"),
        Begin::Completed(response)
    );

    // One budget for both: of a burst split between them, exactly `limit` pass.
    let quota = RateQuota {
        limit: std::num::NonZeroU32::new(4).expect("non-zero"),
        period: Duration::from_secs(60),
    };
    let mut allowed = 0;
    for i in 0..8 {
        let store = if i % 2 == 0 { &first } else { &second };
        if let RateDecision::Allowed { .. } = store.check("k", quota).await.expect("check") {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_opening_at_once_migrate_once() {
    let Some(db) = fresh_db().await else {
        return;
    };
    let opened = futures_util::future::join_all((0..6).map(|_| {
        let url = db.url.clone();
        tokio::spawn(async move { PostgresStore::open(&url).await })
    }))
    .await;
    let stores: Vec<PostgresStore> = opened
        .into_iter()
        .map(|r| r.expect("no panic").expect("every replica opens"))
        .collect();
    for store in &stores {
        store.ping().await.expect("ping");
    }
    assert_eq!(
        db.execute("SELECT version FROM asap_state_migrations")
            .await,
        1,
        "one row per migration, applied once"
    );
    // Opening again finds nothing to do.
    open(&db).await.ping().await.expect("reopen");
    assert_eq!(
        db.execute("SELECT version FROM asap_state_migrations")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_a_newer_schema_is_refused() {
    let Some(db) = fresh_db().await else {
        return;
    };
    open(&db).await.close().await;
    db.execute("INSERT INTO asap_state_migrations (version) VALUES (999)")
        .await;
    let err = PostgresStore::open(&db.url)
        .await
        .expect_err("schema 999 is newer");
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_status_reads_without_writing() {
    let Some(db) = fresh_db().await else {
        return;
    };
    let empty = Stores::schema_status(&db.url).await.expect("status");
    assert_eq!(empty.applied, 0, "a new database has applied nothing");
    assert!(empty.latest >= 1);
    assert_eq!(
        db.execute("SELECT 1 FROM pg_tables WHERE tablename = 'asap_state_migrations'")
            .await,
        0,
        "reading the status creates no table"
    );
    open(&db).await.close().await;
    assert_eq!(
        db.execute("SELECT 1 FROM pg_tables WHERE tablename = 'asap_state_migrations'")
            .await,
        1,
        "opening creates it"
    );
    let current = PostgresStore::schema_status(&db.url).await.expect("status");
    assert_eq!((current.applied, current.pending()), (empty.latest, 0));
    db.execute("INSERT INTO asap_state_migrations (version) VALUES (999)")
        .await;
    let newer = PostgresStore::schema_status(&db.url).await.expect("status");
    assert!(newer.is_newer(), "{newer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_expired_removes_expired_rows_only() {
    let Some(db) = fresh_db().await else {
        return;
    };
    let store = open(&db).await;
    for i in 0..5 {
        let fresh = store
            .check_and_mark(&format!("short-{i}"), Duration::from_millis(1))
            .await
            .expect("mark");
        assert!(fresh);
    }
    assert!(
        store
            .check_and_mark("long", Duration::from_secs(600))
            .await
            .expect("mark")
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(store.purge_expired(2).await.expect("purge"), 2);
    assert_eq!(store.purge_expired(100).await.expect("purge"), 3);
    assert_eq!(store.purge_expired(100).await.expect("purge"), 0);
    assert!(
        !store
            .check_and_mark("long", Duration::from_secs(600))
            .await
            .expect("mark"),
        "a live nonce is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_open_the_postgres_backend() {
    let Some(db) = fresh_db().await else {
        return;
    };
    let postgresql = db.url.replacen("postgres://", "postgresql://", 1);
    assert!(postgresql.starts_with("postgresql://"), "{postgresql}");
    let (first, second) = (
        Stores::open(&db.url).await.expect("postgres:// URL"),
        Stores::open(&postgresql).await.expect("postgresql:// URL"),
    );
    first.ping.ping().await.expect("ping");
    let task = Task::new(ConversationId::generate());
    first.tasks.create(&task).await.expect("create");
    assert_eq!(
        second.tasks.get(&task.id).await.expect("get"),
        Some(task),
        "both URLs name the same database"
    );
    assert_eq!(
        second.tasks.get(&TaskId::generate()).await.expect("get"),
        None
    );
    let schemes = asap_state::accepted_schemes();
    assert!(
        schemes.contains(&"postgres:") && schemes.contains(&"postgresql:"),
        "{schemes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_fails_once_the_database_is_gone() {
    let Some(db) = fresh_db().await else {
        return;
    };
    let store = open(&db).await;
    store.ping().await.expect("ping");
    let url = db.url.clone();
    // Dropping the database ends the pool's connections; reconnecting finds no database.
    drop(db);
    let err = store.ping().await.expect_err("no database");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(
        store
            .check_and_mark("n", Duration::from_secs(1))
            .await
            .is_err(),
        "a nonce is never let through unchecked"
    );
    drop(url);
}

#[tokio::test]
async fn an_unreachable_server_is_an_error() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let err = PostgresOptions::new(format!("postgres://asap:secret@127.0.0.1:{port}/asap"))
        .acquire_timeout(Duration::from_millis(300))
        .open()
        .await
        .expect_err("nothing listens");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(!err.to_string().contains("secret"), "{err}");
}

#[tokio::test]
async fn a_closed_store_is_unavailable() {
    let Some(db) = fresh_db().await else {
        return;
    };
    let store = open(&db).await;
    store.close().await;
    let err = store.ping().await.expect_err("closed");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    let err = store
        .check_and_mark("n", Duration::from_secs(1))
        .await
        .expect_err("closed");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
}

#[tokio::test]
async fn malformed_urls_are_refused_without_echoing_them() {
    for url in [
        "postgres://u:secret@[::1/x",
        "postgres://u:secret@host:notaport/db",
    ] {
        let err = PostgresStore::open(url).await.expect_err(url);
        assert_eq!(err.kind(), ErrorKind::Other, "{url}: {err}");
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
