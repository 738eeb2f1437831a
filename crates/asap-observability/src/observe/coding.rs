//! What a server reports about compressed bodies: requests it inflated, replies it
//! compressed.

/// Which body of an exchange was coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// A request body, inflated after it was received.
    Request,
    /// A reply body, compressed before it was sent.
    Response,
}

impl BodyKind {
    /// `request` or `response`: the `body` label of the compression metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyKind::Request => "request",
            BodyKind::Response => "response",
        }
    }
}

/// One body that crossed the wire compressed.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct CodingEvent<'a> {
    /// The request or the reply.
    pub body: BodyKind,
    /// Its `Content-Encoding` (`gzip`, `br`, `asap-zstd-v1`).
    pub encoding: &'a str,
    /// Its size as on the wire, compressed.
    pub encoded_bytes: usize,
    /// Its size uncompressed: the request as inflated, the reply as encoded.
    pub plain_bytes: usize,
}

impl<'a> CodingEvent<'a> {
    /// A `body` of `plain_bytes` that was `encoded_bytes` on the wire in `encoding`.
    pub fn new(
        body: BodyKind,
        encoding: &'a str,
        encoded_bytes: usize,
        plain_bytes: usize,
    ) -> Self {
        Self {
            body,
            encoding,
            encoded_bytes,
            plain_bytes,
        }
    }
}
