//! What a handler knows about the request besides the envelope.

use std::net::SocketAddr;
use std::time::Instant;

use asap_model::AgentUrn;

use crate::trace::TraceContext;

/// The peer address of a connection, inserted into request extensions by the server.
///
/// When the service is mounted in another server, insert it yourself (for example from
/// axum's `ConnectInfo`) to enable per-IP rate limiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub SocketAddr);

/// Request context handed to layers and handlers with the envelope.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestContext {
    /// HTTP request headers.
    pub headers: http::HeaderMap,
    /// Peer socket address, when known.
    pub peer_addr: Option<SocketAddr>,
    /// Authenticated agent, when the server requires authentication.
    pub identity: Option<AgentUrn>,
    /// Trace context of this request.
    pub trace: TraceContext,
    /// When the request entered the server.
    pub received_at: Instant,
    /// `params.idempotency_key` of the call, when it was a string (the `X-Idempotency-Key`
    /// header stays in [`headers`](Self::headers)); read by
    /// [`layers::idempotency`](crate::layers::idempotency).
    pub idempotency_key: Option<String>,
}

impl RequestContext {
    /// A context with the given headers and nothing else known (a fresh trace).
    pub fn new(headers: http::HeaderMap) -> Self {
        Self::with_trace(headers, TraceContext::default())
    }

    /// A context with the given headers and trace.
    pub fn with_trace(headers: http::HeaderMap, trace: TraceContext) -> Self {
        Self {
            headers,
            peer_addr: None,
            identity: None,
            trace,
            received_at: Instant::now(),
            idempotency_key: None,
        }
    }
}

impl Default for RequestContext {
    fn default() -> Self {
        Self::new(http::HeaderMap::new())
    }
}

/// An envelope with its context: the request type of envelope-level services.
#[derive(Debug, Clone)]
pub struct AsapRequest {
    /// The validated request envelope.
    pub envelope: asap_model::Envelope,
    /// Request context.
    pub ctx: RequestContext,
}

impl AsapRequest {
    /// Pairs an envelope with a context.
    pub fn new(envelope: asap_model::Envelope, ctx: RequestContext) -> Self {
        Self { envelope, ctx }
    }
}

/// A decoded JSON-RPC `asap.send` call before its envelope is checked: the request type of
/// RPC-level services (authentication), which run after framing and before the envelope
/// (PROTOCOL §9.4).
#[derive(Debug, Clone)]
pub struct RpcCall {
    /// The envelope, or the `-32602` error for a missing or invalid one.
    pub envelope: Result<asap_model::Envelope, asap_codec::rpc::RpcError>,
    /// Request context.
    pub ctx: RequestContext,
}

impl RpcCall {
    /// Pairs a decoded envelope (or its error) with a context.
    pub fn new(
        envelope: Result<asap_model::Envelope, asap_codec::rpc::RpcError>,
        ctx: RequestContext,
    ) -> Self {
        Self { envelope, ctx }
    }
}
