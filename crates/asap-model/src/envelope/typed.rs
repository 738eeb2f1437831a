//! Decoding an envelope and its payload's model in one pass.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::Envelope;
use crate::embedded::check_payload;
use crate::ids::EnvelopeId;
use crate::json::JsonObject;
use crate::payload::{Payload, PayloadKind};
use crate::timestamp::Timestamp;
use crate::urn::AgentUrn;

/// An [`Envelope`] decoded with its payload typed in the same pass.
///
/// When `payload_type` names one of the twelve known types and comes before `payload` in the
/// object, the payload is read straight into its model, with no intermediate [`JsonObject`],
/// and its embedded parts and task depth are checked
/// ([`check_payload`](crate::embedded::check_payload)). Otherwise (custom payload types, or
/// `payload` first) the payload is kept as [`Payload::Raw`], as [`Envelope`]'s own decoding
/// keeps every payload.
///
/// What `Envelope` accepts with a valid payload decodes to the same envelope, only typed.
/// Decoding fails where `Envelope` would fail, and also where a known payload fails its model
/// or its embedded checks, or a member is repeated; these errors are serde's plain messages,
/// without a location. It is the fast path of a decoder: on failure, decode with `Envelope` and
/// call [`Envelope::type_payload`] for the protocol's exact, located error, as `asap-codec`
/// does.
///
/// ```
/// use asap_model::envelope::TypedEnvelope;
/// use asap_model::{Envelope, Payload};
///
/// let json = r#"{"asap_version":"0.1","sender":"urn:asap:agent:a","recipient":"urn:asap:agent:b",
///                "payload_type":"task.cancel","payload":{"task_id":"task_1"}}"#;
/// let envelope: Envelope = serde_json::from_str::<TypedEnvelope>(json)?.into();
/// assert!(matches!(&envelope.payload, Payload::TaskCancel(c) if c.task_id.as_str() == "task_1"));
///
/// let invalid = json.replace("task_id", "job_id");
/// assert!(serde_json::from_str::<TypedEnvelope>(&invalid).is_err());
/// let mut lenient: Envelope = serde_json::from_str(&invalid)?; // the payload stays raw
/// let error = lenient.type_payload().unwrap_err();
/// assert_eq!(error.json_path(), "$.payload.job_id");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TypedEnvelope(pub Envelope);

impl From<TypedEnvelope> for Envelope {
    fn from(typed: TypedEnvelope) -> Self {
        typed.0
    }
}

impl<'de> Deserialize<'de> for TypedEnvelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_map(EnvelopeVisitor)
            .map(TypedEnvelope)
    }
}

/// The members of an envelope (any other member is an error, as for `Envelope`).
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Member {
    Id,
    AsapVersion,
    Timestamp,
    Sender,
    Recipient,
    PayloadType,
    Payload,
    CorrelationId,
    TraceId,
    Extensions,
}

/// The members read so far.
#[derive(Default)]
struct Members {
    id: Option<Option<EnvelopeId>>,
    asap_version: Option<String>,
    timestamp: Option<Option<Timestamp>>,
    sender: Option<AgentUrn>,
    recipient: Option<AgentUrn>,
    payload_type: Option<String>,
    payload: Option<Payload>,
    correlation_id: Option<Option<String>>,
    trace_id: Option<Option<String>>,
    extensions: Option<Option<JsonObject>>,
}

impl Members {
    /// The envelope, with the defaults and the decode-time rule of `Envelope`'s own decoding.
    fn finish<E: de::Error>(self) -> Result<Envelope, E> {
        Envelope {
            id: self.id.flatten().unwrap_or_else(EnvelopeId::generate),
            asap_version: required(self.asap_version, "asap_version")?,
            timestamp: self.timestamp.flatten().unwrap_or_else(Timestamp::now),
            sender: required(self.sender, "sender")?,
            recipient: required(self.recipient, "recipient")?,
            payload_type: required(self.payload_type, "payload_type")?,
            payload: required(self.payload, "payload")?,
            correlation_id: self.correlation_id.flatten(),
            trace_id: self.trace_id.flatten(),
            extensions: self.extensions.flatten(),
        }
        .checked_on_decode()
        .map_err(E::custom)
    }
}

fn required<T, E: de::Error>(value: Option<T>, name: &'static str) -> Result<T, E> {
    value.ok_or_else(|| E::missing_field(name))
}

/// Stores the first occurrence of a member; a repeated member is an error.
fn once<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a valid dictionary")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
        let mut m = Members::default();
        while let Some(member) = map.next_key::<Member>()? {
            match member {
                Member::Id => once(&mut map, &mut m.id, "id")?,
                Member::AsapVersion => once(&mut map, &mut m.asap_version, "asap_version")?,
                Member::Timestamp => once(&mut map, &mut m.timestamp, "timestamp")?,
                Member::Sender => once(&mut map, &mut m.sender, "sender")?,
                Member::Recipient => once(&mut map, &mut m.recipient, "recipient")?,
                Member::PayloadType => once(&mut map, &mut m.payload_type, "payload_type")?,
                Member::CorrelationId => {
                    once(&mut map, &mut m.correlation_id, "correlation_id")?;
                }
                Member::TraceId => once(&mut map, &mut m.trace_id, "trace_id")?,
                Member::Extensions => once(&mut map, &mut m.extensions, "extensions")?,
                Member::Payload => {
                    if m.payload.is_some() {
                        return Err(de::Error::duplicate_field("payload"));
                    }
                    let kind = m
                        .payload_type
                        .as_deref()
                        .and_then(PayloadKind::from_payload_type);
                    m.payload = Some(match kind {
                        Some(kind) => map.next_value_seed(CheckedPayload(kind))?,
                        None => Payload::Raw(map.next_value()?),
                    });
                }
            }
        }
        m.finish()
    }
}

/// A payload of a known kind: its model, then the embedded checks on the typed value.
struct CheckedPayload(PayloadKind);

impl<'de> DeserializeSeed<'de> for CheckedPayload {
    type Value = Payload;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Payload, D::Error> {
        let payload = self.0.deserialize(deserializer)?;
        check_payload(&payload).map_err(de::Error::custom)?;
        Ok(payload)
    }
}
