//! The server's tower layers, one per concern, in the protocol's processing order.
//!
//! HTTP level (`Service<http::Request<B>>`):
//! 1. [`body_limit`]: declared and streamed size (413)
//! 2. [`ratelimit`]: per-IP rate limit (429)
//! 3. [`decompression`]: `Content-Encoding`, inflated size (415, 400, 413)
//!
//! RPC level (`Service<RpcCall>`, after the endpoint decoded the framing):
//! 4. [`auth`]: bearer token → identity, or the 401 refusal
//!
//! Envelope level (`Service<AsapRequest>`):
//! 5. [`auth::SenderMatchLayer`]: sender = authenticated identity
//! 6. [`timestamp`]: timestamp window
//! 7. [`nonce`]: replay protection
//! 8. [`ratelimit`]: per-sender rate limit (when keyed by sender)
//! 9. envelope hooks, then [`idempotency`] (when a store is configured)
//!
//! then [`Dispatch`](crate::registry::Dispatch).
//!
//! Around everything, [`compression`] compresses large responses when the client accepts it,
//! and [`access_log`] runs each request in a span and logs one line per response.

pub mod access_log;
pub mod auth;
pub mod body_limit;
pub mod compression;
pub mod decompression;
pub mod future;
pub mod idempotency;
pub mod nonce;
pub mod ratelimit;
pub(crate) mod response_body;
pub mod timestamp;

pub use response_body::ResponseBody;
