//! `cargo xtask coverage`: line coverage of the workspace with cargo-llvm-cov.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::Value;

use crate::metadata::Workspace;
use crate::util;

/// The coverage the project aims for, in percent of lines.
pub(crate) const GOAL: f64 = 95.0;

/// How to install the tool.
const INSTALL: &str = "rustup component add llvm-tools && cargo install --locked cargo-llvm-cov";

/// Measure line coverage of the tests with cargo-llvm-cov and print it per crate.
///
/// Runs `cargo llvm-cov --all-features --json --summary-only` over the library and
/// binary crates (xtask and asap-benches are excluded) and prints, for each crate, the
/// lines covered, the lines instrumented and the percentage, then the workspace
/// total, against the project's goal of 95%. Requires cargo-llvm-cov:
/// `rustup component add llvm-tools && cargo install --locked cargo-llvm-cov`.
#[derive(Args, Debug)]
pub(crate) struct CoverageArgs {
    /// Only these crates (default: the whole workspace but xtask and asap-benches)
    #[arg(short = 'p', long = "package", value_name = "CRATE")]
    packages: Vec<String>,
    /// Also write an HTML report (to `<target>/llvm-cov/html`)
    #[arg(long)]
    html: bool,
    /// Fail when the total line coverage is below this percentage
    #[arg(long, value_name = "PERCENT")]
    fail_under: Option<f64>,
    /// Report coverage even when some tests fail
    #[arg(long)]
    ignore_run_fail: bool,
}

/// Crates left out of the measurement: tooling, not product code.
const EXCLUDED: &[&str] = &["xtask", "asap-benches"];

/// Entry point of `cargo xtask coverage`.
pub(crate) fn run(root: &Path, args: &CoverageArgs) -> Result<()> {
    util::require_cargo_subcommand("llvm-cov", INSTALL)?;
    let ws = Workspace::load(root)?;
    let summary_path = ws.target_dir.join("llvm-cov-summary.json");

    let mut cmd = util::cargo_tool("llvm-cov");
    cmd.current_dir(root)
        .args(["--all-features", "--json", "--summary-only"])
        .arg("--output-path")
        .arg(&summary_path);
    if args.packages.is_empty() {
        cmd.arg("--workspace");
        for name in EXCLUDED {
            cmd.args(["--exclude", name]);
        }
    } else {
        for name in &args.packages {
            cmd.args(["-p", name]);
        }
    }
    if args.ignore_run_fail {
        cmd.arg("--ignore-run-fail");
    }
    util::run(&mut cmd)?;

    if args.html {
        let mut html = util::cargo_tool("llvm-cov");
        html.current_dir(root).args(["report", "--html"]);
        util::run(&mut html)?;
    }

    let text = fs::read_to_string(&summary_path)
        .with_context(|| format!("could not read {}", summary_path.display()))?;
    let json: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", summary_path.display()))?;
    let crate_dirs: Vec<(String, &Path)> = ws
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.dir.as_path()))
        .collect();
    let table = per_crate(&json, &crate_dirs)?;
    print!("{}", render(&table));

    if let Some(minimum) = args.fail_under {
        let total = table.total.percent();
        if total < minimum {
            bail!("line coverage {total:.2}% is below --fail-under {minimum}%");
        }
    }
    Ok(())
}

/// Covered and instrumented lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lines {
    pub(crate) covered: u64,
    pub(crate) total: u64,
}

impl Lines {
    fn percent(self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            // Line counts are far below 2^52, so the conversion is exact.
            #[allow(clippy::cast_precision_loss)]
            let (covered, total) = (self.covered as f64, self.total as f64);
            100.0 * covered / total
        }
    }

    fn add(&mut self, other: Lines) {
        self.covered += other.covered;
        self.total += other.total;
    }
}

#[derive(Debug, Default, PartialEq)]
pub(crate) struct Table {
    pub(crate) crates: BTreeMap<String, Lines>,
    pub(crate) total: Lines,
}

/// Sums the per-file line counts of an `llvm-cov export -summary-only` JSON by crate
/// (the crate whose directory holds the file; files outside every crate go under
/// `(other)`).
pub(crate) fn per_crate(json: &Value, crate_dirs: &[(String, &Path)]) -> Result<Table> {
    let files = json["data"][0]["files"]
        .as_array()
        .context("the coverage summary has no data[0].files")?;
    let mut table = Table::default();
    for file in files {
        let name = file["filename"].as_str().unwrap_or("");
        let lines = &file["summary"]["lines"];
        let counts = Lines {
            covered: lines["covered"].as_u64().unwrap_or(0),
            total: lines["count"].as_u64().unwrap_or(0),
        };
        let owner = crate_dirs
            .iter()
            .filter(|(_, dir)| Path::new(name).starts_with(dir))
            .max_by_key(|(_, dir)| dir.as_os_str().len())
            .map_or("(other)", |(krate, _)| krate.as_str());
        table
            .crates
            .entry(owner.to_owned())
            .or_default()
            .add(counts);
        table.total.add(counts);
    }
    Ok(table)
}

pub(crate) fn render(table: &Table) -> String {
    let width = table
        .crates
        .keys()
        .map(String::len)
        .chain([5])
        .max()
        .unwrap_or(5);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{:<width$}  {:>9}  {:>9}  {:>7}",
        "crate", "covered", "lines", "%"
    );
    let _ = writeln!(out, "{}", "-".repeat(width + 33));
    for (name, lines) in &table.crates {
        let _ = writeln!(
            out,
            "{name:<width$}  {:>9}  {:>9}  {:>6.2}%",
            lines.covered,
            lines.total,
            lines.percent()
        );
    }
    let _ = writeln!(out, "{}", "-".repeat(width + 33));
    let total = table.total;
    let _ = writeln!(
        out,
        "{:<width$}  {:>9}  {:>9}  {:>6.2}%",
        "total",
        total.covered,
        total.total,
        total.percent()
    );
    let verdict = if total.percent() >= GOAL {
        "met"
    } else {
        "not met"
    };
    let _ = writeln!(out, "\ngoal: >= {GOAL:.0}% of lines ({verdict})");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sums_files_by_crate_and_renders_a_table() {
        let summary = json!({"data": [{"files": [
            {"filename": "/ws/crates/a/src/lib.rs", "summary": {"lines": {"count": 100, "covered": 99}}},
            {"filename": "/ws/crates/a/src/x.rs", "summary": {"lines": {"count": 100, "covered": 91}}},
            {"filename": "/ws/crates/a-b/src/lib.rs", "summary": {"lines": {"count": 10, "covered": 5}}},
            {"filename": "/elsewhere/gen.rs", "summary": {"lines": {"count": 0, "covered": 0}}}
        ], "totals": {}}]});
        let dirs = [
            ("a".to_owned(), Path::new("/ws/crates/a")),
            ("a-b".to_owned(), Path::new("/ws/crates/a-b")),
        ];
        let table = per_crate(&summary, &dirs).unwrap();
        assert_eq!(
            table.crates["a"],
            Lines {
                covered: 190,
                total: 200
            }
        );
        assert_eq!(
            table.crates["a-b"],
            Lines {
                covered: 5,
                total: 10
            }
        );
        assert_eq!(table.crates["(other)"], Lines::default());
        assert_eq!(
            table.total,
            Lines {
                covered: 195,
                total: 210
            }
        );
        let shown = render(&table);
        assert!(
            shown.contains("a              190        200   95.00%"),
            "{shown}"
        );
        assert!(
            shown.contains("total          195        210   92.86%"),
            "{shown}"
        );
        assert!(shown.contains("goal: >= 95% of lines (not met)"), "{shown}");
    }

    #[test]
    fn summary_without_files_is_an_error() {
        assert!(per_crate(&json!({"data": []}), &[]).is_err());
    }
}
