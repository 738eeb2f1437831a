//! Types of the ASAP protocol (Async Simple Agent Protocol): envelopes, the twelve payloads,
//! parts, entities, identifiers, agent URNs, timestamps, the task state machine, validation
//! and the error taxonomy.
//!
//! This crate does no I/O and has no async runtime dependency. Every type serializes to
//! exactly what the reference implementation writes (all fields, `null` for absent optionals,
//! field order of the specification) and rejects what it rejects (unknown members, missing
//! required fields, invalid URNs, FilePart URIs, …), reporting a located
//! [`ValidationError`].
//!
//! The envelope rules are summarized in the protocol notes, [wire.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/wire.md#envelope);
//! the error taxonomy in [errors.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/errors.md); where the model resolves the reference's
//! inconsistencies differently, [deviations.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/deviations.md).
//!
//! ```
//! use asap_model::{AgentUrn, Envelope, payload::TaskRequest};
//!
//! let request = Envelope::new(
//!     "urn:asap:agent:client".parse()?,
//!     "urn:asap:agent:echo".parse()?,
//!     TaskRequest {
//!         conversation_id: "conv_1".into(),
//!         parent_task_id: None,
//!         skill_id: "echo".into(),
//!         input: serde_json::json!({"text": "hi"}).as_object().cloned().unwrap_or_default(),
//!         config: None,
//!     },
//! );
//! let json = serde_json::to_string(&request)?;
//! let back: Envelope = serde_json::from_str(&json)?;
//! assert_eq!(back.payload_as::<TaskRequest>()?.skill_id, "echo");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//!
//! - `schema`: derives [`schemars::JsonSchema`](https://docs.rs/schemars) for every wire type,
//!   used to export the JSON Schemas.
//! - `proptest`: [`arbitrary`] strategies for every wire type.

#![deny(missing_docs)]

#[cfg(feature = "proptest")]
pub mod arbitrary;
pub mod embedded;
pub mod entity;
pub mod envelope;
pub mod error;
pub mod ids;
pub mod json;
pub mod part;
pub mod payload;
pub mod status;
pub mod timestamp;
pub mod urn;
pub mod validation;
pub mod version;

pub use entity::{
    Agent, Artifact, AuthScheme, Capability, Conversation, DepthExceeded, Endpoint, MAX_TASK_DEPTH,
    Manifest, Message, Skill, StateSnapshot, Task,
};
pub use envelope::Envelope;
pub use error::{AsapError, ErrorCode};
pub use ids::{ArtifactId, ConversationId, EnvelopeId, MessageId, PartId, SnapshotId, TaskId};
pub use json::JsonObject;
pub use part::Part;
pub use payload::{Payload, PayloadKind, PayloadModel};
pub use status::{InvalidTransition, MessageRole, TaskStatus, UpdateType};
pub use timestamp::Timestamp;
pub use urn::AgentUrn;
pub use validation::{LocItem, ValidationError};
pub use version::ASAP_PROTOCOL_VERSION;
