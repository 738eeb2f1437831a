//! Built-in handlers for `state.query` and `state.restore` over a [`SnapshotStore`].
//!
//! The reference has none (it answers `-32601`, as this server does without a store);
//! PROTOCOL §13 recommends answering with a correlated `task.response` carrying the snapshot
//! in `result`, which is what these do once
//! [`AsapServerBuilder::snapshots`](crate::AsapServerBuilder::snapshots) gives the server a
//! store:
//!
//! | request | reply `result` |
//! |---|---|
//! | `state.query {task_id, version}` | the snapshot of that version, or the highest one when `version` is null |
//! | `state.restore {task_id, snapshot_id}` | the restored snapshot: the one named, saved again as the task's new highest version (a new `id`, `created_at` now), so that "latest" is the restored state and the history before it stays readable |
//!
//! The reply's `status` is `completed` and its `task_id` the request's. A task or snapshot
//! that is not stored, and a `snapshot_id` of another task, are `-32602` with
//! `data.code` `asap:task/not_found` (the caller named something that does not exist; this is
//! not a server failure). A store failure is `-32603`, logged in full.

use std::sync::Arc;

use asap_codec::rpc::RpcError;
use asap_model::error::rpc;
use asap_model::payload::{StateQuery, StateRestore, TaskResponse};
use asap_model::{
    AgentUrn, Envelope, JsonObject, SnapshotId, StateSnapshot, TaskStatus, Timestamp,
};
use asap_state::{SnapshotRecord, SnapshotStore, StoreError};
use serde_json::{Value, json};

use crate::context::AsapRequest;
use crate::registry::{Handler, HandlerError, HandlerFuture};

/// Answers `state.query` from a snapshot store (see the [module docs](self)).
#[derive(Clone)]
pub struct StateQueryHandler {
    store: Arc<dyn SnapshotStore>,
    agent: AgentUrn,
}

/// Answers `state.restore` with a snapshot store (see the [module docs](self)).
#[derive(Clone)]
pub struct StateRestoreHandler {
    store: Arc<dyn SnapshotStore>,
    agent: AgentUrn,
}

impl std::fmt::Debug for StateQueryHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateQueryHandler")
            .field("agent", &self.agent)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for StateRestoreHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateRestoreHandler")
            .field("agent", &self.agent)
            .finish_non_exhaustive()
    }
}

impl StateQueryHandler {
    /// Answers from `store` as `agent`.
    pub fn new(store: Arc<dyn SnapshotStore>, agent: AgentUrn) -> Self {
        Self { store, agent }
    }
}

impl StateRestoreHandler {
    /// Restores in `store`, answering as `agent`.
    pub fn new(store: Arc<dyn SnapshotStore>, agent: AgentUrn) -> Self {
        Self { store, agent }
    }
}

fn not_found(what: String) -> HandlerError {
    HandlerError::Rpc(RpcError::new(
        rpc::INVALID_PARAMS,
        json!({
            "error": "Not found",
            "code": asap_model::ErrorCode::TaskNotFound.as_str(),
            "message": what,
        }),
    ))
}

fn store_failed(error: StoreError) -> HandlerError {
    tracing::error!(target: crate::LOG_TARGET, %error, "the snapshot store failed");
    HandlerError::internal(error)
}

fn snapshot_object(snapshot: &StateSnapshot) -> Result<JsonObject, HandlerError> {
    match serde_json::to_value(snapshot) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(HandlerError::internal("a snapshot is not a JSON object")),
        Err(error) => Err(HandlerError::internal(error)),
    }
}

fn reply(
    request: &Envelope,
    agent: AgentUrn,
    task_id: asap_model::TaskId,
    snapshot: &StateSnapshot,
) -> Result<Envelope, HandlerError> {
    let mut response = request.response_to(TaskResponse {
        task_id,
        status: TaskStatus::Completed,
        result: Some(snapshot_object(snapshot)?),
        final_state: None,
        metrics: None,
    });
    response.sender = agent;
    Ok(response)
}

impl Handler for StateQueryHandler {
    fn call(&self, request: AsapRequest) -> HandlerFuture {
        let (store, agent) = (self.store.clone(), self.agent.clone());
        let mut envelope = request.envelope;
        Box::pin(async move {
            let query: StateQuery = envelope.take_payload_as().map_err(HandlerError::from)?;
            let record = store
                .get(&query.task_id, query.version)
                .await
                .map_err(store_failed)?
                .ok_or_else(|| {
                    not_found(match query.version {
                        Some(v) => format!("No snapshot version {v} of task {}", query.task_id),
                        None => format!("No snapshot of task {}", query.task_id),
                    })
                })?;
            reply(&envelope, agent, query.task_id, &record.snapshot)
        })
    }
}

impl Handler for StateRestoreHandler {
    fn call(&self, request: AsapRequest) -> HandlerFuture {
        let (store, agent) = (self.store.clone(), self.agent.clone());
        let mut envelope = request.envelope;
        Box::pin(async move {
            let restore: StateRestore = envelope.take_payload_as().map_err(HandlerError::from)?;
            let record = store
                .get_by_id(&restore.snapshot_id)
                .await
                .map_err(store_failed)?
                .filter(|record| record.snapshot.task_id == restore.task_id)
                .ok_or_else(|| {
                    not_found(format!(
                        "No snapshot {} of task {}",
                        restore.snapshot_id, restore.task_id
                    ))
                })?;
            let highest = store
                .list_versions(&restore.task_id)
                .await
                .map_err(store_failed)?
                .last()
                .copied()
                .unwrap_or(0);
            let restored = SnapshotRecord {
                snapshot: StateSnapshot {
                    id: SnapshotId::generate(),
                    task_id: restore.task_id.clone(),
                    version: highest.saturating_add(1),
                    data: record.snapshot.data,
                    checkpoint: record.snapshot.checkpoint,
                    created_at: Timestamp::now(),
                },
                schema_version: record.schema_version,
            };
            store.save(&restored).await.map_err(store_failed)?;
            reply(&envelope, agent, restore.task_id, &restored.snapshot)
        })
    }
}
