//! What kind of failure a [`ClientError`] is, whatever its variant: connect, timeout, HTTP
//! status, remote (JSON-RPC), decode, builder.

use std::error::Error;
use std::io;

use super::ClientError;

impl ClientError {
    /// Whether no connection to the server could be established: refused, unreachable, DNS
    /// resolution failed, the TCP connect timed out, or the TLS handshake failed (untrusted
    /// certificate, no common protocol). Such a send never reached the server.
    ///
    /// Errors once connected (the connection closed before the answer, a broken read) are
    /// [`Connection`](Self::Connection) errors too, but not connect errors.
    ///
    /// ```no_run
    /// use asap_transport_client::AsapClient;
    /// # async fn run(envelope: asap_model::Envelope) -> Result<(), Box<dyn std::error::Error>> {
    /// let client = AsapClient::builder("http://127.0.0.1:8000").max_retries(1).build()?;
    /// match client.send(envelope).await {
    ///     Err(e) if e.is_connect() => eprintln!("the agent is not running: {e}"),
    ///     other => println!("{other:?}"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_connect(&self) -> bool {
        let Self::Connection {
            source: Some(source),
            ..
        } = self
        else {
            return false;
        };
        source.chain().any(|cause| {
            cause
                .downcast_ref::<hyper_util::client::legacy::Error>()
                .is_some_and(hyper_util::client::legacy::Error::is_connect)
        })
    }

    /// Whether time ran out: an attempt exceeded the request timeout
    /// ([`Timeout`](Self::Timeout)), the send's overall deadline ran out
    /// ([`DeadlineExceeded`](Self::DeadlineExceeded)), or the TCP connect timed out (a
    /// [`Connection`](Self::Connection) error whose source is an I/O `TimedOut`).
    ///
    /// Waiting for a free request slot ([`PoolTimeout`](Self::PoolTimeout)) is a local
    /// limit, not a timeout of the server, and does not count.
    ///
    /// ```
    /// use std::time::Duration;
    /// use asap_transport_client::ClientError;
    ///
    /// let attempt = ClientError::Timeout { after: Duration::from_secs(60) };
    /// assert!(attempt.is_timeout());
    /// let deadline = ClientError::DeadlineExceeded {
    ///     deadline: Duration::from_secs(60),
    ///     elapsed: Duration::from_secs(60),
    ///     attempts: 1,
    ///     retry_after: None,
    ///     last_error: Some(Box::new(attempt)),
    /// };
    /// assert!(deadline.is_timeout());
    /// assert!(!deadline.is_connect());
    /// ```
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::DeadlineExceeded { .. } => true,
            Self::Connection {
                source: Some(source),
                ..
            } => source.chain().any(timed_out),
            _ => false,
        }
    }

    /// Whether the server answered with an HTTP error status (≥ 400, after the retries of
    /// 5xx and 429); [`status`](Self::status) is the status.
    ///
    /// ```no_run
    /// # async fn run(client: asap_transport_client::AsapClient, envelope: asap_model::Envelope) {
    /// if let Err(e) = client.send(envelope).await {
    ///     if e.is_status() {
    ///         eprintln!("the server answered HTTP {}", e.status().unwrap_or_default());
    ///     }
    /// }
    /// # }
    /// ```
    pub fn is_status(&self) -> bool {
        self.status().is_some()
    }

    /// The HTTP error status the server answered, for [`Connection`](Self::Connection)
    /// errors from an HTTP answer ≥ 400 (see [`is_status`](Self::is_status)).
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Connection { status, .. } => *status,
            _ => None,
        }
    }

    /// Whether the server answered with a JSON-RPC error, or with a 2xx body that is not a
    /// usable JSON-RPC reply: [`Remote`](Self::Remote), with its [`rpc_code`](Self::rpc_code).
    /// The request reached the agent, which refused it; it is not retried.
    ///
    /// ```
    /// use asap_transport_client::ClientError;
    ///
    /// let e = ClientError::Remote { code: -32601, message: "Method not found".into(), data: None };
    /// assert!(e.is_remote());
    /// assert_eq!(e.rpc_code(), Some(-32601));
    /// assert!(!e.is_status() && !e.is_connect() && !e.is_timeout());
    /// ```
    pub fn is_remote(&self) -> bool {
        matches!(self, Self::Remote { .. })
    }

    /// Whether the response arrived but its body could not be decoded: an unsupported or
    /// corrupt `Content-Encoding`, a body over `max_response_size`, or an invalid response
    /// envelope ([`InvalidResponse`](Self::InvalidResponse)).
    ///
    /// ```no_run
    /// # async fn run(client: asap_transport_client::AsapClient, envelope: asap_model::Envelope) {
    /// match client.send(envelope).await {
    ///     Err(e) if e.is_decode() => eprintln!("unreadable answer: {e}"),
    ///     other => println!("{other:?}"),
    /// }
    /// # }
    /// ```
    pub fn is_decode(&self) -> bool {
        matches!(self, Self::InvalidResponse { .. })
    }

    /// Whether the client could not be built: an unusable or insecure URL, or an invalid
    /// setting ([`InvalidUrl`](Self::InvalidUrl), [`InsecureUrl`](Self::InsecureUrl),
    /// [`InvalidConfig`](Self::InvalidConfig)).
    ///
    /// ```
    /// use asap_transport_client::AsapClient;
    ///
    /// let e = AsapClient::builder("ftp://agent.example").build().unwrap_err();
    /// assert!(e.is_builder());
    /// ```
    pub fn is_builder(&self) -> bool {
        matches!(
            self,
            Self::InvalidUrl { .. } | Self::InsecureUrl { .. } | Self::InvalidConfig { .. }
        )
    }
}

/// An I/O `TimedOut` (hyper-util's TCP connect timeout) or a hyper timeout.
fn timed_out(cause: &(dyn Error + 'static)) -> bool {
    cause
        .downcast_ref::<io::Error>()
        .is_some_and(|e| e.kind() == io::ErrorKind::TimedOut)
        || cause
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_timeout)
}
