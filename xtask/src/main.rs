//! Project workflows for the asap-rs workspace, run as `cargo xtask <command>`.
//!
//! Every command runs from the workspace root, whatever the current directory.

mod audit;
mod bench;
mod changelog;
mod coverage;
mod metadata;
mod peers;
mod public_api;
mod release;
mod rustdoc_json;
mod schemas;
mod self_contained;
mod test;
mod util;
mod version;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Project workflows for the asap-rs workspace.
#[derive(Parser, Debug)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const TEST_LONG_ABOUT: &str = "\
Run every check CI runs, from the workspace root, stopping at the first failure.

Steps, in order:
  1. fmt             cargo fmt --all -- --check
  2. self-contained  no tracked text file (git ls-files) refers to the folder beside
                     the repository (`..` then `/shared`); every hit is listed as
                     file:line. Skipped, with the reason, when git or the repository
                     is unavailable (e.g. a source archive)
  3. clippy          cargo clippy --workspace --all-targets --all-features -- -D warnings
  4. tests           cargo test --workspace --all-features   (unit, integration and
                     doc tests)
  5. docs            cargo doc --workspace --no-deps --all-features
                     with RUSTDOCFLAGS='-D warnings -D rustdoc::broken_intra_doc_links'
  6. schemas         cargo xtask schemas --check

The environment (including CI) is passed through to every command unchanged.";

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every check CI runs, stopping at the first failure
    #[command(long_about = TEST_LONG_ABOUT)]
    Test,
    Schemas(schemas::SchemasArgs),
    /// Audit dependencies, feature combinations and public-API drift
    #[command(long_about = audit::AUDIT_LONG_ABOUT)]
    Audit,
    #[command(name = "public-api")]
    PublicApi(public_api::PublicApiArgs),
    /// Prepare a release (dry run on a scratch clone unless --execute)
    #[command(long_about = release::RELEASE_LONG_ABOUT)]
    Release(release::ReleaseArgs),
    Coverage(coverage::CoverageArgs),
    /// Run the load benchmarks (or, with --quick, the criterion benchmarks)
    #[command(long_about = bench::BENCH_LONG_ABOUT)]
    Bench(bench::BenchArgs),
    /// Install the Python reference peers the interoperability tests use
    #[command(long_about = peers::PEERS_LONG_ABOUT)]
    Peers(peers::PeersArgs),
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("\nerror: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let root = util::workspace_root()?;
    match cli.command {
        Command::Test => test::run(&root),
        Command::Schemas(args) => schemas::run(&root, &args),
        Command::Audit => audit::run(&root),
        Command::PublicApi(args) => public_api::run(&root, &args),
        Command::Release(args) => release::run(&root, &args),
        Command::Coverage(args) => coverage::run(&root, &args),
        Command::Bench(args) => bench::run(&root, &args),
        Command::Peers(args) => peers::run(&root, &args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
