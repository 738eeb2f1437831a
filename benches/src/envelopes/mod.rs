//! Generated `asap.send` request bodies of four realistic shapes, for the compression
//! benchmark (`benches/client.rs`) and the training of the `asap-zstd-v1` dictionary
//! (`src/bin/train-dictionary.rs`).
//!
//! Each shape function grows one body item by item until it reaches `target` bytes and is
//! deterministic for a given [`Gen`] seed:
//!
//! - [`long_text_request`]: a `task.request` with a document to summarise;
//! - [`records_request`]: a `task.request` with order records;
//! - [`tool_result_request`]: an `mcp.tool_result` with nested search hits;
//! - [`manifest_request`]: a `task.request` registering a manifest with many skills.
//!
//! The bodies are what the client sends (`encode_request`, with an id and an idempotency
//! key). The envelope ids, timestamp, trace id and nonce around the `task.request` shapes are
//! fixed, so that growing a body does not change what is already in it.

mod shapes;
mod text;

pub use shapes::{long_text_request, manifest_request, records_request, tool_result_request};
pub use text::Gen;

/// A named shape: its label and its builder (`Gen`, target size in bytes).
pub type Shape = (&'static str, fn(&mut Gen, usize) -> Vec<u8>);

/// The four shapes, in the order of the benchmark tables.
pub const SHAPES: [Shape; 4] = [
    ("task.request, long text", long_text_request),
    ("task.request, order records", records_request),
    ("mcp.tool_result, nested search hits", tool_result_request),
    ("task.request, manifest with skills", manifest_request),
];
