use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What came back on a raw connection.
#[derive(Debug, Clone)]
pub struct RawReply {
    /// Everything read until the peer closed, the read timed out or the response was complete.
    pub bytes: Vec<u8>,
    /// Whether the peer closed the connection.
    pub closed: bool,
}

impl RawReply {
    /// The status code of the first HTTP response line, if any.
    pub fn status(&self) -> Option<u16> {
        let text = String::from_utf8_lossy(&self.bytes);
        let line = text.lines().next()?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// The body after the first blank line, as text.
    pub fn body(&self) -> String {
        let text = String::from_utf8_lossy(&self.bytes);
        text.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default()
    }
}

/// Writes arbitrary bytes to a server: malformed requests, partial headers, slow clients.
#[derive(Debug)]
pub struct RawSender {
    stream: TcpStream,
}

impl RawSender {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        Ok(Self {
            stream: TcpStream::connect(addr).await?,
        })
    }

    /// Writes `bytes`.
    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Writes a full HTTP/1.1 `POST /asap` with `body` and extra header lines.
    pub async fn post_asap(&mut self, body: &[u8], extra_headers: &[&str]) -> std::io::Result<()> {
        let mut head = format!(
            "POST /asap HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
            body.len()
        );
        for h in extra_headers {
            head.push_str(h);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        self.send(head.as_bytes()).await?;
        self.send(body).await
    }

    /// Reads until the peer closes or `timeout` passes without data.
    pub async fn read_reply(&mut self, timeout: Duration) -> RawReply {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match tokio::time::timeout(timeout, self.stream.read(&mut buf)).await {
                Ok(Ok(0)) => {
                    return RawReply {
                        bytes,
                        closed: true,
                    };
                }
                Ok(Ok(n)) => bytes.extend_from_slice(&buf[..n]),
                Ok(Err(_)) => {
                    return RawReply {
                        bytes,
                        closed: true,
                    };
                }
                Err(_) => {
                    return RawReply {
                        bytes,
                        closed: false,
                    };
                }
            }
        }
    }
}
