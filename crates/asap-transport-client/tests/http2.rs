//! HTTP/2 prior knowledge (h2c) against the real server: concurrent sends share one
//! connection.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use asap_testing::TestAgent;
use asap_transport_client::AsapClient;
use common::envelope;
use futures_util::future::join_all;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy to `target` that counts the connections it accepts.
struct CountingProxy {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingProxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self {
            addr,
            accepted,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_sends_share_one_h2c_connection() {
    let agent = TestAgent::echo().await;
    let proxy = CountingProxy::start(agent.addr()).await;
    let client = AsapClient::builder(proxy.url())
        .http2_prior_knowledge(true)
        .build()
        .unwrap();
    let sends = (0..50).map(|i| client.send(envelope(json!({"i": i}))));
    let results = tokio::time::timeout(std::time::Duration::from_secs(30), join_all(sends))
        .await
        .expect("bounded");
    for (i, result) in results.into_iter().enumerate() {
        let reply = result.unwrap_or_else(|e| panic!("send {i}: {e}"));
        assert_eq!(reply.payload_type, "task.response");
        assert_eq!(common::echoed(&reply)["i"], i);
    }
    assert_eq!(
        proxy.accepted(),
        1,
        "all streams multiplexed on one connection"
    );
}

#[tokio::test]
async fn scripted_server_sees_http2() {
    let server = common::ScriptedServer::start(vec![common::Reply::echo()]).await;
    let client = AsapClient::builder(server.url())
        .http2_prior_knowledge(true)
        .build()
        .unwrap();
    join_all((0..10).map(|_| client.send(common::small_envelope()))).await;
    let requests = server.requests();
    assert_eq!(requests.len(), 10);
    assert!(requests.iter().all(|r| r.version == "HTTP/2.0"));
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn http1_by_default_on_plain_http() {
    let server = common::ScriptedServer::start(vec![common::Reply::echo()]).await;
    let client = AsapClient::builder(server.url()).build().unwrap();
    client.send(common::small_envelope()).await.unwrap();
    assert_eq!(server.requests()[0].version, "HTTP/1.1");
}
