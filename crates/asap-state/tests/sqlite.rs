//! The SQLite backend against the conformance suite, durability across reopening, and URLs.
#![cfg(all(feature = "sqlite", feature = "conformance"))]

use asap_model::{ConversationId, Task, TaskStatus};
use asap_state::sqlite::{SqliteOptions, SqliteStore};
use asap_state::{ErrorKind, NonceStore, Stores, TaskStore, conformance};
use std::time::Duration;

fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_stores_pass_the_conformance_suite() {
    let dir = data_dir();
    let store = SqliteStore::open(dir.path().join("state.db"))
        .await
        .expect("open");
    conformance::all(&store.clone().into_stores()).await;
    // Again on the same file: the suite does not assume an empty store.
    conformance::all(&store.into_stores()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_counts_tasks_by_status() {
    let dir = data_dir();
    let store = SqliteStore::open(dir.path().join("counts.db"))
        .await
        .expect("open");
    conformance::task_counts(&*store.into_stores().tasks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synchronous_full_and_one_connection_pass_too() {
    let dir = data_dir();
    let store = SqliteOptions::new(dir.path().join("full.db"))
        .synchronous_full(true)
        .max_connections(1)
        .open()
        .await
        .expect("open");
    conformance::all(&store.into_stores()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_closing_and_reopening() {
    let dir = data_dir();
    let path = dir.path().join("nested/dirs/state.db");
    let task = Task::new(ConversationId::generate());
    {
        let store = SqliteStore::open(&path)
            .await
            .expect("open creates parent dirs");
        store.create(&task).await.expect("create");
        store
            .transition(&task.id, TaskStatus::Working, None)
            .await
            .expect("transition");
        assert!(
            store
                .check_and_mark("n-durable", Duration::from_secs(600))
                .await
                .expect("mark")
        );
        store.close().await;
    }
    let store = SqliteStore::open(&path).await.expect("reopen");
    let stored = store.get(&task.id).await.expect("get").expect("task kept");
    assert_eq!(stored.status, TaskStatus::Working);
    assert_eq!(store.history(&task.id).await.expect("history").len(), 2);
    assert!(
        !store
            .check_and_mark("n-durable", Duration::from_secs(600))
            .await
            .expect("mark"),
        "nonce kept"
    );
    assert_eq!(
        store
            .list_by_status(TaskStatus::Working, 10)
            .await
            .expect("list"),
        [stored]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_expired_removes_expired_rows_only() {
    let dir = data_dir();
    let store = SqliteStore::open(dir.path().join("purge.db"))
        .await
        .expect("open");
    for i in 0..5 {
        assert!(
            store
                .check_and_mark(&format!("short-{i}"), Duration::from_millis(1))
                .await
                .expect("mark")
        );
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
            .expect("mark")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_choose_the_backend() {
    let dir = data_dir();
    for url in [
        format!("sqlite://{}", dir.path().join("a/one.db").display()),
        format!("sqlite:{}", dir.path().join("b/two.db").display()),
    ] {
        let stores = Stores::open(&url).await.expect(&url);
        stores.ping.ping().await.expect("ping");
        let task = Task::new(ConversationId::generate());
        stores.tasks.create(&task).await.expect("create");
    }
    assert!(dir.path().join("a/one.db").exists());
    assert!(dir.path().join("b/two.db").exists());
    for url in ["mysql://localhost/db", "file:/tmp/x", "", "memory:/path"] {
        let err = Stores::open(url).await.expect_err(url);
        assert_eq!(err.kind(), ErrorKind::Other);
    }
    let err = Stores::open("mysql://localhost/db")
        .await
        .expect_err("mysql");
    assert!(
        err.message().contains("memory:") && err.message().contains("sqlite:"),
        "{}",
        err.message()
    );
    let err = Stores::open("sqlite:").await.expect_err("empty path");
    assert_eq!(err.kind(), ErrorKind::Other);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_a_database_is_refused() {
    let dir = data_dir();
    let path = dir.path().join("garbage.db");
    std::fs::write(
        &path,
        b"this is not a SQLite database, just some bytes ......",
    )
    .expect("write");
    let err = SqliteStore::open(&path).await.expect_err("not a database");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Corrupt | ErrorKind::Unavailable | ErrorKind::Other
        ),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_status_reads_without_writing() {
    let dir = data_dir();
    let path = dir.path().join("sub").join("state.db");
    let url = format!("sqlite://{}", path.display());
    let before = Stores::schema_status(&url)
        .await
        .expect("status of a missing file");
    assert_eq!(before.applied, 0);
    assert!(before.latest >= 1, "this build carries migrations");
    assert_eq!(before.pending(), before.latest);
    assert!(!path.exists(), "reading the status creates no file");
    assert!(!path.parent().unwrap().exists(), "nor its directory");

    let store = SqliteStore::open(&path).await.expect("open");
    store.close().await;
    let after = SqliteStore::schema_status(&path).await.expect("status");
    assert_eq!(
        after.applied, before.latest,
        "opening applied every migration"
    );
    assert_eq!(after.pending(), 0);
    assert!(!after.is_newer());

    // A database some other program made: no migration applied, every one pending.
    let foreign = dir.path().join("foreign.db");
    {
        use sqlx::{Connection, SqliteConnection};
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&foreign)
            .create_if_missing(true);
        let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::raw_sql("CREATE TABLE other (x)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let status = SqliteStore::schema_status(&foreign).await.expect("status");
    assert_eq!((status.applied, status.pending()), (0, status.latest));

    let garbage = dir.path().join("garbage.db");
    std::fs::write(
        &garbage,
        b"this is not a SQLite database, just some bytes ......",
    )
    .unwrap();
    assert!(SqliteStore::schema_status(&garbage).await.is_err());
    assert_eq!(
        Stores::schema_status("memory:").await.expect("memory"),
        asap_state::SchemaStatus::new(0, 0)
    );
}
