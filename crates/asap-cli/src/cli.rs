//! Command-line syntax (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::schemas;

/// Command-line tool of the ASAP agent protocol: serve an agent, send envelopes, fetch
/// manifests, validate documents, export JSON Schemas.
#[derive(Debug, Parser)]
#[command(name = "asap", version, propagate_version = true)]
pub(crate) struct Cli {
    /// Print more detail (e.g. every file written by `schemas export`).
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,

    /// The command to run.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Validate an envelope, a JSON-RPC request or a bare model against the protocol
    ///
    /// Without --kind the document kind is detected: bytes that are not JSON, a top-level
    /// object with a `method`, `jsonrpc` or `params` member, and an array holding such an
    /// object (a batch) are checked as a JSON-RPC `asap.send` request body, framed exactly
    /// like the server does; anything else is checked as an envelope. The envelope's payload
    /// is checked against its model when `payload_type` names one of the twelve known payload
    /// types (dotted or PascalCase); other payload types are free-form. With --kind the
    /// document is checked as that kind (payload kinds also accept the dotted names, e.g.
    /// `--kind task.request`).
    ///
    /// Not checked, because they depend on the server rather than on the document: the
    /// timestamp window, nonces, authentication and handler dispatch.
    ///
    /// Output: `valid` on stdout (exit status 0), with a note in parentheses when the payload
    /// type is not a known one. An invalid document prints the protocol error on stderr
    /// (exit status 1):
    ///   - JSON-RPC request: `error <code> <message>: <data.error>`, then one
    ///     `  at <json path>: <msg> [<type>]` line per validation error and one
    ///     `  <key>: <value>` line per other `data` member;
    ///   - envelope or model: `invalid <kind>: at <json path>: <msg> [<type>]`.
    ///
    /// JSON paths are relative to the document given (an envelope inside a request is at
    /// `$.params.envelope`). Usage errors and unreadable files exit with status 2.
    #[command(verbatim_doc_comment)]
    Validate(ValidateArgs),

    /// Run an agent server: the built-in echo demo or a manifest file
    ///
    /// Serves `POST /asap` (HTTP/1.1 and h2c), the manifest at
    /// `/.well-known/asap/manifest.json`, `/health`, `/ready` and `/.well-known/asap/health`,
    /// with the protocol's security layers on: size limits, decompression, rate limiting,
    /// timestamp window, and optionally bearer authentication and nonce replay protection.
    /// `task.request` is answered by the echo handler. The environment variables of the
    /// protocol (ASAP_HOST, ASAP_PORT, ASAP_RATE_LIMIT, ASAP_MAX_REQUEST_SIZE, ASAP_MAX_THREADS,
    /// ASAP_DEBUG, ASAP_WORKERS) apply; flags override them. Stops on Ctrl-C or SIGTERM after
    /// draining in-flight requests.
    #[command(verbatim_doc_comment)]
    Serve(crate::serve::ServeArgs),

    /// Send an envelope to an agent and print the response envelope
    ///
    /// The envelope comes from FILE, from standard input (`-`, or no FILE and no --skill),
    /// or is a `task.request` built from --skill and --input (the recipient defaults to the
    /// agent's manifest id). Retries, compression and timeouts are those of the ASAP client.
    /// The whole send, every attempt and every wait between attempts, is bounded by
    /// --deadline (60s by default): a server that accepts and never answers costs that, not
    /// --timeout times --attempts. A Retry-After up to --max-retry-after is waited for; a
    /// longer one ends the send at once, the error saying when the server asked to be called
    /// again. Prints the response envelope (pretty, or compact with --json) and exits 0; any
    /// error (connection, timeout, deadline, remote JSON-RPC error, invalid envelope) prints a
    /// message on stderr and exits 1.
    #[command(verbatim_doc_comment)]
    Send(crate::send::SendArgs),

    /// Print an agent's manifest (from `/.well-known/asap/manifest.json`)
    Manifest(crate::send::ManifestArgs),

    /// Serve tools, resources and prompts to MCP hosts (Model Context Protocol)
    Mcp {
        /// What to do.
        #[command(subcommand)]
        command: crate::mcp::McpCommand,
    },

    /// Migrate, export or import the state store of `asap serve`.
    State {
        /// What to do with the state store.
        #[command(subcommand)]
        command: crate::state::StateCommand,
    },

    /// Show the hops of one trace, read from JSON log lines
    ///
    /// Reads the JSON log lines of ASAP servers (ASAP_LOG_FORMAT=json) from --log-file, else
    /// from the file named by ASAP_TRACE_LOG, else from standard input. Keeps the lines that
    /// contain TRACE_ID, parse as JSON objects and have exactly that `trace_id`; every
    /// `asap.request.received` record with a string `sender` and `recipient` is a hop, timed
    /// by the `duration_ms` of the `asap.request.processed` record with the same
    /// `envelope_id` (unknown otherwise); hops are ordered by the received records'
    /// `timestamp`.
    ///
    /// Output with `-o ascii` (the default), names shortened to the text after their last `:`
    /// and durations rounded to whole milliseconds (halves to even), `(?)` when unknown:
    ///   coordinator -> research (15ms) -> writer (22ms)
    /// When the hops do not form a chain (one agent calls two others, or a hop is not sent by
    /// the previous hop's recipient), an indented tree instead; each hop hangs under the
    /// latest earlier hop received by its sender:
    ///   coordinator
    ///   |-- research (15ms)
    ///   |   `-- writer (22ms)
    ///   `-- reviewer (?)
    /// With `-o json`: {"trace_id": …, "hops": [{"sender", "recipient", "duration_ms"}]},
    /// pretty-printed with a 2-space indent (full URNs; `duration_ms` a number or null).
    ///
    /// --follow keeps reading the file as it grows and prints the trace again whenever it
    /// changes (renders longer than a line are separated by an empty line); it stops when the
    /// file has not grown for --follow-timeout, when standard input ends, or on Ctrl-C.
    ///
    /// --serve serves the web view instead, on --bind (default 127.0.0.1:8765) until Ctrl-C
    /// or SIGTERM: a page to paste or load log lines, pick one of their traces and see its
    /// hops as a waterfall with the ascii diagram, and its JSON API (POST /api/traces/list,
    /// POST /api/traces/visualize). The log of --log-file or ASAP_TRACE_LOG is loaded into
    /// the page (standard input is not read); TRACE_ID, when given, is shown first. The
    /// first line on stderr is `asap: trace viewer on http://ADDR/`.
    ///
    /// Exit status: 0 when the trace was found; 1 with `No trace found for: <id>` on stdout
    /// when it has no hop, and for a blank TRACE_ID or an unknown --format (message on
    /// stderr); 2 when --log-file does not exist or the input cannot be read.
    #[command(verbatim_doc_comment)]
    Trace(crate::trace::TraceArgs),

    /// Export, list or print the JSON Schemas generated from the protocol types.
    Schemas {
        /// What to do with the schemas.
        #[command(subcommand)]
        command: SchemasCommand,
    },
}

/// Arguments of `asap validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// The document to check: a file path, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    pub(crate) file: PathBuf,

    /// Validate the document as this kind instead of detecting it.
    #[arg(long, value_enum, value_name = "KIND")]
    pub(crate) kind: Option<DocKind>,
}

/// `asap schemas` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum SchemasCommand {
    /// Write the 25 schema files into DIR (created if needed; other files are left alone).
    ///
    /// Layout: `envelope.schema.json`, `entities/<name>.schema.json`,
    /// `parts/<name>.schema.json` and `payloads/<name>.schema.json`. The output is JSON Schema
    /// draft 2020-12, pretty-printed with a 2-space indent and a trailing newline, and the
    /// same bytes on every run.
    Export {
        /// Output directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Print `<name>\t<relative path>` for each of the 25 schemas.
    List,
    /// Print one schema on stdout.
    Show {
        /// Schema name, as printed by `asap schemas list`.
        #[arg(value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(schemas::names()))]
        name: String,
    },
}

/// What `asap validate --kind` checks the document as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub(crate) enum DocKind {
    /// An envelope, its payload included.
    Envelope,
    /// A JSON-RPC `asap.send` request body, its envelope included.
    #[value(alias = "rpc")]
    Request,
    /// An Agent entity.
    Agent,
    /// A Manifest entity.
    Manifest,
    /// A Conversation entity.
    Conversation,
    /// A Task entity.
    Task,
    /// A Message entity.
    Message,
    /// An Artifact entity.
    Artifact,
    /// A StateSnapshot entity.
    StateSnapshot,
    /// Any part, selected by its `type` member.
    Part,
    /// A text part.
    TextPart,
    /// A data part.
    DataPart,
    /// A file part.
    FilePart,
    /// A resource part.
    ResourcePart,
    /// A template part.
    TemplatePart,
    /// A `task.request` payload.
    #[value(alias = "task.request")]
    TaskRequest,
    /// A `task.response` payload.
    #[value(alias = "task.response")]
    TaskResponse,
    /// A `task.update` payload.
    #[value(alias = "task.update")]
    TaskUpdate,
    /// A `task.cancel` payload.
    #[value(alias = "task.cancel")]
    TaskCancel,
    /// A `message.send` payload.
    #[value(alias = "message.send")]
    MessageSend,
    /// A `state.query` payload.
    #[value(alias = "state.query")]
    StateQuery,
    /// A `state.restore` payload.
    #[value(alias = "state.restore")]
    StateRestore,
    /// An `artifact.notify` payload.
    #[value(alias = "artifact.notify")]
    ArtifactNotify,
    /// An `mcp.tool_call` payload.
    #[value(alias = "mcp.tool_call")]
    McpToolCall,
    /// An `mcp.tool_result` payload.
    #[value(alias = "mcp.tool_result")]
    McpToolResult,
    /// An `mcp.resource_fetch` payload.
    #[value(alias = "mcp.resource_fetch")]
    McpResourceFetch,
    /// An `mcp.resource_data` payload.
    #[value(alias = "mcp.resource_data")]
    McpResourceData,
}

impl DocKind {
    /// The name used in `invalid <name>: …` messages (the `--kind` value).
    pub(crate) fn label(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn kind_names_are_snake_case() {
        assert_eq!(DocKind::StateSnapshot.label(), "state_snapshot");
        assert_eq!(DocKind::McpToolResult.label(), "mcp_tool_result");
    }
}
