//! Clients that write their whole request body before reading the answer still get the 413
//! for a body over the limit: on a fresh connection and on a kept-alive one that already
//! served a request, with `Content-Length` and with streamed bodies, over HTTP/1.1 and h2c,
//! from hyper, a raw TCP client and Python's httpx. HTTP/1.1 connections close with a
//! lingering close (`serve::ConnectionSettings::lingering_time`); these tests also check its
//! bounds: a client that keeps writing is cut off, a silent one is closed after the linger
//! timeout, the drain holds no buffer, and the server serves others meanwhile.
//!
//! The allocator of this test binary counts live bytes for the memory test, which runs
//! alone (an exclusive lock); the others share the lock.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use asap_testing::fixtures::{rpc_request, task_request};
use asap_testing::{RawSender, TestAgent, TestClient};
use asap_transport_server::ServerConfig;
use bytes::Bytes;
use http::{Request, StatusCode, Version, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::RwLock;

#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// The memory test takes it exclusively; the others share it.
static HEAVY: RwLock<()> = RwLock::const_new(());

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;
/// The default request size limit.
const LIMIT: usize = 10 * MIB;
/// The default limit plus 64 KiB.
const OVERSIZE: usize = LIMIT + 64 * KIB;
/// Bodies sent, each over the limit. A streamed body is refused when it crosses the limit:
/// of `OVERSIZE` only the last bytes are left then, which hyper reads itself (the connection
/// stays open); of twice the limit, half is left to the lingering close.
const CASES: [(Framing, usize); 3] = [
    (Framing::Declared, OVERSIZE),
    (Framing::Streamed, OVERSIZE),
    (Framing::Streamed, 2 * LIMIT),
];
const AGENT: &str = "urn:asap:agent:default-server";
const CLIENT: &str = "urn:asap:agent:coordinator";

fn config() -> asap_transport_server::ServerConfigBuilder {
    ServerConfig::builder().rate_limit(None)
}

fn valid_body(input: Value) -> Vec<u8> {
    serde_json::to_vec(&rpc_request(&task_request(CLIENT, AGENT, input))).unwrap()
}

/// The 413 `detail` for a declared length of `length` bytes over the default limit.
fn declared_detail(length: usize) -> Value {
    json!({"detail": format!("Request size ({length} bytes) exceeds maximum (10485760 bytes)")})
}

/// Checks a 413 for a streamed body: the count is past the limit, at most what was sent.
fn assert_streamed_detail(body: &Value, sent: usize) {
    let detail = body["detail"].as_str().unwrap_or_default();
    let received: usize = detail
        .strip_prefix("Request size (")
        .and_then(|r| r.strip_suffix(" bytes) exceeds maximum (10485760 bytes)"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("detail {detail:?}"));
    assert!(received > LIMIT && received <= sent, "{received}");
}

/// A normal request on a fresh connection gets its echo.
async fn assert_still_serves(agent: &TestAgent) {
    let reply = TestClient::new()
        .with_timeout(Duration::from_secs(10))
        .post(
            &agent.url("/asap"),
            valid_body(json!({"still": "here"})),
            &[],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.envelope()["payload"]["result"],
        json!({"echoed": {"still": "here"}})
    );
}

// ---------------------------------------------------------------------------------------
// hyper's client, HTTP/1.1 and h2c
// ---------------------------------------------------------------------------------------

type ClientBody = BoxBody<Bytes, Infallible>;

#[derive(Debug, Clone, Copy)]
enum Framing {
    /// `Full`: `Content-Length` (HTTP/1.1) or a declared length (h2).
    Declared,
    /// A stream of 64 KiB frames without a length: chunked (HTTP/1.1), DATA frames (h2).
    Streamed,
}

/// A body of `size` bytes (a multiple of 64 KiB).
fn oversize_body(framing: Framing, size: usize) -> ClientBody {
    match framing {
        Framing::Declared => Full::new(Bytes::from(vec![b' '; size])).boxed(),
        Framing::Streamed => {
            let chunk = Bytes::from(vec![b' '; 64 * KIB]);
            let frames = (0..size / (64 * KIB)).map(move |_| Ok(Frame::data(chunk.clone())));
            StreamBody::new(futures_util::stream::iter(frames)).boxed()
        }
    }
}

/// One connection of hyper's low-level client, HTTP/1.1 or h2c.
enum Connection {
    Http1(hyper::client::conn::http1::SendRequest<ClientBody>),
    Http2(hyper::client::conn::http2::SendRequest<ClientBody>),
}

impl Connection {
    async fn open(agent: &TestAgent, version: Version) -> Self {
        let io = TokioIo::new(TcpStream::connect(agent.addr()).await.unwrap());
        if version == Version::HTTP_2 {
            let (send, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .unwrap();
            tokio::spawn(conn);
            Self::Http2(send)
        } else {
            let (send, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
            tokio::spawn(conn);
            Self::Http1(send)
        }
    }

    /// Sends `POST /asap` and reads the whole answer.
    async fn post(&mut self, body: ClientBody) -> Result<(StatusCode, Value), String> {
        let request = Request::post("/asap")
            .header(header::HOST, "127.0.0.1")
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .unwrap();
        let exchange = async {
            let response = match self {
                Self::Http1(send) => {
                    send.ready().await.map_err(|e| format!("not ready: {e}"))?;
                    send.send_request(request).await
                }
                Self::Http2(send) => {
                    send.ready().await.map_err(|e| format!("not ready: {e}"))?;
                    send.send_request(request).await
                }
            }
            .map_err(|e| format!("request failed: {e:?}"))?;
            let status = response.status();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("reading the body failed: {e:?}"))?
                .to_bytes();
            Ok((
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            ))
        };
        tokio::time::timeout(Duration::from_secs(30), exchange)
            .await
            .map_err(|_| "no answer within 30 s".to_owned())?
    }

    async fn post_valid(&mut self, n: u32) {
        let body = Full::new(Bytes::from(valid_body(json!({"n": n})))).boxed();
        let (status, reply) = self.post(body).await.expect("a normal request");
        assert_eq!(status, 200, "{reply}");
        assert_eq!(
            reply["result"]["envelope"]["payload"]["result"],
            json!({"echoed": {"n": n}})
        );
    }
}

async fn hyper_client_gets_the_413(version: Version) {
    let _shared = HEAVY.read().await;
    let agent = TestAgent::echo_with(config().build()).await;
    for (framing, size) in CASES {
        for reused in [false, true] {
            let case =
                format!("{version:?}, {framing:?} {size} bytes, reused connection: {reused}");
            let mut connection = Connection::open(&agent, version).await;
            if reused {
                connection.post_valid(1).await;
            }
            let (status, body) = connection
                .post(oversize_body(framing, size))
                .await
                .unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(status, 413, "{case}: {body}");
            match framing {
                Framing::Declared => assert_eq!(body, declared_detail(size), "{case}"),
                Framing::Streamed => assert_streamed_detail(&body, size),
            }
            if version == Version::HTTP_2 {
                // Only the stream was refused: the connection serves the next request.
                connection.post_valid(2).await;
            }
        }
    }
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_http1_client_gets_the_413() {
    hyper_client_gets_the_413(Version::HTTP_11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_h2c_client_gets_the_413_and_keeps_its_connection() {
    hyper_client_gets_the_413(Version::HTTP_2).await;
}

// ---------------------------------------------------------------------------------------
// A raw TCP client: every byte written, then the answer read
// ---------------------------------------------------------------------------------------

/// A whole `POST /asap` with a body of `size` bytes (a multiple of 64 KiB).
fn oversize_request(framing: Framing, size: usize) -> Vec<u8> {
    let head = |framing: &str| {
        format!(
            "POST /asap HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n{framing}\r\n\r\n"
        )
    };
    let mut request = Vec::with_capacity(size + 64 * KIB);
    match framing {
        Framing::Declared => {
            request.extend_from_slice(head(&format!("content-length: {size}")).as_bytes());
            request.resize(request.len() + size, b' ');
        }
        Framing::Streamed => {
            request.extend_from_slice(head("transfer-encoding: chunked").as_bytes());
            for _ in 0..size / (64 * KIB) {
                request.extend_from_slice(format!("{:x}\r\n", 64 * KIB).as_bytes());
                request.resize(request.len() + 64 * KIB, b' ');
                request.extend_from_slice(b"\r\n");
            }
            request.extend_from_slice(b"0\r\n\r\n");
        }
    }
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_client_writing_everything_first_reads_the_413() {
    let _shared = HEAVY.read().await;
    let agent = TestAgent::echo_with(config().build()).await;
    for (framing, size) in CASES {
        for reused in [false, true] {
            let case = format!("{framing:?} {size} bytes, reused connection: {reused}");
            let mut raw = RawSender::connect(agent.addr()).await.unwrap();
            if reused {
                raw.post_asap_keep_alive(&valid_body(json!({"first": true})), &[])
                    .await
                    .unwrap();
                let first = raw.read_response(Duration::from_secs(10)).await;
                assert_eq!(first.status(), Some(200), "{case}: {}", first.body());
                assert!(!first.closed, "{case}: closed after the first request");
            }
            // Every byte is accepted: without a lingering close the server resets the
            // connection while the body is still being written.
            tokio::time::timeout(
                Duration::from_secs(30),
                raw.send(&oversize_request(framing, size)),
            )
            .await
            .expect("the whole request is written within 30 s")
            .unwrap_or_else(|e| panic!("{case}: writing the body failed: {e}"));
            let reply = raw.read_response(Duration::from_secs(30)).await;
            assert_eq!(reply.error, None, "{case}: {}", reply.body());
            assert_eq!(reply.status(), Some(413), "{case}: {}", reply.body());
            match framing {
                Framing::Declared => assert_eq!(reply.json(), declared_detail(size)),
                Framing::Streamed => assert_streamed_detail(&reply.json(), size),
            }
            if size > OVERSIZE || matches!(framing, Framing::Declared) {
                // Body left unread: the connection ends, with the server's FIN (not a reset).
                let end = raw.read_reply(Duration::from_secs(30)).await;
                assert!(end.closed && end.error.is_none(), "{case}: {end:?}");
                assert!(end.bytes.is_empty(), "{case}: {end:?}");
            }
        }
    }
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Python's httpx, pooled connection reused after a first request
// ---------------------------------------------------------------------------------------

/// Sends, with one pooled `httpx.AsyncClient` connection each: a normal request then the
/// declared oversize body; the declared body on a fresh connection; a normal request then a
/// streamed body of twice the size. Prints each outcome as JSON (the local port shows which
/// connection carried it).
const HTTPX_CLIENT: &str = r#"
import asyncio, json, sys
import httpx

PORT, SIZE, FIRST = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()

PORTS = []

async def note_port(response):
    # Runs when the response head has arrived, while its connection is still open.
    stream = response.extensions.get("network_stream")
    address = stream.get_extra_info("client_addr") if stream is not None else None
    PORTS.append(address[1] if address else None)

async def exchange(client, content):
    try:
        response = await client.post(
            f"http://127.0.0.1:{PORT}/asap",
            content=content,
            headers={"content-type": "application/json"},
        )
        return {"status": response.status_code, "body": response.json(), "port": PORTS[-1]}
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error!r}"}

def pooled():
    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        timeout=30,
        event_hooks={"response": [note_port]},
    )

async def chunks(size):
    piece = b" " * 65536
    for _ in range(size // 65536):
        yield piece

async def main():
    out = {}
    async with pooled() as client:
        out["first"] = await exchange(client, FIRST)
        out["declared"] = await exchange(client, b" " * SIZE)
    async with pooled() as client:
        out["fresh"] = await exchange(client, b" " * SIZE)
    async with pooled() as client:
        out["first_before_streamed"] = await exchange(client, FIRST)
        out["streamed"] = await exchange(client, chunks(2 * SIZE))
    print(json.dumps(out))

asyncio.run(main())
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn httpx_on_a_reused_connection_gets_the_413() {
    let Some(python) = asap_testing::reference::python_or_skip("1.0.0") else {
        return;
    };
    let _shared = HEAVY.read().await;
    let agent = TestAgent::echo_with(config().build()).await;
    let first = String::from_utf8(valid_body(json!({"from": "httpx"}))).unwrap();
    let run = tokio::process::Command::new(python)
        .arg("-c")
        .arg(HTTPX_CLIENT)
        .arg(agent.addr().port().to_string())
        .arg(OVERSIZE.to_string())
        .arg(first)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("httpx finishes within 120 s")
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    for first in ["first", "first_before_streamed"] {
        assert_eq!(out[first]["status"], 200, "{out}");
        assert!(
            out[first]["body"]["result"]["envelope"].is_object(),
            "{out}"
        );
    }
    for refused in ["declared", "fresh", "streamed"] {
        assert_eq!(out[refused]["status"], 413, "{refused}: {out}");
    }
    assert_eq!(out["declared"]["body"], declared_detail(OVERSIZE), "{out}");
    assert_eq!(out["fresh"]["body"], declared_detail(OVERSIZE), "{out}");
    assert_streamed_detail(&out["streamed"]["body"], 2 * OVERSIZE);
    // The refused requests went over the connection of the first ones.
    assert!(out["first"]["port"].is_u64(), "{out}");
    assert_eq!(out["declared"]["port"], out["first"]["port"], "{out}");
    assert_eq!(
        out["streamed"]["port"], out["first_before_streamed"]["port"],
        "{out}"
    );
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Bounds of the lingering close
// ---------------------------------------------------------------------------------------

/// A declared length far over the limit: the body is never going to be read.
const HUGE: usize = 1024 * MIB;

/// Connects and writes the head of a `POST /asap` declaring [`HUGE`] bytes.
async fn start_huge_request(agent: &TestAgent) -> TcpStream {
    let mut stream = TcpStream::connect(agent.addr()).await.unwrap();
    let head = format!(
        "POST /asap HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {HUGE}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Reads until the server's FIN; the reply must be the 413 for [`HUGE`].
async fn read_huge_refusal(reader: &mut (impl AsyncReadExt + Unpin)) {
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut reply))
        .await
        .expect("the 413 and the server's FIN within 10 s")
        .expect("no reset");
    let text = String::from_utf8_lossy(&reply);
    assert!(text.starts_with("HTTP/1.1 413 "), "{text}");
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    assert_eq!(
        serde_json::from_str::<Value>(body).unwrap_or(Value::Null),
        declared_detail(HUGE)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_writing_slowly_forever_is_cut_off_at_the_lingering_time() {
    let _shared = HEAVY.read().await;
    let lingering_time = Duration::from_secs(1);
    let agent = TestAgent::echo_with(
        config()
            .lingering_time(lingering_time)
            .lingering_timeout(Duration::from_secs(30))
            .build(),
    )
    .await;
    let started = Instant::now();
    let (mut reader, mut writer) = start_huge_request(&agent).await.into_split();
    // 1 KiB every 50 ms, never idle for the linger timeout; at most 60 s of it.
    let writing = tokio::spawn(async move {
        let chunk = [b' '; KIB];
        for _ in 0..1_200 {
            if let Err(error) = writer.write_all(&chunk).await {
                return Some(error.kind());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    });
    read_huge_refusal(&mut reader).await;
    // The drain runs in that connection's task only: others are served meanwhile.
    assert_still_serves(&agent).await;
    let failed = tokio::time::timeout(Duration::from_secs(30), writing)
        .await
        .expect("the writer is cut off within 30 s")
        .unwrap();
    let elapsed = started.elapsed();
    assert!(failed.is_some(), "the writer was never cut off");
    assert!(elapsed >= lingering_time, "cut off after {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(20),
        "cut off only after {elapsed:?}"
    );
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_silent_after_the_413_is_closed_after_the_lingering_timeout() {
    let _shared = HEAVY.read().await;
    let lingering_timeout = Duration::from_millis(200);
    let agent = TestAgent::echo_with(
        config()
            .lingering_time(Duration::from_secs(120))
            .lingering_timeout(lingering_timeout)
            .build(),
    )
    .await;
    let mut stream = start_huge_request(&agent).await;
    stream.write_all(&[b' '; 64 * KIB]).await.unwrap();
    read_huge_refusal(&mut stream).await;
    // The server's end of the connection is gone once a write is answered with a reset.
    // Each probe comes after ten times the linger timeout of silence; had the drain gone on
    // (it lasts up to 120 s), every probe would have been read and discarded.
    let mut probes = 0;
    let cut_off = loop {
        tokio::time::sleep(10 * lingering_timeout).await;
        probes += 1;
        if stream.write_all(b" ").await.is_err() {
            break true;
        }
        if probes == 20 {
            break false;
        }
    };
    assert!(cut_off, "still draining after {probes} probes");
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}

/// Samples the live heap every 200 µs until stopped; returns the peak above the baseline.
fn watch_heap() -> (Arc<AtomicBool>, std::thread::JoinHandle<usize>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let baseline = ALLOCATOR.allocated();
    let handle = std::thread::spawn(move || {
        let mut peak = 0;
        while !flag.load(Ordering::Relaxed) {
            peak = peak.max(ALLOCATOR.allocated().saturating_sub(baseline));
            std::thread::sleep(Duration::from_micros(200));
        }
        peak
    });
    (stop, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_holds_no_buffer() {
    let _alone = HEAVY.write().await;
    let agent = TestAgent::echo_with(config().build()).await;
    let chunk = vec![b' '; MIB];
    let mut stream = start_huge_request(&agent).await;
    let (stop, watcher) = watch_heap();
    // 48 MiB, far more than the socket buffers hold: written only because the server reads
    // and discards it.
    let written = tokio::time::timeout(Duration::from_secs(60), async {
        for _ in 0..48 {
            stream.write_all(&chunk).await?;
        }
        stream.shutdown().await
    })
    .await
    .expect("48 MiB drained within 60 s");
    stop.store(true, Ordering::Relaxed);
    let peak = watcher.join().unwrap();
    eprintln!("draining 48 MiB: live heap peaked {peak} bytes above its baseline");
    written.expect("every byte is accepted");
    read_huge_refusal(&mut stream).await;
    assert!(
        peak < 8 * MIB,
        "the heap grew by {peak} bytes while draining"
    );
    assert_still_serves(&agent).await;
    agent.shutdown().await;
}
