//! Project workflows for the asap-rs workspace, run as `cargo xtask <command>`.
//!
//! Every command runs from the workspace root, whatever the current directory.

mod schemas;
mod test;
mod util;

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
  1. fmt      cargo fmt --all -- --check
  2. clippy   cargo clippy --workspace --all-targets --all-features -- -D warnings
  3. tests    cargo test --workspace --all-features   (unit, integration and doc tests)
  4. docs     cargo doc --workspace --no-deps --all-features
              with RUSTDOCFLAGS='-D warnings -D rustdoc::broken_intra_doc_links'
  5. schemas  cargo xtask schemas --check

The environment (including CI) is passed through to every command unchanged.";

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every check CI runs, stopping at the first failure
    #[command(long_about = TEST_LONG_ABOUT)]
    Test,
    Schemas(schemas::SchemasArgs),
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
