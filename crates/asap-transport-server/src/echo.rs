//! The built-in echo handler and demo manifest (like the reference's default app).

use asap_model::payload::{TaskRequest, TaskResponse};
use asap_model::{AgentUrn, Capability, Endpoint, JsonObject, Manifest, Skill, TaskId, TaskStatus};

use crate::context::AsapRequest;
use crate::registry::{Handler, HandlerError, HandlerFuture};

/// Answers a `task.request` with a completed `task.response` whose `result` is
/// `{"echoed": <input>}`, sent by `agent` to the requester, correlated to the request.
#[derive(Debug, Clone)]
pub struct EchoHandler {
    agent: AgentUrn,
}

impl EchoHandler {
    /// An echo handler answering as `agent`.
    pub fn new(agent: AgentUrn) -> Self {
        Self { agent }
    }
}

impl Handler for EchoHandler {
    fn call(&self, request: AsapRequest) -> HandlerFuture {
        let agent = self.agent.clone();
        let mut envelope = request.envelope;
        Box::pin(async move {
            let task: TaskRequest = envelope.take_payload_as().map_err(HandlerError::from)?;
            let mut result = JsonObject::new();
            result.insert("echoed".into(), serde_json::Value::Object(task.input));
            let mut response = envelope.response_to(TaskResponse {
                task_id: TaskId::generate(),
                status: TaskStatus::Completed,
                result: Some(result),
                final_state: None,
                metrics: None,
            });
            response.sender = agent;
            Ok(response)
        })
    }
}

/// The demo manifest: `urn:asap:agent:default-server`, "ASAP Default Server", version
/// `1.0.0-dev`, one skill `echo`, endpoint `http://<bind>/asap`.
pub fn demo_manifest(endpoint: &str) -> Manifest {
    Manifest {
        id: AgentUrn::from_static("urn:asap:agent:default-server"),
        name: "ASAP Default Server".into(),
        version: "1.0.0-dev".into(),
        description: "Echoes task input".into(),
        capabilities: Capability {
            skills: vec![Skill {
                id: "echo".into(),
                description: "Echo back the input".into(),
                input_schema: None,
                output_schema: None,
            }],
            ..Capability::default()
        },
        endpoints: Endpoint {
            asap: endpoint.to_owned(),
            events: None,
        },
        auth: None,
        signature: None,
    }
}
