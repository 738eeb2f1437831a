use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What came back on a raw connection.
#[derive(Debug, Clone)]
pub struct RawReply {
    /// Everything read until the peer closed, the read timed out or the response was complete.
    pub bytes: Vec<u8>,
    /// Whether the peer closed the connection (or the connection failed).
    pub closed: bool,
    /// The read error that ended the connection (e.g. `ConnectionReset`), if any.
    pub error: Option<std::io::ErrorKind>,
}

impl RawReply {
    /// The status code of the first HTTP response line, if any.
    pub fn status(&self) -> Option<u16> {
        let text = String::from_utf8_lossy(&self.bytes);
        let line = text.lines().next()?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// The value of the first header `name` (case-insensitive) of the first response.
    pub fn header(&self, name: &str) -> Option<String> {
        let text = String::from_utf8_lossy(&self.bytes);
        let head = text.split("\r\n\r\n").next()?;
        head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    /// The body after the first blank line, as text.
    pub fn body(&self) -> String {
        let text = String::from_utf8_lossy(&self.bytes);
        text.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default()
    }

    /// The body parsed as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body()).unwrap_or(Value::Null)
    }
}

/// Writes arbitrary bytes to a server: malformed requests, partial headers, slow clients,
/// chunked bodies, several requests on one kept-alive connection.
#[derive(Debug)]
pub struct RawSender {
    stream: TcpStream,
    /// Bytes read past the end of the last response from [`RawSender::read_response`].
    pending: Vec<u8>,
}

impl RawSender {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        Ok(Self {
            stream: TcpStream::connect(addr).await?,
            pending: Vec::new(),
        })
    }

    /// Writes `bytes`.
    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    fn head(path: &str, extra_headers: &[&str], framing: &str, keep_alive: bool) -> String {
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n{framing}\r\n"
        );
        if !keep_alive {
            head.push_str("connection: close\r\n");
        }
        for h in extra_headers {
            head.push_str(h);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        head
    }

    /// Writes a full HTTP/1.1 `POST /asap` with `body` and extra header lines, asking the
    /// server to close the connection after its reply (`Connection: close`).
    pub async fn post_asap(&mut self, body: &[u8], extra_headers: &[&str]) -> std::io::Result<()> {
        let framing = format!("content-length: {}", body.len());
        let head = Self::head("/asap", extra_headers, &framing, false);
        self.send(head.as_bytes()).await?;
        self.send(body).await
    }

    /// Like [`RawSender::post_asap`] but keeps the connection open for further requests;
    /// read the reply with [`RawSender::read_response`].
    pub async fn post_asap_keep_alive(
        &mut self,
        body: &[u8],
        extra_headers: &[&str],
    ) -> std::io::Result<()> {
        let framing = format!("content-length: {}", body.len());
        let head = Self::head("/asap", extra_headers, &framing, true);
        self.send(head.as_bytes()).await?;
        self.send(body).await
    }

    /// Starts a `POST <path>` with `Transfer-Encoding: chunked` (no `Content-Length`); send
    /// the body with [`RawSender::send_chunk`] and end it with [`RawSender::finish_chunks`].
    pub async fn start_chunked_post(
        &mut self,
        path: &str,
        extra_headers: &[&str],
    ) -> std::io::Result<()> {
        let head = Self::head(path, extra_headers, "transfer-encoding: chunked", false);
        self.send(head.as_bytes()).await
    }

    /// Writes one chunk of a chunked body (an empty `data` writes nothing).
    pub async fn send_chunk(&mut self, data: &[u8]) -> std::io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.send(format!("{:x}\r\n", data.len()).as_bytes())
            .await?;
        self.send(data).await?;
        self.send(b"\r\n").await
    }

    /// Writes the last (empty) chunk.
    pub async fn finish_chunks(&mut self) -> std::io::Result<()> {
        self.send(b"0\r\n\r\n").await
    }

    /// Reads until the peer closes or `timeout` passes without data.
    pub async fn read_reply(&mut self, timeout: Duration) -> RawReply {
        self.read_until(timeout, |_| None).await
    }

    /// Reads exactly one HTTP/1.1 response framed by `Content-Length` (what this server
    /// writes) and leaves the connection open, so that another request can follow. Returns
    /// early, with what was read, when the peer closes or `timeout` passes without data.
    pub async fn read_response(&mut self, timeout: Duration) -> RawReply {
        self.read_until(timeout, response_end).await
    }

    /// Reads until `complete` finds the end of a reply in what was read (the rest is kept for
    /// the next read), the peer closes, or `timeout` passes without data.
    async fn read_until(
        &mut self,
        timeout: Duration,
        complete: fn(&[u8]) -> Option<usize>,
    ) -> RawReply {
        let mut bytes = std::mem::take(&mut self.pending);
        let mut buf = [0u8; 8192];
        loop {
            if let Some(end) = complete(&bytes) {
                self.pending = bytes.split_off(end);
                return RawReply {
                    bytes,
                    closed: false,
                    error: None,
                };
            }
            let (closed, error) =
                match tokio::time::timeout(timeout, self.stream.read(&mut buf)).await {
                    Ok(Ok(n)) if n > 0 => {
                        bytes.extend_from_slice(&buf[..n]);
                        continue;
                    }
                    Ok(Ok(_)) => (true, None),
                    Ok(Err(e)) => (true, Some(e.kind())),
                    Err(_) => (false, None),
                };
            return RawReply {
                bytes,
                closed,
                error,
            };
        }
    }
}

/// Where the first complete response in `bytes` ends, if it is complete (no body without a
/// `Content-Length`, e.g. 304, counts as an empty body).
fn response_end(bytes: &[u8]) -> Option<usize> {
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&bytes[..head_end]);
    let length = head
        .lines()
        .skip(1)
        .find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    (bytes.len() >= head_end + length).then_some(head_end + length)
}
