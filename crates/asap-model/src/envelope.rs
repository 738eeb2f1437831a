//! The envelope: routing, correlation and tracing metadata around a payload.

mod typed;

pub use typed::TypedEnvelope;

use serde::{Deserialize, Serialize};

use crate::ids::EnvelopeId;
use crate::json::JsonObject;
use crate::payload::{Payload, PayloadKind, PayloadModel};
use crate::timestamp::Timestamp;
use crate::urn::AgentUrn;
use crate::validation::{ValidationError, de, map_only};
use crate::version::ASAP_PROTOCOL_VERSION;

/// `payload_type` values that must carry a `correlation_id` (exact, PascalCase only, like the
/// reference; see [`Envelope::validate_strict`] for the dotted names).
pub const CORRELATED_MODEL_NAMES: [&str; 3] = ["TaskResponse", "McpToolResult", "McpResourceData"];

/// An ASAP message.
///
/// Decoding fills a missing or `null` `id` with a fresh ULID and a missing `timestamp` with the
/// current time, validates `sender`/`recipient` as [`AgentUrn`]s, rejects unknown members and
/// applies the correlation rule. This `Deserialize` keeps the payload a free-form object
/// ([`Payload::Raw`]) whatever it holds, so it never fails on a payload's content; a typed
/// view is parsed with [`Envelope::payload_as`], or in place with [`Envelope::type_payload`].
/// [`TypedEnvelope`] (what `asap-codec` decodes requests into) types known payloads in the
/// same pass instead. Encoding writes all ten fields, with `null` for absent optionals, in
/// wire order.
///
/// ```
/// use asap_model::{Envelope, payload::{TaskRequest, TaskResponse}, TaskStatus};
///
/// let json = r#"{"asap_version":"0.1","sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b",
///                "payload_type":"task.request",
///                "payload":{"conversation_id":"c1","skill_id":"echo","input":{"x":1}}}"#;
/// let request: Envelope = serde_json::from_str(json).unwrap();
/// assert_eq!(request.id.as_str().len(), 26);
///
/// let task: TaskRequest = request.payload_as().unwrap();
/// assert_eq!(task.skill_id, "echo");
///
/// let response = request.response_to(TaskResponse {
///     task_id: "task_1".into(),
///     status: TaskStatus::Completed,
///     result: None,
///     final_state: None,
///     metrics: None,
/// });
/// assert_eq!(response.correlation_id.as_deref(), Some(request.id.as_str()));
/// assert_eq!(response.recipient, request.sender);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Envelope {
    /// Envelope id (ULID when generated; any sender-supplied string is kept).
    pub id: EnvelopeId,
    /// Protocol version (any string; `"0.1"` by default).
    pub asap_version: String,
    /// When the envelope was created.
    pub timestamp: Timestamp,
    /// Sending agent.
    pub sender: AgentUrn,
    /// Receiving agent.
    pub recipient: AgentUrn,
    /// Payload discriminator, dispatched on by exact string.
    pub payload_type: String,
    /// The payload object.
    pub payload: Payload,
    /// Id of the envelope this one answers.
    pub correlation_id: Option<String>,
    /// Trace id.
    pub trace_id: Option<String>,
    /// Extensions (`nonce`, `trace_id`, `span_id`, custom keys).
    pub extensions: Option<JsonObject>,
}

/// The wire form of an envelope: what the decoder reads before defaults are filled.
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "Envelope"))]
#[serde(deny_unknown_fields)]
struct EnvelopeWire {
    #[serde(default)]
    id: Option<EnvelopeId>,
    asap_version: String,
    #[serde(default)]
    timestamp: Option<Timestamp>,
    sender: AgentUrn,
    recipient: AgentUrn,
    payload_type: String,
    payload: JsonObject,
    #[serde(default)]
    correlation_id: Option<String>,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    extensions: Option<JsonObject>,
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire: EnvelopeWire = map_only(deserializer)?;
        Envelope::try_from(wire).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<EnvelopeWire> for Envelope {
    type Error = String;

    fn try_from(w: EnvelopeWire) -> Result<Self, String> {
        Envelope {
            id: w.id.unwrap_or_else(EnvelopeId::generate),
            asap_version: w.asap_version,
            timestamp: w.timestamp.unwrap_or_else(Timestamp::now),
            sender: w.sender,
            recipient: w.recipient,
            payload_type: w.payload_type,
            payload: Payload::Raw(w.payload),
            correlation_id: w.correlation_id,
            trace_id: w.trace_id,
            extensions: w.extensions,
        }
        .checked_on_decode()
    }
}

impl Envelope {
    /// A new envelope carrying a typed payload; `payload_type` is its dotted name.
    pub fn new<P: PayloadModel>(sender: AgentUrn, recipient: AgentUrn, payload: P) -> Self {
        Self::with_payload(sender, recipient, P::KIND.dotted(), payload.into())
    }

    /// A new envelope with an explicit `payload_type` (for custom payload types).
    pub fn with_payload(
        sender: AgentUrn,
        recipient: AgentUrn,
        payload_type: impl Into<String>,
        payload: Payload,
    ) -> Self {
        Self {
            id: EnvelopeId::generate(),
            asap_version: ASAP_PROTOCOL_VERSION.to_owned(),
            timestamp: Timestamp::now(),
            sender,
            recipient,
            payload_type: payload_type.into(),
            payload,
            correlation_id: None,
            trace_id: None,
            extensions: None,
        }
    }

    /// A response to `self` following the protocol conventions: sender and recipient swapped,
    /// `correlation_id` = this id, same `trace_id` and `asap_version`.
    pub fn response_to<P: PayloadModel>(&self, payload: P) -> Envelope {
        Envelope {
            id: EnvelopeId::generate(),
            asap_version: self.asap_version.clone(),
            timestamp: Timestamp::now(),
            sender: self.recipient.clone(),
            recipient: self.sender.clone(),
            payload_type: P::KIND.dotted().to_owned(),
            payload: payload.into(),
            correlation_id: Some(self.id.to_string()),
            trace_id: self.trace_id.clone(),
            extensions: None,
        }
    }

    /// Sets `correlation_id`.
    #[must_use]
    pub fn with_correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    /// Sets `trace_id`.
    #[must_use]
    pub fn with_trace_id(mut self, id: impl Into<String>) -> Self {
        self.trace_id = Some(id.into());
        self
    }

    /// Sets one `extensions` entry.
    #[must_use]
    pub fn with_extension(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extensions
            .get_or_insert_with(JsonObject::new)
            .insert(key.to_owned(), value.into());
        self
    }

    /// The known payload kind of `payload_type` (dotted or model name), if any.
    pub fn payload_kind(&self) -> Option<PayloadKind> {
        PayloadKind::from_payload_type(&self.payload_type)
    }

    /// The payload as `P` when it is already typed as `P` (decoded requests of a known
    /// `payload_type` are), without parsing or copying; `None` otherwise, where
    /// [`Envelope::payload_as`] parses a raw payload.
    pub fn typed_payload<P: PayloadModel>(&self) -> Option<&P> {
        P::from_payload_ref(&self.payload)
    }

    /// The payload parsed as `P` (a copy when it is already typed); errors are located from
    /// the envelope root (`payload.…`).
    pub fn payload_as<P: PayloadModel>(&self) -> Result<P, ValidationError> {
        let typed = self
            .payload
            .clone()
            .into_typed(P::KIND)
            .map_err(|e| e.prefixed(["payload"]))?;
        P::from_payload(typed).ok_or_else(|| {
            ValidationError::value_error("payload is not of the requested type")
                .prefixed(["payload"])
        })
    }

    /// Takes the payload out as `P` (leaving an empty raw object), without cloning it; errors
    /// are located from the envelope root.
    pub fn take_payload_as<P: PayloadModel>(&mut self) -> Result<P, ValidationError> {
        let typed = std::mem::take(&mut self.payload)
            .into_typed(P::KIND)
            .map_err(|e| e.prefixed(["payload"]))?;
        P::from_payload(typed).ok_or_else(|| {
            ValidationError::value_error("payload is not of the requested type")
                .prefixed(["payload"])
        })
    }

    /// Parses a raw payload of a known type into its typed form in place (no copy), so later
    /// typed access is free, after checking embedded parts and `config.depth`
    /// ([`crate::embedded::check_embedded`]). Unknown payload types are left as they are, and
    /// so is a payload already typed as its `payload_type` says: [`TypedEnvelope`] checked it
    /// while decoding, and one built in code is taken as it is.
    pub fn type_payload(&mut self) -> Result<(), ValidationError> {
        if let Some(kind) = self.payload_kind() {
            if self.payload.kind() == Some(kind) {
                return Ok(());
            }
            if let Payload::Raw(object) = &self.payload {
                crate::embedded::check_embedded(object).map_err(|e| e.prefixed(["payload"]))?;
            }
            let typed = std::mem::take(&mut self.payload)
                .into_typed(kind)
                .map_err(|e| e.prefixed(["payload"]))?;
            self.payload = typed;
        }
        Ok(())
    }

    /// Validates the payload against its model when `payload_type` names one of the twelve
    /// known types; other payload types are free-form and always pass, and so does a payload
    /// already typed as its `payload_type` says.
    pub fn validate_payload(&self) -> Result<(), ValidationError> {
        match self.payload_kind() {
            Some(kind) if self.payload.kind() == Some(kind) => Ok(()),
            Some(kind) => self
                .payload
                .clone()
                .into_typed(kind)
                .map(drop)
                .map_err(|e| e.prefixed(["payload"])),
            None => Ok(()),
        }
    }

    /// Like decoding, plus the correlation rule for the dotted response names
    /// (`task.response`, `mcp.tool_result`, `mcp.resource_data`) and payload validation.
    pub fn validate_strict(&self) -> Result<(), ValidationError> {
        self.check_correlation(&[
            "TaskResponse",
            "McpToolResult",
            "McpResourceData",
            "task.response",
            "mcp.tool_result",
            "mcp.resource_data",
        ])?;
        self.validate_payload()
    }

    /// The `extensions.nonce` value, if present (of any JSON type).
    pub fn nonce(&self) -> Option<&serde_json::Value> {
        self.extensions.as_ref()?.get("nonce")
    }

    /// The rule every decoded envelope obeys: the PascalCase response types carry a
    /// `correlation_id`.
    fn checked_on_decode(self) -> Result<Self, String> {
        self.check_correlation(&CORRELATED_MODEL_NAMES)
            .map_err(|e| de::encode(&e.kind, e.msg))?;
        Ok(self)
    }

    fn check_correlation(&self, names: &[&str]) -> Result<(), ValidationError> {
        if names.contains(&self.payload_type.as_str())
            && self.correlation_id.as_deref().is_none_or(str::is_empty)
        {
            return Err(ValidationError::value_error(format!(
                "{} must have correlation_id for request tracking",
                self.payload_type
            )));
        }
        Ok(())
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Envelope {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Envelope".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        EnvelopeWire::json_schema(generator)
    }
}
