//! Writing the results: JSON (every figure), Markdown (tables with ratios and targets) and
//! an SVG plot of p50/p99 against connections.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use serde_json::{Value, json};

use crate::generator::{round1, round3};
use crate::servers::{ASAP_RATE_LIMIT, Kind};
use crate::{Cell, Results};

const KINDS: [Kind; 5] = [
    Kind::RawHyper,
    Kind::AxumEcho,
    Kind::ActixEcho,
    Kind::Asap,
    Kind::Reference,
];

fn cell(results: &Results, kind: Kind, workers: Option<usize>, conns: usize) -> Option<&Cell> {
    results.matrix.iter().find(|c| {
        c.kind == kind
            && c.connections == conns
            && (kind == Kind::Reference || c.workers == workers)
            && !c.runs.is_empty()
    })
}

/// `asap wW / other` median req/s at `conns`.
fn ratio(results: &Results, workers: usize, other: Kind, conns: usize) -> Option<f64> {
    let ours = cell(results, Kind::Asap, Some(workers), conns)?.rate();
    let theirs = cell(results, other, Some(workers), conns)?.rate();
    (theirs > 0.0).then(|| ours / theirs)
}

/// `asap wW / the faster of axum-echo and actix-echo wW` at `conns`, and which was faster.
fn ratio_to_faster_echo(results: &Results, workers: usize, conns: usize) -> Option<(f64, Kind)> {
    let ours = cell(results, Kind::Asap, Some(workers), conns)?.rate();
    let (kind, theirs) = [Kind::AxumEcho, Kind::ActixEcho]
        .into_iter()
        .filter_map(|k| Some((k, cell(results, k, Some(workers), conns)?.rate())))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    (theirs > 0.0).then(|| (ours / theirs, kind))
}

/// A goal and how this run did.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) goal: String,
    pub(crate) value: String,
    pub(crate) met: bool,
}

pub(crate) fn targets(results: &Results) -> Vec<Target> {
    let mut targets = Vec::new();
    for &w in &results.plan.workers {
        if let Some(r) = ratio(results, w, Kind::RawHyper, 16) {
            targets.push(Target {
                goal: format!("asap w{w} ≥ 50 % of raw-hyper w{w} req/s at 16 connections"),
                value: format!("{:.0} %", r * 100.0),
                met: r >= 0.5,
            });
        }
    }
    for &w in &results.plan.workers {
        if let Some(r) = ratio(results, w, Kind::Reference, 16) {
            targets.push(Target {
                goal: format!("asap w{w} ≥ 80 × the Python reference req/s at 16 connections"),
                value: format!("{r:.1} ×"),
                met: r >= 80.0,
            });
        }
    }
    for &w in &results.plan.workers {
        if let Some(c) = cell(results, Kind::Asap, Some(w), 16) {
            targets.push(Target {
                goal: format!("asap w{w} p99 ≤ 2 ms at 16 connections (closed loop)"),
                value: format!("{} (median of runs)", latency(c.p99())),
                met: c.p99() <= 2000.0,
            });
        }
    }
    if let Some(f) = &results.fixed {
        targets.push(Target {
            goal: format!(
                "p95 < 5 ms at {:.0} req/s for {:.0} s (open loop, from schedule)",
                f.target_rate,
                f.duration.as_secs_f64()
            ),
            value: format!(
                "{} ({} errors)",
                latency(f.from_schedule.p95_us),
                f.errors()
            ),
            met: f.from_schedule.p95_us < 5000.0 && f.errors() == 0,
        });
    }
    if let Some(m) = &results.many {
        targets.push(Target {
            goal: format!(
                "{} concurrent keep-alive connections, zero errors",
                m.target
            ),
            value: format!(
                "{} opened, {} requests ok, {} errors",
                m.opened,
                m.ok,
                m.failures.total()
            ),
            met: m.opened == m.target && m.failures.total() == 0,
        });
    }
    if let Some(m) = &results.memory {
        let growth_bytes = m.growth_kib() * 1024;
        targets.push(Target {
            goal: format!(
                "flat memory: RSS growth after warm-up < 5 MB over {} requests",
                m.requests
            ),
            value: format!(
                "{:+.2} MB (max {:+.2} MB)",
                growth_bytes as f64 / 1e6,
                (m.max_rss_after_warmup_kib as f64 - m.warm_rss_kib as f64) * 1024.0 / 1e6
            ),
            met: growth_bytes < 5_000_000 && m.load.failures.total() == 0,
        });
    }
    targets
}

/// Every request error of the run (smoke runs fail on any).
pub(crate) fn total_errors(results: &Results) -> u64 {
    let matrix: u64 = results
        .matrix
        .iter()
        .chain(&results.metrics_cost)
        .map(Cell::errors)
        .sum();
    let fixed = results.fixed.as_ref().map_or(0, |f| f.errors());
    let many = results.many.as_ref().map_or(0, |m| m.failures.total());
    let memory = results
        .memory
        .as_ref()
        .map_or(0, |m| m.load.failures.total());
    matrix + fixed + many + memory
}

/// `812 µs`, `1.23 ms`, `35.1 ms`.
pub(crate) fn latency(us: f64) -> String {
    if !us.is_finite() {
        "–".into()
    } else if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 10_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.1} ms", us / 1000.0)
    }
}

/// `41 250` (thin-space-free, space thousands separator as in the README).
fn thousands(x: f64) -> String {
    let n = x.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The `--asap-arg` arguments, each after a space.
fn extra_args(results: &Results) -> String {
    results
        .asap_args
        .iter()
        .map(|arg| format!(" {arg}"))
        .collect()
}

pub(crate) fn json(results: &Results) -> Value {
    let plan = &results.plan;
    let matrix: Vec<Value> = results
        .matrix
        .iter()
        .map(|c| {
            json!({
                "server": c.kind.name(),
                "workers": c.workers,
                "connections": c.connections,
                "median_rps": round1(c.rate()),
                "min_rps": round1(c.rate_min()),
                "max_rps": round1(c.rate_max()),
                "median_p50_us": round1(c.p50()),
                "median_p99_us": round1(c.p99()),
                "max_p99_us": round1(c.p99_max()),
                "errors": c.errors(),
                "runs": c.runs.iter().map(|r| json!({
                    "rps": round1(r.rate),
                    "requests": r.requests,
                    "errors": r.errors,
                    "p50_us": r.p50_us,
                    "p90_us": r.p90_us,
                    "p99_us": r.p99_us,
                    "p999_us": r.p999_us,
                    "max_us": r.max_us,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut ratios = Vec::new();
    for &w in &plan.workers {
        for &conns in &plan.connections {
            ratios.push(json!({
                "workers": w,
                "connections": conns,
                "asap_over_raw_hyper": ratio(results, w, Kind::RawHyper, conns).map(round3),
                "asap_over_axum_echo": ratio(results, w, Kind::AxumEcho, conns).map(round3),
                "asap_over_actix_echo": ratio(results, w, Kind::ActixEcho, conns).map(round3),
                "asap_over_faster_echo": ratio_to_faster_echo(results, w, conns)
                    .map(|(r, _)| round3(r)),
                "faster_echo": ratio_to_faster_echo(results, w, conns).map(|(_, k)| k.name()),
                "asap_over_reference": ratio(results, w, Kind::Reference, conns).map(round3),
            }));
        }
    }
    let ramp = results.ramp.as_ref().map(|r| {
        let (held, broke) = r.breaking_point();
        json!({
            "baseline_p99_us": round1(r.baseline_p99_us),
            "step_seconds": plan.ramp_step.as_secs_f64(),
            "last_rate_held": held,
            "breaking_rate": broke,
            "steps": r.steps.iter().map(|s| {
                let mut v = s.report.to_json();
                v["broke"] = json!(s.broke);
                v
            }).collect::<Vec<_>>(),
        })
    });
    let memory = results.memory.as_ref().map(|m| {
        let step = (m.samples.len() / 60).max(1);
        json!({
            "requests": m.requests,
            "warmup_requests": m.warmup_requests,
            "connections": m.connections,
            "ok": m.load.ok,
            "failures": m.load.failures.to_json(),
            "cut_short": m.load.cut_short,
            "elapsed_s": round3(m.load.elapsed.as_secs_f64()),
            "rps": round1(m.load.rate()),
            "latency": m.load.latency.to_json(),
            "idle_rss_kib": m.idle_rss_kib,
            "warm_rss_kib": m.warm_rss_kib,
            "max_rss_after_warmup_kib": m.max_rss_after_warmup_kib,
            "final_rss_kib": m.final_rss_kib,
            "growth_after_warmup_kib": m.growth_kib(),
            "samples": m.samples.iter().step_by(step)
                .map(|(t, n, rss)| json!({"t_s": round3(*t), "requests": n, "rss_kib": rss}))
                .collect::<Vec<_>>(),
        })
    });
    json!({
        "date": results.date,
        "started_utc": results.started_utc,
        "elapsed_s": round1(results.elapsed.as_secs_f64()),
        "smoke": results.smoke,
        "commit": results.commit,
        "machine": results.machine,
        "load_average": results.loadavg.iter().map(|(k, v)| json!({"when": k, "loadavg": v})).collect::<Vec<_>>(),
        "nofile_limit": results.nofile_limit,
        "generators": {
            "closed_loop": results.closed_generator,
            "pinning": results.pinning,
            "open_loop": results.open_generator,
        },
        "request": {
            "body_bytes": results.body_bytes,
            "body": "benches/load/post.lua: the specification example task_request envelope without timestamp, a fresh params.idempotency_key (ULID-shaped) on every request",
            "handler_delay_ms": 0,
        },
        "servers": KINDS.iter().map(|k| json!({"name": k.name(), "what": k.description()})).collect::<Vec<_>>(),
        "asap_serve_flags": format!("--rate-limit {ASAP_RATE_LIMIT}{} (other layers at their defaults; nonce checking is off by default)", extra_args(results)),
        "plan": {
            "workers": plan.workers,
            "connections": plan.connections,
            "runs": plan.runs,
            "run_seconds": plan.run_time.as_secs_f64(),
            "reference_runs": plan.reference_runs,
            "reference_run_seconds": plan.reference_time.as_secs_f64(),
        },
        "matrix": matrix,
        "ratios": ratios,
        "fixed_rate": results.fixed.as_ref().map(|f| f.to_json()),
        "ramp": ramp,
        "connections": results.many.as_ref().map(|m| m.to_json()),
        "connections_baselines": results.many_baselines.iter().map(|m| m.to_json()).collect::<Vec<_>>(),
        "memory": memory,
        "metrics_cost": crate::metrics_cost::json(&results.metrics_cost),
        "targets": targets(results).iter().map(|t| json!({"goal": t.goal, "value": t.value, "met": t.met})).collect::<Vec<_>>(),
        "forced_kills": results.forced_kills,
    })
}

pub(crate) fn markdown(results: &Results, svg_name: &str) -> String {
    let mut md = String::new();
    let plan = &results.plan;
    let m = &results.machine;
    let _ = writeln!(
        md,
        "# Load benchmarks, {}{}\n",
        results.date,
        if results.smoke { " (smoke run)" } else { "" }
    );
    let _ = writeln!(
        md,
        "`cargo xtask bench`, started {} UTC, {:.0} s, commit `{}`.\n",
        results.started_utc,
        results.elapsed.as_secs_f64(),
        results.commit
    );
    let _ = writeln!(
        md,
        "- Machine: {} CPUs ({}), {} GiB, Linux {}, {}; server, generator and harness share the CPUs.",
        m["cpus"],
        m["cpu"].as_str().unwrap_or(""),
        m["memory_gib"],
        m["kernel"].as_str().unwrap_or(""),
        m["rustc"].as_str().unwrap_or("")
    );
    let loads: Vec<String> = results
        .loadavg
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(md, "- Load average (1/5/15 min): {}.", loads.join("; "));
    let _ = writeln!(md, "- Closed loop: {}.", results.closed_generator);
    let _ = writeln!(md, "- CPU pinning: {}.", results.pinning);
    let _ = writeln!(md, "- Open loop: {}.", results.open_generator);
    let _ = writeln!(
        md,
        "- Request: {} bytes, `asap.send` of the specification example task_request without `timestamp`, with a fresh `params.idempotency_key` on every request; the echo handlers answer at once (handler delay 0).",
        results.body_bytes
    );
    let _ = writeln!(
        md,
        "- `asap serve --rate-limit {ASAP_RATE_LIMIT}{}`: every other layer at its default (body limit, per-IP rate limit, decompression, timestamp window, sender check, payload validation, response compression; nonce checking is off by default).",
        extra_args(results)
    );
    if !results.forced_kills.is_empty() {
        let _ = writeln!(
            md,
            "- Needed SIGKILL (no exit within 5 s of SIGTERM): {}.",
            results.forced_kills.join(", ")
        );
    }

    if !results.matrix.is_empty() {
        let _ = writeln!(
            md,
            "\n## Closed loop\n\nMedian of {} runs of {:.0} s ({} × {:.0} s for the reference) after a warm-up; spread is min–max req/s; p50 and p99 are the medians of the runs' percentiles. `wN` = N runtime worker threads.\n",
            plan.runs,
            plan.run_time.as_secs_f64(),
            plan.reference_runs,
            plan.reference_time.as_secs_f64()
        );
        md.push_str("| server | conns | req/s | spread | p50 | p99 | errors |\n");
        md.push_str("|---|--:|--:|--:|--:|--:|--:|\n");
        let mut order: Vec<&Cell> = results.matrix.iter().collect();
        let rank = |k: Kind| KINDS.iter().position(|x| *x == k).unwrap_or(9);
        order.sort_by_key(|c| (c.workers.unwrap_or(99), rank(c.kind), c.connections));
        for c in order {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {}–{} | {} | {} | {} |",
                c.label(),
                c.connections,
                thousands(c.rate()),
                thousands(c.rate_min()),
                thousands(c.rate_max()),
                latency(c.p50()),
                latency(c.p99()),
                c.errors()
            );
        }
        md.push_str("\nRatios of median req/s (asap with the same worker count as the baseline; the reference is one uvicorn process):\n\n");
        md.push_str(
            "| workers | conns | asap / raw-hyper | asap / axum-echo | asap / actix-echo | asap / faster echo | asap / reference |\n",
        );
        md.push_str("|--:|--:|--:|--:|--:|--:|--:|\n");
        let fmt = |r: Option<f64>, times: bool| match r {
            Some(r) if times => format!("{r:.1} ×"),
            Some(r) => format!("{:.0} %", r * 100.0),
            None => "–".into(),
        };
        for &w in &plan.workers {
            for &conns in &plan.connections {
                let faster = ratio_to_faster_echo(results, w, conns).map_or_else(
                    || "–".into(),
                    |(r, kind)| format!("{} ({})", fmt(Some(r), false), kind.name()),
                );
                let _ = writeln!(
                    md,
                    "| {w} | {conns} | {} | {} | {} | {faster} | {} |",
                    fmt(ratio(results, w, Kind::RawHyper, conns), false),
                    fmt(ratio(results, w, Kind::AxumEcho, conns), false),
                    fmt(ratio(results, w, Kind::ActixEcho, conns), false),
                    fmt(ratio(results, w, Kind::Reference, conns), true)
                );
            }
        }
        if !svg_name.is_empty() {
            let _ = writeln!(md, "\n![p50 and p99 against connections]({svg_name})");
        }
    }

    if let Some(f) = &results.fixed {
        let _ = writeln!(
            md,
            "\n## Fixed rate (open loop)\n\n`asap serve` (default workers = CPUs), {:.0} req/s for {:.0} s on {} connections, each request scheduled at a fixed time; latency counts from that time, so a stall shows up in every request it delays (no coordinated omission). Service = from the actual send; send lag = actual minus scheduled send (pacer and task wake-up delay plus any per-connection backlog).\n",
            f.target_rate,
            f.duration.as_secs_f64(),
            f.connections
        );
        md.push_str("| achieved req/s | p50 | p95 | p99 | p99.9 | max | service p99 | send lag p99 | errors |\n");
        md.push_str("|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
        let s = &f.from_schedule;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            thousands(f.achieved_rate()),
            latency(s.p50_us),
            latency(s.p95_us),
            latency(s.p99_us),
            latency(s.p999_us),
            latency(s.max_us),
            latency(f.service.p99_us),
            latency(f.send_lag.p99_us),
            f.errors()
        );
    }

    if let Some(r) = &results.ramp {
        let _ = writeln!(
            md,
            "\n## Stress ramp (open loop)\n\n{:.0} s per rate against the same server; a rate breaks on any error or unsent request, achieved < 95 % of the target, or p99 > 10 × the fixed-rate p99 ({}).\n",
            plan.ramp_step.as_secs_f64(),
            latency(r.baseline_p99_us)
        );
        md.push_str("| target req/s | achieved | conns | p50 | p99 | service p99 | send lag p99 | errors + unsent | verdict |\n");
        md.push_str("|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
        for s in &r.steps {
            let f = &s.report;
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                thousands(f.target_rate),
                thousands(f.achieved_rate()),
                f.connections,
                latency(f.from_schedule.p50_us),
                latency(f.from_schedule.p99_us),
                latency(f.service.p99_us),
                latency(f.send_lag.p99_us),
                f.errors(),
                s.broke.as_deref().unwrap_or("held")
            );
        }
        let (held, broke) = r.breaking_point();
        let _ = writeln!(
            md,
            "\nBreaking point: {}.",
            match (held, broke) {
                (Some(h), Some(b)) => format!(
                    "held {} req/s, broke at {} req/s",
                    thousands(h),
                    thousands(b)
                ),
                (None, Some(b)) => format!("broke at the first rate, {} req/s", thousands(b)),
                (Some(h), None) => format!("not reached; held up to {} req/s", thousands(h)),
                (None, None) => "no step ran".into(),
            }
        );
    }

    if let Some(c) = &results.many {
        let _ = writeln!(
            md,
            "\n## {} concurrent connections\n\n`asap serve` (default workers), then the baselines with as many workers; the harness raised RLIMIT_NOFILE to {} and each server inherited it. Every connection connects (at most 256 connects in flight) and sends one request; with all of them open, each sends {} more at once. RSS per connection = (RSS with all open − idle RSS) ÷ connections.\n",
            thousands(c.target as f64),
            results.nofile_limit,
            c.requests_per_connection.saturating_sub(1)
        );
        md.push_str("| server | opened | open time | server fds at peak | RSS at peak | RSS per connection | requests ok | errors | first request p99 | burst p50 | burst p99 | burst max |\n");
        md.push_str("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
        for c in std::iter::once(c).chain(&results.many_baselines) {
            let _ = writeln!(
                md,
                "| {} | {} | {:.2} s | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                c.server,
                thousands(c.opened as f64),
                c.open_time.as_secs_f64(),
                c.peak.open_fds.map_or("–".into(), |n| thousands(n as f64)),
                c.peak.rss_kib.map_or("–".into(), |k| format!(
                    "{:.1} MB",
                    k as f64 * 1024.0 / 1e6
                )),
                c.rss_per_connection_kib()
                    .map_or("–".into(), |k| format!("{:.1} KB", k * 1024.0 / 1e3)),
                thousands(c.ok as f64),
                c.failures.total(),
                latency(c.first.p99_us),
                latency(c.burst.p50_us),
                latency(c.burst.p99_us),
                latency(c.burst.max_us)
            );
        }
    }

    if let Some(mem) = &results.memory {
        let mb = |kib: u64| format!("{:.1} MB", kib as f64 * 1024.0 / 1e6);
        let _ = writeln!(
            md,
            "\n## Memory\n\n`asap serve` (default workers), {} requests on {} connections (closed loop, built-in generator), VmRSS from /proc sampled every 100 ms; warm-up = the first {} requests.\n",
            thousands(mem.requests as f64),
            mem.connections,
            thousands(mem.warmup_requests as f64)
        );
        md.push_str("| idle RSS | after warm-up | max after warm-up | final | growth after warm-up | req/s | errors |\n");
        md.push_str("|--:|--:|--:|--:|--:|--:|--:|\n");
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:+.2} MB | {} | {} |",
            mb(mem.idle_rss_kib),
            mb(mem.warm_rss_kib),
            mb(mem.max_rss_after_warmup_kib),
            mb(mem.final_rss_kib),
            mem.growth_kib() as f64 * 1024.0 / 1e6,
            thousands(mem.load.rate()),
            mem.load.failures.total()
        );
    }

    let targets = targets(results);
    if !targets.is_empty() {
        md.push_str("\n## Targets\n\n| goal | this run | met |\n|---|---|---|\n");
        for t in targets {
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                t.goal,
                t.value,
                if t.met { "yes" } else { "**no**" }
            );
        }
    }
    if !results.metrics_cost.is_empty() {
        md.push('\n');
        crate::metrics_cost::markdown(&mut md, &results.metrics_cost);
    }
    md
}

/// p50 (left) and p99 (right) against connections, one line per server and worker count,
/// both axes logarithmic.
pub(crate) fn svg(results: &Results, path: &Path) -> Result<()> {
    // (label, [(connections, p50 µs, p99 µs)])
    type Series = (String, Vec<(f64, f64, f64)>);
    let mut series: Vec<Series> = Vec::new();
    for &w in &results.plan.workers {
        for kind in [Kind::RawHyper, Kind::AxumEcho, Kind::ActixEcho, Kind::Asap] {
            let points: Vec<_> = results
                .plan
                .connections
                .iter()
                .filter_map(|&c| cell(results, kind, Some(w), c))
                .map(|c| (c.connections as f64, c.p50(), c.p99()))
                .collect();
            if !points.is_empty() {
                series.push((crate::servers::label(kind, Some(w)), points));
            }
        }
    }
    let reference: Vec<_> = results
        .plan
        .connections
        .iter()
        .filter_map(|&c| cell(results, Kind::Reference, None, c))
        .map(|c| (c.connections as f64, c.p50(), c.p99()))
        .collect();
    if !reference.is_empty() {
        series.push(("reference".into(), reference));
    }
    let values = series
        .iter()
        .flat_map(|(_, p)| p.iter().flat_map(|&(_, a, b)| [a, b]))
        .filter(|v| v.is_finite() && *v > 0.0);
    let (lo, hi) = values.fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return Ok(());
    }
    let (y_lo, y_hi) = (lo / 1.5 / 1000.0, hi * 1.5 / 1000.0);
    let x_max = results.plan.connections.iter().copied().max().unwrap_or(64) as f64 * 1.3;
    // w1 then w2: raw-hyper, axum-echo, actix-echo, asap; then the reference.
    let colors = [
        RGBColor(150, 150, 150),
        RGBColor(70, 130, 220),
        RGBColor(180, 120, 210),
        RGBColor(230, 120, 40),
        RGBColor(60, 60, 60),
        RGBColor(20, 60, 160),
        RGBColor(110, 40, 150),
        RGBColor(200, 30, 30),
        RGBColor(30, 150, 60),
    ];
    let root = SVGBackend::new(path, (1100, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let root = root
        .titled(
            &format!(
                "Closed-loop latency vs connections, {} ({} B asap.send, handler delay 0)",
                results.date, results.body_bytes
            ),
            ("sans-serif", 18),
        )
        .map_err(|e| anyhow!("{e}"))?;
    let panels = root.split_evenly((1, 2));
    for (panel, (title, pick)) in panels.iter().zip([("p50", 0_usize), ("p99", 1_usize)]) {
        let mut chart = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((0.8_f64..x_max).log_scale(), (y_lo..y_hi).log_scale())
            .map_err(|e| anyhow!("{e}"))?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_desc("connections")
            .y_desc("latency (ms)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| {
                if *y >= 1.0 {
                    format!("{y:.0}")
                } else {
                    format!("{y:.2}")
                }
            })
            .draw()
            .map_err(|e| anyhow!("{e}"))?;
        for (i, (name, points)) in series.iter().enumerate() {
            let color = colors[i % colors.len()];
            let data: Vec<(f64, f64)> = points
                .iter()
                .map(|&(x, p50, p99)| (x, if pick == 0 { p50 } else { p99 } / 1000.0))
                .filter(|(_, y)| y.is_finite() && *y > 0.0)
                .collect();
            chart
                .draw_series(LineSeries::new(data.clone(), color.stroke_width(2)))
                .map_err(|e| anyhow!("{e}"))?
                .label(name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart
                .draw_series(data.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(|e| anyhow!("{e}"))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| anyhow!("{e}"))?;
    }
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}
