//! `actix-echo`: the same typed echo as `axum-echo`, written on actix-web 4 instead, as a
//! baseline of the load benchmarks.
//!
//! A `POST /asap` resource whose `web::Json` extractor parses the body with serde into the
//! typed structs of [`asap_benches::echo`] and answers with [`asap_benches::echo::answer`]:
//! exactly the work `axum-echo` does, on the other widely used Rust HTTP stack. Nothing
//! else: no size limit beyond actix-web's default 2 MiB JSON limit, no rate limit, no
//! timestamp window, no sender check. HTTP/1.1 only (actix-web without default features).
//!
//! `--workers N` starts N actix-web workers, each a single-threaded runtime serving the
//! connections it is handed (actix-web's model, against tokio's work-stealing pool in the
//! other servers), plus actix-server's accept thread.
//!
//! ```text
//! actix-echo --bind 127.0.0.1:8103 --workers 2
//! ```
//!
//! Stops on SIGTERM or Ctrl-C (actix-server's signal handling; in-flight requests get 2 s).

use std::net::SocketAddr;

use actix_web::http::KeepAlive;
use actix_web::{App, HttpResponse, HttpServer, web};
use asap_benches::echo::{self, RpcRequest};
use clap::Parser;

/// Serve an ASAP-shaped echo agent written directly on actix-web.
#[derive(Debug, Parser)]
struct Args {
    /// Listen address (keep it on 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1:8103")]
    bind: SocketAddr,
    /// actix-web workers (one single-threaded runtime each).
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

const AGENT: &str = "urn:asap:agent:actix-echo";

async fn asap(request: web::Json<RpcRequest>) -> HttpResponse {
    match echo::answer(request.into_inner(), AGENT) {
        Ok(success) => HttpResponse::Ok().json(success),
        Err(failure) => HttpResponse::Ok().json(failure),
    }
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(|| App::new().route("/asap", web::post().to(asap)))
            .workers(args.workers.max(1))
            .tcp_nodelay(true)
            // Like hyper and axum: idle keep-alive connections stay open (actix-web closes
            // them after 5 s by default, which would break the 10,000-connection run).
            .keep_alive(KeepAlive::Os)
            .shutdown_timeout(2)
            .bind(args.bind)?;
        for addr in server.addrs() {
            eprintln!("actix-echo: serving on http://{addr}");
        }
        server.run().await
    })
}
