//! The ASAP agent server: hyper 1, every protocol concern a tower layer.
#![deny(missing_docs)]

pub mod context;
pub mod endpoint;
pub mod layers;
pub mod registry;
pub mod rejection;
pub mod response;
pub mod sanitize;
pub mod trace;

pub use context::{AsapRequest, Identity, PeerAddr, RequestContext};
pub use endpoint::RpcEndpoint;
pub use registry::{Dispatch, Handler, HandlerError, HandlerRegistry, handler_fn};
pub use rejection::Rejection;

/// `tracing` target of this crate's events.
pub const LOG_TARGET: &str = "asap::server";
