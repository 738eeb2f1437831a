//! What a long-running skill implements: [`Job`], and [`job_fn`] for closures.

use std::future::Future;

use asap_model::JsonObject;
use futures_util::future::BoxFuture;

use super::TaskRun;
use crate::registry::BoxError;

/// The future a [`Job`] returns: the task's `result` object, or why it failed.
pub type JobFuture = BoxFuture<'static, Result<JsonObject, BoxError>>;

/// The work behind a long-running skill.
///
/// [`run`](Job::run) starts a fresh task; [`resume`](Job::resume) continues a task that
/// was `working` when the process stopped, from the state of its last
/// [`checkpoint`](TaskRun::checkpoint) ([`TaskRun::state`]). A job without a resume hook
/// (the default) gets its interrupted tasks marked `failed`, with the reason in their
/// progress, instead of running them twice.
///
/// The job runs on its own task, after the `task.request` that started it has been answered
/// with `working`; an `Err` or a panic marks the task `failed`.
pub trait Job: Send + Sync + 'static {
    /// Refuses an input the job cannot run, before any task is created: the reason reaches
    /// the requester in a `-32602` error. Accepts everything by default.
    fn check(&self, input: &JsonObject) -> Result<(), String> {
        let _ = input;
        Ok(())
    }

    /// Runs a freshly submitted task.
    fn run(&self, run: TaskRun) -> JobFuture;

    /// Continues an interrupted task from its last checkpoint; `None` when this job cannot.
    fn resume(&self, run: TaskRun) -> Option<JobFuture> {
        let _ = run;
        None
    }
}

/// A closure as a [`Job`]; see [`job_fn`].
#[derive(Clone)]
pub struct JobFn<F> {
    f: F,
    resumable: bool,
}

impl<F> std::fmt::Debug for JobFn<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobFn")
            .field("resumable", &self.resumable)
            .finish_non_exhaustive()
    }
}

/// Makes a [`Job`] from `async fn(TaskRun) -> Result<JsonObject, BoxError>`. It is not
/// resumable unless [`JobFn::resumable`] says so.
pub fn job_fn<F, Fut>(f: F) -> JobFn<F>
where
    F: Fn(TaskRun) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<JsonObject, BoxError>> + Send + 'static,
{
    JobFn {
        f,
        resumable: false,
    }
}

impl<F> JobFn<F> {
    /// Resumes interrupted tasks by calling the same closure again, with
    /// [`TaskRun::state`] holding the last checkpoint and [`TaskRun::is_resumed`] `true`.
    #[must_use]
    pub fn resumable(mut self) -> Self {
        self.resumable = true;
        self
    }
}

impl<F, Fut> Job for JobFn<F>
where
    F: Fn(TaskRun) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<JsonObject, BoxError>> + Send + 'static,
{
    fn run(&self, run: TaskRun) -> JobFuture {
        Box::pin((self.f)(run))
    }

    fn resume(&self, run: TaskRun) -> Option<JobFuture> {
        self.resumable.then(|| Box::pin((self.f)(run)) as JobFuture)
    }
}
