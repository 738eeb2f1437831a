use std::convert::Infallible;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{Empty, Full};
use hyper::service::Service as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;

const BOUNDS: LingerBounds = LingerBounds {
    time: Duration::from_secs(30),
    timeout: Duration::from_secs(5),
    max_bytes: 64 * 1024 * 1024,
};

/// A server-side stream over an in-memory pipe, armed or not, and the client's end.
fn pair(bounds: LingerBounds, armed: bool) -> (LingeringStream<DuplexStream>, DuplexStream) {
    let (client, server) = tokio::io::duplex(16 * 1024);
    let (stream, _service) = lingering(server, (), bounds);
    stream.armed.store(armed, Ordering::Release);
    (stream, client)
}

async fn shutdown(stream: &mut LingeringStream<DuplexStream>) {
    stream.shutdown().await.expect("shutdown");
}

#[tokio::test(start_paused = true)]
async fn an_unarmed_stream_closes_at_once() {
    let (mut stream, mut client) = pair(BOUNDS, false);
    let started = Instant::now();
    shutdown(&mut stream).await;
    assert_eq!(started.elapsed(), Duration::ZERO);
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_armed_stream_sends_its_end_then_drains_until_the_client_closes() {
    let (mut stream, mut client) = pair(BOUNDS, true);
    stream
        .write_all(b"HTTP/1.1 413 Payload Too Large\r\n\r\n")
        .await
        .unwrap();
    let server = tokio::spawn(async move {
        shutdown(&mut stream).await;
        stream
    });
    // Four times the pipe's capacity: this only completes because the server reads it.
    let body = vec![b' '; 64 * 1024];
    client.write_all(&body).await.unwrap();
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).await.unwrap();
    assert_eq!(
        reply, b"HTTP/1.1 413 Payload Too Large\r\n\r\n",
        "response, then FIN"
    );
    assert!(
        !server.is_finished(),
        "still draining while the client is open"
    );
    drop(client);
    let stream = server.await.unwrap();
    assert_eq!(stream.discarded, 64 * 1024);
}

#[tokio::test(start_paused = true)]
async fn a_silent_client_is_cut_off_after_the_timeout() {
    let (mut stream, _client) = pair(BOUNDS, true);
    let started = Instant::now();
    shutdown(&mut stream).await;
    assert_eq!(started.elapsed(), BOUNDS.timeout);
}

#[tokio::test(start_paused = true)]
async fn a_trickling_client_is_cut_off_at_the_time_bound() {
    let (mut stream, mut client) = pair(BOUNDS, true);
    let writer = tokio::spawn(async move {
        // One byte every half timeout: never idle long enough, bounded by the write failing
        // once the server is gone (and by the count).
        for _ in 0..1_000 {
            if client.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(BOUNDS.timeout / 2).await;
        }
    });
    let started = Instant::now();
    shutdown(&mut stream).await;
    assert_eq!(started.elapsed(), BOUNDS.time);
    drop(stream);
    writer.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_byte_cap_ends_the_drain() {
    let bounds = LingerBounds {
        max_bytes: 100_000,
        ..BOUNDS
    };
    let (mut stream, mut client) = pair(bounds, true);
    let writer = tokio::spawn(async move {
        let chunk = vec![b' '; 10_000];
        let mut written = 0;
        // Bounded: at most 1 MB, and it stops at the first failed write.
        while written < 1_000_000 && client.write_all(&chunk).await.is_ok() {
            written += chunk.len();
        }
        written
    });
    shutdown(&mut stream).await;
    assert_eq!(stream.discarded, 100_000);
    drop(stream);
    let written = writer.await.unwrap();
    assert!(
        written < 1_000_000,
        "the writer was cut off after {written} bytes"
    );
}

#[tokio::test(start_paused = true)]
async fn no_lingering_once_the_client_has_closed() {
    let (mut stream, mut client) = pair(BOUNDS, true);
    client.shutdown().await.unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        stream.read(&mut buf).await.unwrap(),
        0,
        "end of stream seen"
    );
    let started = Instant::now();
    shutdown(&mut stream).await;
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn lingering_off_closes_at_once() {
    let (mut stream, _client) = pair(
        LingerBounds {
            time: Duration::ZERO,
            ..BOUNDS
        },
        true,
    );
    let started = Instant::now();
    shutdown(&mut stream).await;
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test]
async fn refusals_of_http1_requests_with_a_body_arm_the_stream() {
    let answer = hyper::service::service_fn(|request: Request<Full<Bytes>>| async move {
        let status = request
            .headers()
            .get("x-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u16>().ok())
            .and_then(|v| StatusCode::from_u16(v).ok())
            .unwrap_or(StatusCode::OK);
        let mut response = Response::new(Empty::<Bytes>::new());
        *response.status_mut() = status;
        Ok::<_, Infallible>(response)
    });
    let (stream, service) = lingering((), answer, BOUNDS);
    let request = |version: Version, status: u16, body: &'static [u8]| {
        Request::builder()
            .version(version)
            .header("x-status", status)
            .body(Full::new(Bytes::from_static(body)))
            .unwrap()
    };
    let armed = || stream.armed.load(Ordering::Acquire);
    for (version, status, body, expected) in [
        (Version::HTTP_11, 413, &b"{}"[..], true),
        (Version::HTTP_11, 200, b"{}", false),
        (Version::HTTP_11, 503, b"{}", true),
        (Version::HTTP_11, 413, b"", false),
        (Version::HTTP_10, 415, b"{}", true),
        (Version::HTTP_11, 404, b"", false),
    ] {
        service.call(request(version, status, body)).await.unwrap();
        assert_eq!(armed(), expected, "{version:?} {status} {body:?}");
    }
    // HTTP/2 requests leave the HTTP/1 state alone (an early answer resets only the stream).
    service
        .call(request(Version::HTTP_11, 413, b"{}"))
        .await
        .unwrap();
    service
        .call(request(Version::HTTP_2, 200, b"{}"))
        .await
        .unwrap();
    assert!(armed());
    service
        .call(request(Version::HTTP_11, 200, b"{}"))
        .await
        .unwrap();
    service
        .call(request(Version::HTTP_2, 413, b"{}"))
        .await
        .unwrap();
    assert!(!armed());
}
