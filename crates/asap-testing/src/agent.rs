use std::net::SocketAddr;

use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::{AsapServer, AsapServerBuilder, ServerConfig};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server on an ephemeral 127.0.0.1 port, running in a background task.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use asap_testing::{TestAgent, TestClient};
///
/// let agent = TestAgent::echo().await;
/// let reply = TestClient::new().get(&agent.url("/health")).await;
/// assert_eq!(reply.status, 200);
/// agent.shutdown().await;
/// # }
/// ```
#[derive(Debug)]
pub struct TestAgent {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestAgent {
    /// The demo echo agent with rate limiting off (tests send many requests).
    pub async fn echo() -> Self {
        Self::echo_with(ServerConfig::builder().rate_limit(None).build()).await
    }

    /// The demo echo agent with `config`.
    pub async fn echo_with(config: ServerConfig) -> Self {
        let manifest = demo_manifest("http://127.0.0.1/asap");
        let echo = EchoHandler::new(manifest.id.clone());
        Self::start(
            AsapServer::builder(manifest)
                .config(config)
                .handler("task.request", echo),
        )
        .await
    }

    /// Builds and starts `builder` (panics if it cannot: this is a test helper).
    pub async fn start(builder: AsapServerBuilder) -> Self {
        let server = builder.build().expect("test server builds");
        Self::serve(server).await
    }

    /// Starts an already built server.
    pub async fn serve(server: AsapServer) -> Self {
        let listener = bind_ephemeral().expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.serve_with_shutdown(listener, async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Signals the server to stop accepting and to drain in-flight requests, without waiting
    /// for it; [`TestAgent::shutdown`] then waits for the end.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Whether the server task has ended (after a shutdown, or because serving failed).
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops accepting, drains in-flight requests and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Binds `127.0.0.1:0` like the server does (a backlog of
/// [`LISTEN_BACKLOG`](asap_transport_server::serve::LISTEN_BACKLOG), so that a burst of a few
/// thousand connection attempts is queued rather than answered with SYN cookies).
fn bind_ephemeral() -> std::io::Result<TcpListener> {
    asap_transport_server::serve::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
