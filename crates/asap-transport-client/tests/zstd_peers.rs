//! `asap-zstd-v1` between asap-rs peers (feature `zstd`, docs/adr/0003): the client sends
//! zstd bodies only to a server that advertised them, the server answers zstd only to a
//! client that listed it, advertises it only to such clients, decodes zstd requests within
//! the same inflated-size limit as gzip and brotli, and the reference's header never gets it.
#![cfg(feature = "zstd")]

mod common;

use std::sync::{Arc, Mutex};

use asap_codec::compression::{
    DEFAULT_MAX_REQUEST_SIZE, Encoding, accept_encoding_header, compress, decompress_slice,
};
use asap_codec::rpc::{Id, encode_request};
use asap_testing::TestAgent;
use asap_testing::TestClient;
use asap_transport_client::AsapClient;
use asap_transport_server::ServerConfig;
use common::{Reply, ScriptedServer, echoed, large_envelope};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What an asap-rs server of a `zstd` build says in its responses to such a client.
const ADVERT: &str = "asap-zstd-v1, br, gzip, identity";

/// The reference client's `Accept-Encoding`.
const REFERENCE_ACCEPT: &str = "br, gzip, identity";

/// A body well above the 1 KiB compression threshold.
fn large_body() -> Vec<u8> {
    encode_request(&Id::Str("req-1".into()), &large_envelope(), Some("key-1"))
}

#[tokio::test]
async fn zstd_bodies_only_after_the_server_advertised_them() {
    let server = ScriptedServer::start(vec![
        Reply::echo(),
        Reply::echo().header("accept-encoding", ADVERT),
        Reply::echo().header("accept-encoding", ADVERT),
        Reply::echo(),
        Reply::echo(),
    ])
    .await;
    let client = AsapClient::builder(server.url()).build().unwrap();
    for _ in 0..5 {
        let envelope = large_envelope();
        assert_eq!(client.send(envelope.clone()).await.unwrap(), envelope);
    }
    let requests = server.requests();
    let encodings: Vec<_> = requests
        .iter()
        .map(|r| r.header("content-encoding"))
        .collect();
    // No advertisement yet: brotli. Advertised by replies 2 and 3: zstd for requests 3
    // and 4. Reply 4 stops advertising: brotli again.
    assert_eq!(
        encodings,
        [
            Some("br"),
            Some("br"),
            Some("asap-zstd-v1"),
            Some("asap-zstd-v1"),
            Some("br")
        ]
    );
    for request in &requests {
        assert_eq!(request.header("accept-encoding"), Some(ADVERT));
        let decoded = request.decoded.as_ref().expect("decodable body");
        assert!(request.body.len() < decoded.len());
    }
    assert!(client.compression_enabled());
}

#[tokio::test]
async fn a_refused_zstd_body_is_resent_in_the_standard_coding() {
    let server = ScriptedServer::start(vec![
        Reply::echo().header("accept-encoding", ADVERT),
        Reply::status(
            415,
            "Unsupported Content-Encoding: asap-zstd-v1. Supported: br, gzip",
        ),
        Reply::echo(),
    ])
    .await;
    let client = AsapClient::builder(server.url()).build().unwrap();
    let envelope = large_envelope();
    client.send(envelope.clone()).await.unwrap();
    assert_eq!(client.send(envelope.clone()).await.unwrap(), envelope);
    let encodings: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("content-encoding").map(str::to_owned))
        .collect();
    assert_eq!(
        encodings,
        [
            Some("br".to_owned()),
            Some("asap-zstd-v1".to_owned()),
            Some("br".to_owned())
        ]
    );
    // Only the dictionary coding was given up, not compression.
    assert!(client.compression_enabled());
}

/// A TCP proxy to `upstream` recording every byte in both directions.
async fn recording_proxy(upstream: std::net::SocketAddr) -> (String, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect(upstream).await.unwrap();
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::spawn(pipe(client_read, server_write, Arc::clone(&record)));
            tokio::spawn(pipe(server_read, client_write, Arc::clone(&record)));
        }
    });
    (url, seen)
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    record: Arc<Mutex<Vec<u8>>>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        record.lock().unwrap().extend_from_slice(&buf[..n]);
    }
    let _ = to.shutdown().await;
}

/// One zstd frame (RFC 8878) holding `data` as raw blocks, without a dictionary id.
fn frame_without_dictionary(data: &[u8]) -> Vec<u8> {
    // Magic; descriptor: single segment, 4-byte content size, no checksum, no dictionary.
    let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0xa0];
    frame.extend_from_slice(&(data.len() as u32).to_le_bytes());
    let chunks: Vec<&[u8]> = data.chunks(64 * 1024).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let last = u32::from(i + 1 == chunks.len());
        let header = ((chunk.len() as u32) << 3) | last; // block type 0: raw
        frame.extend_from_slice(&header.to_le_bytes()[..3]);
        frame.extend_from_slice(chunk);
    }
    frame
}

fn occurrences(haystack: &[u8], needle: &str) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
        .count()
}

#[tokio::test]
async fn client_and_server_use_it_both_ways() {
    let agent = TestAgent::echo().await;
    let (url, seen) = recording_proxy(agent.addr()).await;
    let client = AsapClient::builder(url).build().unwrap();
    for _ in 0..3 {
        let envelope = large_envelope();
        let reply = client.send(envelope.clone()).await.unwrap();
        let text = echoed(&reply)["text"].as_str().unwrap().to_owned();
        assert!(text.starts_with("all work and no play"), "{text}");
    }
    let wire = seen.lock().unwrap().clone();
    // Requests: brotli first (nothing advertised yet), then zstd. Responses: zstd every
    // time (the client listed it), each with the advertisement.
    assert_eq!(occurrences(&wire, "content-encoding: br\r\n"), 1);
    assert_eq!(
        occurrences(&wire, "content-encoding: asap-zstd-v1\r\n"),
        2 + 3
    );
    assert_eq!(
        occurrences(&wire, &format!("accept-encoding: {ADVERT}\r\n")),
        3 + 3
    );
    agent.shutdown().await;
}

#[tokio::test]
async fn the_server_answers_zstd_only_to_clients_that_list_it() {
    let agent = TestAgent::echo().await;
    let http = TestClient::new();
    let url = agent.url("/asap");
    let body = large_body();

    let asap_rs = http
        .post(
            &url,
            body.clone(),
            &[("accept-encoding", accept_encoding_header())],
        )
        .await;
    assert_eq!(asap_rs.status, 200);
    assert_eq!(asap_rs.header("content-encoding"), Some("asap-zstd-v1"));
    assert_eq!(asap_rs.header("accept-encoding"), Some(ADVERT));
    let plain = decompress_slice(Encoding::AsapZstd, &asap_rs.body, DEFAULT_MAX_REQUEST_SIZE)
        .await
        .unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&plain).unwrap()["result"].is_object());

    // The reference client, curl-like wildcards, and nothing at all: never zstd, and no
    // advertisement either.
    for accept in [Some(REFERENCE_ACCEPT), Some("gzip, br"), Some("*"), None] {
        let headers: Vec<_> = accept.map(|a| ("accept-encoding", a)).into_iter().collect();
        let reply = http.post(&url, body.clone(), &headers).await;
        assert_eq!(reply.status, 200, "{accept:?}");
        assert_ne!(
            reply.header("content-encoding"),
            Some("asap-zstd-v1"),
            "{accept:?}"
        );
        assert_eq!(reply.header("accept-encoding"), None, "{accept:?}");
    }
    // The manifest and health routes follow the same rule.
    let manifest = http
        .get_with(
            &agent.url("/.well-known/asap/manifest.json"),
            &[("accept-encoding", REFERENCE_ACCEPT)],
        )
        .await;
    assert_eq!(manifest.header("accept-encoding"), None);
    agent.shutdown().await;
}

#[tokio::test]
async fn the_server_decodes_zstd_requests_within_the_limit() {
    let limit = 64 * 1024;
    let agent = TestAgent::echo_with(
        ServerConfig::builder()
            .rate_limit(None)
            .max_request_size(limit)
            .build(),
    )
    .await;
    let http = TestClient::new();
    let url = agent.url("/asap");

    let zstd_body = compress(Encoding::AsapZstd, &large_body()).await.unwrap();
    let reply = http
        .post(&url, zstd_body, &[("content-encoding", "asap-zstd-v1")])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.envelope().is_object());

    // A bomb: small on the wire, far over the limit inflated: 413, like gzip and brotli.
    let padding = " ".repeat(4 * limit);
    let bomb = format!(r#"{{"jsonrpc":"2.0","method":"asap.send","id":1,"x":"{padding}"}}"#);
    let packed = compress(Encoding::AsapZstd, bomb.as_bytes()).await.unwrap();
    assert!(packed.len() < limit / 16);
    let reply = http
        .post(&url, packed, &[("content-encoding", "asap-zstd-v1")])
        .await;
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(
        reply.json["detail"],
        format!(
            "Decompressed request size ({} bytes) exceeds maximum ({limit} bytes)",
            limit + 1
        )
    );

    // A valid zstd frame made without the ASAP dictionary: 400.
    let plain_zstd = frame_without_dictionary(&large_body());
    let reply = http
        .post(&url, plain_zstd, &[("content-encoding", "asap-zstd-v1")])
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    agent.shutdown().await;
}
