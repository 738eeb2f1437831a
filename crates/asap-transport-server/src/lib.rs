//! The ASAP agent server: hyper 1, every protocol concern a tower layer.
#![deny(missing_docs)]

pub mod config;
pub mod context;
pub mod echo;
pub mod endpoint;
pub mod layers;
pub mod registry;
pub mod rejection;
pub mod response;
pub mod router;
pub mod routes;
pub mod sanitize;
pub mod serve;
pub mod server;
pub mod trace;

pub use config::{ServerConfig, ServerConfigBuilder};
pub use context::{AsapRequest, Identity, PeerAddr, RequestContext};
pub use endpoint::RpcEndpoint;
pub use registry::{Dispatch, Handler, HandlerError, HandlerRegistry, handler_fn};
pub use rejection::Rejection;
pub use router::AsapService;
pub use server::{AsapServer, AsapServerBuilder, BuildError};

/// `tracing` target of this crate's events.
pub const LOG_TARGET: &str = "asap::server";
