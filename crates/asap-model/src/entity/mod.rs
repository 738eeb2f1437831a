//! Entities: agents, manifests, conversations, tasks, messages, artifacts, snapshots.

mod manifest;
mod records;
mod task;

pub use manifest::{AuthScheme, Capability, Endpoint, Manifest, SUPPORTED_AUTH_SCHEMES, Skill};
pub use records::{Agent, Artifact, Conversation, Message, StateSnapshot};
pub use task::{DepthExceeded, MAX_TASK_DEPTH, Task};
