//! Trains the `asap-zstd-v1` dictionary shipped in asap-codec
//! (`crates/asap-codec/dict/asap-envelopes-v1.zdict`).
//!
//! ```sh
//! cargo run -p asap-benches --release --bin train-dictionary            # write the file
//! cargo run -p asap-benches --release --bin train-dictionary -- --check # compare with it
//! ```
//!
//! Samples are `asap.send` bodies, requests and success responses:
//!
//! - every envelope of `crates/asap-testing/fixtures/examples/*.json`, each wrapped
//!   [`FIXTURE_COPIES`] times with fresh ids;
//! - [`GENERATED_PER_SHAPE`] bodies of each of the four shapes of
//!   [`asap_benches::envelopes`], 1–24 KiB, from seeds starting at [`FIRST_SEED`] — never the
//!   seeds of the benchmark bodies (2–17), so the benchmark measures bodies the dictionary
//!   was not trained on. The envelope id, timestamp, trace id, nonce, conversation id and
//!   JSON-RPC id that the generator keeps fixed are replaced with fresh values in every
//!   sample, so the dictionary learns the structure of envelopes, not particular ids.
//!
//! Training is zstd's `ZDICT_trainFromBuffer` (fast cover) on [`DICTIONARY_SIZE`] bytes;
//! afterwards the dictionary id is set to `ASAP_ZSTD_DICTIONARY_ID`. Everything is
//! deterministic: the same zstd version produces the same bytes (`--check`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use asap_benches::envelopes::{Gen, SHAPES};
use asap_codec::rpc::{Id, encode_request, encode_success};
use asap_model::Envelope;
use serde_json::Value;

/// The dictionary id written into the trained dictionary (asap-codec's
/// `ASAP_ZSTD_DICTIONARY_ID`, which needs its `zstd` feature and so the dictionary itself).
const DICTIONARY_ID: u32 = 0xA5A1;

/// Dictionary size in bytes.
const DICTIONARY_SIZE: usize = 64 * 1024;

/// Generated samples per shape.
const GENERATED_PER_SHAPE: u64 = 150;

/// The first generator seed of the training samples.
const FIRST_SEED: u64 = 1_000_000;

/// How many samples each fixture envelope gives (requests and responses, fresh ids).
const FIXTURE_COPIES: usize = 8;

/// A small xorshift generator for the fresh ids (deterministic).
struct Ids(u64);

impl Ids {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn alphabet(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char)
            .collect()
    }

    fn ulid(&mut self) -> String {
        // Timestamps of the same months as the generator: a `01K…` prefix.
        format!(
            "01K{}",
            self.alphabet(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", 23)
        )
    }

    fn hex(&mut self, len: usize) -> String {
        self.alphabet(b"0123456789abcdef", len)
    }

    fn timestamp(&mut self) -> String {
        let seconds = 1_748_736_000 + (self.next() % (120 * 86_400)) as i64;
        let micros = (self.next() % 1000) as i64 * 1000;
        asap_model::Timestamp::from_unix_micros(seconds * 1_000_000 + micros).to_string()
    }
}

/// Replaces the ids and the timestamp the generator keeps fixed with fresh ones.
fn refresh(envelope: &mut Value, ids: &mut Ids) {
    let Some(object) = envelope.as_object_mut() else {
        return;
    };
    object.insert("id".into(), ids.ulid().into());
    object.insert("timestamp".into(), ids.timestamp().into());
    if object.get("trace_id").is_some_and(Value::is_string) {
        object.insert("trace_id".into(), ids.hex(32).into());
    }
    if object.get("correlation_id").is_some_and(Value::is_string) {
        object.insert("correlation_id".into(), ids.ulid().into());
    }
    if let Some(nonce) = object
        .get_mut("extensions")
        .and_then(|e| e.get_mut("nonce"))
    {
        *nonce = ids
            .alphabet(
                b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                22,
            )
            .into();
    }
    if let Some(conversation) = object
        .get_mut("payload")
        .and_then(|p| p.get_mut("conversation_id"))
    {
        *conversation = format!("conv_{}", ids.ulid()).into();
    }
}

/// The request and the success response of `envelope`, with fresh ids.
fn bodies(mut envelope: Value, ids: &mut Ids) -> Option<[Vec<u8>; 2]> {
    refresh(&mut envelope, ids);
    let envelope: Envelope = serde_json::from_value(envelope).ok()?;
    let id = Id::Str(format!("req-{}", ids.next() % 5_000));
    let key = ids.ulid();
    Some([
        encode_request(&id, &envelope, Some(&key)),
        encode_success(&id, &envelope),
    ])
}

fn fixture_envelopes(dir: &Path) -> Vec<Value> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the fixtures directory")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            let value: Value = serde_json::from_str(&text).ok()?;
            serde_json::from_value::<Envelope>(value.clone()).ok()?;
            Some(value)
        })
        .collect()
}

fn samples(root: &Path) -> Vec<Vec<u8>> {
    let mut ids = Ids(0x5EED_A5A1_0000_0001);
    let mut samples = Vec::new();
    let fixtures = fixture_envelopes(&root.join("crates/asap-testing/fixtures/examples"));
    assert!(!fixtures.is_empty(), "no fixture envelopes found");
    for _ in 0..FIXTURE_COPIES {
        for envelope in &fixtures {
            samples.extend(bodies(envelope.clone(), &mut ids).into_iter().flatten());
        }
    }
    for (shape_index, (_, build)) in SHAPES.iter().enumerate() {
        for i in 0..GENERATED_PER_SHAPE {
            let seed = FIRST_SEED + 1_000 * shape_index as u64 + i;
            let mut g = Gen::new(seed);
            let target = 1_024 + (ids.next() % (23 * 1_024)) as usize;
            let body = build(&mut g, target);
            let mut request: Value = serde_json::from_slice(&body).expect("generated JSON");
            let envelope = request["params"]["envelope"].take();
            samples.extend(bodies(envelope, &mut ids).into_iter().flatten());
        }
    }
    samples
}

fn main() -> ExitCode {
    let check = std::env::args().any(|arg| arg == "--check");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root");
    let target = root.join("crates/asap-codec/dict/asap-envelopes-v1.zdict");
    let samples = samples(root);
    let total: usize = samples.iter().map(Vec::len).sum();
    let mut dictionary =
        zstd::dict::from_samples(&samples, DICTIONARY_SIZE).expect("dictionary training");
    dictionary[4..8].copy_from_slice(&DICTIONARY_ID.to_le_bytes());
    println!(
        "{} samples, {total} bytes -> dictionary of {} bytes, id {DICTIONARY_ID:#x}",
        samples.len(),
        dictionary.len()
    );
    if check {
        let committed = std::fs::read(&target).unwrap_or_default();
        if committed == dictionary {
            println!("{} is up to date", target.display());
            ExitCode::SUCCESS
        } else {
            eprintln!("{} differs from the trained dictionary", target.display());
            ExitCode::FAILURE
        }
    } else {
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("the dict directory");
        std::fs::write(&target, &dictionary).expect("writing the dictionary");
        println!("wrote {}", target.display());
        ExitCode::SUCCESS
    }
}
