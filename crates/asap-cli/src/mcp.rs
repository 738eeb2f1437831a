//! `asap mcp`: MCP (Model Context Protocol) from the command line.

use std::process::ExitCode;

use clap::{Args, Subcommand};

/// `asap mcp` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum McpCommand {
    /// Serve an MCP server over stdio (newline-delimited JSON-RPC on stdin and stdout)
    ///
    /// With --demo: the demo server `asap-mcp-demo`, with the tools `echo` (argument `text`,
    /// returns it) and `add` (`a`, `b`, returns the sum), the resource `demo://greeting` and
    /// the prompt `summarize` (argument `topic`). Serves until stdin is closed. Nothing but
    /// protocol messages is written to stdout; diagnostics go to stderr.
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),
}

/// Options of `asap mcp serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Serve the demo server (the only server this command offers).
    #[arg(long, required = true)]
    demo: bool,
}

pub(crate) fn run(command: &McpCommand) -> anyhow::Result<ExitCode> {
    match command {
        McpCommand::Serve(args) => serve(args),
    }
}

fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    debug_assert!(args.demo, "clap requires --demo");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let server = asap_mcp::demo_server();
    runtime.block_on(server.serve_stdio())?;
    Ok(ExitCode::SUCCESS)
}
