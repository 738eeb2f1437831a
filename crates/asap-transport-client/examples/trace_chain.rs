//! Three agents calling each other, observable end to end (docs/observability.md):
//! `hop-1` forwards to `hop-2`, which forwards to `hop-3`, which echoes.
//!
//! ```sh
//! cargo run -p asap-transport-client --features otel,metrics --example trace_chain > chain.log
//! asap trace demo-chain-0 -f chain.log    # origin -> hop-1 (…ms) -> hop-2 (…ms) -> hop-3 (…ms)
//! curl -s http://127.0.0.1:8101/asap/metrics | grep asap_client_sends_total
//! ```
//!
//! Logs are JSON lines on standard output (the format `asap trace` reads); with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set the spans go to that collector too, one trace for the
//! whole chain. The agents listen on 127.0.0.1:8101–8103 (`CHAIN_PORT` moves the first)
//! and share one metrics registry, served by each at `/asap/metrics`. The chain is sent
//! `CHAIN_SENDS` times (default 5), then the agents serve until Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;

use asap_model::payload::{TaskRequest, TaskResponse};
use asap_model::{AgentUrn, Envelope, JsonObject, TaskId, TaskStatus};
use asap_observability::logging::{LogConfig, LogFormat};
use asap_observability::metrics::Metrics;
use asap_observability::otel::{OtelConfig, Telemetry};
use asap_transport_client::AsapClient;
use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::{AsapRequest, AsapServer, HandlerError, ServerConfig, handler_fn};
use tracing_subscriber::prelude::*;

/// The prefix of the trace ids the origin puts in its envelopes (`demo-chain-0`, …); each
/// hop copies its request's into the envelope it sends on.
const TRACE_ID: &str = "demo-chain";

fn urn(name: &str) -> AgentUrn {
    format!("urn:asap:agent:{name}")
        .parse()
        .expect("a valid URN")
}

fn task(sender: &AgentUrn, recipient: &AgentUrn, input: JsonObject) -> Envelope {
    Envelope::new(
        sender.clone(),
        recipient.clone(),
        TaskRequest {
            conversation_id: "conv_chain".into(),
            skill_id: "echo".into(),
            input,
            parent_task_id: None,
            config: None,
        },
    )
}

/// The handler of a hop: asks `next` and answers with its answer, in the same trace.
fn forwarder(
    me: AgentUrn,
    next: AgentUrn,
    client: AsapClient,
) -> impl asap_transport_server::Handler {
    handler_fn(move |request: AsapRequest| {
        let (me, next, client) = (me.clone(), next.clone(), client.clone());
        async move {
            let mut envelope = request.envelope;
            let task_in: TaskRequest = envelope.take_payload_as().map_err(HandlerError::from)?;
            let mut downstream = task(&me, &next, task_in.input);
            downstream.trace_id.clone_from(&envelope.trace_id);
            let reply = client
                .send(downstream)
                .await
                .map_err(HandlerError::internal)?;
            let mut result = JsonObject::new();
            result.insert(
                "downstream".into(),
                serde_json::to_value(&reply.payload).map_err(HandlerError::internal)?,
            );
            let mut response = envelope.response_to(TaskResponse {
                task_id: TaskId::generate(),
                status: TaskStatus::Completed,
                result: Some(result),
                final_state: None,
                metrics: None,
            });
            response.sender = me;
            Ok(response)
        }
    })
}

fn server(
    name: &str,
    metrics: &Arc<Metrics>,
    handler: impl asap_transport_server::Handler,
) -> AsapServer {
    let mut manifest = demo_manifest("http://127.0.0.1/asap");
    manifest.id = urn(name);
    AsapServer::builder(manifest)
        .config(ServerConfig::builder().rate_limit(None).build())
        .handler("task.request", handler)
        .metrics(metrics.clone())
        .build()
        .expect("the agent builds")
}

fn client(addr: SocketAddr, metrics: &Arc<Metrics>) -> AsapClient {
    AsapClient::builder(format!("http://{addr}"))
        .metrics(metrics.clone())
        .build()
        .expect("the client builds")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let logs = LogConfig::from_env()?.with_format(LogFormat::Json);
    let telemetry =
        Telemetry::start(&OtelConfig::from_env()?.with_default_service_name("trace-chain"))?;
    tracing_subscriber::registry()
        .with(logs.layer()?)
        .with(telemetry.as_ref().map(|t| t.layer()))
        .init();

    let first: u16 = std::env::var("CHAIN_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8101);
    let sends: usize = std::env::var("CHAIN_SENDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let addrs: Vec<SocketAddr> = (0..3)
        .map(|i| SocketAddr::from(([127, 0, 0, 1], first + i)))
        .collect();
    let metrics = Arc::new(Metrics::new());
    let servers = [
        server(
            "hop-1",
            &metrics,
            forwarder(urn("hop-1"), urn("hop-2"), client(addrs[1], &metrics)),
        ),
        server(
            "hop-2",
            &metrics,
            forwarder(urn("hop-2"), urn("hop-3"), client(addrs[2], &metrics)),
        ),
        server("hop-3", &metrics, EchoHandler::new(urn("hop-3"))),
    ];
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut running = Vec::new();
    for (server, addr) in servers.into_iter().zip(&addrs) {
        let listener = asap_transport_server::serve::bind(*addr)?;
        let mut stopped = stopped.clone();
        running.push(tokio::spawn(server.serve_with_shutdown(
            listener,
            async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            },
        )));
    }

    let origin = client(addrs[0], &metrics);
    for n in 0..sends {
        let mut input = JsonObject::new();
        input.insert("n".into(), n.into());
        let mut envelope = task(&urn("origin"), &urn("hop-1"), input);
        envelope.trace_id = Some(format!("{TRACE_ID}-{n}"));
        origin.send(envelope).await?;
    }
    eprintln!(
        "sent the chain {sends} times (trace ids {TRACE_ID}-0 to {TRACE_ID}-{}); metrics at http://{}/asap/metrics; Ctrl-C to stop",
        sends.saturating_sub(1),
        addrs[0]
    );
    tokio::signal::ctrl_c().await?;
    let _ = stop.send(true);
    for task in running {
        let _ = task.await;
    }
    if let Some(telemetry) = telemetry {
        telemetry.shutdown()?;
    }
    Ok(())
}
