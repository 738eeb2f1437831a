//! `message.send`.

use serde::{Deserialize, Serialize};

use crate::ids::{MessageId, PartId, TaskId};
use crate::status::MessageRole;

/// `message.send`: a conversational message within a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MessageSend {
    /// The task.
    pub task_id: TaskId,
    /// The message.
    pub message_id: MessageId,
    /// Author (free-form, not URN-checked).
    pub sender: String,
    /// Author role.
    pub role: MessageRole,
    /// Part ids (not inline parts).
    pub parts: Vec<PartId>,
}
