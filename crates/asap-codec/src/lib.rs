//! JSON-RPC 2.0 framing, strict envelope (de)serialization and compression for ASAP.
//!
//! - [`rpc`]: decode `asap.send` request bodies into a [`rpc::Call`] (id + envelope) or the
//!   protocol's exact error ([`rpc::ErrorResponse`]: `-32700` parse error, `-32600` invalid
//!   request, `-32601` method not found, `-32602` invalid params); encode success and error
//!   replies; the client side ([`rpc::encode_request`], [`rpc::decode_response`]).
//! - [`compression`]: `Content-Encoding` parsing, `Accept-Encoding` negotiation, gzip,
//!   brotli and (feature `zstd`) zstd with the ASAP dictionary, and decompression that stops at a size limit so an inflated body never exceeds it.
//!
//! The protocol notes describe the behaviour implemented here: the JSON-RPC binding in
//! [wire.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/wire.md#json-rpc-binding), each error in [errors.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/errors.md), and where
//! the framing deliberately differs from the reference (a request without `jsonrpc` is
//! refused, for one) in [deviations.md](https://github.com/asap-rs/asap-rs/blob/main/docs/protocol/deviations.md).
//!
//! # Decoding strategy
//!
//! The hot path deserializes the request with simd-json straight into typed structs (no
//! `Value` tree except the free-form payload object itself). When that fails, the body is
//! re-read with serde_json by an exact decoder that applies the protocol's rules one by one,
//! so error replies are identical whichever path ran. Property tests check that both agree on
//! arbitrary and mutated inputs.
//!
//! # Feature flags
//!
//! - `gzip` (default): gzip request and response bodies.
//! - `br` (default): brotli request and response bodies.
//! - `zstd`: `asap-zstd-v1` request and response bodies — zstd with the ASAP envelope
//!   dictionary shipped in this crate (`dict/asap-envelopes-v1.zdict`, id
//!   `ASAP_ZSTD_DICTIONARY_ID`), for asap-rs peers that both advertise it; other peers never
//!   see it (see `compression::Encoding::AsapZstd`). Builds the zstd C library.
//!
//! With a feature off, that encoding is reported as unsupported (HTTP 415).

#![deny(missing_docs)]

pub mod compression;
pub mod rpc;
