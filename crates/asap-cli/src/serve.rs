//! `asap serve`: run an agent from a manifest file or the built-in echo demo.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use asap_model::{AgentUrn, AuthScheme, Manifest};
use asap_observability::metrics::Metrics;
use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::layers::auth::StaticTokens;
use asap_transport_server::layers::idempotency::IdempotencyConfig;
use asap_transport_server::long_running::{TaskRuntime, countdown};
use asap_transport_server::{AsapServer, ServerConfig};

/// Arguments of `asap serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8000, or ASAP_HOST/ASAP_PORT].
    #[arg(long, value_name = "ADDR")]
    pub(crate) bind: Option<SocketAddr>,

    /// Manifest file (TOML or JSON, by extension; JSON when unsure). Without it the demo
    /// agent `urn:asap:agent:default-server` with skill `echo` is served.
    #[arg(long, value_name = "FILE")]
    pub(crate) manifest: Option<PathBuf>,

    /// Full error detail in `-32603` replies (like ASAP_DEBUG=1), and the trace viewer's
    /// page at /asap/traces/.
    #[arg(long)]
    pub(crate) debug: bool,

    /// Rate limit per client IP, e.g. `10/second;100/minute`, or `off`
    /// [default: 10/second;100/minute, or ASAP_RATE_LIMIT].
    #[arg(long, value_name = "SPEC")]
    pub(crate) rate_limit: Option<String>,

    /// Accept `Authorization: Bearer TOKEN` as agent URN (repeatable). Turns on
    /// authentication; the manifest is given `auth: {schemes: ["bearer"]}` if it has none.
    #[arg(long = "auth-token", value_name = "TOKEN=URN")]
    pub(crate) auth_tokens: Vec<String>,

    /// Refuse replayed `extensions.nonce` values.
    #[arg(long)]
    pub(crate) require_nonce: bool,

    /// Maximum request body in bytes, compressed and inflated [default: 10485760].
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_request_size: Option<usize>,

    /// Runtime worker threads [default: one per CPU, or ASAP_WORKERS].
    #[arg(long, value_name = "N")]
    pub(crate) workers: Option<usize>,

    /// Thread layout: one work-stealing runtime, or one current-thread runtime per worker.
    #[arg(
        long,
        value_enum,
        value_name = "LAYOUT",
        env = "ASAP_RUNTIME",
        default_value = "thread-per-core"
    )]
    pub(crate) runtime: crate::runtime::Layout,

    /// Do not serve Prometheus / OpenMetrics metrics at GET /asap/metrics (served by
    /// default; see docs/operations/metrics.md).
    #[arg(long)]
    pub(crate) no_metrics: bool,

    #[command(flatten)]
    pub(crate) state: crate::stores::StateArgs,
}

fn load_manifest(path: &Path) -> anyhow::Result<Manifest> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read manifest '{}'", path.display()))?;
    let is_toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let manifest: Manifest = if is_toml {
        toml::from_str(&text).with_context(|| format!("invalid manifest '{}'", path.display()))?
    } else {
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("manifest '{}' is not JSON", path.display()))?;
        asap_model::validation::from_value(value)
            .map_err(|e| anyhow::anyhow!("invalid manifest '{}': {e}", path.display()))?
    };
    Ok(manifest)
}

fn parse_token(spec: &str) -> anyhow::Result<(String, AgentUrn)> {
    let (token, urn) = spec
        .split_once('=')
        .ok_or_else(|| anyhow::anyhow!("--auth-token wants TOKEN=URN, got '{spec}'"))?;
    anyhow::ensure!(!token.is_empty(), "--auth-token: empty token");
    let urn: AgentUrn = urn
        .parse()
        .map_err(|e| anyhow::anyhow!("--auth-token: {e}"))?;
    Ok((token.to_owned(), urn))
}

/// The configuration `args` describe (environment variables apply first).
fn configure(args: &ServeArgs) -> anyhow::Result<ServerConfig> {
    let mut config = ServerConfig::from_env()?;
    if let Some(bind) = args.bind {
        config.bind = bind;
    }
    if args.debug {
        config.debug = true;
    }
    if let Some(spec) = &args.rate_limit {
        config.rate_limit = if spec.trim().eq_ignore_ascii_case("off") {
            None
        } else {
            Some(
                spec.parse()
                    .map_err(|e| anyhow::anyhow!("--rate-limit: {e}"))?,
            )
        };
    }
    if args.require_nonce {
        config.require_nonce = true;
    }
    if let Some(size) = args.max_request_size {
        anyhow::ensure!(size >= 1, "--max-request-size must be at least 1");
        config.max_request_size = size;
    }
    if let Some(workers) = args.workers {
        config.workers = Some(workers.max(1));
    }
    Ok(config)
}

/// How often `asap_tasks{status}` is counted again.
const TASK_COUNT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Counts the stored tasks by status into `asap_tasks` now and every
/// [`TASK_COUNT_INTERVAL`], forever (a store that cannot count leaves the gauges unset).
async fn count_tasks(tasks: Arc<dyn asap_state::TaskStore>, metrics: Arc<Metrics>) {
    let mut tick = tokio::time::interval(TASK_COUNT_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match tasks.count_by_status().await {
            Ok(counts) => {
                for status in asap_model::TaskStatus::ALL {
                    let n = counts
                        .iter()
                        .find(|(s, _)| *s == status)
                        .map_or(0, |(_, n)| *n);
                    metrics.tasks_in_status(status.as_str(), n);
                }
            }
            Err(error) if error.kind() == asap_state::ErrorKind::Unsupported => return,
            Err(error) => {
                tracing::warn!(target: asap_transport_server::LOG_TARGET, %error, "cannot count the stored tasks");
            }
        }
    }
}

/// Reports the state stores' calls to the agent's metrics.
struct StoreMetrics(Arc<Metrics>);

impl asap_state::timed::StoreObserver for StoreMetrics {
    fn on_store_call(&self, call: &asap_state::timed::StoreCall) {
        self.0
            .store_call(call.store, call.operation, call.duration, call.ok);
    }
}

/// The demo agent's long-running skill.
const COUNTDOWN: &str = "countdown";

/// The server `asap serve` runs: the agent, with the trace viewer in debug mode.
pub(crate) type Served =
    AsapServer<crate::debug_ui::WithTraceUi<asap_transport_server::ServerService>>;

/// A built server and what runs beside it.
pub(crate) struct Built {
    pub(crate) server: Served,
    /// Keeps `asap_tasks{status}` up to date, when metrics are on.
    pub(crate) task_gauges: Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>,
    pub(crate) maintenance: Option<crate::stores::Maintenance>,
    pub(crate) state: String,
}

/// Opens the state stores and builds the server described by `args` with `config`.
pub(crate) async fn build(args: &ServeArgs, config: ServerConfig) -> anyhow::Result<Built> {
    let (mut manifest, demo) = match &args.manifest {
        Some(path) => (load_manifest(path)?, false),
        None => (demo_manifest(&format!("http://{}/asap", config.bind)), true),
    };
    if demo {
        manifest.capabilities.skills.push(asap_model::Skill {
            id: COUNTDOWN.into(),
            description: "Counts input.steps steps (default 10) of input.step_ms ms (default \
                          100), checkpointing each: a long-running task that resumes after a \
                          restart"
                .into(),
            input_schema: None,
            output_schema: None,
        });
    }
    let mut builder_tokens = None;
    if !args.auth_tokens.is_empty() {
        let mut tokens = StaticTokens::new();
        for spec in &args.auth_tokens {
            let (token, urn) = parse_token(spec)?;
            tokens = tokens.with(token, urn);
        }
        manifest.auth.get_or_insert_with(|| AuthScheme {
            schemes: vec!["bearer".into()],
            oauth2: None,
        });
        builder_tokens = Some(tokens);
    }
    let builder_debug = config.debug;
    let opened = crate::stores::open(&args.state).await?;
    let metrics = (!args.no_metrics).then(|| Arc::new(Metrics::new()));
    // Every store call timed into the metrics (asap_state_store_duration_seconds).
    let stores = match &metrics {
        Some(metrics) => opened.stores.timed(Arc::new(StoreMetrics(metrics.clone()))),
        None => opened.stores,
    };
    let echo = EchoHandler::new(manifest.id.clone());
    let mut builder = AsapServer::builder(manifest)
        .config(config)
        .handler("task.request", echo)
        .nonce_store(stores.nonces.clone())
        .snapshots(stores.snapshots.clone())
        .ping_store(stores.ping.clone());
    for ping in opened.extra_pings {
        builder = builder.ping_store(ping);
    }
    if args.state.shared_url.is_some() {
        builder = builder.rate_limit_store(stores.rate_limits.clone());
    }
    if args.state.idempotency {
        let mut idempotency = IdempotencyConfig::default();
        if let Some(ttl) = args.state.idempotency_ttl.filter(|ttl| !ttl.is_zero()) {
            idempotency = idempotency.with_ttl(ttl);
        }
        builder = builder.idempotency(stores.idempotency.clone(), idempotency);
    }
    if demo {
        let runtime = TaskRuntime::builder(stores.tasks.clone(), stores.snapshots.clone())
            .job(COUNTDOWN, countdown())
            .instance(args.state.instance.clone())
            .build();
        builder = builder.task_runtime(runtime);
    }
    if let Some(tokens) = builder_tokens {
        builder = builder.token_validator(tokens);
    }
    let task_gauges = metrics
        .as_ref()
        .map(|metrics| Box::pin(count_tasks(stores.tasks.clone(), metrics.clone())) as _);
    if let Some(metrics) = metrics {
        builder = builder.metrics(metrics);
    }
    // `--debug` (or ASAP_DEBUG) also serves the trace viewer at /asap/traces/.
    let viewer = builder_debug.then(|| {
        asap_observability::trace_view::web::TraceUi::new().with_base(crate::debug_ui::TRACES_PATH)
    });
    Ok(Built {
        server: builder
            .layer(crate::debug_ui::TraceUiLayer(viewer))
            .build()?,
        task_gauges,
        maintenance: opened.maintenance,
        state: opened.description,
    })
}

/// What keeps the logs and traces going until the server stops: dropped after it, they
/// write out the log backlog and export the last spans.
struct Telemetry {
    _traces: Option<asap_observability::otel::Telemetry>,
    _logs: tracing_appender::non_blocking::WorkerGuard,
}

/// Installs the process's subscriber: logs from `ASAP_LOG_FORMAT`, `ASAP_LOG_LEVEL` (or
/// `RUST_LOG`) and `ASAP_SERVICE_NAME` (docs/operations/logging.md), written to standard
/// output from a thread of its own (a slow reader of the output never stalls a request;
/// lines past a backlog of 128 000 are dropped instead), and OpenTelemetry traces when the
/// `OTEL_*` variables ask for an exporter (docs/operations/tracing.md), with the agent's
/// id as service name unless `OTEL_SERVICE_NAME` gives one.
fn init_telemetry(agent_id: &str) -> anyhow::Result<Telemetry> {
    use asap_observability::otel::{OtelConfig, TracesExporter};
    use tracing_subscriber::prelude::*;
    let config = asap_observability::logging::LogConfig::from_env()?;
    let (writer, logs) = tracing_appender::non_blocking(std::io::stdout());
    let color = asap_observability::logging::LogConfig::stdout_wants_color();
    let layer = config.layer_with_writer_colored(writer, color)?;
    let otel = OtelConfig::from_env()?.with_default_service_name(agent_id);
    let traces = asap_observability::otel::Telemetry::start(&otel)?;
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(traces.as_ref().map(|t| t.layer()));
    tracing::subscriber::set_global_default(subscriber)
        .context("cannot install the log subscriber")?;
    if let TracesExporter::Otlp { protocol, endpoint } = &otel.exporter {
        tracing::info!(
            target: asap_transport_server::LOG_TARGET,
            endpoint = %asap_observability::redact::sanitize_url(endpoint),
            protocol = ?protocol,
            service = %otel.service_name,
            "exporting traces over OTLP"
        );
    }
    Ok(Telemetry {
        _traces: traces,
        _logs: logs,
    })
}

/// The id of the agent `args` serve.
fn agent_id(args: &ServeArgs) -> anyhow::Result<String> {
    Ok(match &args.manifest {
        Some(path) => load_manifest(path)?.id.to_string(),
        None => demo_manifest("http://127.0.0.1/asap").id.to_string(),
    })
}

/// Runs the server until Ctrl-C or SIGTERM.
pub(crate) fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let config = configure(args)?;
    let _telemetry = init_telemetry(&agent_id(args)?)?;
    let workers = config
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let prepare = || async move {
        let built = build(args, config).await?;
        if let Some(maintenance) = built.maintenance {
            tokio::spawn(maintenance.run());
        }
        if let Some(gauges) = built.task_gauges {
            tokio::spawn(gauges);
        }
        Ok((built.server, built.state))
    };
    crate::runtime::run(prepare, workers, args.runtime, |local, state| {
        // One write, and no panic when stderr is gone (`eprintln!` panics on a closed pipe,
        // for instance when whoever started the server read the first line and went away).
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!(
                "asap: serving on http://{local} (POST /asap, GET /.well-known/asap/manifest.json); \
                 Ctrl-C to stop\nasap: {state}\n"
            )
            .as_bytes(),
        );
    })
}
