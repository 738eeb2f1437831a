//! `asap send` and `asap manifest`: talk to an agent with the ASAP client.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use asap_model::payload::TaskRequest;
use asap_model::{AgentUrn, ConversationId, Envelope, JsonObject};
use asap_transport_client::{AsapClient, ClientError};

/// Client options shared by `send` and `manifest`.
#[derive(Debug, clap::Args)]
pub(crate) struct ClientArgs {
    /// Send `Authorization: Bearer TOKEN`.
    #[arg(long, value_name = "TOKEN", env = "ASAP_TOKEN")]
    pub(crate) token: Option<String>,

    /// Allow plain http to hosts other than localhost.
    #[arg(long)]
    pub(crate) insecure: bool,

    /// Request timeout in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub(crate) timeout: f64,

    /// Total attempts per request (retries on 5xx, 429 and connection errors).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub(crate) attempts: u32,
}

/// Arguments of `asap send`.
#[derive(Debug, clap::Args)]
pub(crate) struct SendArgs {
    /// Base URL of the agent (`http://127.0.0.1:8000`); `/asap` is appended.
    pub(crate) url: String,

    /// Envelope to send (`-` for standard input). Without it: a `task.request` built from
    /// --skill/--input, or, without --skill, an envelope read from standard input.
    #[arg(value_name = "FILE|-")]
    pub(crate) file: Option<PathBuf>,

    /// Build a `task.request` for this skill.
    #[arg(long, value_name = "SKILL", conflicts_with = "file")]
    pub(crate) skill: Option<String>,

    /// Skill input as a JSON object (with --skill) [default: {}].
    #[arg(long, value_name = "JSON", requires = "skill")]
    pub(crate) input: Option<String>,

    /// Sender URN of a built request.
    #[arg(long, value_name = "URN", default_value = "urn:asap:agent:asap-cli")]
    pub(crate) sender: String,

    /// Recipient URN of a built request [default: the agent's manifest id].
    #[arg(long, value_name = "URN")]
    pub(crate) recipient: Option<String>,

    /// Print exactly the response envelope as compact JSON (for scripts).
    #[arg(long)]
    pub(crate) json: bool,

    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

/// Arguments of `asap manifest`.
#[derive(Debug, clap::Args)]
pub(crate) struct ManifestArgs {
    /// Base URL of the agent; the manifest is read from `/.well-known/asap/manifest.json`.
    pub(crate) url: String,

    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

fn client(url: &str, args: &ClientArgs) -> anyhow::Result<AsapClient> {
    anyhow::ensure!(
        args.timeout.is_finite() && args.timeout > 0.0,
        "--timeout must be a positive number of seconds"
    );
    let mut builder = AsapClient::builder(url.trim_end_matches('/'))
        .timeout(Duration::from_secs_f64(args.timeout))
        .max_retries(args.attempts.max(1))
        .require_https(!args.insecure);
    if let Some(token) = &args.token {
        builder = builder.bearer_token(token);
    }
    builder.build().map_err(describe)
}

fn describe(error: ClientError) -> anyhow::Error {
    match &error {
        ClientError::Remote {
            code,
            message,
            data,
        } => match data {
            Some(data) => anyhow::anyhow!("remote error {code} {message}: {data}"),
            None => anyhow::anyhow!("remote error {code} {message}"),
        },
        _ => anyhow::anyhow!("{error}"),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn read_envelope(bytes: &[u8]) -> anyhow::Result<Envelope> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).context("the envelope is not valid JSON")?;
    asap_model::validation::from_value(value).map_err(|e| anyhow::anyhow!("invalid envelope: {e}"))
}

/// Runs `asap send`.
pub(crate) fn send(
    args: &SendArgs,
    read: impl Fn(&std::path::Path) -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<()> {
    let client = client(&args.url, &args.client)?;
    let stdin = PathBuf::from("-");
    let file = match (&args.file, &args.skill) {
        (Some(file), _) => Some(file),
        (None, None) => Some(&stdin),
        (None, Some(_)) => None,
    };
    let given = match file {
        Some(path) => Some(read_envelope(&read(path)?)?),
        None => None,
    };
    runtime()?.block_on(async move {
        let envelope = match given {
            Some(envelope) => envelope,
            None => build_request(&client, args).await?,
        };
        let response = client.send(envelope).await.map_err(describe)?;
        let text = if args.json {
            serde_json::to_string(&response)?
        } else {
            serde_json::to_string_pretty(&response)?
        };
        print_line(&text)
    })
}

/// Writes one line to stdout; a closed pipe (`| head`) is not an error.
fn print_line(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

async fn build_request(client: &AsapClient, args: &SendArgs) -> anyhow::Result<Envelope> {
    let sender: AgentUrn = args
        .sender
        .parse()
        .map_err(|e| anyhow::anyhow!("--sender: {e}"))?;
    let recipient: AgentUrn = match &args.recipient {
        Some(r) => r.parse().map_err(|e| anyhow::anyhow!("--recipient: {e}"))?,
        None => client
            .get_manifest()
            .await
            .map_err(|e| anyhow::anyhow!("cannot read the agent's manifest for --recipient: {e}"))?
            .id
            .clone(),
    };
    let input: JsonObject = match &args.input {
        Some(text) => serde_json::from_str(text).context("--input must be a JSON object")?,
        None => JsonObject::new(),
    };
    Ok(Envelope::new(
        sender,
        recipient,
        TaskRequest {
            conversation_id: ConversationId::generate(),
            parent_task_id: None,
            skill_id: args.skill.clone().unwrap_or_default(),
            input,
            config: None,
        },
    ))
}

/// Runs `asap manifest`.
pub(crate) fn manifest(args: &ManifestArgs) -> anyhow::Result<()> {
    let client = client(&args.url, &args.client)?;
    runtime()?.block_on(async move {
        let manifest = client.get_manifest().await.map_err(describe)?;
        print_line(&serde_json::to_string_pretty(&*manifest)?)
    })
}
