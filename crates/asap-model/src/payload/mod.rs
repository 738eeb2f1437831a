//! The twelve payload types and their dispatch names.
//!
//! The server dispatches on the exact `payload_type` string. A request decoded by
//! `asap-codec` already carries its payload typed when `payload_type` names a known type
//! (see [`TypedEnvelope`](crate::envelope::TypedEnvelope)); custom payload types stay
//! free-form objects ([`Payload::Raw`]). [`Envelope::payload_as`](crate::Envelope::payload_as)
//! and [`Payload::into_typed`] parse a raw payload on demand.

mod mcp;
mod message;
mod state;
mod task;

use serde::de::{DeserializeOwned, DeserializeSeed};
use serde::{Deserializer, Serialize, Serializer};

pub use mcp::{McpResourceData, McpResourceFetch, McpToolCall, McpToolResult};
pub use message::MessageSend;
pub use state::{ArtifactNotify, StateQuery, StateRestore};
pub use task::{TaskCancel, TaskRequest, TaskResponse, TaskUpdate, check_progress};

use crate::json::JsonObject;
use crate::validation::{ValidationError, from_value, map_only};

/// A typed payload model with its canonical (dotted) and model (PascalCase) names.
pub trait PayloadModel: Serialize + DeserializeOwned + Into<Payload> {
    /// Which payload this is.
    const KIND: PayloadKind;

    /// Extracts the model from a payload of the same kind.
    fn from_payload(payload: Payload) -> Option<Self>;

    /// Borrows the model from a payload of the same kind (`None` for other kinds and for
    /// [`Payload::Raw`], which is not parsed here).
    fn from_payload_ref(payload: &Payload) -> Option<&Self>;
}

macro_rules! payload_kinds {
    ($($variant:ident, $ty:ident, $dotted:literal, $schema:literal;)*) => {
        /// The twelve known payload types.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum PayloadKind {
            $(
                #[doc = concat!("`", $dotted, "` / `", stringify!($ty), "`.")]
                $variant,
            )*
        }

        impl PayloadKind {
            /// Every kind, in specification order.
            pub const ALL: [PayloadKind; 12] = [$(PayloadKind::$variant),*];

            /// Canonical dotted name (`task.request`).
            pub const fn dotted(self) -> &'static str {
                match self { $(PayloadKind::$variant => $dotted),* }
            }

            /// Model name (`TaskRequest`), also accepted as a `payload_type`.
            pub const fn model_name(self) -> &'static str {
                match self { $(PayloadKind::$variant => stringify!($ty)),* }
            }

            /// Schema file stem (`task_request`).
            pub const fn schema_name(self) -> &'static str {
                match self { $(PayloadKind::$variant => $schema),* }
            }

            /// Recognises a dotted or model name (exact, case-sensitive).
            pub fn from_payload_type(payload_type: &str) -> Option<Self> {
                match payload_type {
                    $($dotted | stringify!($ty) => Some(PayloadKind::$variant),)*
                    _ => None,
                }
            }

            /// Parses a free-form payload object as this kind.
            pub fn parse(self, payload: JsonObject) -> Result<Payload, ValidationError> {
                let value = serde_json::Value::Object(payload);
                match self {
                    $(PayloadKind::$variant => from_value::<$ty>(value).map(Payload::$variant),)*
                }
            }
        }

        /// Deserializes a payload of this kind straight into its model, from a JSON object
        /// only (no intermediate [`JsonObject`]). Errors are serde's plain messages; use
        /// [`PayloadKind::parse`] for a located [`ValidationError`].
        impl<'de> DeserializeSeed<'de> for PayloadKind {
            type Value = Payload;

            fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Payload, D::Error> {
                match self {
                    $(PayloadKind::$variant => map_only::<D, $ty>(deserializer).map(Payload::$variant),)*
                }
            }
        }

        /// A payload: one of the twelve typed models, or a free-form object.
        ///
        /// Requests decoded by `asap-codec` hold the typed variant of their `payload_type`
        /// when it is a known type named before `payload` in the envelope; custom payload
        /// types, and known ones whose `payload` came first, hold [`Payload::Raw`] until
        /// [`Envelope::type_payload`](crate::Envelope::type_payload) parses them. Typed
        /// variants are encoded without an intermediate tree. Equality is by wire form: a
        /// typed payload equals the raw object it encodes to.
        ///
        /// ```
        /// use asap_model::{Payload, payload::TaskCancel};
        ///
        /// let payload = Payload::from(TaskCancel { task_id: "task_1".into(), reason: None });
        /// match &payload {
        ///     Payload::TaskCancel(cancel) => assert_eq!(cancel.task_id.as_str(), "task_1"),
        ///     Payload::Raw(object) => panic!("a custom payload: {object:?}"),
        ///     _ => panic!("another known type"),
        /// }
        /// assert_eq!(payload.to_object()["task_id"], "task_1"); // the JSON form, on demand
        /// ```
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum Payload {
            $(
                #[doc = concat!("`", $dotted, "`.")]
                $variant($ty),
            )*
            /// Any object, unvalidated.
            Raw(JsonObject),
        }

        impl Payload {
            /// The kind of a typed payload; `None` for [`Payload::Raw`].
            pub fn kind(&self) -> Option<PayloadKind> {
                match self {
                    $(Payload::$variant(_) => Some(PayloadKind::$variant),)*
                    Payload::Raw(_) => None,
                }
            }
        }

        impl PartialEq for Payload {
            fn eq(&self, other: &Self) -> bool {
                match (self, other) {
                    $((Payload::$variant(a), Payload::$variant(b)) => a == b,)*
                    (Payload::Raw(a), Payload::Raw(b)) => a == b,
                    (a, b) => a.to_object() == b.to_object(),
                }
            }
        }

        impl Serialize for Payload {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(Payload::$variant(p) => p.serialize(serializer),)*
                    Payload::Raw(p) => p.serialize(serializer),
                }
            }
        }

        $(
            impl PayloadModel for $ty {
                const KIND: PayloadKind = PayloadKind::$variant;

                fn from_payload(payload: Payload) -> Option<Self> {
                    match payload {
                        Payload::$variant(p) => Some(p),
                        _ => None,
                    }
                }

                fn from_payload_ref(payload: &Payload) -> Option<&Self> {
                    match payload {
                        Payload::$variant(p) => Some(p),
                        _ => None,
                    }
                }
            }

            impl From<$ty> for Payload {
                fn from(p: $ty) -> Self {
                    Payload::$variant(p)
                }
            }
        )*
    };
}

payload_kinds! {
    TaskRequest, TaskRequest, "task.request", "task_request";
    TaskResponse, TaskResponse, "task.response", "task_response";
    TaskUpdate, TaskUpdate, "task.update", "task_update";
    TaskCancel, TaskCancel, "task.cancel", "task_cancel";
    MessageSend, MessageSend, "message.send", "message_send";
    StateQuery, StateQuery, "state.query", "state_query";
    StateRestore, StateRestore, "state.restore", "state_restore";
    ArtifactNotify, ArtifactNotify, "artifact.notify", "artifact_notify";
    McpToolCall, McpToolCall, "mcp.tool_call", "mcp_tool_call";
    McpToolResult, McpToolResult, "mcp.tool_result", "mcp_tool_result";
    McpResourceFetch, McpResourceFetch, "mcp.resource_fetch", "mcp_resource_fetch";
    McpResourceData, McpResourceData, "mcp.resource_data", "mcp_resource_data";
}

impl Payload {
    /// Parses a raw payload as `kind`; typed payloads are returned unchanged when they are
    /// already of that kind. Errors are located relative to the payload object.
    pub fn into_typed(self, kind: PayloadKind) -> Result<Payload, ValidationError> {
        match self {
            Payload::Raw(object) => kind.parse(object),
            typed if typed.kind() == Some(kind) => Ok(typed),
            typed => {
                let value = serde_json::to_value(&typed)
                    .map_err(|e| ValidationError::value_error(e.to_string()))?;
                match value {
                    serde_json::Value::Object(object) => kind.parse(object),
                    _ => Err(ValidationError::new(
                        "dict_type",
                        "Input should be a valid dictionary",
                    )),
                }
            }
        }
    }

    /// The free-form object of a [`Payload::Raw`]; `None` for typed payloads.
    pub fn as_raw(&self) -> Option<&JsonObject> {
        match self {
            Payload::Raw(object) => Some(object),
            _ => None,
        }
    }

    /// The payload as a free-form object (serializing typed payloads).
    pub fn to_object(&self) -> JsonObject {
        match self {
            Payload::Raw(object) => object.clone(),
            typed => match serde_json::to_value(typed) {
                Ok(serde_json::Value::Object(object)) => object,
                _ => JsonObject::new(),
            },
        }
    }
}

impl From<JsonObject> for Payload {
    fn from(object: JsonObject) -> Self {
        Payload::Raw(object)
    }
}

impl Default for Payload {
    fn default() -> Self {
        Payload::Raw(JsonObject::new())
    }
}
