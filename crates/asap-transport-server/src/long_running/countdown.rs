//! `countdown`: the demo long-running skill of `asap serve`.

use std::time::Duration;

use asap_model::JsonObject;
use serde_json::Value;

use super::{Job, JobFuture, TaskRun};

/// Most steps a countdown accepts.
const MAX_STEPS: u64 = 10_000;
/// Longest step in milliseconds.
const MAX_STEP_MS: u64 = 60_000;

/// A resumable job that counts `input.steps` steps (default 10, at most 10,000) of
/// `input.step_ms` milliseconds each (default 100, at most 60,000), writing a checkpoint
/// `{"done": n}` and reporting progress after every step. Its result is
/// `{"steps": n, "resumed_from": k}`, `k` being the step it restarted from (0 when it ran
/// uninterrupted). Handy to see checkpoints and resume at work: kill the server mid-count
/// and start it again.
pub fn countdown() -> impl Job {
    Countdown
}

struct Countdown;

fn read(input: &JsonObject, name: &str, default: u64, max: u64) -> Result<u64, String> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => value
            .as_u64()
            .filter(|n| *n <= max)
            .ok_or_else(|| format!("`{name}` must be an integer in 0..={max}, got {value}")),
    }
}

fn plan(input: &JsonObject) -> Result<(u64, u64), String> {
    let steps = read(input, "steps", 10, MAX_STEPS)?;
    let step_ms = read(input, "step_ms", 100, MAX_STEP_MS)?;
    Ok((steps, step_ms))
}

impl Countdown {
    fn count(mut run: TaskRun) -> JobFuture {
        Box::pin(async move {
            let (steps, step_ms) = plan(run.input())?;
            let start = run
                .state()
                .and_then(|state| state.get("done").and_then(Value::as_u64))
                .unwrap_or(0)
                .min(steps);
            for done in start + 1..=steps {
                tokio::time::sleep(Duration::from_millis(step_ms)).await;
                let mut state = JsonObject::new();
                state.insert("done".into(), Value::from(done));
                run.checkpoint(state).await?;
                // Lossy for huge counts only; progress is informative.
                #[allow(clippy::cast_precision_loss)]
                let percent = done as f64 * 100.0 / steps as f64;
                run.progress(percent, &format!("{done}/{steps}")).await?;
            }
            let mut result = JsonObject::new();
            result.insert("steps".into(), Value::from(steps));
            result.insert("resumed_from".into(), Value::from(start));
            Ok(result)
        })
    }
}

impl Job for Countdown {
    fn check(&self, input: &JsonObject) -> Result<(), String> {
        plan(input).map(drop)
    }

    fn run(&self, run: TaskRun) -> JobFuture {
        Self::count(run)
    }

    fn resume(&self, run: TaskRun) -> Option<JobFuture> {
        Some(Self::count(run))
    }
}
