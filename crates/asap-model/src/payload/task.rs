//! Task payloads: request, response, update, cancel.

use serde::{Deserialize, Deserializer, Serialize};

use crate::ids::{ConversationId, TaskId};
use crate::json::JsonObject;
use crate::status::{TaskStatus, UpdateType};
use crate::validation::de;

/// `task.request`: ask an agent to run a skill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskRequest {
    /// Conversation the task belongs to.
    pub conversation_id: ConversationId,
    /// Parent task, for subtasks.
    #[serde(default)]
    pub parent_task_id: Option<TaskId>,
    /// Skill to run (should match a manifest skill id).
    pub skill_id: String,
    /// Skill input.
    pub input: JsonObject,
    /// Execution options (`timeout_seconds`, `priority`, `streaming` by convention).
    #[serde(default)]
    pub config: Option<JsonObject>,
}

/// `task.response`: the outcome of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskResponse {
    /// The task.
    pub task_id: TaskId,
    /// Its status (any of the six).
    pub status: TaskStatus,
    /// Result object.
    #[serde(default)]
    pub result: Option<JsonObject>,
    /// Final state snapshot.
    #[serde(default)]
    pub final_state: Option<JsonObject>,
    /// Execution metrics (`duration_ms`, `tokens_used`, …).
    #[serde(default)]
    pub metrics: Option<JsonObject>,
}

/// `task.update`: progress or status change of a running task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskUpdate {
    /// The task.
    pub task_id: TaskId,
    /// Kind of update.
    pub update_type: UpdateType,
    /// Current status.
    pub status: TaskStatus,
    /// Progress; a `percent` member must be a number in 0‥=100.
    #[serde(default, deserialize_with = "de_progress")]
    pub progress: Option<JsonObject>,
    /// What input is needed (`prompt`, `options`, …).
    #[serde(default)]
    pub input_request: Option<JsonObject>,
}

/// `task.cancel`: cancel a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskCancel {
    /// The task.
    pub task_id: TaskId,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Checks `progress.percent`: absent, or a number (booleans read as 0/1) in 0‥=100.
pub fn check_progress(progress: &JsonObject) -> Result<(), String> {
    let percent = match progress.get("percent") {
        None => return Ok(()),
        Some(serde_json::Value::Bool(b)) => f64::from(u8::from(*b)),
        Some(serde_json::Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Some(_) => return Err("progress.percent must be a number".to_owned()),
    };
    if (0.0..=100.0).contains(&percent) {
        Ok(())
    } else {
        Err("progress.percent must be between 0 and 100".to_owned())
    }
}

fn de_progress<'de, D: Deserializer<'de>>(d: D) -> Result<Option<JsonObject>, D::Error> {
    let progress = Option::<JsonObject>::deserialize(d)?;
    if let Some(p) = &progress {
        check_progress(p).map_err(de::value_error)?;
    }
    Ok(progress)
}
