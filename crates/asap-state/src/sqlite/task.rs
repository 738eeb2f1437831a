use asap_model::{JsonObject, Task, TaskId, TaskStatus, Timestamp};
use sqlx::{Row, Sqlite, Transaction};

use super::error::{corrupt, db_error};
use super::{SqliteStore, sql_limit};
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
    tx: &mut Transaction<'static, Sqlite>,
    id: &TaskId,
    from: Option<TaskStatus>,
    to: &Task,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO task_history (task_id, seq, from_status, to_status, at)
         VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM task_history WHERE task_id = ?1),
                 ?2, ?3, ?4)",
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

impl SqliteStore {
    /// Reads, changes and writes one task in one `BEGIN IMMEDIATE` transaction.
    async fn update_task(
        &self,
        id: &TaskId,
        change: impl FnOnce(&Task) -> Result<Task, StoreError>,
    ) -> Result<Task, StoreError> {
        let err = |e| db_error("task update", e);
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(err)?;
        let row = sqlx::query("SELECT body FROM tasks WHERE id = ?")
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
        sqlx::query("UPDATE tasks SET status = ?, updated_at = ?, body = ? WHERE id = ?")
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

impl TaskStore for SqliteStore {
    fn create<'a>(&'a self, task: &'a Task) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let err = |e| db_error("task create", e);
            let mut tx = self
                .writer
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(err)?;
            let inserted = sqlx::query(
                "INSERT INTO tasks (id, status, updated_at, body) VALUES (?, ?, ?, ?)
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
            let row = sqlx::query("SELECT body FROM tasks WHERE id = ?")
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
                "SELECT from_status, to_status, at FROM task_history WHERE task_id = ?
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
                "SELECT body FROM tasks WHERE status = ? ORDER BY updated_at, rowid LIMIT ?",
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
            // TEXT compares bytewise (the default BINARY collation), as `TaskId` orders.
            let rows = sqlx::query("SELECT id FROM tasks WHERE id > ? ORDER BY id LIMIT ?")
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
            let mut tx = self
                .writer
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(err)?;
            let inserted = sqlx::query(
                "INSERT INTO tasks (id, status, updated_at, body) VALUES (?, ?, ?, ?)
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
                     VALUES (?, ?, ?, ?, ?)",
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
