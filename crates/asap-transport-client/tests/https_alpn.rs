//! HTTPS end to end: the real server behind rustls, with a certificate made at test time,
//! and the client negotiating HTTP/2 (or HTTP/1.1) by ALPN.
#![cfg(feature = "rustls")]

mod common;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asap_transport_client::{AsapClient, ClientError};
use asap_transport_server::echo::{EchoHandler, demo_manifest};
use asap_transport_server::{AsapServer, PeerAddr, ServerConfig};
use common::{echoed, envelope};
use futures_util::future::join_all;
use http::{Request, Version};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

const H2: &[u8] = b"h2";
const HTTP11: &[u8] = b"http/1.1";

/// Every test is bounded: a hang fails instead of stalling the suite.
async fn bounded<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .expect("finished within 30 s")
}

fn ring() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A self-signed certificate (DER) and its key.
struct TestCert {
    der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl TestCert {
    fn generate() -> Self {
        Self::for_names(&["localhost", "127.0.0.1"])
    }

    /// A self-signed certificate for `names` (DNS names or IP addresses).
    fn for_names(names: &[&str]) -> Self {
        let names: Vec<String> = names.iter().map(|&n| n.to_owned()).collect();
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(names).expect("certificate generated");
        Self {
            der: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(signing_key.serialize_der()),
        }
    }

    /// A client configuration trusting only this certificate (no ALPN set).
    fn client_config(&self) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.der.clone()).expect("certificate as a root");
        rustls::ClientConfig::builder_with_provider(ring())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_root_certificates(roots)
            .with_no_client_auth()
    }

    fn server_config(&self, alpn: &[&[u8]]) -> rustls::ServerConfig {
        let mut config = rustls::ServerConfig::builder_with_provider(ring())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![self.der.clone()],
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )
            .expect("certificate and key match");
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        config
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq)]
struct SeenRequest {
    /// Index of the TLS connection it came on (into [`Seen::alpn`]).
    connection: usize,
    version: Version,
    path: String,
}

/// What the TLS server saw.
#[derive(Debug, Default)]
struct Seen {
    /// The negotiated ALPN protocol of each completed TLS handshake, in accept order.
    alpn: Vec<Option<Vec<u8>>>,
    /// Failed TLS handshakes.
    failed_handshakes: usize,
    requests: Vec<SeenRequest>,
}

/// The demo echo agent (the real [`AsapServer`] service) behind a rustls acceptor on an
/// ephemeral 127.0.0.1 port, recording ALPN and HTTP versions.
struct TlsAgent {
    addr: SocketAddr,
    seen: Arc<Mutex<Seen>>,
    task: JoinHandle<()>,
}

impl TlsAgent {
    async fn start(cert: &TestCert, alpn: &[&[u8]]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let manifest = demo_manifest(&format!("https://localhost:{}/asap", addr.port()));
        let echo = EchoHandler::new(manifest.id.clone());
        let server = AsapServer::builder(manifest)
            .config(ServerConfig::builder().rate_limit(None).build())
            .handler("task.request", echo)
            .build()
            .expect("server builds");
        server.readiness().set_ready(true);
        let acceptor = TlsAcceptor::from(Arc::new(cert.server_config(alpn)));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let task = tokio::spawn(accept_loop(listener, acceptor, server, Arc::clone(&seen)));
        Self { addr, seen, task }
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn alpn(&self) -> Vec<Option<Vec<u8>>> {
        self.seen.lock().unwrap().alpn.clone()
    }

    fn failed_handshakes(&self) -> usize {
        self.seen.lock().unwrap().failed_handshakes
    }

    fn requests(&self) -> Vec<SeenRequest> {
        self.seen.lock().unwrap().requests.clone()
    }
}

impl Drop for TlsAgent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    server: AsapServer,
    seen: Arc<Mutex<Seen>>,
) {
    while let Ok((tcp, peer)) = listener.accept().await {
        let acceptor = acceptor.clone();
        let server = server.clone();
        let seen = Arc::clone(&seen);
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(tls) => tls,
                Err(_) => {
                    seen.lock().unwrap().failed_handshakes += 1;
                    return;
                }
            };
            let connection = {
                let mut seen = seen.lock().unwrap();
                seen.alpn
                    .push(tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec));
                seen.alpn.len() - 1
            };
            // The ASAP tower service, recording each request's HTTP version first.
            let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                seen.lock().unwrap().requests.push(SeenRequest {
                    connection,
                    version: request.version(),
                    path: request.uri().path().to_owned(),
                });
                request.extensions_mut().insert(PeerAddr(peer));
                server.service().oneshot(request)
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

fn https_client(agent: &TlsAgent, cert: &TestCert) -> AsapClient {
    AsapClient::builder(format!("https://localhost:{}", agent.port()))
        .tls_config(cert.client_config())
        .build()
        .expect("client builds")
}

fn assert_all_http2_on(requests: &[SeenRequest], connection: usize) {
    for request in requests {
        assert_eq!(request.version, Version::HTTP_2, "{request:?}");
        assert_eq!(request.connection, connection, "{request:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_sends_negotiate_h2_on_one_tls_connection() {
    let cert = TestCert::generate();
    let agent = TlsAgent::start(&cert, &[H2, HTTP11]).await;
    let client = https_client(&agent, &cert);
    assert_eq!(
        client.base_url(),
        format!("https://localhost:{}", agent.port())
    );
    for i in 0..5 {
        let reply = bounded(client.send(envelope(json!({"i": i}))))
            .await
            .unwrap_or_else(|e| panic!("send {i}: {e}"));
        assert_eq!(reply.payload_type, "task.response");
        assert_eq!(reply.sender.as_str(), "urn:asap:agent:default-server");
        assert_eq!(echoed(&reply), json!({"i": i}));
    }
    assert_eq!(agent.alpn(), vec![Some(H2.to_vec())]);
    let requests = agent.requests();
    assert_eq!(requests.len(), 5);
    assert!(requests.iter().all(|r| r.path == "/asap"));
    assert_all_http2_on(&requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_are_multiplexed_on_one_tls_connection() {
    let cert = TestCert::generate();
    let agent = TlsAgent::start(&cert, &[H2, HTTP11]).await;
    let client = https_client(&agent, &cert);
    // One send first, so the pool knows the connection speaks h2 before the burst.
    bounded(client.send(envelope(json!({"warm": true}))))
        .await
        .expect("first send");
    let sends = (0..30).map(|i| client.send(envelope(json!({"i": i}))));
    let results = bounded(join_all(sends)).await;
    for (i, result) in results.into_iter().enumerate() {
        let reply = result.unwrap_or_else(|e| panic!("send {i}: {e}"));
        assert_eq!(echoed(&reply), json!({"i": i}));
    }
    assert_eq!(
        agent.alpn(),
        vec![Some(H2.to_vec())],
        "one TLS connection, h2"
    );
    let requests = agent.requests();
    assert_eq!(requests.len(), 31);
    assert_all_http2_on(&requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_concurrent_sends_end_up_on_one_h2_connection() {
    let cert = TestCert::generate();
    let agent = TlsAgent::start(&cert, &[H2, HTTP11]).await;
    let client = https_client(&agent, &cert);
    // No warm-up: several handshakes may start before ALPN says h2, but hyper then hands
    // every request to the first h2 connection.
    let sends = (0..20).map(|i| client.send(envelope(json!({"i": i}))));
    let results = bounded(join_all(sends)).await;
    for (i, result) in results.into_iter().enumerate() {
        let reply = result.unwrap_or_else(|e| panic!("send {i}: {e}"));
        assert_eq!(echoed(&reply), json!({"i": i}));
    }
    let alpn = agent.alpn();
    assert!(!alpn.is_empty());
    assert!(alpn.iter().all(|p| p.as_deref() == Some(H2)), "{alpn:?}");
    let requests = agent.requests();
    assert_eq!(requests.len(), 20);
    let first = requests[0].connection;
    assert_all_http2_on(&requests, first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifest_over_https_by_ip_address() {
    let cert = TestCert::generate();
    let agent = TlsAgent::start(&cert, &[H2, HTTP11]).await;
    // 127.0.0.1 is checked against the certificate's IP address SAN.
    let client = AsapClient::builder(format!("https://127.0.0.1:{}", agent.port()))
        .tls_config(cert.client_config())
        .build()
        .unwrap();
    let manifest = bounded(client.get_manifest()).await.expect("manifest");
    assert_eq!(manifest.id.as_str(), "urn:asap:agent:default-server");
    assert_eq!(
        manifest.endpoints.asap,
        format!("https://localhost:{}/asap", agent.port())
    );
    // A cache hit: no second request.
    bounded(client.get_manifest()).await.unwrap();
    let reply = bounded(client.send(envelope(json!({"after": "manifest"}))))
        .await
        .unwrap();
    assert_eq!(echoed(&reply), json!({"after": "manifest"}));

    assert_eq!(agent.alpn(), vec![Some(H2.to_vec())]);
    let requests = agent.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/.well-known/asap/manifest.json", "/asap"]);
    assert_all_http2_on(&requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_over_tls_when_the_server_offers_only_http1() {
    let cert = TestCert::generate();
    let agent = TlsAgent::start(&cert, &[HTTP11]).await;
    let client = https_client(&agent, &cert);
    for i in 0..3 {
        let reply = bounded(client.send(envelope(json!({"i": i}))))
            .await
            .unwrap();
        assert_eq!(echoed(&reply), json!({"i": i}));
    }
    // HTTP/1.1 keep-alive: a connection goes back to hyper's pool a moment after its
    // response, so a send right after may start a spare connection (used later or left
    // idle). Only the protocol is asserted.
    let alpn = agent.alpn();
    assert!((1..=3).contains(&alpn.len()), "{alpn:?}");
    assert!(
        alpn.iter().all(|p| p.as_deref() == Some(HTTP11)),
        "{alpn:?}"
    );
    let requests = agent.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests.iter().all(|r| r.version == Version::HTTP_11),
        "{requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_prior_knowledge_over_https_offers_only_h2() {
    let cert = TestCert::generate();
    let agent = TlsAgent::start(&cert, &[H2, HTTP11]).await;
    let client = AsapClient::builder(format!("https://localhost:{}", agent.port()))
        .tls_config(cert.client_config())
        .http2_prior_knowledge(true)
        .build()
        .unwrap();
    let reply = bounded(client.send(envelope(json!({"prior": true}))))
        .await
        .unwrap();
    assert_eq!(echoed(&reply), json!({"prior": true}));
    assert_eq!(agent.alpn(), vec![Some(H2.to_vec())]);
    assert_all_http2_on(&agent.requests(), 0);

    // Against a server without h2 the handshake itself fails: no common protocol.
    let http1_only = TlsAgent::start(&cert, &[HTTP11]).await;
    let client = AsapClient::builder(format!("https://localhost:{}", http1_only.port()))
        .tls_config(cert.client_config())
        .http2_prior_knowledge(true)
        .max_retries(1)
        .build()
        .unwrap();
    let error = bounded(client.send(envelope(json!({})))).await.unwrap_err();
    assert!(
        matches!(error, ClientError::Connection { status: None, .. }),
        "{error:?}"
    );
    assert!(http1_only.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alpn_preset_in_the_given_tls_config_is_replaced() {
    let cert = TestCert::generate();
    let agent = TlsAgent::start(&cert, &[H2, HTTP11]).await;
    let mut config = cert.client_config();
    // Documented on `tls_config`: the client's own ALPN list replaces this one.
    config.alpn_protocols = vec![HTTP11.to_vec()];
    let client = AsapClient::builder(format!("https://localhost:{}", agent.port()))
        .tls_config(config)
        .build()
        .expect("a preset ALPN list is replaced, not a build failure or a panic");
    let reply = bounded(client.send(envelope(json!({"alpn": "preset"}))))
        .await
        .unwrap();
    assert_eq!(echoed(&reply), json!({"alpn": "preset"}));
    assert_eq!(agent.alpn(), vec![Some(H2.to_vec())]);
    assert_all_http2_on(&agent.requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_certificate_is_a_connection_error() {
    let cert = TestCert::generate();
    let agent = TlsAgent::start(&cert, &[H2, HTTP11]).await;
    // Default roots (webpki-roots): the self-signed certificate is not trusted.
    let client = AsapClient::builder(format!("https://localhost:{}", agent.port()))
        .max_retries(2)
        .base_delay(Duration::from_millis(10))
        .build()
        .unwrap();
    let error = bounded(client.send(envelope(json!({})))).await.unwrap_err();
    match &error {
        ClientError::Connection {
            message,
            status: None,
            ..
        } => assert!(
            message.to_lowercase().contains("certificate"),
            "the message names the certificate problem: {message}"
        ),
        other => panic!("expected a connection error, got {other:?}"),
    }
    // A failed handshake is a connect error, with rustls' own error among its sources.
    assert!(error.is_connect(), "{error:?}");
    let rustls_error = std::iter::successors(std::error::Error::source(&error), |&e| e.source())
        .find_map(find_rustls_error);
    assert!(
        matches!(rustls_error, Some(rustls::Error::InvalidCertificate(_))),
        "{error:?}"
    );

    let error = bounded(client.get_manifest()).await.unwrap_err();
    assert!(
        matches!(&error, ClientError::Connection { message, status: None, .. }
            if message.to_lowercase().contains("certificate")),
        "{error:?}"
    );

    // Nothing got past the handshake; each attempt was refused by the client.
    assert!(agent.requests().is_empty());
    assert!(agent.alpn().is_empty());
    bounded(async {
        while agent.failed_handshakes() < 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;

    // A trusted certificate that does not name the host is refused too.
    let localhost_only = TestCert::for_names(&["localhost"]);
    let agent = TlsAgent::start(&localhost_only, &[H2, HTTP11]).await;
    let client = AsapClient::builder(format!("https://127.0.0.1:{}", agent.port()))
        .tls_config(localhost_only.client_config())
        .max_retries(1)
        .build()
        .unwrap();
    let error = bounded(client.send(envelope(json!({})))).await.unwrap_err();
    assert!(
        matches!(&error, ClientError::Connection { message, status: None, .. }
            if message.to_lowercase().contains("certificate")),
        "{error:?}"
    );
    assert!(agent.requests().is_empty());
}

#[test]
fn require_https_default_allows_https_to_any_host() {
    let client = AsapClient::builder("https://agent.example.com:8443/prefix")
        .build()
        .expect("https to a remote host");
    assert!(client.config().require_https);
    assert_eq!(client.base_url(), "https://agent.example.com:8443/prefix");
    AsapClient::builder("https://203.0.113.7")
        .build()
        .expect("https to an IP address");
    let error = AsapClient::builder("http://agent.example.com")
        .build()
        .unwrap_err();
    assert!(
        matches!(error, ClientError::InsecureUrl { .. }),
        "{error:?}"
    );
}

/// The rustls error in `error`, looking inside I/O errors (whose `source` skips the error
/// they wrap).
fn find_rustls_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    find_rustls_error(inner)
}
