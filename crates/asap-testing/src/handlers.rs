//! Handlers whose behaviour a test chooses per request, through the `task.request` input.
//!
//! Both [`ScriptedHandler`] (async) and [`BlockingScriptedHandler`] (blocking pool) read
//! `payload.input` and then:
//!
//! | input member | effect |
//! |---|---|
//! | `"sleep_ms": n` | sleep `n` ms first |
//! | `"wait": true` | wait until the [`Gate`] is opened |
//! | `"panic": "<text>"` | panic with that text |
//! | `"fail": "<text>"` | return [`HandlerError::Internal`] |
//!
//! and otherwise answer like the echo handler: a completed `task.response` with
//! `{"echoed": <input>}`, from the handler's agent, correlated to the request.
//!
//! ```
//! use asap_testing::handlers::{Gate, scripted_builder};
//! use asap_transport_server::ServerConfig;
//!
//! let gate = Gate::new();
//! let builder = scripted_builder(ServerConfig::builder().rate_limit(None).build(), &gate);
//! # let _ = builder;
//! ```

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use asap_model::payload::{TaskRequest, TaskResponse};
use asap_model::{AgentUrn, Envelope, JsonObject, TaskId, TaskStatus};
use asap_transport_server::registry::{BlockingHandler, Handler, HandlerFuture};
use asap_transport_server::{
    AsapRequest, AsapServer, AsapServerBuilder, HandlerError, ServerConfig,
};
use serde_json::Value;
use tokio::sync::watch;

/// A latch that handlers wait on until the test opens it; it also counts the waiters, so a
/// test can wait until a request is known to be inside its handler.
#[derive(Debug, Clone)]
pub struct Gate {
    open: Arc<(Mutex<bool>, Condvar)>,
    entered: Arc<watch::Sender<usize>>,
}

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Self {
        Self {
            open: Arc::new((Mutex::new(false), Condvar::new())),
            entered: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Blocks the calling thread until the gate is open (counts as one waiter).
    pub fn wait(&self) {
        self.entered.send_modify(|n| *n += 1);
        let (lock, opened) = &*self.open;
        let mut open = lock.lock().unwrap_or_else(|e| e.into_inner());
        while !*open {
            open = opened.wait(open).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Waits, without blocking the runtime, until the gate is open.
    pub async fn wait_async(&self) {
        let gate = self.clone();
        let _ = tokio::task::spawn_blocking(move || gate.wait()).await;
    }

    /// Resolves once at least `n` callers have reached [`Gate::wait`] since creation.
    pub async fn entered(&self, n: usize) {
        let mut rx = self.entered.subscribe();
        let _ = rx.wait_for(|count| *count >= n).await;
    }

    /// How many callers have reached [`Gate::wait`].
    pub fn entered_count(&self) -> usize {
        *self.entered.borrow()
    }

    /// Opens the gate for good: current and future waiters pass.
    pub fn open(&self) {
        let (lock, opened) = &*self.open;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        opened.notify_all();
    }
}

fn input_of(request: &AsapRequest) -> Result<TaskRequest, HandlerError> {
    request.envelope.payload_as().map_err(HandlerError::from)
}

fn echo(agent: &AgentUrn, request: &AsapRequest, task: TaskRequest) -> Envelope {
    let mut result = JsonObject::new();
    result.insert("echoed".into(), Value::Object(task.input));
    let mut response = request.envelope.response_to(TaskResponse {
        task_id: TaskId::generate(),
        status: TaskStatus::Completed,
        result: Some(result),
        final_state: None,
        metrics: None,
    });
    response.sender = agent.clone();
    response
}

fn text(input: &JsonObject, key: &str) -> Option<String> {
    input.get(key).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// An async handler driven by its input; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct ScriptedHandler {
    agent: AgentUrn,
    gate: Gate,
}

impl ScriptedHandler {
    /// Answers as `agent`; `"wait": true` waits on `gate`.
    pub fn new(agent: AgentUrn, gate: Gate) -> Self {
        Self { agent, gate }
    }
}

impl Handler for ScriptedHandler {
    fn call(&self, request: AsapRequest) -> HandlerFuture {
        let this = self.clone();
        Box::pin(async move {
            let task = input_of(&request)?;
            if let Some(ms) = task.input.get("sleep_ms").and_then(Value::as_u64) {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            if task.input.get("wait").and_then(Value::as_bool) == Some(true) {
                this.gate.wait_async().await;
            }
            if let Some(message) = text(&task.input, "panic") {
                panic!("{message}");
            }
            if let Some(message) = text(&task.input, "fail") {
                return Err(HandlerError::internal(message));
            }
            Ok(echo(&this.agent, &request, task))
        })
    }
}

/// A blocking handler driven by its input; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct BlockingScriptedHandler {
    agent: AgentUrn,
    gate: Gate,
}

impl BlockingScriptedHandler {
    /// Answers as `agent`; `"wait": true` waits on `gate`.
    pub fn new(agent: AgentUrn, gate: Gate) -> Self {
        Self { agent, gate }
    }
}

impl BlockingHandler for BlockingScriptedHandler {
    fn call(&self, request: AsapRequest) -> Result<Envelope, HandlerError> {
        let task = input_of(&request)?;
        if let Some(ms) = task.input.get("sleep_ms").and_then(Value::as_u64) {
            std::thread::sleep(Duration::from_millis(ms));
        }
        if task.input.get("wait").and_then(Value::as_bool) == Some(true) {
            self.gate.wait();
        }
        if let Some(message) = text(&task.input, "panic") {
            panic!("{message}");
        }
        if let Some(message) = text(&task.input, "fail") {
            return Err(HandlerError::internal(message));
        }
        Ok(echo(&self.agent, &request, task))
    }
}

/// The demo manifest's server with `config`, [`ScriptedHandler`] on `task.request` and
/// [`BlockingScriptedHandler`] on `task.blocking` (payload: a task request), both using `gate`.
pub fn scripted_builder(config: ServerConfig, gate: &Gate) -> AsapServerBuilder {
    let manifest = asap_transport_server::echo::demo_manifest("http://127.0.0.1/asap");
    let agent = manifest.id.clone();
    AsapServer::builder(manifest)
        .config(config)
        .handler(
            "task.request",
            ScriptedHandler::new(agent.clone(), gate.clone()),
        )
        .blocking_handler(
            "task.blocking",
            BlockingScriptedHandler::new(agent, gate.clone()),
        )
}
