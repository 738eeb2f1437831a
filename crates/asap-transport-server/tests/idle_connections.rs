//! Idle and unresponsive connections: thousands of idle h2c connections from one address do
//! not lock other clients out (the longest-idle ones are closed to make room), idle
//! connections are closed after the idle timeout but busy ones are not, the per-address
//! bound, the HTTP/2 stream bound, and peers that stop answering pings.
//!
//! Clients bind their sockets to distinct loopback addresses (Linux routes all of
//! 127.0.0.0/8 to `lo`), so the server sees one address per simulated host. The flood test
//! runs alone (an exclusive lock); the others share it.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use asap_testing::fixtures::{rpc_request, task_request};
use asap_testing::handlers::{Gate, scripted_builder};
use asap_testing::{TestAgent, TestClient};
use asap_transport_server::ServerConfig;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};
use tokio::sync::RwLock;

use support::{
    H2, PROMPTLY, connect_from, enough_file_descriptors, freezable_h2, h2_from, loopback,
};

/// The flood test takes it exclusively; the others share it.
static HEAVY: RwLock<()> = RwLock::const_new(());

/// Idle connections of the flood test; `ASAP_IDLE_FLOOD` overrides it (e.g. 10000 where
/// the descriptor limit allows about 2 × that many).
const DEFAULT_FLOOD: usize = 3_000;
/// Connections opened at once (below the listen backlog, so that no SYN cookies are used).
const WAVE: usize = 500;

const AGENT: &str = "urn:asap:agent:default-server";
const CLIENT: &str = "urn:asap:agent:coordinator";

fn config() -> asap_transport_server::ServerConfigBuilder {
    ServerConfig::builder().rate_limit(None)
}

/// `POST /asap` with a `task.request` whose input the scripted handler acts on.
fn asap_post(server: SocketAddr, input: Value) -> Request<Full<Bytes>> {
    let body = serde_json::to_vec(&rpc_request(&task_request(CLIENT, AGENT, input))).unwrap();
    Request::post(format!("http://{server}/asap"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

/// `GET /health` from 127.0.0.1 on a fresh HTTP/1.1 connection answers 200 within
/// [`PROMPTLY`]; returns how long it took.
async fn health_from_another_host(agent: &TestAgent) -> Duration {
    let started = Instant::now();
    let reply = TestClient::new()
        .with_timeout(PROMPTLY)
        .try_request(
            Request::get(agent.url("/health"))
                .body(Full::default())
                .unwrap(),
        )
        .await
        .unwrap_or_else(|e| panic!("GET /health from another host: {e}"));
    assert_eq!(reply.status, 200);
    started.elapsed()
}

// ---------------------------------------------------------------------------------------
// One host's idle connections do not lock others out
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_h2c_connections_from_one_host_do_not_lock_out_others() {
    let _alone = HEAVY.write().await;
    let flood: usize = std::env::var("ASAP_IDLE_FLOOD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_FLOOD);
    // Client and server side of every connection live in this process, plus slack.
    if let Err(why) = enough_file_descriptors(2 * flood as u64 + 200) {
        eprintln!("SKIPPED idle_h2c_connections_from_one_host_do_not_lock_out_others: {why}");
        return;
    }
    // Every slot can be taken by the flood; the idle timeout is far away, so only the
    // reclaim of idle connections can make room.
    let agent = TestAgent::echo_with(
        config()
            .max_connections(flood)
            .idle_timeout(Duration::from_secs(300))
            .build(),
    )
    .await;
    let server = agent.addr();
    let flooder = loopback(2);
    let started = Instant::now();

    // Each flood connection makes one request and then stays silent (its driver answers
    // pings and GOAWAY, like any HTTP/2 client).
    let mut idle: Vec<H2> = Vec::with_capacity(flood);
    for wave in 0..flood.div_ceil(WAVE) {
        let mut opening = tokio::task::JoinSet::new();
        for i in wave * WAVE..((wave + 1) * WAVE).min(flood) {
            opening.spawn(async move {
                let mut h2 = h2_from(flooder, server).await?;
                let status = h2.health(server).await?;
                if status != StatusCode::OK {
                    return Err(format!("status {status}"));
                }
                Ok::<_, String>((i, h2))
            });
        }
        let mut opened = Vec::with_capacity(WAVE);
        while let Some(joined) = opening.join_next().await {
            opened.push(
                joined
                    .unwrap()
                    .unwrap_or_else(|e| panic!("flood connection: {e}")),
            );
        }
        opened.sort_by_key(|(i, _)| *i);
        idle.extend(opened.into_iter().map(|(_, h2)| h2));
    }
    let opened_in = started.elapsed();
    assert!(
        idle.iter().all(|h2| !h2.is_closed()),
        "a flood connection was closed while slots were free"
    );

    // Every slot is taken by an idle connection; another host is served promptly, over
    // HTTP/1.1 and over h2c.
    let h1_took = health_from_another_host(&agent).await;
    let started_h2 = Instant::now();
    let mut other = h2_from(loopback(1), server)
        .await
        .expect("h2c from another host");
    assert_eq!(other.health(server).await, Ok(StatusCode::OK));
    let h2_took = started_h2.elapsed();

    // Room was made by closing a few of the longest-idle connections (from the first wave),
    // not by closing them all.
    let deadline = Instant::now() + PROMPTLY;
    let closed = loop {
        let closed: Vec<usize> = (0..flood).filter(|&i| idle[i].is_closed()).collect();
        if !closed.is_empty() || Instant::now() > deadline {
            break closed;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!closed.is_empty(), "no idle connection was closed");
    assert!(
        closed.len() <= 64,
        "{} idle connections were closed for 2 new ones",
        closed.len()
    );
    assert!(
        closed.iter().all(|&i| i < WAVE),
        "closed connections are not among the longest idle: {closed:?}"
    );
    for i in &closed {
        let ended = (&mut idle[*i].driver).await.unwrap();
        assert!(ended.is_ok(), "{i}: closed with an error: {ended:?}");
    }
    // A connection that was not closed still works (a request on an open connection needs
    // no new slot).
    let survivor = idle.last_mut().unwrap();
    assert_eq!(survivor.health(server).await, Ok(StatusCode::OK));
    eprintln!(
        "{flood} idle h2c connections opened in {opened_in:?}; with every slot taken, GET /health \
         from another host took {h1_took:?} (HTTP/1.1) and {h2_took:?} (h2c); {} idle connections \
         were closed to make room",
        closed.len()
    );

    // Shutdown closes the idle connections instead of waiting for the drain timeout.
    let shutdown_started = Instant::now();
    tokio::time::timeout(Duration::from_secs(20), agent.shutdown())
        .await
        .expect("shutdown with thousands of idle connections");
    eprintln!("shutdown took {:?}", shutdown_started.elapsed());
    drop(other);
}

// ---------------------------------------------------------------------------------------
// Idle timeout
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let _shared = HEAVY.read().await;
    let idle_timeout = Duration::from_millis(500);
    let agent = TestAgent::echo_with(config().idle_timeout(idle_timeout).build()).await;
    let server = agent.addr();

    // h2c: closed with a GOAWAY (the client's connection ends without an error).
    let mut h2 = h2_from(loopback(3), server).await.unwrap();
    assert_eq!(h2.health(server).await, Ok(StatusCode::OK));
    let (waited, ended) = h2
        .closed_within(PROMPTLY)
        .await
        .expect("the idle h2c connection is closed");
    assert!(
        waited >= idle_timeout - Duration::from_millis(100),
        "closed after {waited:?}, before the idle timeout"
    );
    assert!(ended.is_ok(), "{ended:?}");

    // HTTP/1.1 keep-alive, idle between requests (the header read timeout is 10 s).
    let mut raw = asap_testing::RawSender::connect(server).await.unwrap();
    let body = serde_json::to_vec(&rpc_request(&task_request(CLIENT, AGENT, json!({})))).unwrap();
    raw.post_asap_keep_alive(&body, &[]).await.unwrap();
    let reply = raw.read_response(PROMPTLY).await;
    assert_eq!(reply.status(), Some(200));
    assert!(!reply.closed);
    let started = Instant::now();
    let reply = raw.read_reply(PROMPTLY).await;
    assert!(reply.closed, "the idle HTTP/1.1 connection is closed");
    assert!(reply.bytes.is_empty(), "{:?}", reply.body());
    assert!(started.elapsed() >= idle_timeout - Duration::from_millis(100));
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_keeps_its_connection_past_the_idle_timeout() {
    let _shared = HEAVY.read().await;
    let idle_timeout = Duration::from_millis(300);
    let gate = Gate::new();
    let agent = TestAgent::start(scripted_builder(
        config().idle_timeout(idle_timeout).build(),
        &gate,
    ))
    .await;
    let server = agent.addr();
    let mut h2 = h2_from(loopback(4), server).await.unwrap();
    let started = Instant::now();
    let (status, body) = h2
        .send(asap_post(server, json!({"sleep_ms": 1500})), true)
        .await
        .expect("the slow request is answered");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["result"]["envelope"]["payload"]["result"],
        json!({"echoed": {"sleep_ms": 1500}})
    );
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert!(
        !h2.is_closed(),
        "closed while its request was in flight ({:?} > idle timeout)",
        started.elapsed()
    );
    // Idle from now on: closed after the idle timeout.
    let (waited, ended) = h2.closed_within(PROMPTLY).await.expect("closed once idle");
    assert!(
        waited >= idle_timeout - Duration::from_millis(100),
        "{waited:?}"
    );
    assert!(ended.is_ok(), "{ended:?}");
    agent.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Per-address bound
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_per_address_bound_are_closed() {
    let _shared = HEAVY.read().await;
    let agent = TestAgent::echo_with(config().max_connections_per_ip(Some(3)).build()).await;
    let server = agent.addr();
    let host = loopback(5);
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut h2 = h2_from(host, server).await.unwrap();
        assert_eq!(h2.health(server).await, Ok(StatusCode::OK));
        held.push(h2);
    }
    // A fourth from the same address is closed without an answer.
    let mut fourth = h2_from(host, server).await.unwrap();
    let refused = fourth.health(server).await;
    assert!(refused.is_err(), "{refused:?}");
    assert!(fourth.closed_within(PROMPTLY).await.is_some());
    // Another address is not affected; HTTP/1.1 counts the same.
    let mut elsewhere = h2_from(loopback(6), server).await.unwrap();
    assert_eq!(elsewhere.health(server).await, Ok(StatusCode::OK));
    let stream = connect_from(host, server).await.unwrap();
    let mut over_h1 = tokio::io::BufStream::new(stream);
    tokio::io::AsyncWriteExt::write_all(
        &mut over_h1,
        b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n",
    )
    .await
    .unwrap();
    tokio::io::AsyncWriteExt::flush(&mut over_h1).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        PROMPTLY,
        tokio::io::AsyncReadExt::read_to_end(&mut over_h1, &mut answer),
    )
    .await
    .expect("the HTTP/1.1 connection over the bound is closed");
    assert!(
        answer.is_empty(),
        "answered: {:?} ({read:?})",
        String::from_utf8_lossy(&answer)
    );

    // Once one of the three is closed, the address may open another.
    held.pop().unwrap().close();
    let deadline = Instant::now() + PROMPTLY;
    loop {
        let mut again = h2_from(host, server).await.unwrap();
        if again.health(server).await == Ok(StatusCode::OK) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the address stays at its bound after a connection closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    agent.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// HTTP/2 streams and pings
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_streams_per_connection_are_bounded() {
    let _shared = HEAVY.read().await;
    let gate = Gate::new();
    let agent = TestAgent::start(scripted_builder(
        config().http2_max_concurrent_streams(2).build(),
        &gate,
    ))
    .await;
    let server = agent.addr();
    let mut h2 = h2_from(loopback(7), server).await.unwrap();
    // One exchange first, so that the client has the server's SETTINGS.
    assert_eq!(h2.health(server).await, Ok(StatusCode::OK));
    let mut waiting = tokio::task::JoinSet::new();
    for n in 0..3 {
        let mut sender = h2.sender.clone();
        waiting.spawn(async move {
            let response = sender
                .send_request(asap_post(server, json!({"wait": true, "n": n})))
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(response.status())
        });
    }
    tokio::time::timeout(PROMPTLY, gate.entered(2))
        .await
        .expect("two requests reach the handler");
    // The third stream is not opened while two are: the client holds it back, as the
    // server's SETTINGS_MAX_CONCURRENT_STREAMS says. (If the bound were not applied, the
    // third request would reach the handler within this wait.)
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(gate.entered_count(), 2);
    gate.open();
    let all = async {
        let mut statuses = Vec::new();
        while let Some(joined) = waiting.join_next().await {
            statuses.push(joined.unwrap());
        }
        statuses
    };
    let statuses = tokio::time::timeout(PROMPTLY, all)
        .await
        .expect("all answered");
    assert_eq!(statuses, vec![Ok(StatusCode::OK); 3]);
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_answering_pings_is_closed() {
    let _shared = HEAVY.read().await;
    let gate = Gate::new();
    // Neither the idle timeout nor the request timeout comes into play: a request stays in
    // flight, and both are long.
    let agent = TestAgent::start(scripted_builder(
        config()
            .idle_timeout(Duration::from_secs(60))
            .request_timeout(Duration::from_secs(60))
            .http2_keep_alive_interval(Some(Duration::from_millis(200)))
            .http2_keep_alive_timeout(Duration::from_millis(300))
            .build(),
        &gate,
    ))
    .await;
    let server = agent.addr();
    let (mut h2, frozen, closed) = freezable_h2(loopback(8), server).await;
    assert_eq!(h2.health(server).await, Ok(StatusCode::OK));
    let mut sender = h2.sender.clone();
    let _in_flight = tokio::spawn(async move {
        sender
            .send_request(asap_post(server, json!({"wait": true})))
            .await
    });
    tokio::time::timeout(PROMPTLY, gate.entered(1))
        .await
        .expect("the request reaches its handler");
    // While the peer answers, pings keep the busy connection open.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!h2.is_closed());

    frozen.store(true, Ordering::SeqCst);
    let started = Instant::now();
    tokio::time::timeout(PROMPTLY, closed.notified())
        .await
        .expect("the server closes a connection whose pings go unanswered");
    eprintln!(
        "unanswered pings closed the connection after {:?}",
        started.elapsed()
    );
    gate.open();
    agent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_that_never_answer_do_not_hold_up_shutdown() {
    let _shared = HEAVY.read().await;
    let agent =
        TestAgent::echo_with(config().shutdown_timeout(Duration::from_secs(30)).build()).await;
    let server = agent.addr();
    // One peer that answers (it closes on the GOAWAY) and one that stopped reading (it never
    // answers the GOAWAY's ping).
    let mut answering = h2_from(loopback(9), server).await.unwrap();
    assert_eq!(answering.health(server).await, Ok(StatusCode::OK));
    let (mut silent, frozen, closed) = freezable_h2(loopback(9), server).await;
    assert_eq!(silent.health(server).await, Ok(StatusCode::OK));
    frozen.store(true, Ordering::SeqCst);

    let started = Instant::now();
    tokio::time::timeout(PROMPTLY, agent.shutdown())
        .await
        .expect("shutdown ends well before the 30 s drain timeout");
    let took = started.elapsed();
    tokio::time::timeout(PROMPTLY, closed.notified())
        .await
        .expect("the silent connection was closed");
    let (_, ended) = answering
        .closed_within(PROMPTLY)
        .await
        .expect("the answering connection was closed");
    assert!(ended.is_ok(), "{ended:?}");
    eprintln!("shutdown with an unresponsive idle peer took {took:?}");
    drop(silent.sender);
}
