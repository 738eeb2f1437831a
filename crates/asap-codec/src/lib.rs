//! JSON-RPC 2.0 framing, strict envelope (de)serialization and compression for ASAP.
#![deny(missing_docs)]

pub mod compression;
pub mod rpc;
