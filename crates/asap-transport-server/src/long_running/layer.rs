//! [`LongRunningLayer`]: routes `task.request`s for a [`TaskRuntime`]'s skills to it, and
//! everything else to the inner service.

use std::task::{Context, Poll};

use asap_codec::rpc::RpcError;
use asap_model::error::rpc;
use asap_model::payload::{TaskRequest, TaskResponse};
use asap_model::{AgentUrn, Envelope, TaskStatus};
use asap_state::ErrorKind;
use futures_util::future::BoxFuture;
use http::StatusCode;
use serde_json::json;
use tower_service::Service;

use super::TaskRuntime;
use crate::context::AsapRequest;
use crate::rejection::Rejection;

/// The payload type a long-running skill is submitted with.
const TASK_REQUEST: &str = "task.request";

/// A `tower::Layer` over envelope-level services (`Service<AsapRequest>`): `task.request`s
/// whose `skill_id` the runtime runs are submitted to it and answered at once with a
/// `working` `task.response` sent by `agent`; other requests pass through.
#[derive(Debug, Clone)]
pub struct LongRunningLayer {
    runtime: TaskRuntime,
    agent: AgentUrn,
}

impl LongRunningLayer {
    /// Routes `runtime`'s skills to it, answering as `agent`.
    pub fn new(runtime: TaskRuntime, agent: AgentUrn) -> Self {
        Self { runtime, agent }
    }
}

impl<S> tower_layer::Layer<S> for LongRunningLayer {
    type Service = LongRunning<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LongRunning {
            runtime: self.runtime.clone(),
            agent: self.agent.clone(),
            inner,
        }
    }
}

/// The service of [`LongRunningLayer`].
#[derive(Debug, Clone)]
pub struct LongRunning<S> {
    runtime: TaskRuntime,
    agent: AgentUrn,
    inner: S,
}

impl<S> Service<AsapRequest> for LongRunning<S>
where
    S: Service<AsapRequest, Response = Envelope, Error = Rejection>,
    S::Future: Send + 'static,
{
    type Response = Envelope;
    type Error = Rejection;
    type Future = BoxFuture<'static, Result<Envelope, Rejection>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: AsapRequest) -> Self::Future {
        // A payload that fails its model is left to the dispatcher, which answers it with
        // the located -32602 every handler's requests get.
        let ours = request.envelope.payload_type == TASK_REQUEST
            && request.envelope.type_payload().is_ok()
            && request
                .envelope
                .typed_payload::<TaskRequest>()
                .is_some_and(|task| self.runtime.handles(&task.skill_id));
        if !ours {
            return Box::pin(self.inner.call(request));
        }
        let runtime = self.runtime.clone();
        let agent = self.agent.clone();
        Box::pin(async move {
            let mut envelope = request.envelope;
            let task: TaskRequest = envelope
                .take_payload_as()
                .map_err(|e| Rejection::Rpc(RpcError::invalid_envelope(&e)))?;
            let stored = runtime.submit(&task).await.map_err(|error| {
                if error.kind() == ErrorKind::Other {
                    // The job's check refused the input.
                    Rejection::Rpc(RpcError::new(
                        rpc::INVALID_PARAMS,
                        json!({
                            "error": "Invalid task input",
                            "skill_id": task.skill_id,
                            "detail": error.to_string(),
                        }),
                    ))
                } else {
                    tracing::error!(
                        target: crate::LOG_TARGET,
                        %error,
                        skill_id = %task.skill_id,
                        "a long-running task could not be stored"
                    );
                    Rejection::http(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The task store is unavailable; retry later",
                    )
                }
            })?;
            let mut response = envelope.response_to(TaskResponse {
                task_id: stored.id,
                status: TaskStatus::Working,
                result: None,
                final_state: None,
                metrics: None,
            });
            response.sender = agent;
            Ok(response)
        })
    }
}
