//! A minimal HTTP/1.1 keep-alive client: pre-built requests (see `request.rs` for the
//! fresh idempotency key each one carries), responses framed by `Content-Length` (every
//! server under test answers that way). Cheap enough that the generator takes little CPU
//! from the server on a 2-core machine.

use std::io::{self, Read as _, Write as _};
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The bytes of one `POST /asap` request with `body`.
pub(crate) fn post_request(addr: SocketAddr, path: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// Why a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Could not connect.
    Connect,
    /// Read or write error, or the server closed the connection.
    Io,
    /// No complete response in time.
    Timeout,
    /// Not a parsable HTTP/1.1 response with `Content-Length`.
    Protocol,
    /// A status other than 200.
    Status,
    /// 200 without a JSON-RPC `result` (a JSON-RPC error).
    Rpc,
}

impl Failure {
    /// Every kind, in report order.
    pub(crate) const ALL: [Failure; 6] = [
        Failure::Connect,
        Failure::Io,
        Failure::Timeout,
        Failure::Protocol,
        Failure::Status,
        Failure::Rpc,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Failure::Connect => "connect",
            Failure::Io => "io",
            Failure::Timeout => "timeout",
            Failure::Protocol => "protocol",
            Failure::Status => "status",
            Failure::Rpc => "rpc",
        }
    }

    /// Whether the connection must be dropped after this failure.
    pub(crate) fn breaks_connection(self) -> bool {
        !matches!(self, Failure::Status | Failure::Rpc)
    }
}

/// Counts of failures by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Failures([u64; 6]);

impl Failures {
    pub(crate) fn add(&mut self, failure: Failure) {
        self.0[failure as usize] += 1;
    }

    pub(crate) fn merge(&mut self, other: &Failures) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    pub(crate) fn to_json(self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for kind in Failure::ALL {
            map.insert(kind.name().into(), self.0[kind as usize].into());
        }
        map.into()
    }
}

/// A complete response: its length in bytes and whether it is a successful JSON-RPC answer.
pub(crate) type Framed = (usize, Result<(), Failure>);

/// The complete response at the start of `buf`; `Ok(None)` when more bytes are needed.
pub(crate) fn parse_response(buf: &[u8]) -> Result<Option<Framed>, Failure> {
    let mut headers = [httparse::EMPTY_HEADER; 24];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(buf) {
        Ok(httparse::Status::Complete(head)) => head,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(Failure::Protocol),
    };
    let length = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
        .ok_or(Failure::Protocol)?;
    let total = head + length;
    if buf.len() < total {
        return Ok(None);
    }
    let verdict = if response.code != Some(200) {
        Err(Failure::Status)
    } else if is_rpc_result(&buf[head..total]) {
        Ok(())
    } else {
        Err(Failure::Rpc)
    };
    Ok(Some((total, verdict)))
}

/// Whether a JSON-RPC response body is a success (`"result":` and no `"error":` member).
fn is_rpc_result(body: &[u8]) -> bool {
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    has(br#""result":"#) && !body.starts_with(br#"{"jsonrpc":"2.0","error""#)
}

/// One keep-alive connection.
#[derive(Debug)]
pub(crate) struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub(crate) async fn connect(addr: SocketAddr, limit: Duration) -> Result<Self, Failure> {
        let stream = tokio::time::timeout(limit, TcpStream::connect(addr))
            .await
            .map_err(|_| Failure::Connect)?
            .map_err(|_| Failure::Connect)?;
        let _ = stream.set_nodelay(true);
        Ok(Self {
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends `request` and reads its response. After a failure that
    /// [breaks the connection](Failure::breaks_connection) the connection must be dropped.
    pub(crate) async fn call(&mut self, request: &[u8], limit: Duration) -> Result<(), Failure> {
        match tokio::time::timeout(limit, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Timeout),
        }
    }

    async fn exchange(&mut self, request: &[u8]) -> Result<(), Failure> {
        self.stream
            .write_all(request)
            .await
            .map_err(|_| Failure::Io)?;
        self.buf.clear();
        loop {
            if let Some((total, verdict)) = parse_response(&self.buf)? {
                if self.buf.len() != total {
                    // Nothing was pipelined, so nothing else may follow.
                    return Err(Failure::Protocol);
                }
                return verdict;
            }
            if self.buf.capacity() - self.buf.len() < 1024 {
                self.buf.reserve(4096);
            }
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return Err(Failure::Io),
                Ok(_) => {}
            }
        }
    }
}

/// One blocking call on a fresh connection (readiness and sanity checks): the status line
/// and body when a complete response came back.
pub(crate) fn call_blocking(
    addr: SocketAddr,
    request: &[u8],
    limit: Duration,
) -> io::Result<(Result<(), Failure>, String)> {
    let mut stream = std::net::TcpStream::connect_timeout(&addr, limit)?;
    stream.set_read_timeout(Some(limit))?;
    stream.set_write_timeout(Some(limit))?;
    stream.write_all(request)?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0_u8; 4096];
    loop {
        match parse_response(&buf) {
            Ok(Some((total, verdict))) => {
                let text = String::from_utf8_lossy(&buf[..total]).into_owned();
                return Ok((verdict, text));
            }
            Ok(None) => {}
            Err(failure) => {
                return Ok((Err(failure), String::from_utf8_lossy(&buf).into_owned()));
            }
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before a complete response",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: &str, body: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    #[test]
    fn parses_framed_responses() {
        let ok = response("200 OK", r#"{"jsonrpc":"2.0","result":{},"id":"req-1"}"#);
        assert_eq!(parse_response(&ok[..20]), Ok(None));
        assert_eq!(parse_response(&ok[..ok.len() - 1]), Ok(None));
        assert_eq!(parse_response(&ok), Ok(Some((ok.len(), Ok(())))));
        let rpc_error = response(
            "200 OK",
            r#"{"jsonrpc":"2.0","error":{"code":-32602,"message":"x"},"id":"r-1"}"#,
        );
        assert_eq!(
            parse_response(&rpc_error),
            Ok(Some((rpc_error.len(), Err(Failure::Rpc))))
        );
        let limited = response("429 Too Many Requests", "{}");
        assert_eq!(
            parse_response(&limited),
            Ok(Some((limited.len(), Err(Failure::Status))))
        );
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(parse_response(chunked), Err(Failure::Protocol));
    }

    #[test]
    fn builds_requests() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let request = post_request(addr, "/asap", b"{}");
        assert_eq!(
            request,
            b"POST /asap HTTP/1.1\r\nHost: 127.0.0.1:9\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        );
    }
}
