//! The client's per-send overhead over a bare `hyper_util` request, and the client at the
//! roadmap's scale: 1 000 concurrent sends from one `AsapClient`. The agent is this
//! workspace's server, in-process on 127.0.0.1 (`asap_testing::TestAgent`); every figure is
//! printed beside a bare `hyper_util` legacy client on the same agent, in the same run.
//!
//! 1. `instructions` — instructions per send (client and server together, every thread),
//!    counted by callgrind: the binary runs itself under `valgrind --tool=callgrind` with
//!    `N₁` and `N₂` sends per variant on a current-thread runtime, and
//!    `(I(N₂) − I(N₁)) / (N₂ − N₁)` cancels start-up and warm-up. Repeatable under load,
//!    unlike wall-clock time. Skipped when `valgrind` is not on `PATH`.
//! 2. `overhead` — wall-clock p50 of `AsapClient::send` and of the bare POST, alternating in
//!    rounds; the spread is the min–max of the per-round medians of the difference.
//! 3. `scale` — 1 000 sends in flight at once against an agent whose `task.request` handler
//!    sleeps 5 ms: `send_batch(1000)` over a pool of 1 000 (HTTP/1.1: 1 000 connections;
//!    h2c: one connection, with the server's default of 100 streams and with 1 000), against
//!    1 000 concurrent bare requests. The latency-bound limit is 5 ms plus the bare round trip
//!    of one request on an idle connection; the goal is a batch within 90 % of it
//!    (batch ≤ limit / 0.9).
//!
//! A custom harness (`harness = false`): `cargo bench --bench client_pool` runs everything
//! (about half a minute plus the callgrind runs); without `--bench` (as
//! `cargo test --benches` runs it) every section runs once at a tiny scale. Positional
//! arguments select sections by name. Goals are printed as met or missed, never asserted.

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use asap_benches::{Size, envelope_value};
use asap_codec::rpc::{Id, decode_request, encode_request};
use asap_model::Envelope;
use asap_testing::TestAgent;
use asap_testing::handlers::{Gate, scripted_builder};
use asap_transport_client::{AsapClient, BatchMode};
use asap_transport_server::ServerConfig;
use bytes::Bytes;
use http::{Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use tokio::runtime::Runtime;

/// The argument that makes the binary a callgrind child: `--callgrind-child <variant> <n>`.
const CHILD_FLAG: &str = "--callgrind-child";

/// Sends per variant of the two callgrind runs (`N₁`, `N₂`).
const CALLGRIND_SENDS: (usize, usize) = (200, 1_200);

/// Concurrent sends of the scale section, and the pool that carries them.
const CONCURRENCY: usize = 1_000;

/// Handler delay of the scale section.
const HANDLER_SLEEP: Duration = Duration::from_millis(5);

/// How much work the timed sections do.
#[derive(Debug, Clone, Copy)]
struct Scale {
    full: bool,
    overhead_rounds: usize,
    overhead_per_round: usize,
    concurrency: usize,
    scale_rounds: usize,
}

impl Scale {
    const FULL: Scale = Scale {
        full: true,
        overhead_rounds: 15,
        overhead_per_round: 500,
        concurrency: CONCURRENCY,
        scale_rounds: 9,
    };

    const TEST: Scale = Scale {
        full: false,
        overhead_rounds: 2,
        overhead_per_round: 10,
        concurrency: 20,
        scale_rounds: 1,
    };

    fn verdict(&self, met: bool) -> &'static str {
        match (self.full, met) {
            (false, _) => "n/a (test scale)",
            (true, true) => "met",
            (true, false) => "MISSED",
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == CHILD_FLAG) {
        let variant = args.get(at + 1).map(String::as_str).unwrap_or_default();
        let sends = args.get(at + 2).and_then(|n| n.parse().ok()).unwrap_or(0);
        callgrind_child(variant, sends);
        return;
    }
    let full = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    let filters: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    let selected = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f));
    let scale = if full { Scale::FULL } else { Scale::TEST };
    println!(
        "client pool benchmarks ({} run): {} CPUs; multi-thread Tokio runtime, one worker per \
         CPU, shared by client and server",
        if full { "full" } else { "test-mode" },
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let started = Instant::now();
    if selected("instructions") {
        instructions(full);
    }
    if selected("overhead") {
        overhead(&rt, scale);
    }
    if selected("scale") {
        at_scale(&rt, scale);
    }
    println!("\ntotal: {:.1} s", started.elapsed().as_secs_f64());
}

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

fn nanos(elapsed: Duration) -> f64 {
    elapsed.as_nanos() as f64
}

fn micros(ns: f64) -> String {
    format!("{:.1} µs", ns / 1e3)
}

fn millis(ns: f64) -> String {
    format!("{:.2} ms", ns / 1e6)
}

/// The median, sorting `values`.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The specification example (`task_request.json`, ≈ 600 bytes) as an envelope, its
/// timestamp "now" so that it is inside the server's window.
fn example_envelope() -> Envelope {
    let mut envelope = envelope_value(Size::Small);
    if let Some(object) = envelope.as_object_mut() {
        object.remove("timestamp");
    }
    let body =
        json!({"jsonrpc": "2.0", "method": "asap.send", "params": {"envelope": envelope}, "id": 1});
    decode_request(&serde_json::to_vec(&body).expect("a Value serializes"))
        .expect("the example frames")
        .envelope
        .expect("the example envelope")
}

/// A task request whose scripted handler sleeps `sleep` first.
fn sleeping_envelope(n: usize, sleep: Duration) -> Envelope {
    asap_benches::sleeping_task_request(n, sleep.as_millis() as u64)
}

/// The `asap.send` body the bare client POSTs: the one `AsapClient` would send.
fn request_body(envelope: &Envelope) -> Bytes {
    Bytes::from(encode_request(
        &Id::from("req-bare"),
        envelope,
        Some("01KDWPVNG0DE3B4WZZ6KYE37BB"),
    ))
}

type Bare = Client<HttpConnector, Full<Bytes>>;

fn bare_client(pool: usize, h2c: bool) -> Bare {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(pool)
        .pool_idle_timeout(Duration::from_secs(60))
        .http2_only(h2c)
        .build(connector)
}

/// One POST with the bare client, body collected.
async fn bare_round_trip(client: &Bare, uri: &Uri, body: &Bytes) -> usize {
    let request = Request::post(uri.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(body.clone()))
        .expect("a valid request");
    let response = client.request(request).await.expect("bare POST");
    assert!(response.status().is_success(), "{}", response.status());
    let body = response.into_body().collect().await.expect("body");
    body.to_bytes().len()
}

fn asap_client(agent: &TestAgent, pool: usize, h2c: bool) -> AsapClient {
    AsapClient::builder(agent.base_url())
        .max_connections_per_host(pool)
        .pool_max_idle_per_host(pool)
        .pool_idle_timeout(Some(Duration::from_secs(60)))
        .http2_prior_knowledge(h2c)
        .max_retries(1)
        .build()
        .expect("client")
}

// ---------------------------------------------------------------------------------------------
// 1. Instructions per send (callgrind)
// ---------------------------------------------------------------------------------------------

/// Runs `sends` round trips of `variant` (`bare` or `client`) after a warm-up, on a
/// current-thread runtime (client and server on one thread: the count does not depend on
/// how work lands on workers).
fn callgrind_child(variant: &str, sends: usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    rt.block_on(async {
        let agent = TestAgent::echo().await;
        let uri: Uri = agent.url("/asap").parse().expect("agent URI");
        let envelope = example_envelope();
        let body = request_body(&envelope);
        let bare = bare_client(1, false);
        let client = asap_client(&agent, 1, false);
        for n in 0..50 + sends {
            let _ = n;
            match variant {
                "bare" => {
                    black_box(bare_round_trip(&bare, &uri, &body).await);
                }
                _ => {
                    black_box(client.send(envelope.clone()).await.expect("send"));
                }
            }
        }
        agent.shutdown().await;
    });
}

/// Instructions of one callgrind run of the child, from callgrind's `Collected :` line.
fn callgrind_run(variant: &str, sends: usize) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let output = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(exe)
        .args([CHILD_FLAG, variant, &sends.to_string()])
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "callgrind run failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .find_map(|line| {
            let (_, count) = line.split_once("Collected :")?;
            count.trim().parse().ok()
        })
}

fn instructions(full: bool) {
    println!("\n## 1. instructions per send (callgrind, client + server, HTTP/1.1 keep-alive)");
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("skipped: valgrind is not on PATH");
        return;
    }
    let (low, high) = if full { CALLGRIND_SENDS } else { (5, 25) };
    let mut per_send = Vec::new();
    for variant in ["bare", "client"] {
        let (Some(a), Some(b)) = (callgrind_run(variant, low), callgrind_run(variant, high)) else {
            println!("skipped: a callgrind run failed");
            return;
        };
        per_send.push(b.saturating_sub(a) as f64 / (high - low) as f64);
    }
    println!("(I({high}) − I({low})) / {} sends per variant", high - low);
    println!("| variant | instructions per send |");
    println!("|---|--:|");
    println!("| bare hyper-util POST + collect | {:.0} |", per_send[0]);
    println!("| `AsapClient::send` | {:.0} |", per_send[1]);
    println!(
        "| difference | {:.0} ({:+.0} %) |",
        per_send[1] - per_send[0],
        100.0 * (per_send[1] / per_send[0] - 1.0)
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Wall-clock overhead, with its spread across rounds
// ---------------------------------------------------------------------------------------------

fn overhead(rt: &Runtime, scale: Scale) {
    println!("\n## 2. send overhead, wall clock (HTTP/1.1 keep-alive, echo agent)");
    rt.block_on(async {
        let agent = TestAgent::echo().await;
        let uri: Uri = agent.url("/asap").parse().expect("agent URI");
        let envelope = example_envelope();
        let body = request_body(&envelope);
        let bare = bare_client(1, false);
        let client = asap_client(&agent, 1, false);
        for _ in 0..scale.overhead_per_round {
            black_box(bare_round_trip(&bare, &uri, &body).await);
            black_box(client.send(envelope.clone()).await.expect("send"));
        }
        let mut bare_p50 = Vec::new();
        let mut client_p50 = Vec::new();
        let mut deltas = Vec::new();
        for round in 0..scale.overhead_rounds {
            let mut bare_round = Vec::with_capacity(scale.overhead_per_round);
            let mut client_round = Vec::with_capacity(scale.overhead_per_round);
            // Alternate which variant goes first, so slow phases of the machine hit both.
            for variant in [round % 2, 1 - round % 2] {
                for _ in 0..scale.overhead_per_round {
                    let start = Instant::now();
                    if variant == 0 {
                        black_box(bare_round_trip(&bare, &uri, &body).await);
                        bare_round.push(nanos(start.elapsed()));
                    } else {
                        black_box(client.send(envelope.clone()).await.expect("send"));
                        client_round.push(nanos(start.elapsed()));
                    }
                }
            }
            let (b, c) = (median(&mut bare_round), median(&mut client_round));
            bare_p50.push(b);
            client_p50.push(c);
            deltas.push(c - b);
        }
        let spread = |values: &mut Vec<f64>| {
            let mid = median(values);
            format!(
                "{} ({}–{})",
                micros(mid),
                micros(values[0]),
                micros(values[values.len() - 1])
            )
        };
        println!(
            "{} rounds of {} round trips per variant, alternating; median of the round p50s \
             (min–max across rounds)",
            scale.overhead_rounds, scale.overhead_per_round
        );
        println!("| variant | p50 |");
        println!("|---|--:|");
        println!(
            "| bare hyper-util POST + collect | {} |",
            spread(&mut bare_p50)
        );
        println!("| `AsapClient::send` | {} |", spread(&mut client_p50));
        let delta = median(&mut deltas);
        println!("| difference | {} |", spread(&mut deltas));
        println!(
            "goal ≤ 10 µs at p50: {} (every round: {})",
            scale.verdict(delta <= 10_000.0),
            scale.verdict(deltas[deltas.len() - 1] <= 10_000.0)
        );
        agent.shutdown().await;
    });
}

// ---------------------------------------------------------------------------------------------
// 3. 1 000 concurrent sends
// ---------------------------------------------------------------------------------------------

/// Per-variant figures of the scale section, in nanoseconds.
struct Rounds {
    /// Wall time of each round (all sends done).
    wall: Vec<f64>,
    /// Median latency of one send, per round.
    latency_p50: Vec<f64>,
}

impl Rounds {
    fn new() -> Self {
        Self {
            wall: Vec::new(),
            latency_p50: Vec::new(),
        }
    }
}

/// `count` bare POSTs at once, each on its own task; (wall, per-request latencies).
async fn bare_burst(client: &Bare, uri: &Uri, bodies: &[Bytes]) -> (f64, Vec<f64>) {
    let start = Instant::now();
    let tasks: Vec<_> = bodies
        .iter()
        .map(|body| {
            let (client, uri, body) = (client.clone(), uri.clone(), body.clone());
            tokio::spawn(async move {
                let sent = Instant::now();
                bare_round_trip(&client, &uri, &body).await;
                nanos(sent.elapsed())
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(tasks.len());
    for task in tasks {
        latencies.push(task.await.expect("bare task"));
    }
    (nanos(start.elapsed()), latencies)
}

/// `send_batch` of `envelopes`; the wall time.
async fn client_batch(client: &AsapClient, envelopes: Vec<Envelope>) -> f64 {
    let start = Instant::now();
    let results = client
        .send_batch(envelopes, BatchMode::CollectAll)
        .await
        .expect("non-empty batch");
    let wall = nanos(start.elapsed());
    for result in results {
        result.expect("batch send");
    }
    wall
}

/// The same sends as spawned `send` tasks; the per-send latencies.
async fn client_burst(client: &AsapClient, envelopes: Vec<Envelope>) -> Vec<f64> {
    let tasks: Vec<_> = envelopes
        .into_iter()
        .map(|envelope| {
            let client = client.clone();
            tokio::spawn(async move {
                let sent = Instant::now();
                client.send(envelope).await.expect("send");
                nanos(sent.elapsed())
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(tasks.len());
    for task in tasks {
        latencies.push(task.await.expect("send task"));
    }
    latencies
}

fn at_scale(rt: &Runtime, scale: Scale) {
    let n = scale.concurrency;
    println!(
        "\n## 3. {n} concurrent sends, handler sleeps {} ms",
        HANDLER_SLEEP.as_millis()
    );
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => println!(
            "open-file limit {limit} (client and server sockets: ≈ {})",
            2 * n
        ),
        Err(error) => println!("open-file limit unchanged: {error}"),
    }
    // (protocol, h2c, server streams per connection, client pool). The client's default
    // pool (100 per host) is the second row: the batch then runs in waves of 100.
    let default_pool = asap_transport_client::ClientConfig::default().max_connections_per_host;
    let variants: [(&str, bool, u32, usize); 4] = [
        ("HTTP/1.1, pool = sends in flight", false, 100, n),
        ("HTTP/1.1, default pool", false, 100, default_pool.min(n)),
        ("h2c, server default 100 streams", true, 100, n),
        ("h2c, server streams = sends in flight", true, n as u32, n),
    ];
    println!(
        "| protocol | limit (5 ms + bare RTT) | bare, {n} at once | `send_batch({n})` | \
         batch ÷ limit | goal: batch ≤ limit / 0.9 | send p50, spawned | bare p50 | \
         per-send overhead (batch − bare) / {n} |"
    );
    println!("|---|--:|--:|--:|--:|---|--:|--:|--:|");
    for (protocol, h2c, streams, pool) in variants {
        rt.block_on(async {
            let gate = Gate::new();
            let config = ServerConfig::builder()
                .rate_limit(None)
                .max_connections(4 * n + 64)
                .http2_max_concurrent_streams(streams)
                .build();
            let agent = TestAgent::start(scripted_builder(config, &gate)).await;
            let uri: Uri = agent.url("/asap").parse().expect("agent URI");
            let bare = bare_client(n, h2c);
            let client = asap_client(&agent, pool, h2c);
            let sleeping = |sleep| {
                (0..n)
                    .map(|i| sleeping_envelope(i, sleep))
                    .collect::<Vec<_>>()
            };
            let bodies: Vec<Bytes> = sleeping(HANDLER_SLEEP).iter().map(request_body).collect();

            // The bare round trip of one request with no handler delay, on a warm connection.
            let quick = request_body(&sleeping_envelope(0, Duration::ZERO));
            let mut rtt: Vec<f64> = Vec::new();
            for _ in 0..200 {
                let start = Instant::now();
                bare_round_trip(&bare, &uri, &quick).await;
                rtt.push(nanos(start.elapsed()));
            }
            let limit = nanos(HANDLER_SLEEP) + median(&mut rtt);

            // Warm-up: open the pools (HTTP/1.1: one connection per concurrent send).
            bare_burst(&bare, &uri, &bodies).await;
            client_batch(&client, sleeping(HANDLER_SLEEP)).await;

            let (mut bare_rounds, mut batch_rounds) = (Rounds::new(), Rounds::new());
            for _ in 0..scale.scale_rounds {
                let (wall, mut latencies) = bare_burst(&bare, &uri, &bodies).await;
                bare_rounds.wall.push(wall);
                bare_rounds.latency_p50.push(median(&mut latencies));
                batch_rounds
                    .wall
                    .push(client_batch(&client, sleeping(HANDLER_SLEEP)).await);
                let mut latencies = client_burst(&client, sleeping(HANDLER_SLEEP)).await;
                batch_rounds.latency_p50.push(median(&mut latencies));
            }
            let bare_wall = median(&mut bare_rounds.wall);
            let batch = median(&mut batch_rounds.wall);
            let range = |values: &[f64]| {
                format!("{}–{}", millis(values[0]), millis(values[values.len() - 1]))
            };
            println!(
                "| {protocol} ({pool}) | {} | {} ({}) | {} ({}) | {:.2} | {} | {} | {} | {} |",
                millis(limit),
                millis(bare_wall),
                range(&bare_rounds.wall),
                millis(batch),
                range(&batch_rounds.wall),
                batch / limit,
                scale.verdict(batch <= limit / 0.9),
                millis(median(&mut batch_rounds.latency_p50)),
                millis(median(&mut bare_rounds.latency_p50)),
                micros((batch - bare_wall) / n as f64),
            );
            drop(client);
            agent.shutdown().await;
        });
    }
    println!(
        "medians of {} rounds (min–max); each round: {n} bare requests at once, \
         `send_batch({n})`, then {n} spawned `send`s",
        scale.scale_rounds
    );
}
