//! `axum-echo`: what a user would write instead of asap-rs, as a baseline of the load
//! benchmarks.
//!
//! An axum 0.8 `POST /asap` route whose `Json` extractor parses the body with serde into
//! the typed structs of [`asap_benches::echo`] (the JSON-RPC frame, every envelope field, a
//! typed `task.request` payload), checks the JSON-RPC framing and answers a JSON-RPC result
//! carrying a `task.response` envelope that echoes the input, shaped like the one
//! `asap serve` answers. `actix-echo` does exactly the same work on actix-web. Nothing
//! else: no size limit beyond axum's default 2 MiB, no rate limit, no timestamp window, no
//! sender check.
//!
//! ```text
//! axum-echo --bind 127.0.0.1:8102 --workers 2
//! ```
//!
//! Stops on SIGTERM or Ctrl-C.

use std::net::SocketAddr;

use asap_benches::echo::{self, RpcFailure, RpcRequest, RpcSuccess};
use axum::routing::post;
use axum::serve::ListenerExt as _;
use axum::{Json, Router};
use clap::Parser;

/// Serve an ASAP-shaped echo agent written directly on axum.
#[derive(Debug, Parser)]
struct Args {
    /// Listen address (keep it on 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1:8102")]
    bind: SocketAddr,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

const AGENT: &str = "urn:asap:agent:axum-echo";

async fn asap(Json(request): Json<RpcRequest>) -> Result<Json<RpcSuccess>, Json<RpcFailure>> {
    echo::answer(request, AGENT).map(Json).map_err(Json)
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers.max(1))
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(args.bind).await?;
            eprintln!("axum-echo: serving on http://{}", listener.local_addr()?);
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let app = Router::new().route("/asap", post(asap));
            axum::serve(listener, app)
                .with_graceful_shutdown(asap_benches::stop())
                .await
        })
}
