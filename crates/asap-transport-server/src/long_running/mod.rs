//! Long-running tasks: durable progress, checkpoints, and resume after a restart.
//!
//! A [`TaskRuntime`] owns a [`TaskStore`] and a [`SnapshotStore`] and a [`Job`] per skill.
//! Mounted with [`AsapServerBuilder::task_runtime`](crate::AsapServerBuilder::task_runtime),
//! a `task.request` for one of its skills is handled like this:
//!
//! 1. the job's [`check`](Job::check) validates the input (`-32602` when it refuses);
//! 2. the task is created (`submitted`, then `working`) and its first checkpoint saved
//!    (snapshot version 1: the job's name and the request's input);
//! 3. the request is answered with a correlated `task.response`, status `working`, carrying
//!    the task id: **once that reply is sent the task is acknowledged**, and it is in the
//!    store;
//! 4. the job runs on its own tokio task, reporting [`progress`](TaskRun::progress) and
//!    writing [`checkpoint`](TaskRun::checkpoint)s; when it returns, a final snapshot holds
//!    its `result` (or `error`) and the task moves to `completed` (or `failed`).
//!
//! Every other request goes to the handlers as before. Place the idempotency layer in front
//! (the server does): a retried `task.request` with the same key gets the first `working`
//! reply and starts no second task.
//!
//! # Restart
//!
//! [`resume`](TaskRuntime::resume) (run once by the server's store tasks at start) looks at
//! every task still `working` whose last snapshot is a checkpoint written by this runtime's
//! [`instance`](TaskRuntimeBuilder::instance):
//!
//! - its job has a resume hook ([`Job::resume`]): the job continues from the last
//!   checkpoint's state;
//! - otherwise, or when the job is no longer registered: the task is marked `failed`, its
//!   progress saying why (`{"error": "…"}`), so nothing is left `working` for ever and nothing
//!   runs twice without the job's consent.
//!
//! Tasks whose last snapshot is not such a checkpoint (written by other code sharing the
//! store), or that belong to another instance, are left alone: give each replica that shares
//! a task store its own instance name.
//!
//! Progress and status changes are also published as `task.update` payloads to
//! [`subscribe`](TaskRuntime::subscribe)rs (a bounded broadcast: a slow subscriber misses
//! updates, it never slows a job down).

mod countdown;
mod job;
mod layer;
mod record;
mod run;

use std::collections::HashMap;
use std::sync::Arc;

use asap_model::payload::{TaskRequest, TaskUpdate};
use asap_model::{JsonObject, Task, TaskId, TaskStatus, UpdateType};
use asap_state::{ErrorKind, SnapshotStore, StoreError, TaskStore};
use futures_util::FutureExt;
use serde_json::Value;
use tokio::sync::broadcast;

pub use countdown::countdown;
pub use job::{Job, JobFn, JobFuture, job_fn};
pub use layer::{LongRunning, LongRunningLayer};
pub use run::TaskRun;

use record::Checkpoint;

/// How many updates a subscriber may fall behind before it misses some.
const UPDATE_BUFFER: usize = 256;

/// Most `working` tasks one [`TaskRuntime::resume`] call looks at.
const RESUME_LIMIT: usize = 100_000;

/// Instance name when none is set.
pub const DEFAULT_INSTANCE: &str = "default";

/// Runs long-running skills durably; cheap to clone. See the [module docs](self).
#[derive(Clone)]
pub struct TaskRuntime {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    tasks: Arc<dyn TaskStore>,
    snapshots: Arc<dyn SnapshotStore>,
    jobs: HashMap<String, Arc<dyn Job>>,
    instance: String,
    updates: broadcast::Sender<TaskUpdate>,
    /// Told of every stored transition; set once, by the server that runs this runtime.
    observer: std::sync::OnceLock<Arc<dyn asap_observability::observe::Observer>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut skills: Vec<_> = self.jobs.keys().collect();
        skills.sort();
        f.debug_struct("TaskRuntime")
            .field("skills", &skills)
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for TaskRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.shared.fmt(f)
    }
}

/// Builds a [`TaskRuntime`].
pub struct TaskRuntimeBuilder {
    tasks: Arc<dyn TaskStore>,
    snapshots: Arc<dyn SnapshotStore>,
    jobs: HashMap<String, Arc<dyn Job>>,
    instance: String,
}

impl std::fmt::Debug for TaskRuntimeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskRuntimeBuilder")
            .field("skills", &self.jobs.len())
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl TaskRuntimeBuilder {
    /// Runs `job` for `task.request`s whose `skill_id` is `skill` (replacing an earlier job
    /// of that skill).
    #[must_use]
    pub fn job(mut self, skill: impl Into<String>, job: impl Job) -> Self {
        self.jobs.insert(skill.into(), Arc::new(job));
        self
    }

    /// Names this process among those sharing the task store (default
    /// [`DEFAULT_INSTANCE`]): [`TaskRuntime::resume`] only takes over tasks its own
    /// instance started.
    #[must_use]
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = name.into();
        self
    }

    /// The runtime.
    pub fn build(self) -> TaskRuntime {
        let (updates, _) = broadcast::channel(UPDATE_BUFFER);
        TaskRuntime {
            shared: Arc::new(Shared {
                tasks: self.tasks,
                snapshots: self.snapshots,
                jobs: self.jobs,
                instance: self.instance,
                updates,
                observer: std::sync::OnceLock::new(),
            }),
        }
    }
}

/// What [`TaskRuntime::resume`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResumeReport {
    /// Tasks whose job continues from its last checkpoint.
    pub resumed: Vec<TaskId>,
    /// Tasks marked `failed` because their job cannot resume.
    pub failed: Vec<TaskId>,
    /// `working` tasks left alone (not started by this runtime's instance).
    pub skipped: usize,
}

impl TaskRuntime {
    /// Reports every stored transition to `observer` (the server's metrics); only the first
    /// call counts.
    pub(crate) fn observe(&self, observer: Arc<dyn asap_observability::observe::Observer>) {
        let _ = self.shared.observer.set(observer);
    }

    /// A runtime over these stores, with no jobs yet.
    pub fn builder(
        tasks: Arc<dyn TaskStore>,
        snapshots: Arc<dyn SnapshotStore>,
    ) -> TaskRuntimeBuilder {
        TaskRuntimeBuilder {
            tasks,
            snapshots,
            jobs: HashMap::new(),
            instance: DEFAULT_INSTANCE.to_owned(),
        }
    }

    /// The skills this runtime runs, sorted.
    pub fn skills(&self) -> Vec<&str> {
        let mut skills: Vec<&str> = self.shared.jobs.keys().map(String::as_str).collect();
        skills.sort_unstable();
        skills
    }

    /// Whether `skill` is one of this runtime's.
    pub fn handles(&self, skill: &str) -> bool {
        self.shared.jobs.contains_key(skill)
    }

    /// The task store.
    pub fn tasks(&self) -> &Arc<dyn TaskStore> {
        &self.shared.tasks
    }

    /// The snapshot store.
    pub fn snapshots(&self) -> &Arc<dyn SnapshotStore> {
        &self.shared.snapshots
    }

    /// Receives every `task.update` the runtime's jobs publish from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<TaskUpdate> {
        self.shared.updates.subscribe()
    }

    /// Submits `request`: creates the task, saves its first checkpoint and starts its job
    /// (on the current tokio runtime). Returns the task as stored (`working`) once all of
    /// that is durable. [`ErrorKind::NotFound`] when no job runs `request.skill_id`;
    /// [`ErrorKind::Other`] with the job's reason when its [`check`](Job::check) refuses the
    /// input.
    pub async fn submit(&self, request: &TaskRequest) -> Result<Task, StoreError> {
        let Some(job) = self.shared.jobs.get(&request.skill_id).cloned() else {
            return Err(StoreError::new(
                ErrorKind::NotFound,
                format!("no long-running job for skill {:?}", request.skill_id),
            ));
        };
        job.check(&request.input)
            .map_err(|reason| StoreError::new(ErrorKind::Other, reason))?;
        let mut task = Task::new(request.conversation_id.clone());
        task.parent_task_id.clone_from(&request.parent_task_id);
        self.shared.tasks.create(&task).await?;
        let task = self
            .shared
            .transition(&task.id, TaskStatus::Submitted, TaskStatus::Working, None)
            .await?;
        let checkpoint = Checkpoint {
            job: request.skill_id.clone(),
            instance: self.shared.instance.clone(),
            input: request.input.clone(),
            state: None,
            outcome: None,
        };
        if let Err(error) = self
            .shared
            .save(&task.id, 1, checkpoint.to_data(), true)
            .await
        {
            // Not acknowledged: leave nothing `working` that no restart would pick up.
            let reason = format!("the first checkpoint could not be stored: {error}");
            let _ = self
                .shared
                .finish(&task.id, TaskStatus::Failed, failure(&reason))
                .await;
            return Err(error);
        }
        let run = TaskRun::new(self.shared.clone(), task.id.clone(), checkpoint, 1, false);
        spawn(job.run(run.handle()), run);
        Ok(task)
    }

    /// Resumes, or marks `failed`, the tasks this instance left `working` (see the
    /// [module docs](self#restart)). Resumed jobs run on the current tokio runtime.
    pub async fn resume(&self) -> Result<ResumeReport, StoreError> {
        let shared = &self.shared;
        let mut report = ResumeReport::default();
        for task in shared
            .tasks
            .list_by_status(TaskStatus::Working, RESUME_LIMIT)
            .await?
        {
            let Some(record) = shared.snapshots.get(&task.id, None).await? else {
                report.skipped += 1;
                continue;
            };
            let Ok(checkpoint) = Checkpoint::from_data(&record.snapshot.data) else {
                report.skipped += 1;
                continue;
            };
            if checkpoint.instance != shared.instance {
                report.skipped += 1;
                continue;
            }
            let reason = match (&checkpoint.outcome, shared.jobs.get(&checkpoint.job)) {
                // The job ended but the process stopped before the status was stored.
                (Some(outcome), _) => {
                    let (status, progress) = match outcome {
                        Ok(_) => (TaskStatus::Completed, run::progress_done()),
                        Err(reason) => (TaskStatus::Failed, failure(reason)),
                    };
                    shared.finish(&task.id, status, progress).await?;
                    continue;
                }
                (None, None) => format!(
                    "interrupted by a restart; no job named {:?} is registered to resume it",
                    checkpoint.job
                ),
                (None, Some(job)) => {
                    let run = TaskRun::new(
                        shared.clone(),
                        task.id.clone(),
                        checkpoint.clone(),
                        record.snapshot.version,
                        true,
                    );
                    if let Some(future) = job.resume(run.handle()) {
                        spawn(future, run);
                        report.resumed.push(task.id.clone());
                        continue;
                    }
                    format!(
                        "interrupted by a restart; job {:?} has no resume hook",
                        checkpoint.job
                    )
                }
            };
            shared
                .finish(&task.id, TaskStatus::Failed, failure(&reason))
                .await?;
            report.failed.push(task.id.clone());
        }
        Ok(report)
    }
}

impl Shared {
    /// Moves task `id` from `from` to `to` in the store, in the span
    /// `asap.state.transition` (PROTOCOL §14.3), and tells the observer once it is stored.
    async fn transition(
        &self,
        id: &TaskId,
        from: TaskStatus,
        to: TaskStatus,
        progress: Option<JsonObject>,
    ) -> Result<Task, StoreError> {
        let span = tracing::info_span!(
            target: crate::LOG_TARGET,
            "asap.state.transition",
            asap.state.from = from.as_str(),
            asap.state.to = to.as_str(),
            asap.task.id = %id,
        );
        let task =
            tracing::Instrument::instrument(self.tasks.transition(id, to, progress), span).await?;
        if let Some(observer) = self.observer.get() {
            observer.on_transition(&asap_observability::observe::TransitionEvent::new(
                id.as_str(),
                from.as_str(),
                to.as_str(),
            ));
        }
        Ok(task)
    }

    fn publish(&self, update: TaskUpdate) {
        // No receiver is not an error: nobody is listening.
        let _ = self.updates.send(update);
    }

    /// Moves the task to its final status and tells subscribers.
    async fn finish(
        &self,
        task_id: &TaskId,
        status: TaskStatus,
        progress: JsonObject,
    ) -> Result<(), StoreError> {
        match self
            .transition(task_id, TaskStatus::Working, status, Some(progress))
            .await
        {
            Ok(task) => {
                self.publish(TaskUpdate {
                    task_id: task_id.clone(),
                    update_type: UpdateType::StatusChange,
                    status,
                    progress: task.progress,
                    input_request: None,
                });
                Ok(())
            }
            // Cancelled (or otherwise ended) meanwhile: the stored status stands.
            Err(error) if error.kind() == ErrorKind::InvalidTransition => Ok(()),
            Err(error) => Err(error),
        }
    }
}

/// `{"error": reason}`: the progress of a task that failed.
fn failure(reason: &str) -> JsonObject {
    let mut progress = JsonObject::new();
    progress.insert("error".into(), Value::from(reason));
    progress
}

/// Runs a job to its end on its own task and stores the outcome.
fn spawn(future: JobFuture, run: TaskRun) {
    tokio::spawn(async move {
        let outcome = match std::panic::AssertUnwindSafe(future).catch_unwind().await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err("the job panicked".to_owned()),
        };
        let task_id = run.task_id().clone();
        if let Err(error) = run.finish(outcome).await {
            // The task stays `working`; the next start resumes or fails it.
            tracing::warn!(
                target: crate::LOG_TARGET,
                task_id = %task_id,
                %error,
                "the outcome of a long-running task could not be stored"
            );
        }
    });
}
