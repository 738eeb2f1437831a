//! `asap state import`: an export (see [`super::format`]) written into a store.
//!
//! The whole input is read and checked before anything is written: a malformed line, a
//! history that cannot belong to its task, a record twice in the input, or (without
//! `--skip-existing`) a record the store already holds refuses the import with the line
//! number, and the store is left as it was. The input is held in memory while it is checked.

use std::collections::HashMap;

use anyhow::Context as _;
use asap_model::TaskId;
use asap_state::{SnapshotRecord, StatusChange, Stores, check_history};

use super::format::{FORMAT, Header, Line, SnapshotLine, TaskLine, VERSION};

/// One record of the input, with its line number.
enum Record {
    Task {
        line: usize,
        task: asap_model::Task,
        history: Vec<StatusChange>,
    },
    Snapshot {
        line: usize,
        record: SnapshotRecord,
    },
}

/// What an import did, or why it wrote nothing.
pub(crate) enum Verdict {
    /// Written: tasks and snapshots imported, records skipped because the store had them.
    Done {
        tasks: usize,
        snapshots: usize,
        skipped: usize,
    },
    /// Refused before writing anything.
    Invalid(String),
}

/// Checks `input` and imports it into `stores`.
pub(crate) async fn import(
    stores: &Stores,
    input: &[u8],
    skip_existing: bool,
) -> anyhow::Result<Verdict> {
    let records = match parse(input) {
        Ok(records) => records,
        Err(message) => return Ok(Verdict::Invalid(message)),
    };
    let mut existing = vec![false; records.len()];
    for (i, record) in records.iter().enumerate() {
        existing[i] = exists(stores, record).await?;
        if existing[i] && !skip_existing {
            return Ok(Verdict::Invalid(format!(
                "{}; nothing was imported (--skip-existing imports the other records)",
                describe_existing(record)
            )));
        }
    }
    let (mut tasks, mut snapshots, mut skipped) = (0, 0, 0);
    for (record, existed) in records.iter().zip(existing) {
        if existed {
            skipped += 1;
            continue;
        }
        match record {
            Record::Task {
                line,
                task,
                history,
            } => {
                match stores.tasks.import(task, history).await {
                    Ok(()) => tasks += 1,
                    // Created by someone else since the check.
                    Err(e) if e.kind() == asap_state::ErrorKind::AlreadyExists && skip_existing => {
                        skipped += 1;
                    }
                    Err(e) => {
                        return Err(e).with_context(|| {
                            format!("line {line}: cannot import task {}", task.id)
                        });
                    }
                }
            }
            Record::Snapshot { line, record } => {
                stores.snapshots.save(record).await.with_context(|| {
                    format!(
                        "line {line}: cannot import snapshot {} of task {}",
                        record.snapshot.version, record.snapshot.task_id
                    )
                })?;
                snapshots += 1;
            }
        }
    }
    Ok(Verdict::Done {
        tasks,
        snapshots,
        skipped,
    })
}

async fn exists(stores: &Stores, record: &Record) -> anyhow::Result<bool> {
    Ok(match record {
        Record::Task { task, .. } => stores
            .tasks
            .get(&task.id)
            .await
            .context("cannot read the store")?
            .is_some(),
        Record::Snapshot { record, .. } => stores
            .snapshots
            .get(&record.snapshot.task_id, Some(record.snapshot.version))
            .await
            .context("cannot read the store")?
            .is_some(),
    })
}

fn describe_existing(record: &Record) -> String {
    match record {
        Record::Task { line, task, .. } => {
            format!("line {line}: task {} already exists in the store", task.id)
        }
        Record::Snapshot { line, record } => format!(
            "line {line}: snapshot {} of task {} already exists in the store",
            record.snapshot.version, record.snapshot.task_id
        ),
    }
}

/// Every record of `input`, or the first problem, as `line N: …`.
fn parse(input: &[u8]) -> Result<Vec<Record>, String> {
    let text = std::str::from_utf8(input).map_err(|e| {
        let line = 1 + input[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        format!("line {line}: not UTF-8 text")
    })?;
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, text)| (i + 1, text))
        .filter(|(_, text)| !text.trim().is_empty());
    let Some((first, header)) = lines.next() else {
        return Err("the input is empty: an export starts with a header line".into());
    };
    match Line::parse(header) {
        Ok(Line::Header(Header {
            format, version, ..
        })) if format == FORMAT => {
            if version > VERSION {
                return Err(format!(
                    "line {first}: export format version {version} is newer than this \
                     build's {VERSION}"
                ));
            }
        }
        _ => {
            return Err(format!(
                "line {first}: not an asap state export (the first line must be \
                 {{\"type\":\"header\",\"format\":\"{FORMAT}\",…}})"
            ));
        }
    }
    let mut records = Vec::new();
    let mut tasks_seen: HashMap<TaskId, usize> = HashMap::new();
    let mut snapshots_seen: HashMap<(TaskId, i64), usize> = HashMap::new();
    for (line, text) in lines {
        // The model's decoder: errors located by JSON path, with the protocol's messages.
        let parsed =
            Line::parse(text).map_err(|e| format!("line {line}: not a valid record: {e}"))?;
        match parsed {
            Line::Header(_) => {
                return Err(format!("line {line}: a second header line"));
            }
            Line::Task(TaskLine { task, history }) => {
                let history: Vec<StatusChange> = history.into_iter().map(Into::into).collect();
                check_history(&task, &history).map_err(|e| format!("line {line}: {e}"))?;
                if let Some(before) = tasks_seen.insert(task.id.clone(), line) {
                    return Err(format!(
                        "line {line}: task {} is already on line {before}",
                        task.id
                    ));
                }
                records.push(Record::Task {
                    line,
                    task,
                    history,
                });
            }
            Line::Snapshot(SnapshotLine {
                schema_version,
                snapshot,
            }) => {
                if schema_version == 0 {
                    return Err(format!("line {line}: schema_version starts at 1, got 0"));
                }
                let key = (snapshot.task_id.clone(), snapshot.version);
                if let Some(before) = snapshots_seen.insert(key, line) {
                    return Err(format!(
                        "line {line}: snapshot {} of task {} is already on line {before}",
                        snapshot.version, snapshot.task_id
                    ));
                }
                records.push(Record::Snapshot {
                    line,
                    record: SnapshotRecord {
                        snapshot,
                        schema_version,
                    },
                });
            }
        }
    }
    Ok(records)
}
