//! `asap`, the command-line tool of the ASAP agent protocol.
//!
//! - `asap validate FILE|-` checks an envelope, a JSON-RPC `asap.send` request body or (with
//!   `--kind`) a bare entity, part or payload, and prints the protocol error of an invalid
//!   document.
//! - `asap schemas export DIR` writes the 25 JSON Schemas generated from the protocol types;
//!   `asap schemas list` and `asap schemas show NAME` list and print them.
//!
//! - `asap send URL [FILE|-]` sends an envelope (or a `task.request` built from `--skill`)
//!   and prints the response envelope; `asap manifest URL` prints an agent's manifest.
//! - `asap serve` runs an agent: the built-in echo demo or one described by a manifest file.
//! - `asap state migrate|export|import` manages the state store of `asap serve`.
//! - `asap mcp serve --demo` serves the MCP demo server (tools, a resource, a prompt) over
//!   stdio.
//! - `asap trace TRACE_ID` shows the hops of one trace, read from JSON log lines;
//!   `asap trace --serve [--bind ADDR]` serves a web page that lists the traces of a log and
//!   draws one as a waterfall (127.0.0.1:8765 by default, `-f FILE` loaded).
//!
//! Exit status: 0 success, 1 invalid document, 2 usage or I/O error.

mod cli;
mod debug_ui;
mod mcp;
mod runtime;
mod schemas;
mod send;
mod serve;
mod state;
mod stores;
mod trace;
mod trace_web;
mod validate;

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, SchemasCommand, ValidateArgs};
use validate::Outcome;

/// mimalloc instead of the system allocator (the default `mimalloc` feature): a request to
/// `asap serve` allocates about a hundred small, short-lived blocks, and with mimalloc the
/// whole in-process service costs 18 % fewer instructions per request than with glibc malloc
/// (docs/adr/0005-allocator.md). Only this binary sets it; the library crates never choose
/// an allocator for the applications that embed them.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status of an invalid document.
const EXIT_INVALID: u8 = 1;
/// Exit status of a usage or I/O error (clap uses the same for usage errors).
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => run_validate(&args),
        Command::Serve(args) => serve::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Send(args) => match send::send(&args, read_input) {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) => {
                eprintln!("error: {}", validate::sanitize(&format!("{e:#}")));
                Ok(ExitCode::from(EXIT_INVALID))
            }
        },
        Command::Manifest(args) => match send::manifest(&args) {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) => {
                eprintln!("error: {}", validate::sanitize(&format!("{e:#}")));
                Ok(ExitCode::from(EXIT_INVALID))
            }
        },
        Command::State { command } => state::run(&command),
        Command::Mcp { command } => mcp::run(&command),
        Command::Schemas { command } => run_schemas(&command, cli.verbose),
        Command::Trace(args) => trace::run(&args),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`asap schemas list | head -1`): nothing left to say.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", validate::sanitize(&format!("{e:#}")));
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| anyhow::anyhow!("cannot read standard input: {e}"))?;
    } else {
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| anyhow::anyhow!("cannot read '{}': {e}", path.display()))?;
    }
    Ok(bytes)
}

fn run_validate(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let bytes = read_input(&args.file)?;
    let (code, written) = match validate::validate(&bytes, args.kind) {
        Outcome::Valid(note) => {
            let mut out = std::io::stdout().lock();
            let written = match note {
                None => writeln!(out, "valid"),
                Some(note) => writeln!(out, "valid ({note})"),
            };
            (ExitCode::SUCCESS, written)
        }
        Outcome::Invalid(lines) => {
            let mut err = std::io::stderr().lock();
            let written = lines.iter().try_for_each(|line| writeln!(err, "{line}"));
            (ExitCode::from(EXIT_INVALID), written)
        }
    };
    // A closed pipe (`asap validate f | head -0`) does not change the verdict.
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(code),
    }
}

fn run_schemas(command: &SchemasCommand, verbose: bool) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        SchemasCommand::Export { dir } => {
            schemas::export(dir)?;
            writeln!(
                out,
                "Exported {} schemas to {}",
                schemas::ENTRIES.len(),
                dir.display()
            )?;
            if verbose {
                for entry in &schemas::ENTRIES {
                    writeln!(out, "  - {}", entry.relative_path())?;
                }
            }
        }
        SchemasCommand::List => {
            for entry in &schemas::ENTRIES {
                writeln!(out, "{}\t{}", entry.name, entry.relative_path())?;
            }
        }
        SchemasCommand::Show { name } => {
            let entry = schemas::find(name)
                .ok_or_else(|| anyhow::anyhow!("Unknown schema name: {name}"))?;
            out.write_all(entry.render()?.as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
