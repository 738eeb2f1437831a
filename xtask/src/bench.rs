//! `cargo xtask bench`: the load benchmarks (release build, then `loadtest`), or with
//! `--quick` only the criterion micro-benchmarks in a fast mode.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::util;

pub(crate) const BENCH_LONG_ABOUT: &str = "\
Run the benchmarks, from the workspace root.

Default: build the release binaries (`asap`, and `raw-hyper`, `axum-echo`, `actix-echo`,
`loadtest` of asap-benches), then run `loadtest`: closed-loop throughput and latency of
asap serve against raw hyper, axum, actix-web and the Python reference (when its venv
exists) with wrk, a 1,000 req/s open-loop run for 60 s, a stress ramp, 10,000 concurrent
connections and RSS over 1,000,000 requests. Every request carries a fresh
params.idempotency_key. About 11 minutes. Writes benches/results/<date>.json, .md and
-latency.svg. wrk is installed with apt-get when missing (as root); without it the
built-in generator runs the closed-loop matrix.

--smoke   the same end to end in about 30 s (writes to target/bench-smoke; fails on any
          request error, never on timings)
--quick   only `cargo bench -p asap-benches` (criterion) with a 0.5 s warm-up and 1 s
          measurement per benchmark, for comparing commits

Arguments after `--` go to loadtest (e.g. `-- --only matrix,memory`), or to criterion
with --quick.";

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// Only the criterion micro-benchmarks, in a fast mode
    #[arg(long, conflicts_with = "smoke")]
    quick: bool,
    /// A short end-to-end run for CI (output in target/bench-smoke)
    #[arg(long)]
    smoke: bool,
    /// Arguments passed on to loadtest (or to criterion with --quick)
    #[arg(last = true)]
    extra: Vec<String>,
}

/// The target directory cargo builds into.
fn target_dir(root: &Path) -> Result<PathBuf> {
    let metadata = util::query(util::cargo().current_dir(root).args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
    ]))?;
    let metadata: serde_json::Value =
        serde_json::from_str(&metadata).context("cannot parse `cargo metadata`")?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("`cargo metadata` names no target directory")
}

/// Whether `program` is an executable on `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Installs wrk with apt-get when it is missing and apt-get is usable (root on Debian);
/// otherwise the harness falls back to its built-in generator and says so.
fn ensure_wrk() {
    if on_path("wrk") {
        return;
    }
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if !(root && on_path("apt-get")) {
        eprintln!("note: wrk is not installed (apt-get install wrk); using the built-in generator");
        return;
    }
    eprintln!("note: installing wrk with apt-get");
    let installed = std::process::Command::new("apt-get")
        .args(["install", "-y", "-q", "wrk"])
        .status()
        .is_ok_and(|s| s.success())
        || (std::process::Command::new("apt-get")
            .args(["update", "-q"])
            .status()
            .is_ok_and(|s| s.success())
            && std::process::Command::new("apt-get")
                .args(["install", "-y", "-q", "wrk"])
                .status()
                .is_ok_and(|s| s.success()));
    if !installed {
        eprintln!("note: could not install wrk; using the built-in generator");
    }
}

pub(crate) fn run(root: &Path, args: &BenchArgs) -> Result<()> {
    if args.quick {
        return util::run(
            util::cargo()
                .current_dir(root)
                .args(["bench", "-p", "asap-benches", "--"])
                .args(["--warm-up-time", "0.5", "--measurement-time", "1"])
                .args(&args.extra),
        );
    }
    util::run(util::cargo().current_dir(root).args([
        "build",
        "--release",
        "-p",
        "asap-cli",
        "-p",
        "asap-benches",
        "--bins",
    ]))?;
    ensure_wrk();
    let target = target_dir(root)?;
    let release = target.join("release");
    let mut loadtest = std::process::Command::new(release.join("loadtest"));
    loadtest.current_dir(root).arg("--bin-dir").arg(&release);
    if args.smoke {
        loadtest
            .arg("--smoke")
            .arg("--out")
            .arg(target.join("bench-smoke"));
    } else {
        loadtest
            .arg("--out")
            .arg(root.join("benches").join("results"));
    }
    loadtest.args(&args.extra);
    util::run(&mut loadtest)
}
