//! `asap trace --serve`: the web view of the trace viewer (`asap_observability::trace_view::web`)
//! on a local address, with the log of `--log-file` (or `ASAP_TRACE_LOG`) loaded.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use anyhow::Context as _;
use asap_observability::trace_view::web::{MAX_LOG_CHARS, TraceUi};
use asap_transport_server::ServerConfig;
use asap_transport_server::routes::Readiness;
use asap_transport_server::serve::{ConnectionSettings, bind, serve, shutdown_signal};

/// Where the viewer listens without `--bind`.
const DEFAULT_BIND: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8765);

/// The options of `asap trace` for the web view.
#[derive(Debug, clap::Args)]
pub(crate) struct WebArgs {
    /// Serve the web view instead: a page listing the log's traces and drawing one as a
    /// waterfall (TRACE_ID optional: the trace shown first).
    #[arg(long)]
    pub(crate) serve: bool,

    /// With --serve: the address to listen on [default: 127.0.0.1:8765].
    #[arg(long, value_name = "ADDR", requires = "serve")]
    bind: Option<SocketAddr>,
}

/// Serves the viewer on `--bind` until Ctrl-C or SIGTERM, with the log of `log_file` and
/// `trace_id` shown first. Its first line on stderr is `asap: trace viewer on
/// http://ADDR/`, the address it listens on (the port chosen when `--bind` asks for port 0).
pub(crate) fn run(
    args: &WebArgs,
    log_file: Option<&Path>,
    trace_id: Option<&str>,
) -> anyhow::Result<()> {
    let addr = args.bind.unwrap_or(DEFAULT_BIND);
    let mut ui = TraceUi::new();
    if let Some(path) = log_file {
        ui = ui.with_log(read_log(path)?);
    }
    if let Some(trace_id) = trace_id.filter(|id| !id.trim().is_empty()) {
        ui = ui.with_trace(trace_id);
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(async {
            let listener = bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
            let local = listener.local_addr().unwrap_or(addr);
            eprintln!("asap: trace viewer on http://{local}/");
            let settings = ConnectionSettings::from(&ServerConfig::default());
            serve(listener, ui, settings, Readiness::new(), shutdown_signal())
                .await
                .context("the trace viewer failed")
        })
}

/// The log to preload: the file as text (bytes that are not UTF-8 replaced), refused when
/// longer than the viewer takes.
fn read_log(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read '{}'", path.display()))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let chars = text.chars().count();
    if chars > MAX_LOG_CHARS {
        anyhow::bail!(
            "'{}' holds {chars} characters, more than the {MAX_LOG_CHARS} the trace viewer takes; \
             keep the lines of the traces to look at (grep) and serve those",
            path.display()
        );
    }
    Ok(text)
}
