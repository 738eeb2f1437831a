//! What the metrics layer costs in req/s: `asap serve` with its metrics (the default) and
//! with `--no-metrics`, run against each other in the same run, interleaved, for one and
//! two server workers (one-worker servers pinned apart from the generator, as in the
//! matrix), at 16 connections.

use std::fmt::Write as _;

use anyhow::Result;
use serde_json::{Value, json};

use crate::servers::Kind;
use crate::{Cell, ClosedLoop, Harness};

/// Connections of every run.
const CONNECTIONS: usize = 16;

impl Harness {
    /// Median req/s of `asap` and `asap-nometrics` per worker count.
    pub(crate) fn metrics_cost(&mut self, closed: &ClosedLoop) -> Result<Vec<Cell>> {
        let plan = self.plan.clone();
        let mut cells = Vec::new();
        for &workers in &plan.workers {
            let running = [
                self.start_for_matrix(Kind::Asap, Some(workers))?,
                self.start_for_matrix(Kind::AsapNoMetrics, Some(workers))?,
            ];
            let mut pair: Vec<Cell> = running
                .iter()
                .map(|server| Cell {
                    kind: server.kind,
                    workers: server.workers,
                    connections: CONNECTIONS,
                    runs: Vec::new(),
                })
                .collect();
            for server in &running {
                let request = self.request(server.addr)?;
                closed.run(server, &request, CONNECTIONS, plan.warmup)?;
            }
            // Twice the matrix's runs, alternating: the difference sought is a few percent.
            for run in 0..plan.runs * 2 {
                for (server, cell) in running.iter().zip(pair.iter_mut()) {
                    let request = self.request(server.addr)?;
                    let result = closed.run(server, &request, CONNECTIONS, plan.run_time)?;
                    eprintln!(
                        "  metrics cost run {}/{} {:<18} {:>9.0} req/s  errors {}",
                        run + 1,
                        plan.runs * 2,
                        server.label(),
                        result.rate,
                        result.errors
                    );
                    cell.runs.push(result);
                }
            }
            for server in running {
                self.stop(server)?;
            }
            cells.append(&mut pair);
        }
        Ok(cells)
    }
}

/// The pairs of one worker count: (with metrics, without).
fn pairs(cells: &[Cell]) -> Vec<(&Cell, &Cell)> {
    let mut out = Vec::new();
    for with in cells.iter().filter(|c| c.kind == Kind::Asap) {
        if let Some(without) = cells
            .iter()
            .find(|c| c.kind == Kind::AsapNoMetrics && c.workers == with.workers)
        {
            out.push((with, without));
        }
    }
    out
}

/// The cost in percent of the rate without metrics.
fn cost(with: &Cell, without: &Cell) -> f64 {
    (1.0 - with.rate() / without.rate()) * 100.0
}

pub(crate) fn json(cells: &[Cell]) -> Value {
    pairs(cells)
        .into_iter()
        .map(|(with, without)| {
            json!({
                "workers": with.workers,
                "connections": with.connections,
                "with_metrics_rps": crate::generator::round1(with.rate()),
                "without_metrics_rps": crate::generator::round1(without.rate()),
                "with_metrics_runs": with.runs.iter().map(|r| crate::generator::round1(r.rate)).collect::<Vec<_>>(),
                "without_metrics_runs": without.runs.iter().map(|r| crate::generator::round1(r.rate)).collect::<Vec<_>>(),
                "cost_percent": crate::generator::round1(cost(with, without)),
            })
        })
        .collect()
}

pub(crate) fn markdown(md: &mut String, cells: &[Cell]) {
    if cells.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "## Metrics cost\n\n`asap serve` (metrics on, the default) against `asap serve --no-metrics`, \
         interleaved runs at {CONNECTIONS} connections; median req/s (min–max). Goal: < 3 %.\n"
    );
    let _ = writeln!(md, "| workers | with metrics | without | cost |");
    let _ = writeln!(md, "|---|---|---|---|");
    for (with, without) in pairs(cells) {
        let _ = writeln!(
            md,
            "| {} | {:.0} ({:.0}–{:.0}) | {:.0} ({:.0}–{:.0}) | {:+.1} % |",
            with.workers.unwrap_or(0),
            with.rate(),
            with.rate_min(),
            with.rate_max(),
            without.rate(),
            without.rate_min(),
            without.rate_max(),
            cost(with, without)
        );
    }
    let _ = writeln!(md);
}
