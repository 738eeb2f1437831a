//! Tasks, their state transitions and nesting depth.

use serde::{Deserialize, Deserializer, Serialize};

use crate::ids::{ConversationId, TaskId};
use crate::json::JsonObject;
use crate::status::{InvalidTransition, TaskStatus};
use crate::timestamp::Timestamp;
use crate::validation::de;

/// Maximum nesting depth of subtasks (root = 0).
pub const MAX_TASK_DEPTH: u8 = 10;

/// The unit of work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// Task id.
    pub id: TaskId,
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Parent task for subtasks.
    #[serde(default)]
    pub parent_task_id: Option<TaskId>,
    /// Status.
    pub status: TaskStatus,
    /// Nesting depth, 0‥=[`MAX_TASK_DEPTH`].
    #[serde(default, deserialize_with = "de_depth")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = 10)))]
    pub depth: u8,
    /// Progress (`percent`, `message`, ETA).
    #[serde(default)]
    pub progress: Option<JsonObject>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

/// A subtask would nest deeper than [`MAX_TASK_DEPTH`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Task depth {depth} exceeds the maximum of {MAX_TASK_DEPTH}")]
pub struct DepthExceeded {
    /// The depth the subtask would have.
    pub depth: u16,
}

impl Task {
    /// A new root task in `submitted` state.
    pub fn new(conversation_id: ConversationId) -> Self {
        let now = Timestamp::now();
        Self {
            id: TaskId::generate(),
            conversation_id,
            parent_task_id: None,
            status: TaskStatus::Submitted,
            depth: 0,
            progress: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// A new child of this task, one level deeper; refused beyond [`MAX_TASK_DEPTH`].
    ///
    /// ```
    /// use asap_model::{Task, MAX_TASK_DEPTH};
    ///
    /// let mut task = Task::new("conv_1".into());
    /// for _ in 0..MAX_TASK_DEPTH {
    ///     task = task.subtask().unwrap();
    /// }
    /// assert_eq!(task.depth, 10);
    /// assert!(task.subtask().is_err());
    /// ```
    pub fn subtask(&self) -> Result<Task, DepthExceeded> {
        let depth = u16::from(self.depth) + 1;
        if depth > u16::from(MAX_TASK_DEPTH) {
            return Err(DepthExceeded { depth });
        }
        let mut child = Task::new(self.conversation_id.clone());
        child.parent_task_id = Some(self.id.clone());
        child.depth = depth as u8;
        Ok(child)
    }

    /// Whether the status is terminal.
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// Moves to `to`, stamping `updated_at`; illegal moves are refused.
    pub fn transition(&self, to: TaskStatus) -> Result<Task, InvalidTransition> {
        self.status.transition(to).map_err(|mut e| {
            e.task_id = Some(self.id.to_string());
            e
        })?;
        let mut next = self.clone();
        next.status = to;
        next.updated_at = Timestamp::now();
        Ok(next)
    }
}

fn de_depth<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let depth = i64::deserialize(d)?;
    if depth < 0 {
        return Err(de::error(
            "greater_than_equal",
            "Input should be greater than or equal to 0",
        ));
    }
    if depth > i64::from(MAX_TASK_DEPTH) {
        return Err(de::error(
            "less_than_equal",
            format_args!("Input should be less than or equal to {MAX_TASK_DEPTH}"),
        ));
    }
    Ok(depth as u8)
}
