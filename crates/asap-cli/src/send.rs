//! `asap send` and `asap manifest`: talk to an agent with the ASAP client.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use asap_model::payload::TaskRequest;
use asap_model::{AgentUrn, ConversationId, Envelope, JsonObject};
use asap_transport_client::{AsapClient, AsapClientBuilder, ClientError};

/// Client options shared by `send` and `manifest`.
#[derive(Debug, clap::Args)]
pub(crate) struct ClientArgs {
    /// Send `Authorization: Bearer TOKEN`.
    #[arg(long, value_name = "TOKEN", env = "ASAP_TOKEN")]
    pub(crate) token: Option<String>,

    /// Allow plain http to hosts other than localhost.
    #[arg(long)]
    pub(crate) insecure: bool,

    /// Request timeout in seconds (each attempt).
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

    /// Time allowed for the whole send, every attempt and every wait between attempts
    /// included: `30s`, `500ms`, `2m`, `1h` or seconds (`1.5`); `off` for no bound. The
    /// manifest lookup for a default --recipient is bounded by it too.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_deadline)]
    pub(crate) deadline: Deadline,

    /// Longest Retry-After (on HTTP 429 and 503) waited for before retrying; a longer one
    /// ends the send at once with the error and the server's hint [default: 60s, the
    /// longest backoff].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) max_retry_after: Option<Duration>,

    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

/// A `--deadline`: a duration, or none (`off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadline(Option<Duration>);

/// Parses `--deadline`: a positive [`parse_duration`] or `off`.
fn parse_deadline(text: &str) -> Result<Deadline, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(Deadline(None));
    }
    match parse_duration(text)? {
        d if d.is_zero() => Err("must be positive (or `off`)".to_owned()),
        d => Ok(Deadline(Some(d))),
    }
}

/// Parses a duration: a non-negative number with an optional unit, `ms`, `s` (the default,
/// like --timeout), `m` or `h`: `500ms`, `30s`, `1.5`, `2m`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 30s, 500ms or 1.5)"))?;
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} (expected ms, s, m or h, e.g. 30s or 500ms)"
            ));
        }
    };
    Duration::try_from_secs_f64(value * scale).map_err(|_| format!("{text:?} is out of range"))
}

/// Arguments of `asap manifest`.
#[derive(Debug, clap::Args)]
pub(crate) struct ManifestArgs {
    /// Base URL of the agent; the manifest is read from `/.well-known/asap/manifest.json`.
    pub(crate) url: String,

    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

fn builder(url: &str, args: &ClientArgs) -> anyhow::Result<AsapClientBuilder> {
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
    Ok(builder)
}

/// The client of `asap send`: the shared options, the deadline and the `Retry-After` cap.
fn send_client(args: &SendArgs) -> anyhow::Result<AsapClient> {
    let mut builder = builder(&args.url, &args.client)?;
    builder = match args.deadline {
        Deadline(Some(deadline)) => builder
            .deadline(deadline)
            .manifest_timeout(MANIFEST_TIMEOUT.min(deadline)),
        Deadline(None) => builder.no_deadline(),
    };
    if let Some(cap) = args.max_retry_after {
        builder = builder.max_retry_after(cap);
    }
    builder.build().map_err(describe)
}

/// The client's default bound on manifest fetches.
const MANIFEST_TIMEOUT: Duration = Duration::from_secs(10);

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
        // Keeps the cause (e.g. the last attempt's error of a deadline error) printable.
        _ => anyhow::Error::new(error),
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
    let client = send_client(args)?;
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
    let client = builder(&args.url, &args.client)?
        .build()
        .map_err(describe)?;
    runtime()?.block_on(async move {
        let manifest = client.get_manifest().await.map_err(describe)?;
        print_line(&serde_json::to_string_pretty(&*manifest)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit_or_seconds() {
        let ms = Duration::from_millis;
        assert_eq!(parse_duration("500ms"), Ok(ms(500)));
        assert_eq!(parse_duration("30s"), Ok(ms(30_000)));
        assert_eq!(parse_duration(" 1.5 "), Ok(ms(1500)));
        assert_eq!(parse_duration("2m"), Ok(ms(120_000)));
        assert_eq!(parse_duration("1h"), Ok(ms(3_600_000)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in ["", "s", "soon", "-1s", "1.2.3", "5 days", "1e999"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn deadlines_are_positive_or_off() {
        assert_eq!(
            parse_deadline("250ms"),
            Ok(Deadline(Some(Duration::from_millis(250))))
        );
        assert_eq!(parse_deadline("OFF"), Ok(Deadline(None)));
        assert!(parse_deadline("0s").is_err());
    }
}
