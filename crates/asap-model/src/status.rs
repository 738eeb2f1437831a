//! Task status, the task state machine, message roles and update types.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Lifecycle state of a task.
///
/// ```text
/// submitted ──> working ──> completed | failed
///     │            │  ↑
///     │            ↓  │
///     │      input_required
///     └──────> cancelled <── (working, input_required)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Accepted, not started.
    Submitted,
    /// Running.
    Working,
    /// Finished successfully (terminal).
    Completed,
    /// Finished with an error (terminal).
    Failed,
    /// Cancelled (terminal).
    Cancelled,
    /// Waiting for input from the requester.
    InputRequired,
}

impl TaskStatus {
    /// All six statuses, in wire order.
    pub const ALL: [TaskStatus; 6] = [
        TaskStatus::Submitted,
        TaskStatus::Working,
        TaskStatus::Completed,
        TaskStatus::Failed,
        TaskStatus::Cancelled,
        TaskStatus::InputRequired,
    ];

    /// The wire string (`submitted`, …, `input_required`).
    pub const fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Submitted => "submitted",
            TaskStatus::Working => "working",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::InputRequired => "input_required",
        }
    }

    /// `completed`, `failed` and `cancelled` are terminal.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }

    /// The statuses reachable from `self` in one step.
    pub const fn allowed_targets(self) -> &'static [TaskStatus] {
        use TaskStatus::*;
        match self {
            Submitted => &[Working, Cancelled],
            Working => &[Completed, Failed, Cancelled, InputRequired],
            InputRequired => &[Working, Cancelled],
            Completed | Failed | Cancelled => &[],
        }
    }

    /// Whether `self → to` is a legal transition (self-transitions are not).
    ///
    /// ```
    /// use asap_model::TaskStatus;
    ///
    /// assert!(TaskStatus::Submitted.can_transition(TaskStatus::Working));
    /// assert!(TaskStatus::InputRequired.can_transition(TaskStatus::Cancelled));
    /// assert!(!TaskStatus::Completed.can_transition(TaskStatus::Working));
    /// assert!(!TaskStatus::Working.can_transition(TaskStatus::Working));
    /// ```
    pub fn can_transition(self, to: TaskStatus) -> bool {
        self.allowed_targets().contains(&to)
    }

    /// Returns `to` when `self → to` is legal, else the typed error.
    pub fn transition(self, to: TaskStatus) -> Result<TaskStatus, InvalidTransition> {
        if self.can_transition(to) {
            Ok(to)
        } else {
            Err(InvalidTransition {
                from: self,
                to,
                task_id: None,
            })
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An illegal task state transition (`asap:protocol/invalid_state`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid transition from '{from}' to '{to}'")]
pub struct InvalidTransition {
    /// Current status.
    pub from: TaskStatus,
    /// Requested status.
    pub to: TaskStatus,
    /// Task concerned, when known.
    pub task_id: Option<String>,
}

/// Role of a message author.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageRole {
    /// End user.
    User,
    /// Agent.
    Assistant,
    /// System instructions.
    System,
}

/// Kind of a `task.update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum UpdateType {
    /// Progress report.
    Progress,
    /// The task needs input.
    InputRequired,
    /// The task changed status.
    StatusChange,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_table_matches_the_spec() {
        use TaskStatus::*;
        let legal = [
            (Submitted, Working),
            (Submitted, Cancelled),
            (Working, Completed),
            (Working, Failed),
            (Working, Cancelled),
            (Working, InputRequired),
            (InputRequired, Working),
            (InputRequired, Cancelled),
        ];
        for from in TaskStatus::ALL {
            for to in TaskStatus::ALL {
                assert_eq!(
                    from.can_transition(to),
                    legal.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
        let err = Completed.transition(Working).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid transition from 'completed' to 'working'"
        );
    }
}
