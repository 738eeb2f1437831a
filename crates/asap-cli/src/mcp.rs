//! `asap mcp`: MCP (Model Context Protocol) from the command line.

use std::process::ExitCode;

use asap_mcp::client::{McpClient, ResourceContent};
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
    ///
    /// With --agent URL instead of --demo: the agent's skills, one tool each (input schema
    /// from its manifest), answered by sending it a task.request; a completed task's result
    /// comes back as the tool's JSON, a failed one as a tool error.
    ///
    /// With --http ADDR: Streamable HTTP at http://ADDR/mcp instead (127.0.0.1 only unless
    /// --allow-host names more; browser requests only from loopback origins), until Ctrl-C
    /// or SIGTERM. The first line on stderr is `asap mcp: serving on http://ADDR/mcp`.
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),

    /// List the tools of an MCP server
    Tools {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        output: Output,
    },

    /// Call a tool of an MCP server and print its text (exit 1 when it reports an error)
    Call {
        /// The tool.
        tool: String,
        /// Its arguments, a JSON object (checked against the tool's schema before sending).
        #[arg(long, default_value = "{}")]
        args: String,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        output: Output,
    },

    /// Read a resource of an MCP server and print its text
    Read {
        /// The resource's URI.
        uri: String,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        output: Output,
    },

    /// Get a prompt of an MCP server and print its messages
    Prompt {
        /// The prompt.
        name: String,
        /// Its arguments, a JSON object of strings.
        #[arg(long, default_value = "{}")]
        args: String,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        output: Output,
    },
}

/// Which MCP server a client command talks to.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct Target {
    /// Spawn this command (split on whitespace) and talk to it over stdio.
    #[arg(long, value_name = "CMD ARGS")]
    stdio: Option<String>,
    /// Connect to this Streamable HTTP endpoint (http://host:port/mcp).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
}

/// How a client command prints.
#[derive(Debug, Args)]
pub(crate) struct Output {
    /// Print the raw JSON result instead of its text.
    #[arg(long)]
    json: bool,
}

/// Options of `asap mcp serve`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["demo", "agent"])))]
pub(crate) struct ServeArgs {
    /// Serve the demo server.
    #[arg(long)]
    demo: bool,
    /// Serve the skills of the ASAP agent at URL as tools: calling one sends the agent a
    /// task.request for that skill with the arguments as input.
    #[arg(long, value_name = "URL")]
    agent: Option<String>,
    /// The sender of the envelopes sent to --agent.
    #[arg(long, value_name = "URN", default_value = asap_mcp::bridge::BRIDGE_SENDER, requires = "agent")]
    sender: String,
    /// Serve Streamable HTTP on this address (port 0: any free port) instead of stdio.
    #[arg(long, value_name = "ADDR")]
    http: Option<std::net::SocketAddr>,
    /// A `Host` the HTTP endpoint accepts besides loopback (repeatable).
    #[arg(long = "allow-host", value_name = "HOST", requires = "http")]
    allow_hosts: Vec<String>,
}

pub(crate) fn run(command: &McpCommand) -> anyhow::Result<ExitCode> {
    let (target, output) = match command {
        McpCommand::Serve(args) => return serve(args),
        McpCommand::Tools { target, output }
        | McpCommand::Call { target, output, .. }
        | McpCommand::Read { target, output, .. }
        | McpCommand::Prompt { target, output, .. } => (target, output),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = connect(target).await?;
        let outcome = act(&client, command, output.json).await;
        let _ = client.close().await;
        // The server's refusal or a failed check: its message, and a non-zero exit.
        outcome.or_else(|error| {
            eprintln!("error: {error:#}");
            Ok(ExitCode::from(1))
        })
    })
}

async fn connect(target: &Target) -> anyhow::Result<McpClient> {
    Ok(match (&target.stdio, &target.url) {
        (Some(command), _) => {
            let mut words = command.split_whitespace().map(str::to_owned);
            let program = words
                .next()
                .ok_or_else(|| anyhow::anyhow!("--stdio names no command"))?;
            let args: Vec<String> = words.collect();
            McpClient::spawn(&program, &args).await?
        }
        (None, Some(url)) => McpClient::connect(url).await?,
        (None, None) => anyhow::bail!("give --stdio CMD or --url URL"),
    })
}

async fn act(client: &McpClient, command: &McpCommand, json: bool) -> anyhow::Result<ExitCode> {
    match command {
        McpCommand::Serve(_) => unreachable!("served above"),
        McpCommand::Tools { .. } => tools(client, json).await,
        McpCommand::Call { tool, args, .. } => call(client, tool, object(args)?, json).await,
        McpCommand::Read { uri, .. } => read(client, uri, json).await,
        McpCommand::Prompt { name, args, .. } => {
            let arguments = object(args)?
                .into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(v) => Ok((k, v)),
                    other => Err(anyhow::anyhow!(
                        "prompt argument {k} must be a string, not {other}"
                    )),
                })
                .collect::<anyhow::Result<_>>()?;
            prompt(client, name, arguments, json).await
        }
    }
}

/// `--args`: a JSON object.
fn object(text: &str) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        Ok(other) => anyhow::bail!("--args must be a JSON object, not {other}"),
        Err(e) => anyhow::bail!("--args is not JSON: {e}"),
    }
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

async fn tools(client: &McpClient, json: bool) -> anyhow::Result<ExitCode> {
    let tools = client.list_tools().await?;
    for tool in &tools {
        if json {
            print_json(&serde_json::json!({
                "name": tool.name, "description": tool.description, "inputSchema": tool.input_schema,
            }))?;
        } else {
            println!(
                "{}\t{}",
                tool.name,
                tool.description.as_deref().unwrap_or("")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn call(
    client: &McpClient,
    tool: &str,
    arguments: serde_json::Map<String, serde_json::Value>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let result = client.call_tool(tool, arguments).await?;
    if json {
        print_json(&result.raw)?;
    } else {
        for text in &result.text {
            println!("{text}");
        }
    }
    Ok(if result.is_error {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn read(client: &McpClient, uri: &str, json: bool) -> anyhow::Result<ExitCode> {
    for content in client.read_resource(uri).await? {
        match (content, json) {
            (ResourceContent::Text { uri, text }, true) => {
                print_json(&serde_json::json!({"uri": uri, "text": text}))?;
            }
            (ResourceContent::Blob { uri, base64 }, true) => {
                print_json(&serde_json::json!({"uri": uri, "blob": base64}))?;
            }
            (ResourceContent::Text { text, .. }, false) => println!("{text}"),
            (ResourceContent::Blob { base64, .. }, false) => println!("{base64}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn prompt(
    client: &McpClient,
    name: &str,
    arguments: asap_mcp::PromptArguments,
    json: bool,
) -> anyhow::Result<ExitCode> {
    for message in client.get_prompt(name, arguments).await? {
        let role = match message.role() {
            asap_mcp::Role::User => "user",
            asap_mcp::Role::Assistant => "assistant",
        };
        let text = message
            .text()
            .map_or_else(|| format!("{:?}", message.content()), str::to_owned);
        if json {
            print_json(&serde_json::json!({"role": role, "text": text}))?;
        } else {
            println!("{role}: {text}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let server = match &args.agent {
        None => asap_mcp::demo_server(),
        Some(url) => runtime.block_on(async {
            let sender: asap_model::AgentUrn = args
                .sender
                .parse()
                .map_err(|e| anyhow::anyhow!("--sender: {e}"))?;
            let client = asap_transport_client::AsapClient::builder(url.as_str())
                .build()
                .map_err(|e| anyhow::anyhow!("--agent {url}: {e}"))?;
            Ok::<_, anyhow::Error>(asap_mcp::bridge::agent_server(client, sender).await?)
        })?,
    };
    match args.http {
        None => runtime.block_on(server.serve_stdio())?,
        Some(addr) => runtime.block_on(serve_http(&server, addr, &args.allow_hosts))?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve_http(
    server: &asap_mcp::McpServer,
    addr: std::net::SocketAddr,
    extra_hosts: &[String],
) -> anyhow::Result<()> {
    let mut config = asap_mcp::http::HttpConfig::default();
    if !extra_hosts.is_empty() {
        let hosts = ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .map(str::to_owned)
            .chain(extra_hosts.iter().cloned());
        config = config.allowed_hosts(hosts);
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    // Armed before the listening line, so that a SIGTERM sent right after it stops the
    // server instead of killing it.
    let shutdown = crate::runtime::armed_shutdown_signal().await;
    eprintln!("asap mcp: serving on http://{}/mcp", listener.local_addr()?);
    server
        .serve_http(listener, "/mcp", &config, shutdown)
        .await?;
    Ok(())
}
