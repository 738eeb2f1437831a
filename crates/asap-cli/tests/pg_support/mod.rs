//! A PostgreSQL database of its own for one test (created from `ASAP_TEST_POSTGRES_URL`'s
//! connection, dropped afterwards, also when the test fails).
#![allow(dead_code)]

use sqlx::{Connection, PgConnection};

/// A database of its own for one test, dropped afterwards.
pub(crate) struct TestDb {
    admin: String,
    name: String,
    pub(crate) url: String,
}

pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

impl TestDb {
    pub(crate) fn create(admin: &str) -> Self {
        let name = format!("asap_r_{}", asap_model::ids::new_ulid().to_lowercase());
        block_on(async {
            let mut conn = PgConnection::connect(admin).await.expect("connect");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create database");
            let _ = conn.close().await;
        });
        let (base, _) = admin.rsplit_once('/').expect("a database in the URL");
        Self {
            url: format!("{base}/{name}"),
            admin: admin.to_owned(),
            name,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}
