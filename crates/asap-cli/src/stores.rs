//! The state stores of `asap serve`: chosen by URL, opened before the server is built.
//!
//! | what | default | shared by replicas with |
//! |---|---|---|
//! | tasks, snapshots, idempotency records | `sqlite://<data dir>/state.db` | `--state postgres://…` |
//! | nonces (`--require-nonce`) | the state store | `--shared-state redis://…` (or the state store when it is PostgreSQL) |
//! | rate-limit budgets | in process | `--shared-state redis://…` |

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use asap_state::Stores;

/// Which state store to use: the flags `asap serve` and `asap state` share.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StoreArgs {
    /// Directory of the embedded state store, `DIR/state.db` (SQLite, created when missing)
    /// [default: .asap in the working directory, or ASAP_DATA_DIR].
    #[arg(
        long,
        value_name = "DIR",
        env = "ASAP_DATA_DIR",
        default_value = ".asap"
    )]
    pub(crate) data_dir: PathBuf,

    /// State store for tasks, snapshots and idempotency records: `sqlite://PATH`,
    /// `postgres://…`, or `memory:` (nothing kept across restarts) [default:
    /// sqlite://DATA_DIR/state.db, or ASAP_STATE_URL].
    #[arg(long = "state", value_name = "URL", env = "ASAP_STATE_URL")]
    pub(crate) state_url: Option<String>,
}

impl StoreArgs {
    /// The state store's URL: `--state`, or the SQLite file under `--data-dir`.
    pub(crate) fn url(&self) -> String {
        self.state_url
            .clone()
            .unwrap_or_else(|| default_url(&self.data_dir))
    }
}

/// Where `asap serve` keeps its state (the `[state]` flags).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StateArgs {
    /// The state store.
    #[command(flatten)]
    pub(crate) store: StoreArgs,

    /// Store for nonces and rate-limit budgets shared by several replicas: `redis://…`, or
    /// any state URL [default: nonces in the state store, rate limits in process, or
    /// ASAP_SHARED_STATE_URL].
    #[arg(
        long = "shared-state",
        value_name = "URL",
        env = "ASAP_SHARED_STATE_URL"
    )]
    pub(crate) shared_url: Option<String>,

    /// Name of this replica among those sharing a state store: at start it resumes only
    /// the long-running tasks it started itself [default: default, or ASAP_INSTANCE].
    #[arg(
        long,
        value_name = "NAME",
        env = "ASAP_INSTANCE",
        default_value = "default"
    )]
    pub(crate) instance: String,

    /// Idempotent sends (a retried request with the same idempotency key gets the stored
    /// response; the handler runs once) [default: on, or ASAP_IDEMPOTENCY].
    #[arg(
        long,
        value_name = "on|off",
        env = "ASAP_IDEMPOTENCY",
        default_value = "on",
        value_parser = parse_switch,
        action = clap::ArgAction::Set
    )]
    pub(crate) idempotency: bool,

    /// How long an idempotency record is kept (a retry after that runs again), e.g. `10m`
    /// [default: twice the envelope age window (600 s), or ASAP_IDEMPOTENCY_TTL].
    #[arg(
        long,
        value_name = "DURATION",
        env = "ASAP_IDEMPOTENCY_TTL",
        value_parser = crate::send::parse_duration
    )]
    pub(crate) idempotency_ttl: Option<std::time::Duration>,
}

fn parse_switch(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        other => Err(format!("expected on or off, got {other:?}")),
    }
}

/// The opened stores and what to say about them.
pub(crate) struct Opened {
    pub(crate) stores: Stores,
    /// Extra stores to watch for `/ready` (the shared one).
    pub(crate) extra_pings: Vec<Arc<dyn asap_state::Ping>>,
    /// Periodic clean-up of expired rows the server's own purge does not cover.
    pub(crate) maintenance: Option<Maintenance>,
    /// One line for the start-up message.
    pub(crate) description: String,
}

/// Expired nonces and rate-limit rows of a SQLite store, removed every minute.
pub(crate) struct Maintenance(#[cfg(feature = "sqlite")] asap_state::sqlite::SqliteStore);

impl Maintenance {
    /// Every minute, removes expired rows in bounded batches until none is left.
    #[cfg(not(feature = "sqlite"))]
    pub(crate) async fn run(self) {}

    /// Every minute, removes expired rows in bounded batches until none is left.
    #[cfg(feature = "sqlite")]
    pub(crate) async fn run(self) {
        const BATCH: usize = 1000;
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // Each kind removes at most BATCH rows per call: repeat while a call was full.
            while let Ok(removed) = self.0.purge_expired(BATCH).await {
                if removed < BATCH as u64 {
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
    }
}

/// The default state URL for `data_dir`.
pub(crate) fn default_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("state.db").display())
}

/// Opens the stores `args` name. Must run on the runtime that serves (connection pools
/// spawn their tasks there).
pub(crate) async fn open(args: &StateArgs) -> anyhow::Result<Opened> {
    let url = args.store.url();
    let (mut stores, maintenance) = open_state(&url).await?;
    let mut description = format!("state in {}", redact(&url));
    let mut extra_pings = Vec::new();
    if let Some(shared) = &args.shared_url {
        let (nonces, rate_limits, ping) = open_shared(shared).await?;
        stores.nonces = nonces;
        stores.rate_limits = rate_limits;
        extra_pings.push(ping);
        description.push_str(&format!(", nonces and rate limits in {}", redact(shared)));
    }
    Ok(Opened {
        stores,
        extra_pings,
        maintenance,
        description,
    })
}

/// Opens the state store at `url` (its schema migrated), with the clean-up it needs.
pub(crate) async fn open_state(url: &str) -> anyhow::Result<(Stores, Option<Maintenance>)> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("redis:") || lower.starts_with("rediss:") {
        anyhow::bail!(
            "--state {}: Redis holds no tasks or snapshots; use it as --shared-state, with \
             sqlite:// or postgres:// for --state",
            redact(url)
        );
    }
    #[cfg(feature = "sqlite")]
    if let Some(rest) = lower
        .strip_prefix("sqlite:")
        .map(|_| &url["sqlite:".len()..])
    {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        let store = asap_state::sqlite::SqliteStore::open(path)
            .await
            .with_context(|| format!("cannot open the state store {url}"))?;
        return Ok((store.clone().into_stores(), Some(Maintenance(store))));
    }
    let stores = Stores::open(url)
        .await
        .with_context(|| format!("cannot open the state store {}", redact(url)))?;
    Ok((stores, None))
}

type Shared = (
    Arc<dyn asap_state::NonceStore>,
    Arc<dyn asap_state::RateLimitStore>,
    Arc<dyn asap_state::Ping>,
);

async fn open_shared(url: &str) -> anyhow::Result<Shared> {
    let lower = url.to_ascii_lowercase();
    #[cfg(feature = "redis")]
    if lower.starts_with("redis:") || lower.starts_with("rediss:") || lower.starts_with("redis+") {
        let store = Arc::new(
            asap_state::redis::RedisStore::open(url)
                .with_context(|| format!("cannot open the shared store {}", redact(url)))?,
        );
        return Ok((store.clone(), store.clone(), store));
    }
    #[cfg(not(feature = "redis"))]
    if lower.starts_with("redis") {
        anyhow::bail!(
            "--shared-state {}: this build has no Redis support (feature `redis`)",
            redact(url)
        );
    }
    let stores = Stores::open(url)
        .await
        .with_context(|| format!("cannot open the shared store {}", redact(url)))?;
    Ok((stores.nonces, stores.rate_limits, stores.ping))
}

/// `url` without the password of its user info, for messages.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or("");
            if user_info.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                url.to_owned()
            }
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact("postgres://asap:s3cret@db:5432/asap"),
            "postgres://asap:***@db:5432/asap"
        );
        assert_eq!(redact("redis://:pw@cache/0"), "redis://:***@cache/0");
        assert_eq!(redact("postgres://asap@db/asap"), "postgres://asap@db/asap");
        assert_eq!(redact("sqlite://.asap/state.db"), "sqlite://.asap/state.db");
        assert_eq!(redact("memory:"), "memory:");
    }

    #[test]
    fn switches_read_on_and_off() {
        assert_eq!(parse_switch("ON"), Ok(true));
        assert_eq!(parse_switch("off"), Ok(false));
        assert!(parse_switch("maybe").is_err());
    }
}
