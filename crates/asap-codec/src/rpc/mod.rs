//! JSON-RPC 2.0 framing of `asap.send`.
//!
//! - [`decode_request`]: request body → [`Call`] or the exact [`ErrorResponse`] of the protocol
//!   (`-32700`, `-32600`, `-32601`, `-32602`), following the server processing order.
//! - [`encode_success`] / [`encode_error`]: response bodies.
//! - [`encode_request`] / [`decode_response`]: the client side.

mod decode;
mod depth;
mod encode;
mod error;
mod id;
mod python_json;
mod response;

pub use decode::{
    Call, KeyedCall, METHOD, decode_exact, decode_exact_keyed, decode_request,
    decode_request_keyed, decode_request_serde_json, decode_request_serde_json_keyed,
};
pub use depth::MAX_DEPTH;
pub use encode::{encode_error, encode_request, encode_success};
pub use error::{ErrorResponse, RpcError};
pub use id::Id;
pub use python_json::describe_json_error;
pub use response::{Response, ResponseDecodeError, decode_response};
