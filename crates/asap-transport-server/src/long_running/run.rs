//! [`TaskRun`]: what a running job sees of its task, and how it reports progress and
//! writes checkpoints.

use std::sync::{Arc, Mutex, PoisonError};

use asap_model::payload::TaskUpdate;
use asap_model::{
    JsonObject, SnapshotId, StateSnapshot, TaskId, TaskStatus, Timestamp, UpdateType,
};
use asap_state::{SnapshotRecord, StoreError};
use serde_json::Value;

use super::Shared;
use super::record::Checkpoint;

/// One run of a [`Job`](super::Job) on one task.
///
/// Progress goes to the task store (the task's `progress`) and to
/// [`TaskRuntime::subscribe`](super::TaskRuntime::subscribe)rs as a `task.update`.
/// Checkpoints are snapshots of the task (`checkpoint: true`, versions counting up), each
/// holding the job's name, the request's input and the state the job gave; after a restart
/// [`Job::resume`](super::Job::resume) gets the last one back as [`state`](Self::state).
#[derive(Debug)]
pub struct TaskRun {
    shared: Arc<Shared>,
    task_id: TaskId,
    job: Arc<str>,
    instance: Arc<str>,
    input: Arc<JsonObject>,
    resumed: bool,
    /// The last checkpoint's state and the next snapshot version; shared with the runtime's
    /// copy, which writes the final snapshot once the job has returned.
    progress: Arc<Mutex<Progress>>,
}

#[derive(Debug)]
struct Progress {
    state: Option<JsonObject>,
    next_version: i64,
}

impl TaskRun {
    pub(super) fn new(
        shared: Arc<Shared>,
        task_id: TaskId,
        checkpoint: Checkpoint,
        version: i64,
        resumed: bool,
    ) -> Self {
        Self {
            shared,
            task_id,
            job: checkpoint.job.into(),
            instance: checkpoint.instance.into(),
            input: Arc::new(checkpoint.input),
            resumed,
            progress: Arc::new(Mutex::new(Progress {
                state: checkpoint.state,
                next_version: version + 1,
            })),
        }
    }

    /// A second handle on the same run (the job gets one, the runtime keeps one).
    pub(super) fn handle(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            task_id: self.task_id.clone(),
            job: self.job.clone(),
            instance: self.instance.clone(),
            input: self.input.clone(),
            resumed: self.resumed,
            progress: self.progress.clone(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The task this run works on.
    pub fn task_id(&self) -> &TaskId {
        &self.task_id
    }

    /// The skill (job name) the task was submitted for.
    pub fn skill(&self) -> &str {
        &self.job
    }

    /// The `input` of the `task.request` that submitted the task.
    pub fn input(&self) -> &JsonObject {
        &self.input
    }

    /// The state of the last checkpoint (`None` before the first one).
    pub fn state(&self) -> Option<JsonObject> {
        self.lock().state.clone()
    }

    /// Whether this run continues a task interrupted by a restart.
    pub fn is_resumed(&self) -> bool {
        self.resumed
    }

    /// Reports progress: stores `{"percent", "message"}` as the task's progress and sends a
    /// `task.update` (`progress`, status `working`) to subscribers. `percent` is clamped to
    /// 0‥=100 (NaN counts as 0).
    pub async fn progress(&self, percent: f64, message: &str) -> Result<(), StoreError> {
        let percent = if percent.is_nan() {
            0.0
        } else {
            percent.clamp(0.0, 100.0)
        };
        let mut progress = JsonObject::new();
        progress.insert("percent".into(), Value::from(percent));
        progress.insert("message".into(), Value::from(message));
        self.shared
            .tasks
            .set_progress(&self.task_id, progress.clone())
            .await?;
        self.shared.publish(TaskUpdate {
            task_id: self.task_id.clone(),
            update_type: UpdateType::Progress,
            status: TaskStatus::Working,
            progress: Some(progress),
            input_request: None,
        });
        Ok(())
    }

    /// Writes a checkpoint: `state` becomes what a resumed run starts from. Returns once the
    /// snapshot is stored (durable to the degree of the store); on an error the previous
    /// checkpoint stays the one a restart resumes from.
    pub async fn checkpoint(&mut self, state: JsonObject) -> Result<(), StoreError> {
        let version = self.lock().next_version;
        let record = self.record(Some(state), None);
        self.shared
            .save(&self.task_id, version, record.to_data(), true)
            .await?;
        let mut progress = self.lock();
        progress.next_version = version + 1;
        progress.state = record.state;
        Ok(())
    }

    fn record(
        &self,
        state: Option<JsonObject>,
        outcome: Option<Result<JsonObject, String>>,
    ) -> Checkpoint {
        Checkpoint {
            job: self.job.to_string(),
            instance: self.instance.to_string(),
            input: (*self.input).clone(),
            state,
            outcome,
        }
    }

    /// The final snapshot (the last state plus the result or the error), then the status.
    pub(super) async fn finish(
        self,
        outcome: Result<JsonObject, String>,
    ) -> Result<(), StoreError> {
        let (status, progress) = match &outcome {
            Ok(_) => (TaskStatus::Completed, progress_done()),
            Err(reason) => (TaskStatus::Failed, super::failure(reason)),
        };
        let (state, version) = {
            let progress = self.lock();
            (progress.state.clone(), progress.next_version)
        };
        let record = self.record(state, Some(outcome));
        self.shared
            .save(&self.task_id, version, record.to_data(), false)
            .await?;
        self.shared.finish(&self.task_id, status, progress).await
    }
}

/// `{"percent": 100}`: the progress of a completed task.
pub(super) fn progress_done() -> JsonObject {
    let mut progress = JsonObject::new();
    progress.insert("percent".into(), Value::from(100.0));
    progress
}

impl Shared {
    pub(super) async fn save(
        &self,
        task_id: &TaskId,
        version: i64,
        data: JsonObject,
        checkpoint: bool,
    ) -> Result<(), StoreError> {
        let record = SnapshotRecord {
            snapshot: StateSnapshot {
                id: SnapshotId::generate(),
                task_id: task_id.clone(),
                version,
                data,
                checkpoint,
                created_at: Timestamp::now(),
            },
            schema_version: super::record::SCHEMA_VERSION,
        };
        self.snapshots.save(&record).await
    }
}
