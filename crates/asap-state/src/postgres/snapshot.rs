use asap_model::{SnapshotId, StateSnapshot, TaskId};
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::error::{corrupt, db_error};
use super::{PostgresStore, sql_limit};
use crate::{ErrorKind, SnapshotRecord, SnapshotStore, StoreError, StoreFuture};

fn decode(row: &PgRow) -> Result<SnapshotRecord, StoreError> {
    let err = |e| db_error("snapshot", e);
    let body: String = row.try_get("body").map_err(err)?;
    let schema_version: i64 = row.try_get("schema_version").map_err(err)?;
    let snapshot: StateSnapshot =
        serde_json::from_str(&body).map_err(|e| corrupt("snapshot", e))?;
    let schema_version = u32::try_from(schema_version).map_err(|e| corrupt("schema version", e))?;
    Ok(SnapshotRecord {
        snapshot,
        schema_version,
    })
}

impl SnapshotStore for PostgresStore {
    fn save<'a>(&'a self, record: &'a SnapshotRecord) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let body = serde_json::to_string(&record.snapshot)
                .map_err(|e| StoreError::new(ErrorKind::Other, e.to_string()))?;
            // One statement: a concurrent reader sees the old row or the new one.
            sqlx::query(
                "INSERT INTO snapshots (task_id, version, id, schema_version, body)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (task_id, version) DO UPDATE SET
                     id = excluded.id, schema_version = excluded.schema_version,
                     body = excluded.body",
            )
            .bind(record.snapshot.task_id.as_str())
            .bind(record.snapshot.version)
            .bind(record.snapshot.id.as_str())
            .bind(i64::from(record.schema_version))
            .bind(body)
            .execute(&self.pool)
            .await
            .map_err(|e| db_error("snapshot save", e))?;
            Ok(())
        })
    }

    fn get<'a>(
        &'a self,
        task_id: &'a TaskId,
        version: Option<i64>,
    ) -> StoreFuture<'a, Option<SnapshotRecord>> {
        Box::pin(async move {
            let query = match version {
                Some(version) => sqlx::query(
                    "SELECT schema_version, body FROM snapshots WHERE task_id = $1 AND version = $2",
                )
                .bind(task_id.as_str())
                .bind(version),
                None => sqlx::query(
                    "SELECT schema_version, body FROM snapshots WHERE task_id = $1
                     ORDER BY version DESC LIMIT 1",
                )
                .bind(task_id.as_str()),
            };
            let row = query
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| db_error("snapshot get", e))?;
            row.as_ref().map(decode).transpose()
        })
    }

    fn list_versions<'a>(&'a self, task_id: &'a TaskId) -> StoreFuture<'a, Vec<i64>> {
        Box::pin(async move {
            let err = |e| db_error("snapshot versions", e);
            let rows =
                sqlx::query("SELECT version FROM snapshots WHERE task_id = $1 ORDER BY version")
                    .bind(task_id.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(err)?;
            rows.iter()
                .map(|row| row.try_get("version").map_err(err))
                .collect()
        })
    }

    fn delete<'a>(&'a self, task_id: &'a TaskId, version: Option<i64>) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let query = match version {
                Some(version) => {
                    sqlx::query("DELETE FROM snapshots WHERE task_id = $1 AND version = $2")
                        .bind(task_id.as_str())
                        .bind(version)
                }
                None => {
                    sqlx::query("DELETE FROM snapshots WHERE task_id = $1").bind(task_id.as_str())
                }
            };
            let removed = query
                .execute(&self.pool)
                .await
                .map_err(|e| db_error("snapshot delete", e))?
                .rows_affected();
            Ok(removed > 0)
        })
    }

    fn get_by_id<'a>(&'a self, id: &'a SnapshotId) -> StoreFuture<'a, Option<SnapshotRecord>> {
        Box::pin(async move {
            let row = sqlx::query(
                // Ids are unique in practice; the order only makes the answer deterministic.
                "SELECT schema_version, body FROM snapshots WHERE id = $1
                 ORDER BY task_id, version DESC LIMIT 1",
            )
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_error("snapshot get_by_id", e))?;
            row.as_ref().map(decode).transpose()
        })
    }

    fn list_tasks<'a>(
        &'a self,
        after: Option<&'a TaskId>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<TaskId>> {
        Box::pin(async move {
            let err = |e| db_error("snapshot tasks", e);
            // Compared and ordered in the "C" collation (bytewise), as `TaskId` orders,
            // whatever the database's default collation is.
            let query = match after {
                Some(after) => sqlx::query(
                    r#"SELECT DISTINCT task_id COLLATE "C" AS task_id FROM snapshots
                       WHERE task_id COLLATE "C" > $1 ORDER BY 1 LIMIT $2"#,
                )
                .bind(after.as_str()),
                None => sqlx::query(
                    r#"SELECT DISTINCT task_id COLLATE "C" AS task_id FROM snapshots
                       ORDER BY 1 LIMIT $1"#,
                ),
            };
            let rows = query
                .bind(sql_limit(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(err)?;
            rows.iter()
                .map(|row| {
                    let id: String = row.try_get("task_id").map_err(err)?;
                    Ok(TaskId::from(id))
                })
                .collect()
        })
    }
}
