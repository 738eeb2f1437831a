//! `raw-hyper`: the throughput ceiling of the load benchmarks.
//!
//! hyper 1 behind hyper-util's auto (HTTP/1.1 + h2c) connection builder, like `asap serve`,
//! with nothing else: every request's body is read whole, then a fixed small JSON-RPC result
//! is answered. No routing, no parsing, no validation, no layers.
//!
//! ```text
//! raw-hyper --bind 127.0.0.1:8101 --workers 2
//! ```
//!
//! Stops on SIGTERM or Ctrl-C (in-flight connections are dropped).

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

/// The fixed answer: a JSON-RPC 2.0 success with an empty result.
const ANSWER: &[u8] = br#"{"jsonrpc":"2.0","result":{},"id":"req-bench-1"}"#;

/// Serve a fixed JSON answer to any request, after reading its body.
#[derive(Debug, Parser)]
struct Args {
    /// Listen address (keep it on 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1:8101")]
    bind: SocketAddr,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let status = match request.into_body().collect().await {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::BAD_REQUEST,
    };
    let mut response = Response::new(Full::new(Bytes::from_static(ANSWER)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

async fn serve(bind: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    eprintln!("raw-hyper: serving on http://{}", listener.local_addr()?);
    let builder = auto::Builder::new(TokioExecutor::new());
    let stop = asap_benches::stop();
    tokio::pin!(stop);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    eprintln!("raw-hyper: accept failed: {error}");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut stop => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let builder = builder.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(answer);
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers.max(1))
        .enable_all()
        .build()?
        .block_on(serve(args.bind))
}
