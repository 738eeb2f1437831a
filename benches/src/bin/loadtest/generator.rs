//! The Rust load generators: closed loop (bounded by time or request count), open loop at a
//! fixed rate (latency counted from the scheduled send time, so a stalled server cannot hide
//! its queue: no coordinated omission), and many concurrent keep-alive connections.
//!
//! Every loop is bounded: by a deadline, a request count, or both, plus a hard limit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant as StdInstant};

use hdrhistogram::Histogram;
use serde_json::json;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::client::{Conn, Failure, Failures};
use crate::request::Template;

/// Time allowed for one connect or one request.
pub(crate) const CALL_LIMIT: Duration = Duration::from_secs(5);

/// A latency histogram in nanoseconds (1 ns to 120 s, 3 significant digits).
pub(crate) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000_000, 3).expect("valid histogram bounds")
}

fn record(hist: &mut Histogram<u64>, elapsed: Duration) {
    let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX).max(1);
    hist.saturating_record(nanos);
}

/// Percentiles of a histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Summary {
    pub(crate) count: u64,
    pub(crate) mean_us: f64,
    pub(crate) p50_us: f64,
    pub(crate) p90_us: f64,
    pub(crate) p95_us: f64,
    pub(crate) p99_us: f64,
    pub(crate) p999_us: f64,
    pub(crate) max_us: f64,
}

impl Summary {
    pub(crate) fn of(hist: &Histogram<u64>) -> Self {
        if hist.is_empty() {
            return Self::default();
        }
        let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
        Self {
            count: hist.len(),
            mean_us: hist.mean() / 1000.0,
            p50_us: us(0.50),
            p90_us: us(0.90),
            p95_us: us(0.95),
            p99_us: us(0.99),
            p999_us: us(0.999),
            max_us: hist.max() as f64 / 1000.0,
        }
    }

    pub(crate) fn to_json(self) -> serde_json::Value {
        json!({
            "count": self.count,
            "mean_us": round1(self.mean_us),
            "p50_us": round1(self.p50_us),
            "p90_us": round1(self.p90_us),
            "p95_us": round1(self.p95_us),
            "p99_us": round1(self.p99_us),
            "p999_us": round1(self.p999_us),
            "max_us": round1(self.max_us),
        })
    }
}

pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// What a closed loop stops on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound {
    /// Run for this long.
    Time(Duration),
    /// Issue this many requests in total.
    Requests(u64),
}

/// Result of a closed-loop run.
#[derive(Debug)]
pub(crate) struct ClosedReport {
    pub(crate) elapsed: Duration,
    pub(crate) ok: u64,
    pub(crate) failures: Failures,
    pub(crate) latency: Summary,
    /// The hard limit was reached before the bound.
    pub(crate) cut_short: bool,
}

impl ClosedReport {
    pub(crate) fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// `conns` connections, each sending the next request as soon as the previous answer is
/// read, until `bound`, or `hard_limit` at the latest. `progress` counts successful
/// requests as they complete (for samplers running beside the load).
pub(crate) async fn closed_loop(
    addr: SocketAddr,
    request: Arc<Template>,
    conns: usize,
    bound: Bound,
    hard_limit: Duration,
    progress: Arc<AtomicU64>,
) -> ClosedReport {
    let start = Instant::now();
    let hard_end = start + hard_limit;
    let issued = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..conns.max(1) {
        let mut request = request.lane();
        let issued = Arc::clone(&issued);
        let progress = Arc::clone(&progress);
        tasks.spawn(async move {
            let mut hist = histogram();
            let mut ok = 0_u64;
            let mut failures = Failures::default();
            let mut conn: Option<Conn> = None;
            let mut cut_short = false;
            loop {
                let now = Instant::now();
                if now >= hard_end {
                    cut_short = !matches!(bound, Bound::Time(d) if now >= start + d);
                    break;
                }
                match bound {
                    Bound::Time(d) if now >= start + d => break,
                    Bound::Requests(total) if issued.fetch_add(1, Ordering::Relaxed) >= total => {
                        break;
                    }
                    _ => {}
                }
                let c = match conn.as_mut() {
                    Some(c) => c,
                    None => match Conn::connect(addr, CALL_LIMIT).await {
                        Ok(c) => conn.insert(c),
                        Err(f) => {
                            failures.add(f);
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    },
                };
                let bytes = request.next_request();
                let sent = Instant::now();
                match c.call(bytes, CALL_LIMIT).await {
                    Ok(()) => {
                        record(&mut hist, sent.elapsed());
                        ok += 1;
                        progress.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(f) => {
                        failures.add(f);
                        if f.breaks_connection() {
                            conn = None;
                        }
                    }
                }
            }
            (hist, ok, failures, cut_short)
        });
    }
    let mut hist = histogram();
    let mut report = ClosedReport {
        elapsed: Duration::ZERO,
        ok: 0,
        failures: Failures::default(),
        latency: Summary::default(),
        cut_short: false,
    };
    while let Some(joined) = tasks.join_next().await {
        let (h, ok, failures, cut_short) = joined.expect("load task panicked");
        hist.add(&h).expect("same histogram bounds");
        report.ok += ok;
        report.failures.merge(&failures);
        report.cut_short |= cut_short;
    }
    report.elapsed = start.elapsed();
    report.latency = Summary::of(&hist);
    report
}

/// Result of an open-loop run.
#[derive(Debug)]
pub(crate) struct OpenReport {
    pub(crate) target_rate: f64,
    pub(crate) duration: Duration,
    pub(crate) connections: usize,
    /// Requests scheduled within the duration.
    pub(crate) scheduled: u64,
    pub(crate) ok: u64,
    pub(crate) failures: Failures,
    /// Scheduled requests not sent before the grace period ended (a backlog).
    pub(crate) unsent: u64,
    /// From the scheduled send time to the complete response: what a caller sending at
    /// this rate would see.
    pub(crate) from_schedule: Summary,
    /// From the actual send to the complete response.
    pub(crate) service: Summary,
    /// From the scheduled to the actual send time: pacer and task wake-up delay plus any
    /// backlog on the connection.
    pub(crate) send_lag: Summary,
}

impl OpenReport {
    pub(crate) fn achieved_rate(&self) -> f64 {
        self.ok as f64 / self.duration.as_secs_f64()
    }

    pub(crate) fn errors(&self) -> u64 {
        self.failures.total() + self.unsent
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        json!({
            "target_rate": self.target_rate,
            "duration_s": self.duration.as_secs_f64(),
            "connections": self.connections,
            "scheduled": self.scheduled,
            "ok": self.ok,
            "achieved_rate": round1(self.achieved_rate()),
            "failures": self.failures.to_json(),
            "unsent": self.unsent,
            "latency_from_schedule": self.from_schedule.to_json(),
            "latency_service": self.service.to_json(),
            "send_lag": self.send_lag.to_json(),
        })
    }
}

/// Sends `rate` requests per second for `duration`: request `g` (0, 1, 2…) is scheduled at
/// `g / rate` seconds after the start, on connection `g mod conns`. A pacer thread
/// (`std::thread::sleep`, a high-resolution timer, unlike tokio's 1 ms ticks) hands each
/// scheduled time to its connection's task when it comes; a connection still waiting for
/// an answer queues it and sends late, and that request's latency counts from its
/// scheduled time. Requests not sent within `grace` after the end are counted as unsent.
pub(crate) async fn open_loop(
    addr: SocketAddr,
    request: Arc<Template>,
    rate: f64,
    duration: Duration,
    conns: usize,
    grace: Duration,
) -> OpenReport {
    let conns = conns.max(1);
    let mut report = OpenReport {
        target_rate: rate,
        duration,
        connections: conns,
        scheduled: 0,
        ok: 0,
        failures: Failures::default(),
        unsent: 0,
        from_schedule: Summary::default(),
        service: Summary::default(),
        send_lag: Summary::default(),
    };
    // Connect first, so that connection setup is not part of the schedule.
    let mut opened = Vec::with_capacity(conns);
    for _ in 0..conns {
        match Conn::connect(addr, CALL_LIMIT).await {
            Ok(c) => opened.push(Some(c)),
            Err(f) => {
                report.failures.add(f);
                opened.push(None);
            }
        }
    }
    let total = (rate * duration.as_secs_f64()).floor() as u64;
    report.scheduled = total;
    let start = StdInstant::now() + Duration::from_millis(20);
    let hard_end = start + duration + grace;
    let (lanes, queues): (Vec<_>, Vec<_>) = (0..conns)
        .map(|_| mpsc::unbounded_channel::<StdInstant>())
        .unzip();
    let pacer = std::thread::spawn(move || {
        for g in 0..total {
            let at = start + Duration::from_secs_f64(g as f64 / rate);
            let now = StdInstant::now();
            if at > now {
                std::thread::sleep(at - now);
            }
            let _ = lanes[(g % conns as u64) as usize].send(at);
        }
    });
    let mut tasks = JoinSet::new();
    for (conn, mut queue) in opened.into_iter().zip(queues) {
        let mut request = request.lane();
        tasks.spawn(async move {
            let mut conn = conn;
            let mut from_schedule = histogram();
            let mut service = histogram();
            let mut lag = histogram();
            let mut ok = 0_u64;
            let mut failures = Failures::default();
            let mut unsent = 0_u64;
            while let Some(scheduled) = queue.recv().await {
                if StdInstant::now() >= hard_end {
                    unsent += 1;
                    while queue.recv().await.is_some() {
                        unsent += 1;
                    }
                    break;
                }
                let c = match conn.as_mut() {
                    Some(c) => c,
                    None => match Conn::connect(addr, CALL_LIMIT).await {
                        Ok(c) => conn.insert(c),
                        Err(f) => {
                            failures.add(f);
                            continue;
                        }
                    },
                };
                let bytes = request.next_request();
                let sent = StdInstant::now();
                let limit = CALL_LIMIT
                    .min(hard_end.saturating_duration_since(sent))
                    .max(Duration::from_millis(1));
                let result = c.call(bytes, limit).await;
                let done = StdInstant::now();
                match result {
                    Ok(()) => {
                        ok += 1;
                        record(&mut from_schedule, done - scheduled);
                        record(&mut service, done - sent);
                        record(&mut lag, sent.saturating_duration_since(scheduled));
                    }
                    Err(f) => {
                        failures.add(f);
                        if f.breaks_connection() {
                            conn = None;
                        }
                    }
                }
            }
            (from_schedule, service, lag, ok, failures, unsent)
        });
    }
    let (mut a, mut b, mut c) = (histogram(), histogram(), histogram());
    while let Some(joined) = tasks.join_next().await {
        let (h1, h2, h3, ok, failures, unsent) = joined.expect("load task panicked");
        a.add(&h1).expect("same bounds");
        b.add(&h2).expect("same bounds");
        c.add(&h3).expect("same bounds");
        report.ok += ok;
        report.failures.merge(&failures);
        report.unsent += unsent;
    }
    pacer.join().expect("pacer thread panicked");
    report.from_schedule = Summary::of(&a);
    report.service = Summary::of(&b);
    report.send_lag = Summary::of(&c);
    report
}

/// What the server looked like with every connection open.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Peak {
    pub(crate) rss_kib: Option<u64>,
    pub(crate) open_fds: Option<usize>,
}

/// Result of the many-connections run.
#[derive(Debug)]
pub(crate) struct ManyReport {
    /// Which server (label).
    pub(crate) server: String,
    pub(crate) target: usize,
    pub(crate) requests_per_connection: usize,
    /// Connections that connected and got their first answer.
    pub(crate) opened: usize,
    /// Time to open them all (with a bounded number of connects in flight).
    pub(crate) open_time: Duration,
    pub(crate) peak: Peak,
    /// Server RSS before the run.
    pub(crate) idle_rss_kib: Option<u64>,
    pub(crate) ok: u64,
    pub(crate) failures: Failures,
    /// Latency of the first request of each connection (sent right after its connect).
    pub(crate) first: Summary,
    /// Latency of the later requests, all connections sending at once.
    pub(crate) burst: Summary,
    pub(crate) total_time: Duration,
}

impl ManyReport {
    /// (peak − idle RSS) ÷ connections opened.
    pub(crate) fn rss_per_connection_kib(&self) -> Option<f64> {
        let (peak, idle) = (self.peak.rss_kib?, self.idle_rss_kib?);
        (self.opened > 0).then(|| (peak as f64 - idle as f64) / self.opened as f64)
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        json!({
            "server": self.server,
            "connections": self.target,
            "requests_per_connection": self.requests_per_connection,
            "opened": self.opened,
            "open_time_s": round3(self.open_time.as_secs_f64()),
            "server_rss_kib_idle": self.idle_rss_kib,
            "server_rss_kib_at_peak": self.peak.rss_kib,
            "server_rss_kib_per_connection": self.rss_per_connection_kib().map(round1),
            "server_open_fds_at_peak": self.peak.open_fds,
            "ok": self.ok,
            "failures": self.failures.to_json(),
            "errors": self.failures.total(),
            "latency_first_request": self.first.to_json(),
            "latency_later_requests": self.burst.to_json(),
            "total_time_s": round3(self.total_time.as_secs_f64()),
        })
    }
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Opens `n` keep-alive connections (at most `connect_concurrency` connects in flight),
/// each sending one request right away; with all of them open (`at_peak` samples the
/// server), every connection sends `per_conn - 1` more requests at once. Connections stay
/// open until the end.
pub(crate) async fn many_connections(
    addr: SocketAddr,
    request: Arc<Template>,
    n: usize,
    per_conn: usize,
    connect_concurrency: usize,
    at_peak: impl FnOnce() -> Peak,
) -> ManyReport {
    let start = Instant::now();
    let gate = Arc::new(Semaphore::new(connect_concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for _ in 0..n {
        let gate = Arc::clone(&gate);
        let mut request = request.lane();
        tasks.spawn(async move {
            let permit = gate.acquire_owned().await.expect("semaphore open");
            let mut conn = Conn::connect(addr, CALL_LIMIT).await?;
            let sent = Instant::now();
            conn.call(request.next_request(), CALL_LIMIT).await?;
            let elapsed = sent.elapsed();
            drop(permit);
            Ok::<_, Failure>((conn, request, elapsed))
        });
    }
    let mut conns = Vec::with_capacity(n);
    let mut failures = Failures::default();
    let mut first = histogram();
    while let Some(joined) = tasks.join_next().await {
        match joined.expect("connect task panicked") {
            Ok((conn, request, elapsed)) => {
                record(&mut first, elapsed);
                conns.push((conn, request));
            }
            Err(f) => failures.add(f),
        }
    }
    let open_time = start.elapsed();
    let opened = conns.len();
    let peak = at_peak();
    let mut tasks = JoinSet::new();
    for (mut conn, mut request) in conns {
        tasks.spawn(async move {
            let mut hist = histogram();
            let mut failures = Failures::default();
            let mut ok = 0_u64;
            for _ in 1..per_conn {
                let sent = Instant::now();
                match conn.call(request.next_request(), CALL_LIMIT * 2).await {
                    Ok(()) => {
                        ok += 1;
                        record(&mut hist, sent.elapsed());
                    }
                    Err(f) => {
                        failures.add(f);
                        if f.breaks_connection() {
                            break;
                        }
                    }
                }
            }
            (conn, hist, ok, failures)
        });
    }
    let mut burst = histogram();
    let mut ok = opened as u64;
    let mut keep = Vec::with_capacity(opened);
    while let Some(joined) = tasks.join_next().await {
        let (conn, hist, n_ok, f) = joined.expect("request task panicked");
        burst.add(&hist).expect("same bounds");
        ok += n_ok;
        failures.merge(&f);
        keep.push(conn);
    }
    let total_time = start.elapsed();
    drop(keep);
    ManyReport {
        server: String::new(),
        target: n,
        requests_per_connection: per_conn,
        opened,
        open_time,
        peak,
        idle_rss_kib: None,
        ok,
        failures,
        first: Summary::of(&first),
        burst: Summary::of(&burst),
        total_time,
    }
}
