//! `loadtest`: the load benchmarks of asap-rs, run by `cargo xtask bench`.
//!
//! Sections (all by default, `--only` picks some):
//!
//! - `matrix`: closed-loop throughput and latency of `raw-hyper`, `axum-echo`,
//!   `actix-echo` and `asap serve` (1 and 2 runtime workers) and of the Python reference, at 1, 16 and 64
//!   connections, several short runs each, with wrk and `benches/load/post.lua` (or the
//!   built-in closed loop with `--builtin-closed-loop` or when wrk is missing). Runs are
//!   interleaved across servers so that background noise hits every server alike.
//! - `fixed`: 1,000 req/s open loop against `asap serve` for 60 s, latency counted from each
//!   request's scheduled send time.
//! - `ramp`: rising open-loop rates until errors, a backlog, or p99 above 10× the `fixed` p99.
//! - `connections`: 10,000 concurrent keep-alive connections, a few requests each.
//! - `memory`: `asap serve` RSS sampled over 1,000,000 requests.
//!
//! Every request carries a fresh `params.idempotency_key` (see `request.rs`). Every server
//! listens on 127.0.0.1 only; the echo handler has no artificial delay.
//! Results go to `<out>/<date>.json`, `<out>/<date>.md` and `<out>/<date>-latency.svg`.

mod client;
mod generator;
mod metrics_cost;
mod pinning;
mod report;
mod request;
mod servers;
mod wrk;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use clap::{Parser, ValueEnum};

use crate::generator::{Bound, ClosedReport, ManyReport, OpenReport, Peak};
use crate::request::{KEY_PLACEHOLDER, Template};
use crate::servers::{Kind, Programs, Server};
use crate::wrk::Wrk;

/// Load benchmarks of asap-rs against raw hyper, axum, actix-web and the Python reference.
#[derive(Debug, Parser)]
struct Args {
    /// Output directory [default: benches/results, or target/bench-smoke with --smoke].
    #[arg(long)]
    out: Option<PathBuf>,
    /// A ~10-second end-to-end version (CI): fails on any request error.
    #[arg(long)]
    smoke: bool,
    /// Directory holding `asap`, `raw-hyper`, `axum-echo` and `actix-echo` [default: this
    /// program's].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// wrk program (closed-loop matrix).
    #[arg(long, default_value = "wrk")]
    wrk: String,
    /// wrk threads (`-t`) [default: the server's runtime workers (1 for the reference)].
    #[arg(long)]
    wrk_threads: Option<usize>,
    /// Use the built-in closed-loop generator instead of wrk.
    #[arg(long)]
    builtin_closed_loop: bool,
    /// Leave one-worker servers and the load generator unpinned (by default, with two or
    /// more CPUs, they run on CPUs 0 and 1 respectively).
    #[arg(long)]
    no_pin: bool,
    /// Runtime threads of the built-in generators.
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// Run only these sections.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Section>,
    /// Leave out the Python reference.
    #[arg(long)]
    no_reference: bool,
    /// The built-in generators send the same idempotency key on every request instead of a
    /// fresh one (to measure what fresh keys cost them; wrk always sends fresh keys).
    #[arg(long)]
    fixed_key: bool,
    /// An argument added to every `asap serve` command line after the harness's own (may
    /// be repeated), e.g. `--asap-arg=--idempotency --asap-arg=off`.
    #[arg(long = "asap-arg", allow_hyphen_values = true)]
    asap_args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Section {
    Matrix,
    Fixed,
    Ramp,
    Connections,
    Memory,
    MetricsCost,
}

/// How much of everything to run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) workers: Vec<usize>,
    pub(crate) connections: Vec<usize>,
    pub(crate) runs: usize,
    pub(crate) run_time: Duration,
    pub(crate) warmup: Duration,
    pub(crate) reference_runs: usize,
    pub(crate) reference_time: Duration,
    pub(crate) fixed_rate: f64,
    pub(crate) fixed_time: Duration,
    pub(crate) fixed_connections: usize,
    pub(crate) ramp_rates: Vec<f64>,
    pub(crate) ramp_step: Duration,
    pub(crate) many: usize,
    pub(crate) many_requests: usize,
    pub(crate) memory_requests: u64,
    pub(crate) memory_warmup: u64,
    pub(crate) memory_connections: usize,
}

impl Plan {
    fn full() -> Self {
        Self {
            workers: vec![1, 2],
            connections: vec![1, 16, 64],
            runs: 3,
            run_time: Duration::from_secs(5),
            warmup: Duration::from_secs(1),
            reference_runs: 3,
            reference_time: Duration::from_secs(3),
            fixed_rate: 1000.0,
            fixed_time: Duration::from_secs(60),
            fixed_connections: 64,
            ramp_rates: vec![2e3, 5e3, 1e4, 1.5e4, 2e4, 3e4, 4e4, 6e4, 8e4],
            ramp_step: Duration::from_secs(5),
            many: 10_000,
            many_requests: 4,
            memory_requests: 1_000_000,
            memory_warmup: 100_000,
            memory_connections: 16,
        }
    }

    fn smoke() -> Self {
        Self {
            workers: vec![2],
            connections: vec![16],
            runs: 1,
            run_time: Duration::from_secs(1),
            warmup: Duration::from_secs(1),
            reference_runs: 1,
            reference_time: Duration::from_secs(1),
            fixed_time: Duration::from_secs(10),
            ramp_rates: vec![2e3, 5e3],
            ramp_step: Duration::from_secs(1),
            many: 1_000,
            many_requests: 2,
            memory_requests: 50_000,
            memory_warmup: 10_000,
            ..Self::full()
        }
    }

    /// Open-loop connections for `rate`: enough that each sends at most 250 req/s.
    pub(crate) fn ramp_connections(rate: f64) -> usize {
        ((rate / 250.0).ceil() as usize).max(64)
    }
}

/// One server × workers × connections cell of the matrix.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    pub(crate) kind: Kind,
    pub(crate) workers: Option<usize>,
    pub(crate) connections: usize,
    pub(crate) runs: Vec<Run>,
}

/// One closed-loop run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    pub(crate) rate: f64,
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) p50_us: f64,
    pub(crate) p90_us: f64,
    pub(crate) p99_us: f64,
    pub(crate) p999_us: f64,
    pub(crate) max_us: f64,
}

pub(crate) fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

impl Cell {
    fn collect(&self, f: impl Fn(&Run) -> f64) -> Vec<f64> {
        self.runs.iter().map(f).collect()
    }
    pub(crate) fn rate(&self) -> f64 {
        median(&mut self.collect(|r| r.rate))
    }
    pub(crate) fn rate_min(&self) -> f64 {
        self.collect(|r| r.rate)
            .into_iter()
            .fold(f64::INFINITY, f64::min)
    }
    pub(crate) fn rate_max(&self) -> f64 {
        self.collect(|r| r.rate).into_iter().fold(0.0, f64::max)
    }
    pub(crate) fn p50(&self) -> f64 {
        median(&mut self.collect(|r| r.p50_us))
    }
    pub(crate) fn p99(&self) -> f64 {
        median(&mut self.collect(|r| r.p99_us))
    }
    pub(crate) fn p99_max(&self) -> f64 {
        self.collect(|r| r.p99_us).into_iter().fold(0.0, f64::max)
    }
    pub(crate) fn errors(&self) -> u64 {
        self.runs.iter().map(|r| r.errors).sum()
    }
    pub(crate) fn label(&self) -> String {
        servers::label(self.kind, self.workers)
    }
}

/// One ramp step and whether it broke.
#[derive(Debug)]
pub(crate) struct RampStep {
    pub(crate) report: OpenReport,
    pub(crate) broke: Option<String>,
}

/// The stress ramp.
#[derive(Debug)]
pub(crate) struct Ramp {
    pub(crate) baseline_p99_us: f64,
    pub(crate) steps: Vec<RampStep>,
}

impl Ramp {
    /// The last rate that held, and the first that broke.
    pub(crate) fn breaking_point(&self) -> (Option<f64>, Option<f64>) {
        let held = self
            .steps
            .iter()
            .take_while(|s| s.broke.is_none())
            .last()
            .map(|s| s.report.target_rate);
        let broke = self
            .steps
            .iter()
            .find(|s| s.broke.is_some())
            .map(|s| s.report.target_rate);
        (held, broke)
    }
}

/// The memory run.
#[derive(Debug)]
pub(crate) struct Memory {
    pub(crate) load: ClosedReport,
    pub(crate) connections: usize,
    pub(crate) requests: u64,
    pub(crate) warmup_requests: u64,
    pub(crate) idle_rss_kib: u64,
    pub(crate) warm_rss_kib: u64,
    pub(crate) max_rss_after_warmup_kib: u64,
    pub(crate) final_rss_kib: u64,
    /// (seconds, requests done, RSS KiB).
    pub(crate) samples: Vec<(f64, u64, u64)>,
}

impl Memory {
    pub(crate) fn growth_kib(&self) -> i64 {
        self.final_rss_kib as i64 - self.warm_rss_kib as i64
    }
}

/// Everything measured.
#[derive(Debug)]
pub(crate) struct Results {
    pub(crate) plan: Plan,
    pub(crate) smoke: bool,
    pub(crate) date: String,
    pub(crate) started_utc: String,
    pub(crate) elapsed: Duration,
    pub(crate) commit: String,
    pub(crate) machine: serde_json::Value,
    pub(crate) closed_generator: String,
    /// How the closed-loop matrix placed servers and generator on CPUs.
    pub(crate) pinning: String,
    pub(crate) open_generator: String,
    pub(crate) body_bytes: usize,
    /// Arguments added to every `asap serve` command line (`--asap-arg`).
    pub(crate) asap_args: Vec<String>,
    pub(crate) matrix: Vec<Cell>,
    pub(crate) fixed: Option<OpenReport>,
    pub(crate) ramp: Option<Ramp>,
    pub(crate) many: Option<ManyReport>,
    /// The same run against raw-hyper, axum-echo and actix-echo (for memory per connection).
    pub(crate) many_baselines: Vec<ManyReport>,
    pub(crate) memory: Option<Memory>,
    /// `asap` and `asap-nometrics` cells of the metrics-cost section.
    pub(crate) metrics_cost: Vec<Cell>,
    pub(crate) forced_kills: Vec<String>,
    pub(crate) loadavg: Vec<(String, String)>,
    pub(crate) nofile_limit: u64,
}

/// The benchmark body template: the specification example task_request (the `small`
/// fixture) without `timestamp`, so the server stamps it and it never leaves the timestamp
/// window, and with `params.idempotency_key` as real clients send it ([`KEY_PLACEHOLDER`],
/// replaced by a fresh key on every request).
fn body() -> Vec<u8> {
    let mut envelope = asap_benches::envelope_value(asap_benches::Size::Small);
    if let Some(map) = envelope.as_object_mut() {
        map.shift_remove("timestamp");
    }
    let request = serde_json::json!({
        "jsonrpc": "2.0",
        "method": "asap.send",
        "params": { "envelope": envelope, "idempotency_key": KEY_PLACEHOLDER },
        "id": asap_benches::REQUEST_ID,
    });
    serde_json::to_vec(&request).expect("a Value serializes")
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.is_file().then_some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn utc_now() -> (String, String) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (y, m, d) = asap_benches::echo::civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        ),
    )
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn commit() -> String {
    let root = manifest_dir().parent().unwrap_or(manifest_dir());
    let root = root.to_string_lossy();
    let hash = command_line("git", &["-C", &root, "rev-parse", "--short", "HEAD"])
        .unwrap_or_else(|| "unknown".into());
    let dirty =
        command_line("git", &["-C", &root, "status", "--porcelain"]).is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{hash} (with uncommitted changes)")
    } else {
        hash
    }
}

fn machine() -> serde_json::Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let mem_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    serde_json::json!({
        "cpus": std::thread::available_parallelism().map_or(0, usize::from),
        "cpu": cpu,
        "memory_gib": (mem_kib as f64 / 1_048_576.0 * 10.0).round() / 10.0,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
        "rustc": command_line("rustc", &["-V"]).unwrap_or_default(),
    })
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Raises this process's open-file limit (children inherit it): the hard limit too when
/// allowed (root), else the soft limit up to the hard one.
fn raise_nofile() -> u64 {
    const WANTED: u64 = 65_536;
    if rlimit::setrlimit(rlimit::Resource::NOFILE, WANTED, WANTED).is_ok() {
        return WANTED;
    }
    rlimit::increase_nofile_limit(WANTED).unwrap_or(0)
}

fn runtime(threads: usize) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .context("cannot start the generator runtime")
}

/// How the closed-loop runs are driven.
enum ClosedLoop {
    Wrk(Wrk),
    Builtin(usize),
}

impl ClosedLoop {
    fn run(
        &self,
        server: &Server,
        request: &Arc<Template>,
        conns: usize,
        time: Duration,
    ) -> Result<Run> {
        let addr = server.addr;
        match self {
            ClosedLoop::Wrk(wrk) => {
                let out = wrk.run(
                    addr,
                    server.workers.unwrap_or(1),
                    conns,
                    time,
                    server.pinned,
                )?;
                Ok(Run {
                    rate: out.rate(),
                    requests: out.requests,
                    errors: out.errors.total(),
                    p50_us: out.latency_us.p50,
                    p90_us: out.latency_us.p90,
                    p99_us: out.latency_us.p99,
                    p999_us: out.latency_us.p999,
                    max_us: out.latency_us.max.max(out.latency_us.mean),
                })
            }
            ClosedLoop::Builtin(threads) => {
                let report = runtime(*threads)?.block_on(generator::closed_loop(
                    addr,
                    Arc::clone(request),
                    conns,
                    Bound::Time(time),
                    time + Duration::from_secs(15),
                    Arc::new(AtomicU64::new(0)),
                ));
                Ok(Run {
                    rate: report.rate(),
                    requests: report.ok,
                    errors: report.failures.total(),
                    p50_us: report.latency.p50_us,
                    p90_us: report.latency.p90_us,
                    p99_us: report.latency.p99_us,
                    p999_us: report.latency.p999_us,
                    max_us: report.latency.max_us,
                })
            }
        }
    }
}

struct Harness {
    plan: Plan,
    programs: Programs,
    body: Vec<u8>,
    client_threads: usize,
    fixed_key: bool,
    /// Pin one-worker servers and the reference to [`pinning::SERVER_CPU`] in the matrix.
    pin: bool,
    forced_kills: Vec<String>,
}

impl Harness {
    fn start(&self, kind: Kind, workers: Option<usize>) -> Result<Server> {
        eprintln!("starting {}", servers::label(kind, workers));
        Server::start(kind, workers, &self.programs, &self.body)
    }

    /// [`Harness::start`], then pinned to its own CPU when it has one worker (or is the
    /// single-process reference) and pinning is on.
    fn start_for_matrix(&self, kind: Kind, workers: Option<usize>) -> Result<Server> {
        let mut server = self.start(kind, workers)?;
        if self.pin && (workers == Some(1) || kind == Kind::Reference) {
            let pid = server.pid().context("server has no pid")?;
            pinning::pin_process(pid, pinning::SERVER_CPU)?;
            server.pinned = true;
        }
        Ok(server)
    }

    fn stop(&mut self, mut server: Server) -> Result<()> {
        if server.stop()? {
            self.forced_kills.push(server.label());
        }
        Ok(())
    }

    fn request(&self, addr: SocketAddr) -> Result<Arc<Template>> {
        Ok(Arc::new(Template::new(addr, &self.body, self.fixed_key)?))
    }

    fn matrix(&mut self, closed: &ClosedLoop, with_reference: bool) -> Result<Vec<Cell>> {
        let plan = self.plan.clone();
        let mut running = Vec::new();
        for &workers in &plan.workers {
            for kind in [Kind::RawHyper, Kind::AxumEcho, Kind::ActixEcho, Kind::Asap] {
                running.push(self.start_for_matrix(kind, Some(workers))?);
            }
        }
        let mut cells: Vec<Cell> = Vec::new();
        for server in &running {
            let request = self.request(server.addr)?;
            closed.run(server, &request, 16, plan.warmup)?;
            for &connections in &plan.connections {
                cells.push(Cell {
                    kind: server.kind,
                    workers: server.workers,
                    connections,
                    runs: Vec::new(),
                });
            }
        }
        // Interleaved: run → connections → server, so drifting background load is shared.
        for run in 0..plan.runs {
            for &connections in &plan.connections {
                for server in &running {
                    let request = self.request(server.addr)?;
                    let result = closed.run(server, &request, connections, plan.run_time)?;
                    eprintln!(
                        "  run {}/{} {:<14} c{:<3} {:>9.0} req/s  p50 {:>8.1} µs  p99 {:>8.1} µs  errors {}",
                        run + 1,
                        plan.runs,
                        server.label(),
                        connections,
                        result.rate,
                        result.p50_us,
                        result.p99_us,
                        result.errors
                    );
                    let cell = cells
                        .iter_mut()
                        .find(|c| {
                            c.kind == server.kind
                                && c.workers == server.workers
                                && c.connections == connections
                        })
                        .expect("cell exists");
                    cell.runs.push(result);
                }
            }
        }
        for server in running {
            self.stop(server)?;
        }
        if with_reference {
            let server = self.start_for_matrix(Kind::Reference, None)?;
            let request = self.request(server.addr)?;
            closed.run(&server, &request, 16, plan.warmup)?;
            for &connections in &plan.connections {
                let mut cell = Cell {
                    kind: Kind::Reference,
                    workers: None,
                    connections,
                    runs: Vec::new(),
                };
                for run in 0..plan.reference_runs {
                    let result = closed.run(&server, &request, connections, plan.reference_time)?;
                    eprintln!(
                        "  run {}/{} reference      c{:<3} {:>9.0} req/s  p50 {:>8.1} µs  p99 {:>8.1} µs  errors {}",
                        run + 1,
                        plan.reference_runs,
                        connections,
                        result.rate,
                        result.p50_us,
                        result.p99_us,
                        result.errors
                    );
                    cell.runs.push(result);
                }
                cells.push(cell);
            }
            self.stop(server)?;
        }
        Ok(cells)
    }

    fn open(
        &self,
        addr: SocketAddr,
        rate: f64,
        time: Duration,
        conns: usize,
    ) -> Result<OpenReport> {
        let report = runtime(self.client_threads)?.block_on(generator::open_loop(
            addr,
            self.request(addr)?,
            rate,
            time,
            conns,
            Duration::from_secs(2),
        ));
        eprintln!(
            "  open loop {:>7.0} req/s target, {:>7.0} achieved, {} conns: from schedule p50 {:.0} µs p95 {:.0} µs p99 {:.0} µs; service p99 {:.0} µs; send lag p99 {:.0} µs; errors {} unsent {}",
            rate,
            report.achieved_rate(),
            conns,
            report.from_schedule.p50_us,
            report.from_schedule.p95_us,
            report.from_schedule.p99_us,
            report.service.p99_us,
            report.send_lag.p99_us,
            report.failures.total(),
            report.unsent
        );
        Ok(report)
    }

    fn fixed_and_ramp(
        &mut self,
        fixed: bool,
        ramp: bool,
    ) -> Result<(Option<OpenReport>, Option<Ramp>)> {
        let plan = self.plan.clone();
        let server = self.start(Kind::Asap, None)?;
        let addr = server.addr;
        // A short warm-up, not recorded.
        self.open(
            addr,
            plan.fixed_rate,
            Duration::from_secs(1),
            plan.fixed_connections,
        )?;
        let fixed_report = if fixed {
            eprintln!(
                "fixed rate: {} req/s for {:?}",
                plan.fixed_rate, plan.fixed_time
            );
            Some(self.open(
                addr,
                plan.fixed_rate,
                plan.fixed_time,
                plan.fixed_connections,
            )?)
        } else {
            None
        };
        let ramp_report = if ramp {
            let baseline = match &fixed_report {
                Some(r) => r.from_schedule.p99_us,
                None => {
                    self.open(
                        addr,
                        plan.fixed_rate,
                        Duration::from_secs(5),
                        plan.fixed_connections,
                    )?
                    .from_schedule
                    .p99_us
                }
            };
            eprintln!(
                "ramp: baseline p99 {baseline:.0} µs; breaking at 10× = {:.0} µs",
                baseline * 10.0
            );
            let mut steps = Vec::new();
            for &rate in &plan.ramp_rates {
                std::thread::sleep(Duration::from_millis(500));
                let report = self.open(addr, rate, plan.ramp_step, Plan::ramp_connections(rate))?;
                let broke = if report.errors() > 0 {
                    Some(format!(
                        "{} errors, {} unsent",
                        report.failures.total(),
                        report.unsent
                    ))
                } else if report.achieved_rate() < 0.95 * rate {
                    Some(format!(
                        "achieved {:.0} req/s < 95 % of the target",
                        report.achieved_rate()
                    ))
                } else if report.from_schedule.p99_us > 10.0 * baseline {
                    Some(format!(
                        "p99 {:.0} µs > 10 × {:.0} µs",
                        report.from_schedule.p99_us, baseline
                    ))
                } else {
                    None
                };
                let stop = broke.is_some();
                steps.push(RampStep { report, broke });
                if stop {
                    break;
                }
            }
            Some(Ramp {
                baseline_p99_us: baseline,
                steps,
            })
        } else {
            None
        };
        self.stop(server)?;
        Ok((fixed_report, ramp_report))
    }

    /// The many-connections run against `kind` (`workers` runtime threads).
    fn connections(&mut self, kind: Kind, workers: Option<usize>) -> Result<ManyReport> {
        let plan = self.plan.clone();
        let server = self.start(kind, workers)?;
        eprintln!(
            "connections: {} keep-alive connections to {}, {} requests each",
            plan.many,
            server.label(),
            plan.many_requests
        );
        let peak = || Peak {
            rss_kib: server.rss_kib(),
            open_fds: server.open_fds(),
        };
        let idle = server.rss_kib();
        let mut report = runtime(self.client_threads)?.block_on(generator::many_connections(
            server.addr,
            self.request(server.addr)?,
            plan.many,
            plan.many_requests,
            256,
            peak,
        ));
        report.idle_rss_kib = idle;
        report.server = server.label();
        eprintln!(
            "  opened {} in {:.2} s, server fds {:?}, RSS {:?} KiB (idle {:?}); ok {} errors {}",
            report.opened,
            report.open_time.as_secs_f64(),
            report.peak.open_fds,
            report.peak.rss_kib,
            idle,
            report.ok,
            report.failures.total()
        );
        self.stop(server)?;
        Ok(report)
    }

    fn memory(&mut self) -> Result<Memory> {
        let plan = self.plan.clone();
        let server = self.start(Kind::Asap, None)?;
        let pid = server.pid().context("server pid")?;
        let idle = server.rss_kib().unwrap_or(0);
        eprintln!(
            "memory: {} requests on {} connections (warm-up {}), idle RSS {idle} KiB",
            plan.memory_requests, plan.memory_connections, plan.memory_warmup
        );
        let progress = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let progress = Arc::clone(&progress);
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                let start = Instant::now();
                let mut samples = Vec::new();
                while !done.load(Ordering::Relaxed) {
                    if let Some(rss) = servers::rss_kib(pid) {
                        samples.push((
                            start.elapsed().as_secs_f64(),
                            progress.load(Ordering::Relaxed),
                            rss,
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                samples
            })
        };
        let load = runtime(self.client_threads)?.block_on(generator::closed_loop(
            server.addr,
            self.request(server.addr)?,
            plan.memory_connections,
            Bound::Requests(plan.memory_requests),
            Duration::from_secs(300),
            Arc::clone(&progress),
        ));
        done.store(true, Ordering::Relaxed);
        let samples = sampler.join().unwrap_or_default();
        std::thread::sleep(Duration::from_millis(200));
        let final_rss = server.rss_kib().unwrap_or(0);
        let warm = samples
            .iter()
            .find(|s| s.1 >= plan.memory_warmup)
            .map_or(final_rss, |s| s.2);
        let max_after = samples
            .iter()
            .filter(|s| s.1 >= plan.memory_warmup)
            .map(|s| s.2)
            .max()
            .unwrap_or(final_rss)
            .max(final_rss);
        eprintln!(
            "  {} ok in {:.1} s ({:.0} req/s), errors {}; RSS warm {warm} KiB, max {max_after} KiB, final {final_rss} KiB",
            load.ok,
            load.elapsed.as_secs_f64(),
            load.rate(),
            load.failures.total()
        );
        self.stop(server)?;
        Ok(Memory {
            load,
            connections: plan.memory_connections,
            requests: plan.memory_requests,
            warmup_requests: plan.memory_warmup,
            idle_rss_kib: idle,
            warm_rss_kib: warm,
            max_rss_after_warmup_kib: max_after,
            final_rss_kib: final_rss,
            samples,
        })
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let (date, started_utc) = utc_now();
    let plan = if args.smoke {
        Plan::smoke()
    } else {
        Plan::full()
    };
    let wants = |s: Section| args.only.is_empty() || args.only.contains(&s);

    let body = body();
    let script = manifest_dir().join("load/post.lua");
    let script_text = std::fs::read_to_string(&script)
        .with_context(|| format!("cannot read {}", script.display()))?;
    if wrk::script_body(&script_text) != Some(std::str::from_utf8(&body)?) {
        bail!(
            "{} does not carry the benchmark body template (the idempotency key as {KEY_PLACEHOLDER}); it must be:\n{}",
            script.display(),
            String::from_utf8_lossy(&body)
        );
    }
    let bin_dir = match args.bin_dir {
        Some(dir) => dir,
        None => std::env::current_exe()?
            .parent()
            .context("program directory")?
            .to_path_buf(),
    };
    for name in ["asap", "raw-hyper", "axum-echo", "actix-echo"] {
        if !servers::exists(&bin_dir.join(name)) {
            bail!(
                "{} is missing: build with `cargo build --release -p asap-cli -p asap-benches --bins` (or run `cargo xtask bench`)",
                bin_dir.join(name).display()
            );
        }
    }
    let out = args.out.unwrap_or_else(|| {
        if args.smoke {
            manifest_dir().join("../target/bench-smoke")
        } else {
            manifest_dir().join("results")
        }
    });
    let python = if args.no_reference {
        None
    } else {
        servers::reference_python()
    };
    if python.is_none() && !args.no_reference {
        eprintln!("note: the Python reference venv is missing; it is left out");
    }
    let programs = Programs {
        bin_dir,
        python: python.clone(),
        reference_script: manifest_dir().join("../crates/asap-testing/python/reference_server.py"),
        log_dir: std::env::temp_dir().join("asap-loadtest-logs"),
        asap_args: args.asap_args.clone(),
    };
    let wrk_program = (!args.builtin_closed_loop)
        .then(|| find_program(&args.wrk))
        .flatten();
    let (closed, closed_generator) = match wrk_program {
        Some(program) => {
            let version = Wrk::version(&program).unwrap_or_else(|| "wrk".into());
            let threads = match args.wrk_threads {
                Some(t) => format!("-t{t}"),
                None => {
                    "-t = the server's runtime workers (1 for the reference; 1 at 1 connection)"
                        .into()
                }
            };
            let name = format!("{version}, {threads}, benches/load/post.lua, 5 s socket timeout");
            (
                ClosedLoop::Wrk(Wrk {
                    program,
                    script,
                    threads: args.wrk_threads,
                }),
                name,
            )
        }
        None => {
            if !args.builtin_closed_loop {
                eprintln!("note: wrk not found; using the built-in closed-loop generator");
            }
            (
                ClosedLoop::Builtin(args.client_threads),
                format!(
                    "built-in (loadtest, tokio {} threads, HTTP/1.1 keep-alive)",
                    args.client_threads
                ),
            )
        }
    };
    let nofile_limit = raise_nofile();
    if wants(Section::Connections) && nofile_limit < plan.many as u64 + 1000 {
        bail!(
            "open-file limit {nofile_limit} is too low for {} connections",
            plan.many
        );
    }
    let mut loadavg_marks = vec![("start".to_owned(), loadavg())];
    let pin = !args.no_pin && matches!(closed, ClosedLoop::Wrk(_)) && pinning::available();
    let pinning = if pin {
        format!(
            "one-worker servers and the reference on CPU {}, wrk on CPU {} while it drives them (taskset); two-worker servers and their wrk unpinned",
            pinning::SERVER_CPU,
            pinning::LOAD_CPU
        )
    } else {
        "none (one CPU, no taskset, the built-in generator, or --no-pin)".to_owned()
    };
    let mut harness = Harness {
        plan: plan.clone(),
        programs,
        body: body.clone(),
        client_threads: args.client_threads,
        fixed_key: args.fixed_key,
        pin,
        forced_kills: Vec::new(),
    };

    let matrix = if wants(Section::Matrix) {
        eprintln!("matrix ({closed_generator})");
        harness.matrix(&closed, python.is_some())?
    } else {
        Vec::new()
    };
    loadavg_marks.push(("after matrix".to_owned(), loadavg()));
    let (fixed, ramp) = if wants(Section::Fixed) || wants(Section::Ramp) {
        harness.fixed_and_ramp(wants(Section::Fixed), wants(Section::Ramp))?
    } else {
        (None, None)
    };
    let cpus = std::thread::available_parallelism().map_or(2, usize::from);
    let (many, many_baselines) = if wants(Section::Connections) {
        let ours = harness.connections(Kind::Asap, None)?;
        let mut baselines = Vec::new();
        for kind in [Kind::RawHyper, Kind::AxumEcho, Kind::ActixEcho] {
            baselines.push(harness.connections(kind, Some(cpus))?);
        }
        (Some(ours), baselines)
    } else {
        (None, Vec::new())
    };
    let memory = if wants(Section::Memory) {
        Some(harness.memory()?)
    } else {
        None
    };
    let metrics_cost = if wants(Section::MetricsCost) {
        eprintln!("metrics cost ({closed_generator})");
        harness.metrics_cost(&closed)?
    } else {
        Vec::new()
    };
    loadavg_marks.push(("end".to_owned(), loadavg()));

    let results = Results {
        plan,
        smoke: args.smoke,
        date,
        started_utc,
        elapsed: started.elapsed(),
        commit: commit(),
        machine: machine(),
        closed_generator,
        pinning,
        open_generator: format!(
            "built-in (loadtest: tokio {} threads, HTTP/1.1 keep-alive, latency from the scheduled send time)",
            args.client_threads
        ),
        body_bytes: body.len(),
        asap_args: args.asap_args.clone(),
        matrix,
        fixed,
        ramp,
        many,
        many_baselines,
        memory,
        metrics_cost,
        forced_kills: harness.forced_kills,
        loadavg: loadavg_marks,
        nofile_limit,
    };
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let stem = out.join(&results.date);
    let json_path = stem.with_extension("json");
    let md_path = stem.with_extension("md");
    let svg_path = out.join(format!("{}-latency.svg", results.date));
    let json = report::json(&results);
    std::fs::write(&json_path, serde_json::to_string_pretty(&json)? + "\n")?;
    let svg_name = svg_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::fs::write(&md_path, report::markdown(&results, &svg_name))?;
    if !results.matrix.is_empty() {
        report::svg(&results, &svg_path)?;
    }
    eprintln!(
        "\nwrote {}, {}{} in {:.0} s\n",
        json_path.display(),
        md_path.display(),
        if results.matrix.is_empty() {
            String::new()
        } else {
            format!(", {}", svg_path.display())
        },
        results.elapsed.as_secs_f64()
    );
    print!("{}", report::markdown(&results, &svg_name));
    let errors = report::total_errors(&results);
    if args.smoke && errors > 0 {
        bail!("{errors} request errors in the smoke run");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_template_matches_post_lua() {
        let script = std::fs::read_to_string(manifest_dir().join("load/post.lua")).unwrap();
        let body = body();
        assert_eq!(
            wrk::script_body(&script),
            Some(std::str::from_utf8(&body).unwrap())
        );
        assert!((600..=700).contains(&body.len()), "{}", body.len());
        let text = std::str::from_utf8(&body).unwrap();
        assert_eq!(text.matches(KEY_PLACEHOLDER).count(), 1);
        let key = format!(r#","idempotency_key":"{KEY_PLACEHOLDER}"}},"id":"#);
        assert!(text.contains(&key), "{text}");
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&mut []).is_nan());
        assert_eq!(asap_benches::echo::civil_from_days(20_417), (2025, 11, 25));
    }

    #[test]
    fn ramp_connections_grow_with_rate() {
        assert_eq!(Plan::ramp_connections(1000.0), 64);
        assert_eq!(Plan::ramp_connections(40_000.0), 160);
    }

    #[test]
    fn summary_of_empty_histogram_is_zero() {
        let s = generator::Summary::of(&generator::histogram());
        assert_eq!(s.count, 0);
    }
}
