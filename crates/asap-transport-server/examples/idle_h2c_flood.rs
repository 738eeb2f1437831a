//! One host holds every connection slot with idle h2c connections; is another host served?
//!
//! ```sh
//! cargo run --release -p asap-transport-server --example idle_h2c_flood -- 10000
//! ```
//!
//! Starts the echo agent in a child process (this example run with `--serve`) with
//! `max_connections` = CONNECTIONS (default 10 000) and rate limiting off, opens CONNECTIONS
//! h2c connections to it from 127.0.0.2, each making one `GET /health` and then staying open
//! and silent, and then sends `GET /health` from 127.0.0.1 on fresh connections (HTTP/1.1
//! and h2c), printing how long each took (at most 30 s each) and how many idle connections
//! the server closed to make room, and then how long the server's shutdown took with the
//! idle connections still open. Server and clients are separate processes so that each
//! needs one descriptor per connection, not two. Linux only (it binds 127.0.0.2). Exits with
//! an error when a probe is not answered; CI runs it with 10 000 connections.

use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::{AsapServer, ServerConfig};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpSocket;
use tokio::task::{JoinHandle, JoinSet};

const WAVE: usize = 500;
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);
const FLOODER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const PROBER: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

type Exchange = Result<(SendRequest<Empty<Bytes>>, JoinHandle<hyper::Result<()>>), String>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (serve, connections) = match args.next() {
        Some(flag) if flag == "--serve" => (true, args.next()),
        other => (false, other),
    };
    let connections: usize = connections.map_or(Ok(10_000), |n| n.parse())?;
    raise_descriptor_limit(connections as u64 + 200);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if serve {
        runtime.block_on(run_server(connections))
    } else {
        runtime.block_on(run_flood(connections))
    }
}

fn raise_descriptor_limit(needed: u64) {
    match rlimit::increase_nofile_limit(needed) {
        Ok(limit) if limit >= needed => {}
        Ok(limit) => eprintln!("warning: descriptor limit {limit} < {needed}"),
        Err(e) => eprintln!("warning: descriptor limit not raised: {e}"),
    }
}

/// The child: the echo agent on 127.0.0.1, until its standard input closes.
async fn run_server(max_connections: usize) -> Result<(), Box<dyn std::error::Error>> {
    let manifest = demo_manifest("http://127.0.0.1/asap");
    let server = AsapServer::builder(manifest.clone())
        .config(
            ServerConfig::builder()
                .rate_limit(None)
                .max_connections(max_connections)
                .build(),
        )
        .handler("task.request", EchoHandler::new(manifest.id.clone()))
        .build()?;
    let listener = asap_transport_server::serve::bind(SocketAddr::new(PROBER, 0))?;
    println!("{}", listener.local_addr()?);
    let parent_gone = tokio::task::spawn_blocking(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    });
    server
        .serve_with_shutdown(listener, async move {
            let _ = parent_gone.await;
        })
        .await?;
    Ok(())
}

async fn run_flood(connections: usize) -> Result<(), Box<dyn std::error::Error>> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["--serve", &connections.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut line)?;
    let server: SocketAddr = line.trim().parse()?;
    println!("server {server} (max_connections {connections}), flooding from {FLOODER}");

    let started = Instant::now();
    let mut idle = Vec::with_capacity(connections);
    for wave in 0..connections.div_ceil(WAVE) {
        let mut opening = JoinSet::new();
        for _ in wave * WAVE..((wave + 1) * WAVE).min(connections) {
            opening.spawn(h2_health(FLOODER, server));
        }
        while let Some(joined) = opening.join_next().await {
            idle.push(joined??);
        }
    }
    println!(
        "{} idle h2c connections open after {:?}",
        idle.len(),
        started.elapsed()
    );

    let mut unanswered = 0;
    for probe in 1..=3 {
        let (h1_ok, h1) = timed(h1_health(server)).await;
        let (h2_ok, h2) = timed(async { h2_health(PROBER, server).await.map(|_| ()) }).await;
        unanswered += usize::from(!h1_ok) + usize::from(!h2_ok);
        println!("probe {probe} from {PROBER}: HTTP/1.1 {h1}, h2c {h2}");
    }
    let closed = idle
        .iter()
        .filter(|(_, driver)| driver.is_finished())
        .count();
    println!("idle connections closed by the server to make room: {closed}");

    let stopping = Instant::now();
    drop(child.stdin.take()); // the server shuts down
    let status = tokio::task::spawn_blocking(move || child.wait()).await??;
    println!(
        "server shutdown with the idle connections open took {:?} ({status})",
        stopping.elapsed()
    );
    if unanswered > 0 {
        return Err(format!("{unanswered} of 6 probes from {PROBER} were not answered").into());
    }
    Ok(())
}

/// Whether `exchange` got its 200 within [`PROBE_TIMEOUT`], and what happened.
async fn timed(exchange: impl Future<Output = Result<(), String>>) -> (bool, String) {
    let started = Instant::now();
    match tokio::time::timeout(PROBE_TIMEOUT, exchange).await {
        Ok(Ok(())) => (true, format!("200 in {:?}", started.elapsed())),
        Ok(Err(e)) => (false, format!("failed after {:?}: {e}", started.elapsed())),
        Err(_) => (false, format!("no answer within {PROBE_TIMEOUT:?}")),
    }
}

async fn connect(from: IpAddr, server: SocketAddr) -> Result<tokio::net::TcpStream, String> {
    let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket
        .bind(SocketAddr::new(from, 0))
        .map_err(|e| format!("bind {from}: {e}"))?;
    socket.connect(server).await.map_err(|e| e.to_string())
}

/// An h2c connection from `from` that made one `GET /health`, kept open.
async fn h2_health(from: IpAddr, server: SocketAddr) -> Exchange {
    let stream = connect(from, server).await?;
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let request = Request::get(format!("http://{server}/health"))
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    check(response).await?;
    Ok((sender, driver))
}

async fn h1_health(server: SocketAddr) -> Result<(), String> {
    let stream = connect(PROBER, server).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let request = Request::get("/health")
        .header("host", server.to_string())
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    check(response).await
}

async fn check(response: http::Response<hyper::body::Incoming>) -> Result<(), String> {
    let status = response.status();
    response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    if status == StatusCode::OK {
        Ok(())
    } else {
        Err(format!("status {status}"))
    }
}
