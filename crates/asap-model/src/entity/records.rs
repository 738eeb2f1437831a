//! Plain entity records.

use serde::{Deserialize, Deserializer, Serialize};

use crate::ids::{ArtifactId, ConversationId, MessageId, PartId, SnapshotId, TaskId};
use crate::json::JsonObject;
use crate::status::MessageRole;
use crate::timestamp::Timestamp;
use crate::urn::AgentUrn;
use crate::validation::de;

/// An agent known to the system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Agent {
    /// Agent URN.
    pub id: AgentUrn,
    /// Where its manifest lives.
    pub manifest_uri: String,
    /// Capabilities (at least one, e.g. `task.execute`).
    #[serde(deserialize_with = "non_empty")]
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub capabilities: Vec<String>,
}

/// A conversation between agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Conversation {
    /// Conversation id.
    pub id: ConversationId,
    /// Participants (at least one; not URN-checked).
    #[serde(deserialize_with = "non_empty")]
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub participants: Vec<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: Option<JsonObject>,
}

/// A message within a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// Message id.
    pub id: MessageId,
    /// Task.
    pub task_id: TaskId,
    /// Author (not URN-checked).
    pub sender: String,
    /// Author role.
    pub role: MessageRole,
    /// Part ids.
    pub parts: Vec<PartId>,
    /// When it was sent (required).
    pub timestamp: Timestamp,
}

/// An output of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Artifact id.
    pub id: ArtifactId,
    /// Producing task.
    pub task_id: TaskId,
    /// Name.
    pub name: String,
    /// Part ids.
    pub parts: Vec<PartId>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A versioned snapshot of a task's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StateSnapshot {
    /// Snapshot id.
    pub id: SnapshotId,
    /// Task.
    pub task_id: TaskId,
    /// Version, starting at 1.
    #[serde(deserialize_with = "at_least_one")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub version: i64,
    /// State data.
    pub data: JsonObject,
    /// Whether this is a checkpoint.
    #[serde(default)]
    pub checkpoint: bool,
    /// Creation time.
    pub created_at: Timestamp,
}

fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let items = Vec::<String>::deserialize(d)?;
    if items.is_empty() {
        return Err(de::error(
            "too_short",
            "List should have at least 1 item after validation, not 0",
        ));
    }
    Ok(items)
}

fn at_least_one<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = i64::deserialize(d)?;
    if v < 1 {
        return Err(de::error(
            "greater_than_equal",
            "Input should be greater than or equal to 1",
        ));
    }
    Ok(v)
}
