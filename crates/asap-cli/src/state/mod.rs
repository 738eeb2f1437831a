//! `asap state`: the state store's schema, and moving its tasks and snapshots out and in.
//!
//! - `migrate [--check]` applies the store's pending schema migrations (opening a store for
//!   `asap serve` does the same) or, with `--check`, only says whether any are pending; it
//!   also counts the stored snapshots per schema version of their data. Upgrading snapshot
//!   data is the application's: its migration steps are Rust code in its own binary
//!   (`asap_state::migrate`).
//! - `export [--output FILE]` writes every task with its history and every snapshot version
//!   as JSON lines ([`mod@format`]).
//! - `import [FILE|-] [--skip-existing]` writes an export into a store, after checking all of
//!   it.
//!
//! Exit status: 0 done; 1 pending migrations (`--check`) or an input refused by `import`;
//! 2 usage, I/O or store errors.

mod export;
mod format;
mod import;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use asap_model::TaskId;
use asap_state::{SnapshotStore, Stores};

use crate::stores::{StoreArgs, open_state, redact};

/// Exit status of pending migrations and refused imports.
const EXIT_REFUSED: u8 = 1;

/// `asap state` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum StateCommand {
    /// Apply the state store's pending schema migrations, or check for them
    ///
    /// Prints the schema version of the store against this build's, what was applied, and
    /// how many snapshots are stored at each schema version of their data (snapshot data is
    /// upgraded by the application's own migration steps, not by this command). With
    /// --check nothing is written (a missing SQLite file is not created) and the exit
    /// status is 1 when migrations are pending.
    #[command(verbatim_doc_comment)]
    Migrate {
        /// Only report; exit 1 when migrations are pending.
        #[arg(long)]
        check: bool,
        /// The state store.
        #[command(flatten)]
        store: StoreArgs,
    },

    /// Write every task (with its status history) and snapshot version as JSON lines
    ///
    /// The first line is a header; then one line per task and one per snapshot version.
    /// Nonces, rate-limit budgets and idempotency records are not exported. The export walks
    /// the store while it may change: for a point-in-time copy, stop the writers first (or
    /// use the database's own backup: `sqlite3 state.db .backup`, `pg_dump`).
    #[command(verbatim_doc_comment)]
    Export {
        /// Write here instead of standard output (`-`): the file appears only once complete.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The state store.
        #[command(flatten)]
        store: StoreArgs,
    },

    /// Write an export into the state store
    ///
    /// Reads FILE, or standard input (`-`, the default). All of it is checked before
    /// anything is written: a malformed line, an impossible task history, a record twice in
    /// the input or one the store already holds refuses the import with its line number
    /// (exit status 1) and leaves the store as it was. With --skip-existing the records the
    /// store holds are skipped and the others imported.
    #[command(verbatim_doc_comment)]
    Import {
        /// The export to read, `-` for standard input.
        #[arg(value_name = "FILE", default_value = "-")]
        file: PathBuf,
        /// Skip tasks and snapshot versions the store already holds instead of refusing.
        #[arg(long)]
        skip_existing: bool,
        /// The state store.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Runs `command`.
pub(crate) fn run(command: &StateCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        match command {
            StateCommand::Migrate { check, store } => migrate(&store.url(), *check).await,
            StateCommand::Export { output, store } => {
                let stores = open(&store.url()).await?;
                let counts = export::export(&stores, output.as_deref()).await?;
                eprintln!(
                    "exported {} tasks and {} snapshots from {}",
                    counts.tasks,
                    counts.snapshots,
                    redact(&store.url())
                );
                Ok(ExitCode::SUCCESS)
            }
            StateCommand::Import {
                file,
                skip_existing,
                store,
            } => {
                let input = crate::read_input(file)?;
                let stores = open(&store.url()).await?;
                match import::import(&stores, &input, *skip_existing).await? {
                    import::Verdict::Done {
                        tasks,
                        snapshots,
                        skipped,
                    } => {
                        eprintln!(
                            "imported {tasks} tasks and {snapshots} snapshots into {}, \
                             {skipped} records skipped (already stored)",
                            redact(&store.url())
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    import::Verdict::Invalid(message) => {
                        eprintln!("error: {message}");
                        Ok(ExitCode::from(EXIT_REFUSED))
                    }
                }
            }
        }
    })
}

async fn open(url: &str) -> anyhow::Result<Stores> {
    if url.to_ascii_lowercase().starts_with("memory:") {
        anyhow::bail!(
            "{url}: a memory store lives only inside the process that opened it; give the \
             --state or --data-dir of the store asap serve uses"
        );
    }
    Ok(open_state(url).await?.0)
}

async fn migrate(url: &str, check: bool) -> anyhow::Result<ExitCode> {
    let shown = redact(url);
    let before = Stores::schema_status(url)
        .await
        .with_context(|| format!("cannot read the schema of {shown}"))?;
    let mut out = std::io::stdout().lock();
    if before.is_newer() {
        anyhow::bail!(
            "{shown}: schema version {} is newer than this build's {}; use a newer asap",
            before.applied,
            before.latest
        );
    }
    if check {
        writeln!(
            out,
            "{shown}: schema version {} of {}, {} migrations pending",
            before.applied,
            before.latest,
            before.pending()
        )?;
        if before.pending() > 0 {
            return Ok(ExitCode::from(EXIT_REFUSED));
        }
    } else {
        let stores = open(url).await?;
        let after = Stores::schema_status(url)
            .await
            .with_context(|| format!("cannot read the schema of {shown}"))?;
        if before.pending() > 0 {
            writeln!(
                out,
                "{shown}: schema version {} → {} ({} migrations applied)",
                before.applied,
                after.applied,
                before.pending()
            )?;
        } else {
            writeln!(out, "{shown}: schema version {}, up to date", after.applied)?;
        }
        // A store with no snapshot listing (a custom backend) has nothing to count.
        if let Ok(versions) = count_schema_versions(&*stores.snapshots).await {
            if versions.is_empty() {
                writeln!(out, "no snapshots stored")?;
            }
            for (schema_version, count) in versions {
                writeln!(
                    out,
                    "{count} snapshots with data at schema version {schema_version}"
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Stored snapshot versions per schema version of their data, ascending.
async fn count_schema_versions(
    store: &dyn SnapshotStore,
) -> anyhow::Result<std::collections::BTreeMap<u32, usize>> {
    let mut counts = std::collections::BTreeMap::new();
    let mut after: Option<TaskId> = None;
    loop {
        let page = store.list_tasks(after.as_ref(), 500).await?;
        for task in &page {
            for version in store.list_versions(task).await? {
                if let Some(record) = store.get(task, Some(version)).await? {
                    *counts.entry(record.schema_version).or_default() += 1;
                }
            }
        }
        match page.into_iter().last() {
            Some(last) => after = Some(last),
            None => return Ok(counts),
        }
    }
}
