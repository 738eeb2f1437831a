//! The export format of `asap state export` and `import`: JSON lines.
//!
//! ```text
//! {"type":"header","format":"asap-state","version":1,"exported_at":"…"}
//! {"type":"task","task":{…},"history":[{"from":null,"to":"submitted","at":"…"},…]}
//! {"type":"snapshot","schema_version":1,"snapshot":{…}}
//! ```
//!
//! One header line first, then one line per task (the task as the protocol writes it, with
//! its whole status history) and one per stored snapshot version (with the schema version
//! of its data, which the application's snapshot migrations read). Tasks come before
//! snapshots, each kind in ascending id order. Nonces, rate-limit budgets and idempotency
//! records are not exported: they expire within minutes and a restored store starts without
//! them.

use asap_model::validation::{ValidationError, from_value};
use asap_model::{StateSnapshot, Task, TaskStatus, Timestamp};
use asap_state::{SnapshotRecord, StatusChange};
use serde::{Deserialize, Serialize};

/// The `format` member of the header line.
pub(crate) const FORMAT: &str = "asap-state";
/// The version of the format this build writes and the newest it reads.
pub(crate) const VERSION: u32 = 1;

/// One line of an export.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Line {
    /// The first line: what the file is.
    Header(Header),
    /// A task and its status history.
    Task(TaskLine),
    /// One stored snapshot version.
    Snapshot(SnapshotLine),
}

/// The header line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Header {
    /// Always [`FORMAT`].
    pub(crate) format: String,
    /// The format version, [`VERSION`] when written by this build.
    pub(crate) version: u32,
    /// When the export started.
    pub(crate) exported_at: Timestamp,
}

/// A task line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskLine {
    /// The task.
    pub(crate) task: Task,
    /// Its status history, oldest first: a creation, then one entry per change.
    pub(crate) history: Vec<Change>,
}

/// A snapshot line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SnapshotLine {
    /// The schema version of `snapshot.data`.
    pub(crate) schema_version: u32,
    /// The snapshot.
    pub(crate) snapshot: StateSnapshot,
}

/// One status change, as [`StatusChange`] (which the store crate keeps free of serde).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Change {
    /// The status before, `null` for the creation.
    pub(crate) from: Option<TaskStatus>,
    /// The status after.
    pub(crate) to: TaskStatus,
    /// When.
    pub(crate) at: Timestamp,
}

impl From<&StatusChange> for Change {
    fn from(change: &StatusChange) -> Self {
        Self {
            from: change.from,
            to: change.to,
            at: change.at,
        }
    }
}

impl From<Change> for StatusChange {
    fn from(change: Change) -> Self {
        StatusChange {
            from: change.from,
            to: change.to,
            at: change.at,
        }
    }
}

impl Line {
    /// The header of an export made now.
    pub(crate) fn header() -> Self {
        Self::Header(Header {
            format: FORMAT.to_owned(),
            version: VERSION,
            exported_at: Timestamp::now(),
        })
    }

    /// The line of a stored snapshot.
    pub(crate) fn snapshot(record: SnapshotRecord) -> Self {
        Self::Snapshot(SnapshotLine {
            schema_version: record.schema_version,
            snapshot: record.snapshot,
        })
    }

    /// Decodes one line with the model's decoder, so that an error names the JSON path of
    /// the offending value and says what the protocol expects there. (Not serde's
    /// internally tagged decoding, which buffers the line and loses the paths.)
    pub(crate) fn parse(text: &str) -> Result<Self, ValidationError> {
        let mut value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| ValidationError::new("json_invalid", format!("Invalid JSON: {e}")))?;
        let kind = value
            .as_object_mut()
            .and_then(|object| object.remove("type"));
        match kind.as_ref().and_then(serde_json::Value::as_str) {
            Some("header") => from_value(value).map(Self::Header),
            Some("task") => from_value(value).map(Self::Task),
            Some("snapshot") => from_value(value).map(Self::Snapshot),
            _ if !value.is_object() => Err(ValidationError::new(
                "dict_type",
                "Input should be a valid dictionary",
            )),
            _ => Err(ValidationError::new(
                "enum",
                "Input should be one of `header`, `task`, `snapshot`",
            )
            .prefixed(["type"])),
        }
    }
}
