//! proptest strategies for every wire type (feature `proptest`).
//!
//! Every strategy produces values that are valid under the protocol rules, so
//! `encode → decode` must give back an equal value.
//!
//! ```
//! use proptest::prelude::*;
//! use asap_model::arbitrary;
//!
//! proptest!(|(envelope in arbitrary::envelope())| {
//!     let json = serde_json::to_string(&envelope).unwrap();
//!     let back: asap_model::Envelope = serde_json::from_str(&json).unwrap();
//!     prop_assert_eq!(back.id, envelope.id);
//! });
//! ```

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::Value;

use crate::entity::{
    Agent, Artifact, AuthScheme, Capability, Conversation, Endpoint, MAX_TASK_DEPTH, Manifest,
    Message, Skill, StateSnapshot, Task,
};
use crate::envelope::Envelope;
use crate::ids::EnvelopeId;
use crate::json::JsonObject;
use crate::part::{DataPart, FilePart, Part, ResourcePart, TemplatePart, TextPart};
use crate::payload::*;
use crate::status::{MessageRole, TaskStatus, UpdateType};
use crate::timestamp::Timestamp;
use crate::urn::AgentUrn;

/// Any valid agent URN.
pub fn agent_urn() -> impl Strategy<Value = AgentUrn> {
    ("[a-z0-9-]{1,20}", option::of("[a-z0-9-]{1,10}")).prop_map(|(name, sub)| {
        let text = match sub {
            Some(sub) => format!("urn:asap:agent:{name}:{sub}"),
            None => format!("urn:asap:agent:{name}"),
        };
        AgentUrn::parse(text).expect("generated URN is valid")
    })
}

/// Any UTC timestamp between 1970 and 2100 with microsecond precision.
pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    (0i64..4_102_444_800_000_000).prop_map(Timestamp::from_unix_micros)
}

/// A short identifier-like string.
pub fn id_string() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,30}"
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(|f| Value::from((f * 100.0).round() / 100.0)),
        ".{0,20}".prop_map(Value::String),
    ]
}

/// Any JSON value of bounded depth and size.
pub fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Any free-form JSON object.
pub fn json_object() -> impl Strategy<Value = JsonObject> {
    btree_map("[a-z_]{1,8}", json_value(), 0..4).prop_map(|m| m.into_iter().collect())
}

/// Any task status.
pub fn task_status() -> impl Strategy<Value = TaskStatus> {
    proptest::sample::select(TaskStatus::ALL.to_vec())
}

fn role() -> impl Strategy<Value = MessageRole> {
    prop_oneof![
        Just(MessageRole::User),
        Just(MessageRole::Assistant),
        Just(MessageRole::System)
    ]
}

fn update_type() -> impl Strategy<Value = UpdateType> {
    prop_oneof![
        Just(UpdateType::Progress),
        Just(UpdateType::InputRequired),
        Just(UpdateType::StatusChange)
    ]
}

/// Any `task.request`.
pub fn task_request() -> impl Strategy<Value = TaskRequest> {
    (
        id_string(),
        option::of(id_string()),
        id_string(),
        json_object(),
        option::of(json_object()),
    )
        .prop_map(
            |(conversation_id, parent, skill_id, input, config)| TaskRequest {
                conversation_id: conversation_id.into(),
                parent_task_id: parent.map(Into::into),
                skill_id,
                input,
                config,
            },
        )
}

/// Any `task.response`.
pub fn task_response() -> impl Strategy<Value = TaskResponse> {
    (
        id_string(),
        task_status(),
        option::of(json_object()),
        option::of(json_object()),
        option::of(json_object()),
    )
        .prop_map(
            |(task_id, status, result, final_state, metrics)| TaskResponse {
                task_id: task_id.into(),
                status,
                result,
                final_state,
                metrics,
            },
        )
}

/// Any `task.update` (with `progress.percent` in range when present).
pub fn task_update() -> impl Strategy<Value = TaskUpdate> {
    (
        id_string(),
        update_type(),
        task_status(),
        option::of(0u8..=100),
        option::of(json_object()),
    )
        .prop_map(
            |(task_id, update_type, status, percent, input_request)| TaskUpdate {
                task_id: task_id.into(),
                update_type,
                status,
                progress: percent.map(|p| {
                    let mut o = JsonObject::new();
                    o.insert("percent".into(), p.into());
                    o
                }),
                input_request,
            },
        )
}

/// Any `task.cancel`.
pub fn task_cancel() -> impl Strategy<Value = TaskCancel> {
    (id_string(), option::of(".{0,20}")).prop_map(|(task_id, reason)| TaskCancel {
        task_id: task_id.into(),
        reason,
    })
}

/// Any `message.send`.
pub fn message_send() -> impl Strategy<Value = MessageSend> {
    (
        id_string(),
        id_string(),
        ".{0,20}",
        role(),
        vec(id_string(), 0..3),
    )
        .prop_map(|(task_id, message_id, sender, role, parts)| MessageSend {
            task_id: task_id.into(),
            message_id: message_id.into(),
            sender,
            role,
            parts: parts.into_iter().map(Into::into).collect(),
        })
}

/// Any `state.query`.
pub fn state_query() -> impl Strategy<Value = StateQuery> {
    (id_string(), option::of(1i64..1000)).prop_map(|(task_id, version)| StateQuery {
        task_id: task_id.into(),
        version,
    })
}

/// Any `state.restore`.
pub fn state_restore() -> impl Strategy<Value = StateRestore> {
    (id_string(), id_string()).prop_map(|(task_id, snapshot_id)| StateRestore {
        task_id: task_id.into(),
        snapshot_id: snapshot_id.into(),
    })
}

/// Any `artifact.notify`.
pub fn artifact_notify() -> impl Strategy<Value = ArtifactNotify> {
    (id_string(), id_string(), option::of(".{0,20}")).prop_map(|(artifact_id, task_id, name)| {
        ArtifactNotify {
            artifact_id: artifact_id.into(),
            task_id: task_id.into(),
            name,
        }
    })
}

/// Any `mcp.tool_call`.
pub fn mcp_tool_call() -> impl Strategy<Value = McpToolCall> {
    (
        id_string(),
        id_string(),
        json_object(),
        option::of(json_object()),
    )
        .prop_map(
            |(request_id, tool_name, arguments, mcp_context)| McpToolCall {
                request_id,
                tool_name,
                arguments,
                mcp_context,
            },
        )
}

/// Any valid `mcp.tool_result` (success with result, or failure with error).
pub fn mcp_tool_result() -> impl Strategy<Value = McpToolResult> {
    (
        id_string(),
        prop_oneof![json_object().prop_map(Ok), ".{0,20}".prop_map(Err)],
    )
        .prop_map(|(request_id, outcome)| match outcome {
            Ok(result) => McpToolResult::ok(request_id, result),
            Err(error) => McpToolResult::err(request_id, error),
        })
}

/// Any `mcp.resource_fetch`.
pub fn mcp_resource_fetch() -> impl Strategy<Value = McpResourceFetch> {
    id_string().prop_map(|resource_uri| McpResourceFetch { resource_uri })
}

/// Any `mcp.resource_data`.
pub fn mcp_resource_data() -> impl Strategy<Value = McpResourceData> {
    (id_string(), json_object()).prop_map(|(resource_uri, content)| McpResourceData {
        resource_uri,
        content,
    })
}

/// Any typed payload of the twelve kinds.
pub fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        task_request().prop_map(Payload::from),
        task_response().prop_map(Payload::from),
        task_update().prop_map(Payload::from),
        task_cancel().prop_map(Payload::from),
        message_send().prop_map(Payload::from),
        state_query().prop_map(Payload::from),
        state_restore().prop_map(Payload::from),
        artifact_notify().prop_map(Payload::from),
        mcp_tool_call().prop_map(Payload::from),
        mcp_tool_result().prop_map(Payload::from),
        mcp_resource_fetch().prop_map(Payload::from),
        mcp_resource_data().prop_map(Payload::from),
    ]
}

/// Any envelope with a typed payload (correlation id always set, so the correlation rule holds).
pub fn envelope() -> impl Strategy<Value = Envelope> {
    (
        "[0-9A-HJKMNP-TV-Z]{26}",
        timestamp(),
        agent_urn(),
        agent_urn(),
        payload(),
        prop::bool::ANY,
        id_string(),
        option::of(id_string()),
        option::of(json_object()),
    )
        .prop_map(
            |(id, timestamp, sender, recipient, payload, model_name, corr, trace, ext)| {
                let kind = payload.kind().expect("typed payload");
                Envelope {
                    id: EnvelopeId::new(id),
                    asap_version: crate::ASAP_PROTOCOL_VERSION.to_owned(),
                    timestamp,
                    sender,
                    recipient,
                    payload_type: if model_name {
                        kind.model_name()
                    } else {
                        kind.dotted()
                    }
                    .to_owned(),
                    payload,
                    correlation_id: Some(corr),
                    trace_id: trace,
                    extensions: ext,
                }
            },
        )
}

/// Any part.
pub fn part() -> impl Strategy<Value = Part> {
    prop_oneof![
        ".{0,20}".prop_map(|c| Part::Text(TextPart::new(c))),
        (json_object(), option::of(id_string())).prop_map(|(data, schema_uri)| Part::Data(
            DataPart {
                part_type: Default::default(),
                data,
                schema_uri
            }
        )),
        (
            "(https|asap|s3)://[a-z]{1,8}/[a-z]{1,8}",
            "[a-z]{1,8}/[a-z0-9.+-]{1,8}",
            option::of(vec(any::<u8>(), 0..16))
        )
            .prop_map(|(uri, mime, data)| {
                use base64::Engine;
                let mut p = FilePart::new(uri, mime);
                p.inline_data = data.map(|d| base64::engine::general_purpose::STANDARD.encode(d));
                Part::File(p)
            }),
        id_string().prop_map(|resource_uri| Part::Resource(ResourcePart {
            part_type: Default::default(),
            resource_uri
        })),
        (".{0,20}", json_object()).prop_map(|(template, variables)| Part::Template(TemplatePart {
            part_type: Default::default(),
            template,
            variables
        })),
    ]
}

/// Any manifest.
pub fn manifest() -> impl Strategy<Value = Manifest> {
    let skill = (
        id_string(),
        ".{0,20}",
        option::of(json_object()),
        option::of(json_object()),
    )
        .prop_map(|(id, description, input_schema, output_schema)| Skill {
            id,
            description,
            input_schema,
            output_schema,
        });
    (
        agent_urn(),
        ".{0,20}",
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        ".{0,20}",
        vec(skill, 0..3),
        any::<(bool, bool)>(),
        option::of(proptest::sample::subsequence(
            vec!["bearer", "basic"],
            0..=2,
        )),
    )
        .prop_map(
            |(id, name, version, description, skills, (persist, streaming), auth)| Manifest {
                id,
                name,
                version,
                description,
                capabilities: Capability {
                    skills,
                    state_persistence: persist,
                    streaming,
                    ..Capability::default()
                },
                endpoints: Endpoint {
                    asap: "http://127.0.0.1:8000/asap".into(),
                    events: None,
                },
                auth: auth.map(|schemes| AuthScheme {
                    schemes: schemes.into_iter().map(str::to_owned).collect(),
                    oauth2: None,
                }),
                signature: None,
            },
        )
}

/// Any agent.
pub fn agent() -> impl Strategy<Value = Agent> {
    (agent_urn(), id_string(), vec(id_string(), 1..4)).prop_map(
        |(id, manifest_uri, capabilities)| Agent {
            id,
            manifest_uri,
            capabilities,
        },
    )
}

/// Any task.
pub fn task() -> impl Strategy<Value = Task> {
    (
        id_string(),
        id_string(),
        option::of(id_string()),
        task_status(),
        0..=MAX_TASK_DEPTH,
        option::of(json_object()),
        timestamp(),
        timestamp(),
    )
        .prop_map(
            |(id, conv, parent, status, depth, progress, created_at, updated_at)| Task {
                id: id.into(),
                conversation_id: conv.into(),
                parent_task_id: parent.map(Into::into),
                status,
                depth,
                progress,
                created_at,
                updated_at,
            },
        )
}

/// Any conversation.
pub fn conversation() -> impl Strategy<Value = Conversation> {
    (
        id_string(),
        vec(".{0,10}", 1..4),
        timestamp(),
        option::of(json_object()),
    )
        .prop_map(|(id, participants, created_at, metadata)| Conversation {
            id: id.into(),
            participants,
            created_at,
            metadata,
        })
}

/// Any message.
pub fn message() -> impl Strategy<Value = Message> {
    (
        id_string(),
        id_string(),
        ".{0,10}",
        role(),
        vec(id_string(), 0..3),
        timestamp(),
    )
        .prop_map(|(id, task_id, sender, role, parts, timestamp)| Message {
            id: id.into(),
            task_id: task_id.into(),
            sender,
            role,
            parts: parts.into_iter().map(Into::into).collect(),
            timestamp,
        })
}

/// Any artifact.
pub fn artifact() -> impl Strategy<Value = Artifact> {
    (
        id_string(),
        id_string(),
        ".{0,10}",
        vec(id_string(), 0..3),
        timestamp(),
    )
        .prop_map(|(id, task_id, name, parts, created_at)| Artifact {
            id: id.into(),
            task_id: task_id.into(),
            name,
            parts: parts.into_iter().map(Into::into).collect(),
            created_at,
        })
}

/// Any state snapshot.
pub fn state_snapshot() -> impl Strategy<Value = StateSnapshot> {
    (
        id_string(),
        id_string(),
        1i64..10_000,
        json_object(),
        any::<bool>(),
        timestamp(),
    )
        .prop_map(
            |(id, task_id, version, data, checkpoint, created_at)| StateSnapshot {
                id: id.into(),
                task_id: task_id.into(),
                version,
                data,
                checkpoint,
                created_at,
            },
        )
}
