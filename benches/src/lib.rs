//! Shared fixtures for the asap-rs benchmarks.
//!
//! Every fixture is deterministic: the same bytes are produced on every run and every machine,
//! so that numbers from different runs measure the same input. Three request sizes are
//! provided (see [`Size`]):
//!
//! | size     | content                                                          | body bytes |
//! |----------|------------------------------------------------------------------|-----------:|
//! | `small`  | the specification's `task_request.json` example                  |        637 |
//! | `medium` | a `task.request` whose `input` holds 7 search-result documents   |      9 663 |
//! | `large`  | the same shape with 775 documents                                |  1 047 169 |
//!
//! Each body is an `asap.send` JSON-RPC request, compact JSON, with [`REQUEST_ID`] as its id:
//! `{"jsonrpc":"2.0","method":"asap.send","params":{"envelope":{…}},"id":"req-bench-1"}`.
//! The medium and large `input`s contain realistic prose (with a few escaped quotes, `\n`
//! and non-ASCII characters), nested arrays and objects, integers, floats, booleans and nulls.
//! Document `i` is the same in every size, so the medium `documents` array is a prefix of the
//! large one.
#![deny(missing_docs)]

pub mod echo;
pub mod envelopes;

use asap_codec::rpc::{Id, decode_request};
use asap_model::Envelope;
use serde_json::{Map, Value, json};

/// With the `mimalloc` feature, every bench and binary of this crate allocates with mimalloc
/// instead of the system allocator, so that one build of each can be compared with the other
/// (README: Allocator). Set here because every target links this library.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The JSON-RPC id of every fixture request.
pub const REQUEST_ID: &str = "req-bench-1";

/// The envelope of the specification example `task_request.json`, compact.
const TASK_REQUEST_EXAMPLE: &str = r#"{"id":"01KDWPVNG0DE3B4WZZ6KYE37BB","asap_version":"0.1","timestamp":"2026-01-01T12:00:00Z","sender":"urn:asap:agent:coordinator","recipient":"urn:asap:agent:research-v1","payload_type":"task.request","payload":{"conversation_id":"conv_01KDWPVNG09R3M11B2QVDRPR6E","parent_task_id":null,"skill_id":"web_research","input":{"query":"AI infrastructure market trends Q3 2025"},"config":{"timeout_seconds":600,"priority":"high","streaming":false}},"correlation_id":null,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","extensions":{"nonce":"q3Jx9w0bVf2kR7tLmN4pZa"}}"#;

/// A request size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Size {
    /// ≈ 600 bytes: the specification example.
    Small,
    /// ≈ 10 KiB.
    Medium,
    /// ≈ 1 MiB.
    Large,
}

impl Size {
    /// Every size, smallest first.
    pub const ALL: [Size; 3] = [Size::Small, Size::Medium, Size::Large];

    /// Lower-case name, used in benchmark ids.
    pub const fn name(self) -> &'static str {
        match self {
            Size::Small => "small",
            Size::Medium => "medium",
            Size::Large => "large",
        }
    }

    /// The body size aimed at: documents are added while the body stays at or below it
    /// (`None` for [`Size::Small`], which is the example as it is).
    pub const fn target_len(self) -> Option<usize> {
        match self {
            Size::Small => None,
            Size::Medium => Some(10 * 1024),
            Size::Large => Some(1024 * 1024),
        }
    }
}

/// The request id of the fixtures as a JSON-RPC [`Id`].
pub fn request_id() -> Id {
    Id::from(REQUEST_ID)
}

/// The envelope of a fixture, as a JSON value (compact key order is insertion order).
pub fn envelope_value(size: Size) -> Value {
    let mut envelope: Value =
        serde_json::from_str(TASK_REQUEST_EXAMPLE).expect("the embedded example is valid JSON");
    if let Some(target) = size.target_len() {
        fill_input(&mut envelope, target);
    }
    envelope
}

/// The `asap.send` request body of a fixture (compact JSON).
pub fn request_body(size: Size) -> Vec<u8> {
    request_body_for(&envelope_value(size))
}

/// The decoded [`Envelope`] of a fixture, as the server holds it after
/// [`decode_request`]; input of the response-encoding benchmarks.
pub fn envelope(size: Size) -> Envelope {
    decode_request(&request_body(size))
        .expect("fixture requests are well-framed")
        .envelope
        .expect("fixture envelopes are valid")
}

/// Wraps an envelope in an `asap.send` request.
fn request_body_for(envelope: &Value) -> Vec<u8> {
    let request = json!({
        "jsonrpc": "2.0",
        "method": "asap.send",
        "params": { "envelope": envelope },
        "id": REQUEST_ID,
    });
    serde_json::to_vec(&request).expect("a Value always serializes")
}

/// Replaces `payload.input` with a search-style input whose documents bring the whole request
/// as close to `target` bytes as possible without exceeding it.
fn fill_input(envelope: &mut Value, target: usize) {
    let mut input = Map::new();
    input.insert(
        "query".into(),
        "AI infrastructure market trends Q3 2025".into(),
    );
    input.insert("language".into(), "en".into());
    input.insert("max_results".into(), 5000.into());
    input.insert(
        "filters".into(),
        json!({
            "published_after": "2025-07-01",
            "published_before": "2025-09-30",
            "regions": ["north-america", "europe", "asia-pacific"],
            "exclude_domains": ["example.invalid", "spam.example"],
            "min_score": 0.25,
            "include_preprints": true,
        }),
    );
    input.insert("documents".into(), Value::Array(Vec::new()));
    envelope["payload"]["input"] = Value::Object(input);

    // Length with an empty `documents` array; each document then adds its own length plus a
    // separating comma (none before the first).
    let mut len = request_body_for(envelope).len();
    let mut documents = Vec::new();
    loop {
        let document = document(documents.len());
        let extra = serde_json::to_vec(&document)
            .expect("a Value always serializes")
            .len()
            + usize::from(!documents.is_empty());
        if len + extra > target {
            break;
        }
        len += extra;
        documents.push(document);
    }
    envelope["payload"]["input"]["documents"] = Value::Array(documents);
}

/// A small xorshift generator: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // Never zero, and different seeds diverge immediately.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "accelerator",
    "adoption",
    "analysts",
    "bandwidth",
    "capacity",
    "capital",
    "cluster",
    "compute",
    "contracts",
    "cooling",
    "costs",
    "customers",
    "datacenter",
    "demand",
    "deployment",
    "efficiency",
    "enterprise",
    "expansion",
    "forecast",
    "growth",
    "hardware",
    "hyperscalers",
    "inference",
    "interconnect",
    "investment",
    "latency",
    "market",
    "memory",
    "models",
    "network",
    "operators",
    "power",
    "pricing",
    "providers",
    "quarter",
    "racks",
    "revenue",
    "scheduling",
    "shipments",
    "silicon",
    "software",
    "spending",
    "storage",
    "supply",
    "throughput",
    "training",
    "utilization",
    "vendors",
    "workloads",
    "the",
    "of",
    "and",
    "in",
    "for",
    "with",
    "across",
    "while",
    "as",
    "new",
    "higher",
    "lower",
    "regional",
    "naïve",
    "café-scale",
];

const AUTHORS: &[&str] = &[
    "A. Martin",
    "B. Okafor",
    "C. Nguyễn",
    "D. Schäfer",
    "E. Kowalski",
    "F. Tanaka",
    "G. Rossi",
    "H. Haddad",
];

const TAGS: &[&str] = &[
    "gpu",
    "datacenter",
    "energy",
    "cloud",
    "semiconductors",
    "networking",
    "policy",
    "earnings",
];

/// A sentence of 8 to 20 words, capitalised, ending with a period.
fn sentence(rng: &mut Rng) -> String {
    let words = 8 + rng.below(13);
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        let word = rng.pick(WORDS);
        if i == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                s.extend(first.to_uppercase());
                s.push_str(chars.as_str());
            }
        } else {
            s.push_str(word);
        }
    }
    match rng.below(8) {
        // Some quoted phrases and currency amounts, to exercise escapes and non-ASCII.
        0 => s.push_str(", described as \"the tightest market since 2021\"."),
        1 => s.push_str(&format!(
            " at €{}.{} billion.",
            rng.below(90) + 10,
            rng.below(10)
        )),
        _ => s.push('.'),
    }
    s
}

/// A paragraph of 2 to 4 sentences.
fn paragraph(rng: &mut Rng) -> String {
    let sentences = 2 + rng.below(3);
    (0..sentences)
        .map(|_| sentence(rng))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Document `index` of the search-style input (≈ 1.35 KB of compact JSON).
fn document(index: usize) -> Value {
    let mut rng = Rng::new(index as u64 + 1);
    let title = sentence(&mut rng);
    let title = title.trim_end_matches('.');
    let authors: Vec<&str> = (0..1 + rng.below(3)).map(|_| rng.pick(AUTHORS)).collect();
    let tags: Vec<&str> = (0..1 + rng.below(4)).map(|_| rng.pick(TAGS)).collect();
    let snippets: Vec<Value> = (0..1 + rng.below(2))
        .map(|_| {
            let text = if rng.below(3) == 0 {
                format!("{}\n{}", paragraph(&mut rng), paragraph(&mut rng))
            } else {
                paragraph(&mut rng)
            };
            json!({ "offset": rng.below(50_000), "text": text })
        })
        .collect();
    let comment = if rng.below(4) == 0 {
        Value::Null
    } else {
        Value::String(sentence(&mut rng))
    };
    json!({
        "id": format!("doc-{index:05}"),
        "title": title,
        "url": format!("https://research.example.org/reports/{index:05}/ai-infrastructure"),
        "published": format!("2025-{:02}-{:02}", 7 + rng.below(3), 1 + rng.below(28)),
        "score": rng.below(10_000) as f64 / 10_000.0,
        "rank": index + 1,
        "verified": rng.below(2) == 0,
        "authors": authors,
        "tags": tags,
        "snippets": snippets,
        "metrics": {
            "citations": rng.below(500),
            "views": rng.below(100_000),
            "sentiment": (rng.below(2_001) as f64 - 1_000.0) / 1_000.0,
        },
        "comment": comment,
    })
}

/// Resolves on SIGTERM or Ctrl-C: how the baseline servers stop.
pub async fn stop() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
}

/// Task request `n` of a batch, asking the scripted test handler
/// (`asap_testing::handlers::scripted_builder`) to sleep `sleep_ms` before it answers: the
/// stated handler delay of the latency-bound client benchmarks.
pub fn sleeping_task_request(n: usize, sleep_ms: u64) -> Envelope {
    let mut input = Map::new();
    input.insert("sleep_ms".into(), sleep_ms.into());
    input.insert("n".into(), n.into());
    Envelope::new(
        "urn:asap:agent:bench-client".parse().expect("sender URN"),
        "urn:asap:agent:default-server"
            .parse()
            .expect("recipient URN"),
        asap_model::payload::TaskRequest {
            conversation_id: "conv_bench".into(),
            parent_task_id: None,
            skill_id: "echo".into(),
            input,
            config: None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use asap_codec::rpc::{decode_request_serde_json, encode_success};

    /// Prints the sizes quoted in the crate documentation and the README
    /// (`cargo test -p asap-benches -- --nocapture`).
    #[test]
    fn fixture_sizes() {
        let sizes: Vec<(Size, usize, usize)> = Size::ALL
            .iter()
            .map(|&size| {
                let body = request_body(size);
                let response = encode_success(&request_id(), &envelope(size));
                println!(
                    "{:<6} request {:>9} bytes, response {:>9} bytes",
                    size.name(),
                    body.len(),
                    response.len()
                );
                (size, body.len(), response.len())
            })
            .collect();
        let documents = |size| {
            envelope_value(size)["payload"]["input"]["documents"]
                .as_array()
                .map_or(0, Vec::len)
        };
        println!(
            "documents: medium {}, large {}",
            documents(Size::Medium),
            documents(Size::Large)
        );
        assert_eq!(
            sizes.iter().map(|s| (s.1, s.2)).collect::<Vec<_>>(),
            [(637, 616), (9_663, 9_642), (1_047_169, 1_047_148)],
        );
        assert_eq!(documents(Size::Medium), 7);
        assert_eq!(documents(Size::Large), 775);
        for (size, len, _) in sizes {
            if let Some(target) = size.target_len() {
                assert!(len <= target && len > target - 2_000, "{len} vs {target}");
            }
        }
    }

    #[test]
    fn fixtures_are_deterministic() {
        for size in Size::ALL {
            assert_eq!(request_body(size), request_body(size));
        }
        let medium = envelope_value(Size::Medium);
        let large = envelope_value(Size::Large);
        let docs = |v: &Value| v["payload"]["input"]["documents"].as_array().cloned();
        let (medium, large) = (docs(&medium).unwrap(), docs(&large).unwrap());
        assert_eq!(medium[..], large[..medium.len()]);
    }

    /// Both decoders accept every fixture on their fast path (a fall back to the exact decoder
    /// would make the benchmark measure the error path).
    #[test]
    fn fixtures_decode_on_the_fast_path() {
        for size in Size::ALL {
            let body = request_body(size);
            let simd = decode_request(&body).expect("simd-json decode");
            let serde = decode_request_serde_json(&body).expect("serde_json decode");
            assert_eq!(simd.id, request_id());
            assert_eq!(simd.envelope.as_ref().ok(), serde.envelope.as_ref().ok());
            assert_eq!(
                serde_json::to_value(simd.envelope.unwrap()).unwrap(),
                envelope_value(size),
            );

            // The typed envelope alone parses with both libraries, so `FastRequest` does too.
            let envelope = serde_json::to_vec(&envelope_value(size)).unwrap();
            serde_json::from_slice::<Envelope>(&envelope).expect("serde_json envelope");
            simd_json::serde::from_slice::<Envelope>(&mut envelope.clone())
                .expect("simd-json envelope");
        }
    }
}
