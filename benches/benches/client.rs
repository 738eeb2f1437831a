//! Client benchmarks: `asap-transport-client` against this workspace's own server, started
//! in-process on 127.0.0.1 (`asap_testing::TestAgent`) in the same run. Every figure is printed
//! beside its baseline:
//!
//! 1. `send` — `AsapClient::send` round trips of the ≈ 600-byte specification example
//!    (`task_request.json`, timestamp dropped) to the echo agent, against a bare
//!    `hyper_util` legacy client POSTing the same body and collecting the response. p50 / p99
//!    and the difference of the medians.
//! 2. `batch` — `send_batch(100, CollectAll)` against 100 sequential `send`s to an agent whose
//!    `task.request` handler sleeps 5 ms, over HTTP/1.1 and h2c (prior knowledge).
//! 3. `compression` — raw, gzip, brotli and `asap-zstd-v1` sizes of four request shapes at
//!    four sizes (≈ 1.2, 4, 16 and 64 KiB), with `asap_codec::compression::compress` at the
//!    client's levels (gzip 6, brotli 4, zstd 3 with the ASAP dictionary), and the median
//!    time of a compress + decompress round of each. The bodies are what the client sends (`encode_request`, with
//!    id and idempotency key); their text is generated (see `Gen`): Zipf-weighted words
//!    from a vocabulary of about 1 070, per-document topic terms, repeated phrases, and
//!    numbers, amounts, dates, timestamps, ULIDs, hex ids and URLs.
//! 4. `cache` — hit rate of the client's manifest cache (TTL 300 s) over 10 000
//!    `get_manifest_at` calls to 10 running agents, against the same client with TTL 0 (every
//!    call fetches).
//!
//! A custom harness (`harness = false`): `cargo bench` passes `--bench` and gets the full run
//! (well under a minute of measuring); without `--bench`, or with `--test` (as
//! `cargo test --benches` runs it), every section runs once at a tiny scale. Positional
//! arguments select sections by name (`send`, `batch`, `compression`, `cache`). Goals are
//! printed as met or missed, never asserted.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use asap_benches::envelopes::{Gen, SHAPES};
use asap_benches::{Size, envelope_value};
use asap_codec::compression::{
    BROTLI_QUALITY, DEFAULT_MAX_REQUEST_SIZE, Encoding, GZIP_LEVEL, ZSTD_LEVEL,
    asap_zstd_dictionary, compress, decompress_slice,
};
use asap_codec::rpc::{Id, decode_request, encode_request};
use asap_model::Envelope;
use asap_testing::TestAgent;
use asap_testing::handlers::{Gate, scripted_builder};
use asap_transport_client::{AsapClient, BatchMode, CacheConfig};
use asap_transport_server::ServerConfig;
use bytes::Bytes;
use http::{Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use tokio::runtime::Runtime;

/// Where the agents publish their manifest.
const MANIFEST_PATH: &str = "/.well-known/asap/manifest.json";

/// How much work each section does.
#[derive(Debug, Clone, Copy)]
struct Scale {
    /// The full run (`--bench`), not the test-mode one.
    full: bool,
    /// Round trips per variant before measuring (connection set-up, caches).
    send_warmup: usize,
    /// Rounds of the `send` comparison; the variants alternate every round.
    send_rounds: usize,
    /// Round trips per variant and round.
    send_per_round: usize,
    /// Envelopes per batch (and sequential sends compared with it).
    batch_size: usize,
    /// Handler delay of the batch agent.
    batch_sleep_ms: u64,
    /// Timed sequential runs per protocol.
    sequential_runs: usize,
    /// Timed batches per protocol.
    batch_runs: usize,
    /// Manifest calls per cache configuration.
    cache_calls: usize,
    /// Agents (distinct manifest URLs) of the cache workload.
    cache_agents: usize,
}

impl Scale {
    const FULL: Scale = Scale {
        full: true,
        send_warmup: 500,
        send_rounds: 20,
        send_per_round: 1_000,
        batch_size: 100,
        batch_sleep_ms: 5,
        sequential_runs: 5,
        batch_runs: 30,
        cache_calls: 10_000,
        cache_agents: 10,
    };

    const TEST: Scale = Scale {
        full: false,
        send_warmup: 5,
        send_rounds: 2,
        send_per_round: 10,
        batch_size: 10,
        batch_sleep_ms: 5,
        sequential_runs: 1,
        batch_runs: 2,
        cache_calls: 100,
        cache_agents: 3,
    };

    /// Whether a goal is met; at test scale the figures mean nothing.
    fn verdict(&self, met: bool) -> &'static str {
        if !self.full {
            "n/a (test scale)"
        } else if met {
            "met"
        } else {
            "MISSED"
        }
    }

    /// Body sizes of the compression shapes (bytes).
    fn compression_targets(&self) -> &'static [usize] {
        if self.full {
            &[1_200, 4 * 1024, 16 * 1024, 64 * 1024]
        } else {
            &[1_200, 4 * 1024]
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    let filters: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    let selected = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f));
    let scale = if full { Scale::FULL } else { Scale::TEST };
    println!(
        "client benchmarks ({} run): {} CPUs, multi-thread Tokio runtime with one worker per CPU; \
         client loop on the main thread, server and connection tasks on the workers",
        if full { "full" } else { "test-mode" },
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let started = Instant::now();
    if selected("send") {
        send_overhead(&rt, scale);
    }
    if selected("batch") {
        batch_speedup(&rt, scale);
    }
    if selected("compression") {
        compression_sizes(&rt, scale);
    }
    if selected("cache") {
        manifest_cache(&rt, scale);
    }
    println!("\ntotal: {:.1} s", started.elapsed().as_secs_f64());
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting
// ---------------------------------------------------------------------------------------------

/// Latencies in nanoseconds, sorted on construction.
struct Samples(Vec<u64>);

impl Samples {
    fn new(mut values: Vec<u64>) -> Self {
        values.sort_unstable();
        Self(values)
    }

    /// Nearest-rank quantile, `q` in `[0, 1]`.
    fn quantile(&self, q: f64) -> u64 {
        if self.0.is_empty() {
            return 0;
        }
        let rank = ((self.0.len() - 1) as f64 * q).round() as usize;
        self.0[rank]
    }

    fn p50(&self) -> u64 {
        self.quantile(0.5)
    }

    fn p99(&self) -> u64 {
        self.quantile(0.99)
    }

    fn mean(&self) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.iter().map(|&v| v as f64).sum::<f64>() / self.0.len() as f64
    }
}

fn nanos(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
}

fn micros(ns: f64) -> String {
    format!("{:.1} µs", ns / 1e3)
}

fn millis(ns: f64) -> String {
    format!("{:.2} ms", ns / 1e6)
}

// ---------------------------------------------------------------------------------------------
// 1. send overhead over a bare hyper request
// ---------------------------------------------------------------------------------------------

/// The `asap.send` body of the specification example with its timestamp dropped (the server
/// fills in "now"; the example's fixed time is outside the 300 s window).
fn example_body() -> Bytes {
    let mut envelope = envelope_value(Size::Small);
    if let Some(object) = envelope.as_object_mut() {
        object.remove("timestamp");
    }
    let request = json!({
        "jsonrpc": "2.0",
        "method": "asap.send",
        "params": {"envelope": envelope},
        "id": "req-bench-1",
    });
    Bytes::from(serde_json::to_vec(&request).expect("a Value serializes"))
}

/// One POST with the bare hyper client; returns the response length.
async fn bare_round_trip(
    client: &Client<HttpConnector, Full<Bytes>>,
    uri: &Uri,
    body: &Bytes,
) -> usize {
    let request = Request::post(uri.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(body.clone()))
        .expect("a valid request");
    let response = client.request(request).await.expect("bare POST");
    assert!(response.status().is_success(), "{}", response.status());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("response body")
        .to_bytes();
    body.len()
}

fn send_overhead(rt: &Runtime, scale: Scale) {
    println!("\n## 1. send overhead (HTTP/1.1, keep-alive, echo agent)");
    rt.block_on(async {
        let agent = TestAgent::echo().await;
        let uri: Uri = agent.url("/asap").parse().expect("agent URI");
        let body = example_body();

        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let bare = Client::builder(TokioExecutor::new()).build(connector);

        let client = AsapClient::builder(agent.base_url())
            .max_retries(1)
            .build()
            .expect("client");
        // The envelope the client sends: the same example, decoded (the timestamp is set to
        // "now" here; it is refreshed every round so it never leaves the server's window).
        let fresh_envelope = || -> Envelope {
            decode_request(&body)
                .expect("example frames")
                .envelope
                .expect("example envelope")
        };
        let client_body_len = encode_request(
            &Id::from("req-1"),
            &fresh_envelope(),
            Some("01KDWPVNG0DE3B4WZZ6KYE37BB"),
        )
        .len();

        // Check both answer the same way before timing anything.
        let reply = client.send(fresh_envelope()).await.expect("client send");
        assert_eq!(reply.payload_type, "task.response");
        let response_len = bare_round_trip(&bare, &uri, &body).await;

        for _ in 0..scale.send_warmup {
            black_box(bare_round_trip(&bare, &uri, &body).await);
            black_box(client.send(fresh_envelope()).await.expect("send"));
        }

        let mut bare_ns = Vec::with_capacity(scale.send_rounds * scale.send_per_round);
        let mut client_ns = Vec::with_capacity(scale.send_rounds * scale.send_per_round);
        let mut round_deltas = Vec::with_capacity(scale.send_rounds);
        for round in 0..scale.send_rounds {
            let envelope = fresh_envelope();
            let mut bare_round = Vec::with_capacity(scale.send_per_round);
            let mut client_round = Vec::with_capacity(scale.send_per_round);
            // Alternate which variant goes first, so slow phases of the machine hit both.
            for variant in [round % 2, 1 - round % 2] {
                for _ in 0..scale.send_per_round {
                    if variant == 0 {
                        let start = Instant::now();
                        black_box(bare_round_trip(&bare, &uri, &body).await);
                        bare_round.push(nanos(start.elapsed()));
                    } else {
                        let envelope = envelope.clone();
                        let start = Instant::now();
                        let reply = client.send(envelope).await.expect("send");
                        client_round.push(nanos(start.elapsed()));
                        black_box(reply);
                    }
                }
            }
            let bare_p50 = Samples::new(bare_round.clone()).p50() as f64;
            let client_p50 = Samples::new(client_round.clone()).p50() as f64;
            round_deltas.push(client_p50 - bare_p50);
            bare_ns.extend(bare_round);
            client_ns.extend(client_round);
        }
        let bare = Samples::new(bare_ns);
        let sent = Samples::new(client_ns);
        round_deltas.sort_by(f64::total_cmp);
        let delta_p50 = sent.p50() as f64 - bare.p50() as f64;
        let delta_p99 = sent.p99() as f64 - bare.p99() as f64;

        println!(
            "{} round trips per variant ({} rounds of {}, alternating; {} warm-up each); \
             response {} bytes",
            bare.0.len(),
            scale.send_rounds,
            scale.send_per_round,
            scale.send_warmup,
            response_len
        );
        println!("| variant | request bytes | p50 | p99 | mean |");
        println!("|---|--:|--:|--:|--:|");
        println!(
            "| bare hyper POST + collect | {} | {} | {} | {} |",
            body.len(),
            micros(bare.p50() as f64),
            micros(bare.p99() as f64),
            micros(bare.mean())
        );
        println!(
            "| `AsapClient::send` (decode included) | {} | {} | {} | {} |",
            client_body_len,
            micros(sent.p50() as f64),
            micros(sent.p99() as f64),
            micros(sent.mean())
        );
        println!(
            "| difference | | {} | {} | {} |",
            micros(delta_p50),
            micros(delta_p99),
            micros(sent.mean() - bare.mean())
        );
        println!(
            "per-round p50 difference: min {}, median {}, max {}; goal ≤ 50 µs at p50: {}",
            micros(round_deltas[0]),
            micros(round_deltas[round_deltas.len() / 2]),
            micros(round_deltas[round_deltas.len() - 1]),
            scale.verdict(delta_p50 <= 50_000.0)
        );
        drop(client);
        agent.shutdown().await;
    });
}

// ---------------------------------------------------------------------------------------------
// 2. send_batch vs sequential sends
// ---------------------------------------------------------------------------------------------

/// `count` task requests asking the scripted handler to sleep `sleep_ms` first.
fn sleeping_envelopes(count: usize, sleep_ms: u64) -> Vec<Envelope> {
    (0..count)
        .map(|n| asap_benches::sleeping_task_request(n, sleep_ms))
        .collect()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn batch_speedup(rt: &Runtime, scale: Scale) {
    println!(
        "\n## 2. send_batch({n}) vs {n} sequential sends (handler sleeps {ms} ms)",
        n = scale.batch_size,
        ms = scale.batch_sleep_ms
    );
    rt.block_on(async {
        let gate = Gate::new();
        let config = ServerConfig::builder()
            .rate_limit(None)
            .max_connections(4 * scale.batch_size.max(64))
            .build();
        let agent = TestAgent::start(scripted_builder(config, &gate)).await;
        println!(
            "server max_connections {}; client max_connections_per_host = pool_max_idle_per_host \
             = batch_concurrency = {}",
            4 * scale.batch_size.max(64),
            scale.batch_size.max(100)
        );
        println!(
            "| protocol | sequential (median of {}) | per send | batch (median of {}) \
             | batch min–max | first batch (cold pool) | speed-up | goal ≥ 30× |",
            scale.sequential_runs, scale.batch_runs
        );
        println!("|---|--:|--:|--:|--:|--:|--:|---|");
        for (protocol, h2c) in [("HTTP/1.1", false), ("h2c (prior knowledge)", true)] {
            let client = AsapClient::builder(agent.base_url())
                .max_connections_per_host(scale.batch_size.max(100))
                .pool_max_idle_per_host(scale.batch_size.max(100))
                .pool_idle_timeout(Some(Duration::from_secs(60)))
                .http2_prior_knowledge(h2c)
                .max_retries(1)
                .build()
                .expect("client");

            let run_batch = |envelopes: Vec<Envelope>| {
                let client = client.clone();
                async move {
                    let start = Instant::now();
                    let results = client
                        .send_batch(envelopes, BatchMode::CollectAll)
                        .await
                        .expect("non-empty batch");
                    let elapsed = nanos(start.elapsed()) as f64;
                    for result in results {
                        result.expect("batch send");
                    }
                    elapsed
                }
            };

            // The first batch opens the connections (HTTP/1.1: one per concurrent send).
            let cold = run_batch(sleeping_envelopes(scale.batch_size, scale.batch_sleep_ms)).await;
            run_batch(sleeping_envelopes(scale.batch_size, scale.batch_sleep_ms)).await;

            let mut sequential = Vec::with_capacity(scale.sequential_runs);
            for _ in 0..scale.sequential_runs {
                let envelopes = sleeping_envelopes(scale.batch_size, scale.batch_sleep_ms);
                let start = Instant::now();
                for envelope in envelopes {
                    black_box(client.send(envelope).await.expect("sequential send"));
                }
                sequential.push(nanos(start.elapsed()) as f64);
            }
            let mut batches = Vec::with_capacity(scale.batch_runs);
            for _ in 0..scale.batch_runs {
                let envelopes = sleeping_envelopes(scale.batch_size, scale.batch_sleep_ms);
                batches.push(run_batch(envelopes).await);
            }
            let sequential = median(&mut sequential);
            let batch = median(&mut batches);
            let speedup = sequential / batch;
            println!(
                "| {protocol} | {} | {} | {} | {}–{} | {} | {speedup:.1}× | {} |",
                millis(sequential),
                millis(sequential / scale.batch_size as f64),
                millis(batch),
                millis(batches[0]),
                millis(batches[batches.len() - 1]),
                millis(cold),
                scale.verdict(speedup >= 30.0)
            );
        }
        agent.shutdown().await;
    });
}

// ---------------------------------------------------------------------------------------------
// 3. Compression of varied request shapes (generated by `asap_benches::envelopes`)
// ---------------------------------------------------------------------------------------------

/// The codings of the compression table, in its column order.
const CODINGS: [Encoding; 3] = [Encoding::Gzip, Encoding::Brotli, Encoding::AsapZstd];

/// One coding of one body: compressed length and the median time of a compress and
/// decompress round (decompression with the 10 MiB default limit).
async fn measure_coding(encoding: Encoding, body: &[u8], rounds: usize) -> (usize, Duration) {
    let compressed = compress(encoding, body).await.expect("compress");
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let packed = compress(encoding, black_box(body)).await.expect("compress");
        let plain = decompress_slice(encoding, &packed, DEFAULT_MAX_REQUEST_SIZE)
            .await
            .expect("decompress");
        times.push(nanos(start.elapsed()));
        assert_eq!(plain.len(), body.len());
    }
    (
        compressed.len(),
        Duration::from_nanos(Samples::new(times).p50()),
    )
}

/// The goal for `asap-zstd-v1` at a body of `len` bytes: ≥ 70 % smaller from 4 KiB, ≥ 60 %
/// below.
fn zstd_goal(len: usize) -> f64 {
    if len >= 4 * 1024 { 70.0 } else { 60.0 }
}

fn compression_sizes(rt: &Runtime, scale: Scale) {
    let targets = scale.compression_targets();
    let rounds = if scale.full { 200 } else { 2 };
    let vocabulary = Gen::new(0).vocabulary_len();
    println!(
        "\n## 3. Compression (gzip level {GZIP_LEVEL}, brotli quality {BROTLI_QUALITY}, \
         asap-zstd-v1 level {ZSTD_LEVEL} with the {} KiB dictionary; {vocabulary}-word \
         vocabulary; time: median of {rounds} compress + decompress rounds)",
        asap_zstd_dictionary().len() / 1024
    );
    println!(
        "| shape | identity bytes | gzip bytes | br bytes | asap-zstd-v1 bytes \
         | gzip time | br time | asap-zstd-v1 time | goal (asap-zstd-v1) |"
    );
    println!("|---|--:|--:|--:|--:|--:|--:|--:|---|");
    rt.block_on(async {
        let mut seed = 1;
        for (name, build) in SHAPES {
            for &target in targets {
                seed += 1;
                let mut g = Gen::new(seed);
                let body = build(&mut g, target);
                let reduction = |n: usize| 100.0 * (1.0 - n as f64 / body.len() as f64);
                let mut sizes = String::new();
                let mut times = String::new();
                let mut zstd_reduction = 0.0;
                for encoding in CODINGS {
                    let (len, time) = measure_coding(encoding, &body, rounds).await;
                    sizes.push_str(&format!(" {len} (−{:.1} %) |", reduction(len)));
                    times.push_str(&format!(" {} |", micros(time.as_nanos() as f64)));
                    if encoding == Encoding::AsapZstd {
                        zstd_reduction = reduction(len);
                    }
                }
                let goal = zstd_goal(body.len());
                println!(
                    "| {name}, {:.1} KiB | {} |{sizes}{times} ≥ {goal:.0} %: {} |",
                    body.len() as f64 / 1024.0,
                    body.len(),
                    scale.verdict(zstd_reduction >= goal)
                );
            }
        }
    });
    // The generated prose alone (no JSON around it), to compare with real English text.
    rt.block_on(async {
        let mut line = String::from("generated prose alone (br / gzip reduction):");
        for &target in targets {
            let mut g = Gen::new(target as u64);
            let mut text = String::new();
            while text.len() < target {
                text.push_str(&g.paragraph());
                text.push_str("\n\n");
            }
            let mut end = target;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            let text = &text.as_bytes()[..end];
            let br = compress(Encoding::Brotli, text).await.expect("brotli");
            let gzip = compress(Encoding::Gzip, text).await.expect("gzip");
            let reduction = |n: usize| 100.0 * (1.0 - n as f64 / text.len() as f64);
            line.push_str(&format!(
                " {} bytes {:.1} % / {:.1} %;",
                text.len(),
                reduction(br.len()),
                reduction(gzip.len())
            ));
        }
        println!("{}", line.trim_end_matches(';'));
    });
    let mut g = Gen::new(42);
    println!("sample sentence: {}", g.sentence());
}

// ---------------------------------------------------------------------------------------------
// 4. Manifest cache
// ---------------------------------------------------------------------------------------------

fn manifest_cache(rt: &Runtime, scale: Scale) {
    println!(
        "\n## 4. Manifest cache: {} get_manifest_at calls, round-robin over {} running agents",
        scale.cache_calls, scale.cache_agents
    );
    rt.block_on(async {
        let mut agents = Vec::with_capacity(scale.cache_agents);
        for _ in 0..scale.cache_agents {
            agents.push(TestAgent::echo().await);
        }
        let urls: Vec<String> = agents.iter().map(|a| a.url(MANIFEST_PATH)).collect();
        println!(
            "| cache | calls | fetches | hits | misses | hit rate | total | mean per call \
             | p50 per call | p99 per call |"
        );
        println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        let mut rates = Vec::new();
        for (label, ttl) in [
            ("TTL 300 s", Duration::from_secs(300)),
            ("none (TTL 0: every call fetches)", Duration::ZERO),
        ] {
            let client = AsapClient::builder(agents[0].base_url())
                .manifest_cache(CacheConfig::builder().ttl(ttl).build())
                .build()
                .expect("client");
            let mut latencies = Vec::with_capacity(scale.cache_calls);
            let start = Instant::now();
            for i in 0..scale.cache_calls {
                let call = Instant::now();
                let manifest = client
                    .get_manifest_at(&urls[i % urls.len()])
                    .await
                    .expect("manifest");
                latencies.push(nanos(call.elapsed()));
                black_box(Arc::clone(&manifest));
            }
            let total = nanos(start.elapsed()) as f64;
            let stats = client.manifest_cache().stats();
            let latencies = Samples::new(latencies);
            rates.push(stats.hit_rate());
            println!(
                "| {label} | {} | {} | {} | {} | {:.2} % | {} | {} | {} | {} |",
                scale.cache_calls,
                stats.fetches,
                stats.hits,
                stats.misses,
                100.0 * stats.hit_rate(),
                millis(total),
                micros(total / scale.cache_calls as f64),
                micros(latencies.p50() as f64),
                micros(latencies.p99() as f64)
            );
        }
        println!(
            "goal ≥ 99 % hit rate with TTL 300 s: {}",
            scale.verdict(rates[0] >= 0.99)
        );
        for agent in agents {
            agent.shutdown().await;
        }
    });
}
