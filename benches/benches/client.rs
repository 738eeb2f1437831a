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
//! 3. `compression` — raw, brotli and gzip sizes of four request shapes at four sizes
//!    (≈ 1.2, 4, 16 and 64 KiB), with `asap_codec::compression::compress` at the client's
//!    levels (brotli 4, gzip 6). The bodies are what the client sends (`encode_request`, with
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

use asap_benches::{Size, envelope_value};
use asap_codec::compression::{BROTLI_QUALITY, Encoding, GZIP_LEVEL, compress};
use asap_codec::rpc::{Id, decode_request, encode_request};
use asap_model::Envelope;
use asap_model::payload::TaskRequest;
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
use serde_json::{Map, Value, json};
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
        .map(|n| {
            let mut input = Map::new();
            input.insert("sleep_ms".into(), sleep_ms.into());
            input.insert("n".into(), n.into());
            Envelope::new(
                "urn:asap:agent:bench-client".parse().expect("sender URN"),
                "urn:asap:agent:default-server"
                    .parse()
                    .expect("recipient URN"),
                TaskRequest {
                    conversation_id: "conv_bench".into(),
                    parent_task_id: None,
                    skill_id: "echo".into(),
                    input,
                    config: None,
                },
            )
        })
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
// 3. Compression of varied request shapes
// ---------------------------------------------------------------------------------------------

/// The vocabulary of generated prose: about 1 070 distinct English words, common function
/// words first, then general and domain (business, technology, science, politics) words.
/// Position is rank: words are drawn with Zipf–Mandelbrot weights `1 / (rank + 2.7)`.
const VOCABULARY: &str = "
the of and to a in is that for it as was with be by on not he this are or his from at which but
have an they you were her she there one all we their been has would when who will more no if out
so said what up its about into than them can only other new some could time these two may then do
first any my now such like our over man me even most made after also did many before must through
back years where much your way well down should because each just those people how too little
state good very make world still own see men work long get here between both life being under
never day same another know while last might us great old year off come since against go came
right used take three
system data report team service market project process number group company result support level
customer value change point order model information use price rate area issue product plan case
question period cost quality control policy program analysis study research source risk access
user network version release test review update request response task agent client server message
record account payment invoice contract budget revenue growth demand supply share increase decrease
average total estimate forecast trend region country city office staff manager director board
member partner vendor supplier provider platform tool feature option setting limit threshold
window buffer queue cache storage memory disk file folder document page section chapter table
figure chart line column row field entry item list set map key index query search filter sort
match score rank weight factor signal event log trace metric alert incident outage failure error
warning status stage phase step action decision approval draft proposal summary note comment
feedback survey interview meeting call email thread channel topic subject content text image video
audio stream batch job pipeline workflow schedule deadline target goal objective milestone roadmap
strategy approach method technique practice standard guideline rule requirement specification
design architecture component module package library framework interface protocol format schema
type class object instance property attribute parameter argument variable function procedure
routine handler callback hook plugin extension integration connector adapter gateway proxy
endpoint route path address domain host port socket connection session token credential
certificate secret password identity role permission scope audit compliance regulation law court
judge ruling appeal filing claim evidence witness statement hearing trial
reduce improve expand extend allow enable prevent avoid require include exclude provide receive
send deliver return accept reject approve deny confirm verify validate check measure monitor track
store save load read write create delete remove replace modify adjust configure install deploy
run execute start stop pause resume cancel retry fail succeed complete finish begin continue
follow lead manage handle compute calculate compare combine merge split join connect disconnect
open close lock unlock publish subscribe notify describe explain discuss argue suggest recommend
propose consider assume expect predict evaluate assess analyze examine inspect investigate explore
discover identify detect determine define specify establish maintain operate serve offer sell buy
pay charge rent lease borrow lend invest spend earn raise lower cut drop rise fall grow shrink
double triple exceed reach meet miss hit pass move shift transfer migrate convert transform
translate summarize extract collect gather sample select choose prefer decide prepare organize
arrange assign allocate distribute divide multiply add subtract count sum cluster classify label
tag annotate mark flag highlight mention cite quote reference link attach embed
large small high low strong weak fast slow early late recent current previous next final initial
primary secondary main major minor critical important significant relevant useful effective
efficient reliable stable secure safe available ready active inactive closed public private
internal external local remote global regional national international annual monthly weekly daily
hourly quarterly short wide narrow deep full empty clear simple complex common rare typical normal
unusual specific general particular various several multiple single different similar equal
separate independent direct indirect positive negative neutral partial incomplete correct
incorrect valid invalid true false possible likely unlikely certain uncertain expected unexpected
modern traditional digital physical financial economic political social technical legal medical
environmental commercial industrial residential urban rural northern southern eastern western
central coastal
water energy power oil gas electricity carbon emissions climate weather temperature rainfall
drought flood storm wind solar battery grid plant factory warehouse shop restaurant hotel hospital
school university college student teacher professor doctor nurse patient treatment therapy drug
vaccine dose symptom disease infection virus bacteria cell gene protein tissue organ brain heart
blood bone muscle skin body health care insurance coverage benefit pension tax income wage salary
bonus loan debt credit interest mortgage bond stock equity fund portfolio asset liability capital
cash profit loss margin earnings dividend valuation acquisition merger deal bid auction sale
purchase shipment delivery freight cargo container truck train ship plane flight airport road
bridge tunnel railway vehicle car engine fuel speed distance traffic passenger driver pilot crew
computer software hardware chip processor sensor device phone laptop screen keyboard camera
printer robot machine algorithm neural training inference embedding vector matrix tensor gradient
accuracy precision recall benchmark dataset corpus prompt completion context latency throughput
bandwidth capacity scale node replica shard partition leader follower consensus election
heartbeat timeout backoff circuit breaker consumer producer broker offset commit rollback
transaction isolation snapshot backup restore migration constraint trigger view cursor
population household family child parent mother father son daughter brother sister friend
neighbor community village town county province district council government minister president
senator governor mayor vote voter party campaign candidate reform deficit spending agency
department committee bill act amendment treaty agreement sanction tariff trade export import
border security defense army military soldier officer police crime arrest investigation prison
sentence
history culture art music film book novel story author writer editor reader journal article paper
newspaper magazine website blog post headline photo series episode season game player coach league
championship tournament win draw fan stadium ticket
morning afternoon evening night week month quarter decade century today tomorrow yesterday monday
tuesday wednesday thursday friday saturday sunday january february march april june july august
september october november december spring summer autumn winter
however therefore although despite whereas meanwhile moreover furthermore nevertheless instead
otherwise perhaps probably usually often sometimes rarely always nearly almost approximately
roughly mostly largely partly fully already again further later soon recently currently
previously finally initially originally eventually immediately quickly slowly carefully clearly
directly simply especially particularly generally specifically typically
";

/// Syllables of generated rare words (names, products, technical terms).
const SYLLABLES: [&str; 40] = [
    "ka", "lo", "min", "dra", "vel", "tor", "ix", "qua", "ser", "bel", "on", "ar", "ith", "mor",
    "zen", "pel", "cor", "dan", "fi", "gra", "nu", "sta", "rek", "ol", "vi", "pra", "tes", "um",
    "lin", "ha", "bro", "sk", "ey", "mat", "ro", "ca", "den", "wu", "jo", "ness",
];

const FIRST_NAMES: [&str; 32] = [
    "Amara", "Ben", "Chen", "Dana", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kavya",
    "Lars", "Mei", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma", "Victor",
    "Wen", "Ximena", "Yusuf", "Zofia", "Arjun", "Beatriz", "Carlos", "Dmitri", "Esther", "Felix",
];

const LAST_NAMES: [&str; 32] = [
    "Okafor",
    "Schmidt",
    "Nakamura",
    "Silva",
    "Kowalski",
    "Haddad",
    "Johansson",
    "Patel",
    "Moreau",
    "Rossi",
    "Novak",
    "Garcia",
    "Kim",
    "Nguyen",
    "Ivanova",
    "Murphy",
    "Dubois",
    "Yilmaz",
    "Costa",
    "Andersen",
    "Fischer",
    "Lopez",
    "Tanaka",
    "Mensah",
    "Horvat",
    "Berg",
    "Walsh",
    "Reyes",
    "Sato",
    "Weber",
    "Ali",
    "Olsen",
];

const DOMAINS: [&str; 12] = [
    "example.com",
    "mail.example.org",
    "corp.example.net",
    "research.example.edu",
    "news.example.com",
    "data.example.io",
    "shop.example.co.uk",
    "api.example.dev",
    "docs.example.org",
    "blog.example.net",
    "archive.example.com",
    "labs.example.ai",
];

const COUNTRIES: [&str; 24] = [
    "DE", "FR", "US", "GB", "JP", "BR", "IN", "NG", "KE", "CA", "AU", "NL", "SE", "PL", "ES", "IT",
    "MX", "KR", "TR", "ZA", "EG", "AR", "VN", "ID",
];

/// A small xorshift64* generator: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[lo, hi]`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

/// Generates prose and the identifiers, numbers and timestamps of realistic payloads,
/// deterministically from a seed.
///
/// Prose tokens are 87 % vocabulary words drawn with Zipf–Mandelbrot weights
/// `1 / (rank + 2.7)` over [`VOCABULARY`], 6 % the document's 20 topic terms, 2 % new
/// syllable-built words, and 5 % numbers, percentages, amounts, dates, timestamps, ids, URLs
/// and versions; [`PHRASE_REUSE`] of the positions repeat a 2–4 token phrase from earlier in
/// the document. With these settings the prose alone compresses like real English prose
/// (see the README), slightly worse at 16 KiB and above.
struct Gen {
    rng: Rng,
    words: Vec<&'static str>,
    /// Cumulative Zipf–Mandelbrot weights of `words`, normalised to end at 1.
    cumulative: Vec<f64>,
    /// The document's own terms (less common words and names), which it keeps coming back to.
    topics: Vec<String>,
    /// Tokens of prose written so far, for repeated phrases.
    history: Vec<String>,
}

/// Share of prose positions that repeat a 2–4 token phrase written earlier.
const PHRASE_REUSE: f64 = 0.20;

/// 2025-06-01T00:00:00Z: the generated timestamps fall in the 120 days after it.
const BASE_UNIX_SECONDS: i64 = 1_748_736_000;

impl Gen {
    fn new(seed: u64) -> Self {
        let mut words: Vec<&'static str> = Vec::new();
        for word in VOCABULARY.split_whitespace() {
            if !words.contains(&word) {
                words.push(word);
            }
        }
        let mut cumulative = Vec::with_capacity(words.len());
        let mut sum = 0.0;
        for rank in 0..words.len() {
            sum += 1.0 / (rank as f64 + 2.7);
            cumulative.push(sum);
        }
        for c in &mut cumulative {
            *c /= sum;
        }
        let mut g = Self {
            rng: Rng::new(seed),
            words,
            cumulative,
            topics: Vec::new(),
            history: Vec::new(),
        };
        for i in 0..20 {
            let term = if i % 5 < 3 {
                let rank = g.rng.range(150, g.words.len() as u64 - 1) as usize;
                g.words[rank].to_owned()
            } else {
                Self::capitalized(&g.rare_word())
            };
            g.topics.push(term);
        }
        g
    }

    fn common_word(&mut self) -> &'static str {
        let u = self.rng.unit();
        let rank = self.cumulative.partition_point(|&c| c < u);
        self.words[rank.min(self.words.len() - 1)]
    }

    fn rare_word(&mut self) -> String {
        let syllables = self.rng.range(2, 4);
        (0..syllables).map(|_| *self.rng.pick(&SYLLABLES)).collect()
    }

    fn capitalized(word: &str) -> String {
        let mut chars = word.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }

    fn person(&mut self) -> String {
        format!(
            "{} {}",
            self.rng.pick(&FIRST_NAMES),
            self.rng.pick(&LAST_NAMES)
        )
    }

    /// A ULID-shaped id (Crockford base32: 48-bit millisecond time, 80 random bits).
    fn ulid(&mut self) -> String {
        const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let millis = (BASE_UNIX_SECONDS as u64) * 1000 + self.rng.range(0, 120 * 86_400_000);
        let random = (u128::from(self.rng.next_u64()) << 16) ^ u128::from(self.rng.next_u64());
        let value = (u128::from(millis) << 80) | (random & ((1u128 << 80) - 1));
        (0..26)
            .rev()
            .map(|i| ALPHABET[((value >> (5 * i)) & 31) as usize] as char)
            .collect()
    }

    fn hex(&mut self, len: usize) -> String {
        let mut out = String::with_capacity(len);
        while out.len() < len {
            out.push_str(&format!("{:016x}", self.rng.next_u64()));
        }
        out.truncate(len);
        out
    }

    fn base62(&mut self, len: usize) -> String {
        const ALPHABET: &[u8; 62] =
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        (0..len).map(|_| *self.rng.pick(ALPHABET) as char).collect()
    }

    fn timestamp(&mut self) -> String {
        let seconds = BASE_UNIX_SECONDS + self.rng.range(0, 120 * 86_400) as i64;
        let millis = if self.rng.chance(0.7) {
            self.rng.range(0, 999) as i64
        } else {
            0
        };
        asap_model::Timestamp::from_unix_micros(seconds * 1_000_000 + millis * 1_000).to_string()
    }

    fn date(&mut self) -> String {
        self.timestamp()[..10].to_owned()
    }

    fn url(&mut self) -> String {
        let host = self.rng.pick(&DOMAINS).to_owned();
        format!(
            "https://{host}/{}/{}-{}",
            self.common_word(),
            self.rare_word(),
            self.rng.range(1, 99_999)
        )
    }

    fn amount(&mut self) -> f64 {
        (self.rng.range(100, 2_500_000) as f64) / 100.0
    }

    /// One token of prose: about 87 % vocabulary words, 6 % the document's topic terms, 2 %
    /// new rare words, 5 % numbers, amounts, dates, timestamps, ids, URLs and versions.
    fn token(&mut self) -> String {
        let r = self.rng.unit();
        let token = if r < 0.870 {
            self.common_word().to_owned()
        } else if r < 0.930 {
            let i = self.rng.range(0, self.topics.len() as u64 - 1) as usize;
            self.topics[i].clone()
        } else if r < 0.950 {
            self.rare_word()
        } else if r < 0.972 {
            let digits = self.rng.range(1, 5) as u32;
            self.rng.range(1, 10u64.pow(digits)).to_string()
        } else if r < 0.982 {
            let value = self.rng.range(1, 9_999) as f64 / 10.0;
            if self.rng.chance(0.5) {
                format!("{value:.1}%")
            } else {
                format!("{:.2}", value / 7.0)
            }
        } else if r < 0.986 {
            format!("${:.2}", self.amount())
        } else if r < 0.991 {
            if self.rng.chance(0.5) {
                self.timestamp()
            } else {
                self.date()
            }
        } else if r < 0.995 {
            match self.rng.range(0, 3) {
                0 => self.ulid(),
                1 => format!("INC-{}", self.rng.range(10_000, 99_999)),
                2 => self.hex(12),
                _ => format!("ord_{}", self.base62(14)),
            }
        } else if r < 0.998 {
            self.url()
        } else {
            format!(
                "v{}.{}.{}",
                self.rng.range(0, 9),
                self.rng.range(0, 30),
                self.rng.range(0, 99)
            )
        };
        self.history.push(token.clone());
        token
    }

    /// The next `n ≥ 1` tokens of prose: new ones, or (with probability [`PHRASE_REUSE`]) a
    /// phrase of up to `n` tokens repeated from earlier in the document.
    fn next_tokens(&mut self, n: u64) -> Vec<String> {
        if n >= 2 && self.history.len() >= 16 && self.rng.chance(PHRASE_REUSE) {
            let len = self.rng.range(2, n.min(4)) as usize;
            let start = self.rng.range(0, (self.history.len() - len) as u64) as usize;
            return self.history[start..start + len].to_vec();
        }
        vec![self.token()]
    }

    fn words(&mut self, count: u64) -> String {
        let mut out = Vec::with_capacity(count as usize);
        while (out.len() as u64) < count {
            let n = count - out.len() as u64;
            out.extend(self.next_tokens(n));
        }
        out.join(" ")
    }

    fn sentence(&mut self) -> String {
        let count = self.rng.range(6, 28) as usize;
        let mut tokens = Vec::with_capacity(count);
        while tokens.len() < count {
            let n = (count - tokens.len()) as u64;
            tokens.extend(self.next_tokens(n));
        }
        let mut sentence = String::new();
        for (i, token) in tokens.iter().enumerate() {
            if i == 0 {
                sentence.push_str(&Self::capitalized(token));
            } else {
                sentence.push(' ');
                if self.rng.chance(0.02) {
                    sentence.push('"');
                    sentence.push_str(token);
                    sentence.push('"');
                } else {
                    sentence.push_str(token);
                }
            }
            if i + 1 < count && self.rng.chance(0.07) {
                sentence.push(',');
            }
        }
        let end = match self.rng.range(0, 24) {
            0 => '?',
            1 => ':',
            _ => '.',
        };
        sentence.push(end);
        sentence
    }

    fn paragraph(&mut self) -> String {
        let count = self.rng.range(3, 7);
        (0..count)
            .map(|_| self.sentence())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The `asap.send` body the client sends for `envelope` (id `req-<n>`, idempotency key).
fn client_body(g: &mut Gen, envelope: &Value) -> Vec<u8> {
    let envelope: Envelope =
        serde_json::from_value(envelope.clone()).expect("generated envelopes are valid");
    let key = g.ulid();
    let id = Id::Str(format!("req-{}", g.rng.range(1, 5_000)));
    let body = encode_request(&id, &envelope, Some(&key));
    assert!(
        decode_request(&body)
            .map(|call| call.envelope.is_ok())
            .unwrap_or(false),
        "generated requests decode"
    );
    body
}

/// Grows a request by adding `item`s until the client body reaches `target` bytes.
fn grow(
    g: &mut Gen,
    target: usize,
    mut build: impl FnMut(&mut Gen, &[Value]) -> Value,
    mut item: impl FnMut(&mut Gen) -> Value,
) -> Vec<u8> {
    let mut items = vec![item(g)];
    loop {
        let envelope = build(g, &items);
        let body = client_body(g, &envelope);
        if body.len() >= target {
            return body;
        }
        items.push(item(g));
    }
}

/// A `task.request` whose input is a long document to summarise (paragraphs of prose).
fn long_text_request(g: &mut Gen, target: usize) -> Vec<u8> {
    let title = Gen::capitalized(&g.words(8));
    let source = g.url();
    let retrieved = g.timestamp();
    let instructions = g.sentence();
    grow(
        g,
        target,
        |_, paragraphs| {
            let text = paragraphs
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n\n");
            task_request_json_fixed(
                "summarize",
                json!({
                    "document": {
                        "title": title,
                        "source_url": source,
                        "retrieved_at": retrieved,
                        "language": "en",
                        "text": text,
                    },
                    "instructions": instructions,
                    "max_words": 250,
                    "style": "bullet_points",
                }),
            )
        },
        |g| Value::String(g.paragraph()),
    )
}

/// A `task.request` envelope with fixed ids and timestamp around `input` (fixed, so that
/// growing a request does not change what is already in it).
fn task_request_json_fixed(skill_id: &str, input: Value) -> Value {
    json!({
        "id": "01K0Z7Q3M5V8T2N4R6P9X1C3B5",
        "asap_version": "0.1",
        "timestamp": "2025-09-30T12:00:00.250Z",
        "sender": "urn:asap:agent:orchestrator",
        "recipient": "urn:asap:agent:worker-7",
        "payload_type": "task.request",
        "payload": {
            "conversation_id": "conv_01K0Z7Q3M5D8F2G4H6J9K1M3N5",
            "parent_task_id": null,
            "skill_id": skill_id,
            "input": input,
            "config": {"timeout_seconds": 600, "priority": "normal", "streaming": false},
        },
        "correlation_id": null,
        "trace_id": "7d1c0b6e2f9a4c3d8e5f60718293a4b5",
        "extensions": {"nonce": "Zr8Kq2LmX4pT9vB1nW6cYe"},
    })
}

fn order_record(g: &mut Gen) -> Value {
    const STATUSES: [&str; 6] = [
        "pending",
        "paid",
        "shipped",
        "delivered",
        "refunded",
        "cancelled",
    ];
    const CURRENCIES: [&str; 5] = ["EUR", "USD", "GBP", "JPY", "BRL"];
    let first = *g.rng.pick(&FIRST_NAMES);
    let last = *g.rng.pick(&LAST_NAMES);
    let items: Vec<Value> = (0..g.rng.range(1, 4))
        .map(|_| {
            let sku = format!(
                "SKU-{}-{}",
                g.rng.range(10_000, 99_999),
                g.rng.pick(&["A", "B", "C", "X"])
            );
            json!({
                "sku": sku,
                "name": format!("{} {}", Gen::capitalized(g.common_word()), g.common_word()),
                "qty": g.rng.range(1, 12),
                "unit_price": g.amount() / 10.0,
            })
        })
        .collect();
    let tags: Vec<Value> = (0..g.rng.range(0, 3))
        .map(|_| Value::String(g.common_word().to_owned()))
        .collect();
    let note = if g.rng.chance(0.5) {
        Value::String(g.sentence())
    } else {
        Value::Null
    };
    let email = format!(
        "{}.{}{}@{}",
        first.to_lowercase(),
        last.to_lowercase(),
        g.rng.range(1, 99),
        g.rng.pick(&DOMAINS)
    );
    json!({
        "order_id": format!("ord_{}", g.ulid()),
        "customer": {
            "id": format!("cus_{}", g.base62(14)),
            "name": format!("{first} {last}"),
            "email": email,
            "country": g.rng.pick(&COUNTRIES),
        },
        "created_at": g.timestamp(),
        "updated_at": g.timestamp(),
        "status": g.rng.pick(&STATUSES),
        "total": {"amount": g.amount(), "currency": g.rng.pick(&CURRENCIES)},
        "items": items,
        "tags": tags,
        "note": note,
    })
}

/// A `task.request` carrying a list of order records to reconcile.
fn records_request(g: &mut Gen, target: usize) -> Vec<u8> {
    let batch = g.ulid();
    let exported = g.timestamp();
    grow(
        g,
        target,
        |_, records| {
            task_request_json_fixed(
                "reconcile_orders",
                json!({
                    "batch_id": batch,
                    "source": "erp-export",
                    "exported_at": exported,
                    "records": records,
                }),
            )
        },
        order_record,
    )
}

fn search_hit(g: &mut Gen) -> Value {
    const ENTITY_TYPES: [&str; 4] = ["org", "person", "place", "product"];
    const SENTIMENTS: [&str; 3] = ["positive", "neutral", "negative"];
    let entities: Vec<Value> = (0..g.rng.range(1, 4))
        .map(|_| {
            let text = if g.rng.chance(0.4) {
                g.person()
            } else {
                Gen::capitalized(&g.rare_word())
            };
            json!({
                "type": g.rng.pick(&ENTITY_TYPES),
                "text": text,
                "offset": g.rng.range(0, 4_000),
            })
        })
        .collect();
    let embedding: Vec<Value> = (0..8)
        .map(|_| json!(((g.rng.unit() * 2.0 - 1.0) * 1e4).round() / 1e4))
        .collect();
    let title_words = g.rng.range(5, 10);
    json!({
        "id": format!("doc_{}", g.hex(16)),
        "score": (g.rng.unit() * 1e4).round() / 1e4,
        "url": g.url(),
        "title": Gen::capitalized(&g.words(title_words)),
        "snippet": g.sentence(),
        "metadata": {
            "author": g.person(),
            "published_at": g.timestamp(),
            "word_count": g.rng.range(200, 6_000),
            "language": "en",
            "entities": entities,
            "sentiment": {
                "label": g.rng.pick(&SENTIMENTS),
                "confidence": (g.rng.unit() * 1e3).round() / 1e3,
            },
        },
        "embedding_preview": embedding,
    })
}

/// An `mcp.tool_result`: a search tool's nested result (hits with metadata, facets).
fn tool_result_request(g: &mut Gen, target: usize) -> Vec<u8> {
    let request_id = format!("req_{}", g.ulid());
    let query = g.words(6);
    let took = g.rng.range(20, 900);
    let mut by_year = Map::new();
    for year in 2019..=2025 {
        by_year.insert(year.to_string(), g.rng.range(0, 5_000).into());
    }
    let by_source: Vec<Value> = DOMAINS
        .iter()
        .take(6)
        .map(|d| json!({"source": d, "count": g.rng.range(1, 900)}))
        .collect();
    grow(
        g,
        target,
        |_, hits| {
            json!({
                "id": "01K0Z7Q9H2M4P6R8T0V2X4Z6B8",
                "asap_version": "0.1",
                "timestamp": "2025-09-30T12:00:00.250Z",
                "sender": "urn:asap:agent:mcp-gateway",
                "recipient": "urn:asap:agent:coordinator",
                "payload_type": "mcp.tool_result",
                "payload": {
                    "request_id": request_id,
                    "success": true,
                    "result": {
                        "tool": "web_search",
                        "query": query,
                        "took_ms": took,
                        "total_hits": 48_213,
                        "hits": hits,
                        "facets": {"by_year": by_year, "by_source": by_source},
                    },
                    "error": null,
                },
                "correlation_id": "01K0Z7Q3M5V8T2N4R6P9X1C3B5",
                "trace_id": "7d1c0b6e2f9a4c3d8e5f60718293a4b5",
                "extensions": null,
            })
        },
        search_hit,
    )
}

fn schema_property(g: &mut Gen) -> Value {
    match g.rng.range(0, 5) {
        0 => json!({"type": "string", "description": g.sentence()}),
        1 => json!({
            "type": "integer",
            "minimum": 0,
            "maximum": g.rng.range(10, 10_000),
            "description": g.sentence(),
        }),
        2 => json!({"type": "number", "description": g.sentence()}),
        3 => json!({"type": "string", "format": "date-time", "description": g.sentence()}),
        4 => json!({"type": "array", "items": {"type": "string"}, "maxItems": g.rng.range(5, 100)}),
        _ => json!({
            "type": "string",
            "enum": [g.common_word(), g.common_word(), g.common_word()],
            "default": g.common_word(),
        }),
    }
}

fn skill(g: &mut Gen) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for _ in 0..g.rng.range(2, 5) {
        let name = format!("{}_{}", g.common_word(), g.common_word());
        if g.rng.chance(0.5) {
            required.push(Value::String(name.clone()));
        }
        properties.insert(name, schema_property(g));
    }
    let mut outputs = Map::new();
    for _ in 0..g.rng.range(1, 3) {
        outputs.insert(g.common_word().to_owned(), schema_property(g));
    }
    json!({
        "id": format!("{}_{}", g.common_word(), g.common_word()),
        "description": g.sentence(),
        "input_schema": {"type": "object", "properties": properties, "required": required},
        "output_schema": {"type": "object", "properties": outputs},
    })
}

/// A `task.request` registering an agent: its manifest, with many skills and their schemas.
fn manifest_request(g: &mut Gen, target: usize) -> Vec<u8> {
    let name = Gen::capitalized(&g.rare_word());
    let host = format!("{}.example.com", g.rare_word());
    let description = g.sentence();
    let tools: Vec<Value> = (0..4)
        .map(|_| Value::String(format!("{}_{}", g.common_word(), g.common_word())))
        .collect();
    grow(
        g,
        target,
        |_, skills| {
            task_request_json_fixed(
                "register_agent",
                json!({
                    "manifest": {
                        "id": format!("urn:asap:agent:{}", name.to_lowercase()),
                        "name": format!("{name} Agent"),
                        "version": "2.4.1",
                        "description": description,
                        "capabilities": {
                            "asap_version": "0.1",
                            "skills": skills,
                            "state_persistence": true,
                            "streaming": false,
                            "mcp_tools": tools,
                        },
                        "endpoints": {
                            "asap": format!("https://{host}/asap"),
                            "events": format!("wss://{host}/asap/events"),
                        },
                        "auth": {"schemes": ["bearer"], "oauth2": null},
                        "signature": null,
                    },
                }),
            )
        },
        skill,
    )
}

type Shape = (&'static str, fn(&mut Gen, usize) -> Vec<u8>);

fn compression_sizes(rt: &Runtime, scale: Scale) {
    const SHAPES: [Shape; 4] = [
        ("task.request, long text", long_text_request),
        ("task.request, order records", records_request),
        ("mcp.tool_result, nested search hits", tool_result_request),
        ("task.request, manifest with skills", manifest_request),
    ];
    let targets = scale.compression_targets();
    let vocabulary = Gen::new(0).words.len();
    println!(
        "\n## 3. Compression (brotli quality {BROTLI_QUALITY}, gzip level {GZIP_LEVEL}; \
         {vocabulary}-word vocabulary)"
    );
    println!(
        "| shape | raw bytes | br bytes | br reduction | gzip bytes | gzip reduction \
         | goal ≥ 70 % (br) |"
    );
    println!("|---|--:|--:|--:|--:|--:|---|");
    rt.block_on(async {
        let mut seed = 1;
        for (name, build) in SHAPES {
            for &target in targets {
                seed += 1;
                let mut g = Gen::new(seed);
                let body = build(&mut g, target);
                let br = compress(Encoding::Brotli, &body).await.expect("brotli");
                let gzip = compress(Encoding::Gzip, &body).await.expect("gzip");
                let reduction = |n: usize| 100.0 * (1.0 - n as f64 / body.len() as f64);
                println!(
                    "| {name} | {} | {} | {:.1} % | {} | {:.1} % | {} |",
                    body.len(),
                    br.len(),
                    reduction(br.len()),
                    gzip.len(),
                    reduction(gzip.len()),
                    if reduction(br.len()) >= 70.0 {
                        "met"
                    } else {
                        "MISSED"
                    }
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
