//! MCP benchmarks: asap-mcp's server against a plain rmcp server doing the same, in the
//! same run.
//!
//! * `mcp/http_echo_16/asap-mcp` and `…/rmcp` — `tools/call` of an `echo` tool over
//!   Streamable HTTP (stateless JSON responses off, the servers' defaults otherwise), 16
//!   clients (asap-mcp's `McpClient`) calling at once, each its share of the iterations;
//!   the time is per call, so 1 / time is calls per second under that concurrency. The
//!   servers and the clients share this process and its cores. asap-mcp does more per call
//!   than the plain server: it checks the arguments against the tool's JSON Schema.
//! * `mcp/stdio_roundtrip/asap-mcp` — one client, one call at a time, over an in-process
//!   pipe carrying the stdio framing (newline-delimited JSON-RPC): the protocol round trip
//!   without a process boundary.
//!
//! Run: `cargo bench -p asap-benches --bench mcp` (`-- --quick` for a short run).

use std::sync::Arc;
use std::time::{Duration, Instant};

use asap_mcp::client::McpClient;
use asap_mcp::http::HttpConfig;
use asap_mcp::{McpServer, Tool, ToolOutput};
use criterion::Criterion;
use rmcp::model as m;
use rmcp::service::RequestContext;
use rmcp::transport::StreamableHttpService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::{RoleServer, ServerHandler};
use serde_json::{Value, json};

/// Concurrent clients of the HTTP benchmark.
const CLIENTS: usize = 16;

fn echo_schema() -> Value {
    json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]})
}

fn asap_server() -> McpServer {
    McpServer::builder("bench", "1")
        .tool(Tool::new(
            "echo",
            "Echoes text",
            echo_schema(),
            |arguments| async move {
                Ok(ToolOutput::text(
                    arguments["text"].as_str().unwrap_or_default(),
                ))
            },
        ))
        .build()
        .expect("valid")
}

/// The same echo tool written directly on rmcp's `ServerHandler`, without argument checks.
#[derive(Clone)]
struct PlainEcho;

impl ServerHandler for PlainEcho {
    fn get_info(&self) -> m::ServerConfig {
        let mut capabilities = m::ServerCapabilities::default();
        capabilities.tools = Some(m::ToolsCapability::default());
        m::ServerConfig::new(capabilities)
    }

    async fn list_tools(
        &self,
        _request: Option<m::PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<m::ListToolsResult, m::ErrorData> {
        let Value::Object(schema) = echo_schema() else {
            unreachable!()
        };
        Ok(m::ListToolsResult::with_all_items(vec![m::Tool::new(
            "echo",
            "Echoes text",
            Arc::new(schema),
        )]))
    }

    async fn call_tool(
        &self,
        request: m::CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<m::CallToolResponse, m::ErrorData> {
        let text = request
            .arguments
            .as_ref()
            .and_then(|a| a.get("text"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(m::CallToolResponse::Complete(m::CallToolResult::success(
            vec![m::ContentBlock::text(text)],
        )))
    }
}

/// Serves `service` at `/mcp` on a free port; returns the endpoint's URL.
async fn serve<S>(service: S) -> String
where
    S: tower_service::Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<
                http_body_util::combinators::BoxBody<bytes::Bytes, std::convert::Infallible>,
            >,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
            });
        }
    });
    url
}

/// Wall time of `iters` echo calls spread over the clients, all calling at once.
async fn concurrent_calls(clients: &[Arc<McpClient>], iters: u64) -> Duration {
    let per_client = iters.div_ceil(clients.len() as u64);
    let started = Instant::now();
    let calls = clients.iter().map(|client| {
        let client = client.clone();
        tokio::spawn(async move {
            for _ in 0..per_client {
                let mut arguments = serde_json::Map::new();
                arguments.insert("text".into(), json!("hello"));
                let result = client.call_tool("echo", arguments).await.expect("answered");
                assert_eq!(result.text, ["hello"]);
            }
        })
    });
    for call in futures_util::future::join_all(calls).await {
        call.expect("joined");
    }
    // Per requested iteration: the clients made `per_client * CLIENTS` calls.
    started
        .elapsed()
        .mul_f64(iters as f64 / (per_client * clients.len() as u64) as f64)
}

async fn clients_of(url: &str) -> Vec<Arc<McpClient>> {
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(Arc::new(McpClient::connect(url).await.expect("connects")));
    }
    clients
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (asap_clients, plain_clients, stdio_client) = runtime.block_on(async {
        let asap_url = serve(asap_server().http_service(&HttpConfig::default())).await;
        let plain = StreamableHttpService::new(
            || Ok(PlainEcho),
            Arc::new(LocalSessionManager::default()),
            rmcp::transport::StreamableHttpServerConfig::default(),
        );
        let plain_url = serve(plain).await;
        let (client_end, server_end) = tokio::io::duplex(1 << 16);
        let (server_read, server_write) = tokio::io::split(server_end);
        tokio::spawn(async move { asap_server().serve_io(server_read, server_write).await });
        let (client_read, client_write) = tokio::io::split(client_end);
        let stdio = McpClient::over_io(client_read, client_write)
            .await
            .expect("pipe session");
        (
            clients_of(&asap_url).await,
            clients_of(&plain_url).await,
            Arc::new(stdio),
        )
    });

    let mut group = c.benchmark_group("mcp/http_echo_16");
    group.bench_function("asap-mcp", |b| {
        b.iter_custom(|iters| runtime.block_on(concurrent_calls(&asap_clients, iters)))
    });
    group.bench_function("rmcp", |b| {
        b.iter_custom(|iters| runtime.block_on(concurrent_calls(&plain_clients, iters)))
    });
    group.finish();

    let mut group = c.benchmark_group("mcp/stdio_roundtrip");
    group.bench_function("asap-mcp", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(concurrent_calls(std::slice::from_ref(&stdio_client), iters))
        })
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(20)
        .configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
