//! State and artifact payloads.

use serde::{Deserialize, Serialize};

use crate::ids::{ArtifactId, SnapshotId, TaskId};

/// `state.query`: ask for a task's state snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StateQuery {
    /// The task.
    pub task_id: TaskId,
    /// Snapshot version; `None` means latest.
    #[serde(default)]
    pub version: Option<i64>,
}

/// `state.restore`: restore a task from a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StateRestore {
    /// The task.
    pub task_id: TaskId,
    /// Snapshot to restore.
    pub snapshot_id: SnapshotId,
}

/// `artifact.notify`: an artifact is available.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ArtifactNotify {
    /// The artifact.
    pub artifact_id: ArtifactId,
    /// Task that produced it.
    pub task_id: TaskId,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
}
