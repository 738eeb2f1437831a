use asap_model::{JsonObject, Task, TaskId, TaskStatus, Timestamp};
use sqlx::{Postgres, Row, Transaction};

use super::error::{corrupt, db_error};
use super::{PostgresStore, sql_limit};
use crate::{ErrorKind, StatusChange, StoreError, StoreFuture, TaskStore, check_history};

fn parse_status(text: &str) -> Result<TaskStatus, StoreError> {
    TaskStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == text)
        .ok_or_else(|| corrupt("task status", format!("unknown status {text:?}")))
}

fn decode(body: &str) -> Result<Task, StoreError> {
    serde_json::from_str(body).map_err(|e| corrupt("task", e))
}

fn encode(task: &Task) -> Result<String, StoreError> {
    serde_json::to_string(task).map_err(|e| StoreError::new(ErrorKind::Other, e.to_string()))
}

async fn insert_history(
    tx: &mut Transaction<'static, Postgres>,
    id: &TaskId,
    from: Option<TaskStatus>,
    to: &Task,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO task_history (task_id, seq, from_status, to_status, at)
         VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM task_history WHERE task_id = $1),
                 $2, $3, $4)",
    )
    .bind(id.as_str())
    .bind(from.map(TaskStatus::as_str))
    .bind(to.status.as_str())
    .bind(to.updated_at.to_string())
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error("task history", e))?;
    Ok(())
}

impl PostgresStore {
    /// Reads, changes and writes one task in one transaction that holds the task's row lock
    /// from the read on: concurrent changes of one task (from any replica) queue on it.
    async fn update_task(
        &self,
        id: &TaskId,
        change: impl FnOnce(&Task) -> Result<Task, StoreError>,
    ) -> Result<Task, StoreError> {
        let err = |e| db_error("task update", e);
        let mut tx = self.pool.begin().await.map_err(err)?;
        let row = sqlx::query("SELECT body FROM tasks WHERE id = $1 FOR UPDATE")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?;
        let Some(row) = row else {
            return Err(StoreError::new(
                ErrorKind::NotFound,
                format!("task {id} not found"),
            ));
        };
        let current = decode(row.try_get("body").map_err(err)?)?;
        let next = change(&current)?;
        sqlx::query("UPDATE tasks SET status = $1, updated_at = $2, body = $3 WHERE id = $4")
            .bind(next.status.as_str())
            .bind(next.updated_at.unix_micros())
            .bind(encode(&next)?)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        if next.status != current.status {
            insert_history(&mut tx, id, Some(current.status), &next).await?;
        }
        tx.commit().await.map_err(err)?;
        Ok(next)
    }
}

impl TaskStore for PostgresStore {
    fn create<'a>(&'a self, task: &'a Task) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let err = |e| db_error("task create", e);
            let mut tx = self.pool.begin().await.map_err(err)?;
            // A concurrent create of the same id waits for this one's commit and then inserts
            // nothing.
            let inserted = sqlx::query(
                "INSERT INTO tasks (id, status, updated_at, body) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(task.id.as_str())
            .bind(task.status.as_str())
            .bind(task.updated_at.unix_micros())
            .bind(encode(task)?)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
            if inserted == 0 {
                return Err(StoreError::new(
                    ErrorKind::AlreadyExists,
                    format!("task {} already exists", task.id),
                ));
            }
            insert_history(&mut tx, &task.id, None, task).await?;
            tx.commit().await.map_err(err)
        })
    }

    fn get<'a>(&'a self, id: &'a TaskId) -> StoreFuture<'a, Option<Task>> {
        Box::pin(async move {
            let err = |e| db_error("task get", e);
            let row = sqlx::query("SELECT body FROM tasks WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(err)?;
            match row {
                Some(row) => decode(row.try_get("body").map_err(err)?).map(Some),
                None => Ok(None),
            }
        })
    }

    fn transition<'a>(
        &'a self,
        id: &'a TaskId,
        to: TaskStatus,
        progress: Option<JsonObject>,
    ) -> StoreFuture<'a, Task> {
        Box::pin(self.update_task(id, move |task| {
            let mut next = task.transition(to)?;
            if let Some(progress) = progress {
                next.progress = Some(progress);
            }
            Ok(next)
        }))
    }

    fn set_progress<'a>(&'a self, id: &'a TaskId, progress: JsonObject) -> StoreFuture<'a, Task> {
        Box::pin(self.update_task(id, move |task| {
            let mut next = task.clone();
            next.progress = Some(progress);
            next.updated_at = Timestamp::now();
            Ok(next)
        }))
    }

    fn history<'a>(&'a self, id: &'a TaskId) -> StoreFuture<'a, Vec<StatusChange>> {
        Box::pin(async move {
            let err = |e| db_error("task history", e);
            let rows = sqlx::query(
                "SELECT from_status, to_status, at FROM task_history WHERE task_id = $1
                 ORDER BY seq",
            )
            .bind(id.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(err)?;
            rows.iter()
                .map(|row| {
                    let from: Option<String> = row.try_get("from_status").map_err(err)?;
                    let to: String = row.try_get("to_status").map_err(err)?;
                    let at: String = row.try_get("at").map_err(err)?;
                    Ok(StatusChange {
                        from: from.as_deref().map(parse_status).transpose()?,
                        to: parse_status(&to)?,
                        at: at.parse().map_err(|e| corrupt("history time", e))?,
                    })
                })
                .collect()
        })
    }

    fn list_by_status(&self, status: TaskStatus, limit: usize) -> StoreFuture<'_, Vec<Task>> {
        Box::pin(async move {
            let err = |e| db_error("task list", e);
            let rows = sqlx::query(
                "SELECT body FROM tasks WHERE status = $1 ORDER BY updated_at, id LIMIT $2",
            )
            .bind(status.as_str())
            .bind(sql_limit(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(err)?;
            rows.iter()
                .map(|row| decode(row.try_get("body").map_err(err)?))
                .collect()
        })
    }

    fn count_by_status(&self) -> StoreFuture<'_, Vec<(TaskStatus, u64)>> {
        Box::pin(async move {
            let err = |e| db_error("task count", e);
            let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status")
                .fetch_all(&self.pool)
                .await
                .map_err(err)?;
            let mut counts = Vec::with_capacity(rows.len());
            for row in &rows {
                let name: String = row.try_get("status").map_err(err)?;
                let n: i64 = row.try_get("n").map_err(err)?;
                counts.push((parse_status(&name)?, u64::try_from(n).unwrap_or(0)));
            }
            Ok(counts)
        })
    }

    fn list_ids<'a>(
        &'a self,
        after: Option<&'a TaskId>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<TaskId>> {
        Box::pin(async move {
            let err = |e| db_error("task ids", e);
            // Compared and ordered in the "C" collation (bytewise), as `TaskId` orders,
            // whatever the database's default collation is.
            let rows = sqlx::query(
                r#"SELECT id FROM tasks WHERE id COLLATE "C" > $1 ORDER BY id COLLATE "C" LIMIT $2"#,
            )
            .bind(after.map_or("", TaskId::as_str))
            .bind(sql_limit(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(err)?;
            rows.iter()
                .map(|row| Ok(TaskId::from(row.try_get::<String, _>("id").map_err(err)?)))
                .collect()
        })
    }

    fn import<'a>(&'a self, task: &'a Task, history: &'a [StatusChange]) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            check_history(task, history)?;
            let err = |e| db_error("task import", e);
            let mut tx = self.pool.begin().await.map_err(err)?;
            let inserted = sqlx::query(
                "INSERT INTO tasks (id, status, updated_at, body) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(task.id.as_str())
            .bind(task.status.as_str())
            .bind(task.updated_at.unix_micros())
            .bind(encode(task)?)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
            if inserted == 0 {
                return Err(StoreError::new(
                    ErrorKind::AlreadyExists,
                    format!("task {} already exists", task.id),
                ));
            }
            for (seq, change) in (1_i64..).zip(history) {
                sqlx::query(
                    "INSERT INTO task_history (task_id, seq, from_status, to_status, at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(task.id.as_str())
                .bind(seq)
                .bind(change.from.map(TaskStatus::as_str))
                .bind(change.to.as_str())
                .bind(change.at.to_string())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            }
            tx.commit().await.map_err(err)
        })
    }
}
