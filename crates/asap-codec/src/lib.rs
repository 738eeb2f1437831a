//! JSON-RPC 2.0 framing, strict envelope (de)serialization and compression for ASAP.
//!
//! - [`rpc`]: decode `asap.send` request bodies into a [`rpc::Call`] (id + envelope) or the
//!   protocol's exact error ([`rpc::ErrorResponse`]: `-32700` parse error, `-32600` invalid
//!   request, `-32601` method not found, `-32602` invalid params); encode success and error
//!   replies; the client side ([`rpc::encode_request`], [`rpc::decode_response`]).
//! - [`compression`]: `Content-Encoding` parsing, `Accept-Encoding` negotiation, gzip and
//!   brotli, and decompression that stops at a size limit so an inflated body never exceeds it.
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
//!
//! With a feature off, that encoding is reported as unsupported (HTTP 415).

#![deny(missing_docs)]

pub mod compression;
pub mod rpc;
