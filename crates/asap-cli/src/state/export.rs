//! `asap state export`: every task (with its history) and every snapshot version, as JSON
//! lines (see [`super::format`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use asap_model::TaskId;
use asap_state::Stores;

use super::format::{Change, Line, TaskLine};

/// Ids read per page of the walk.
const PAGE: usize = 500;

/// What an export wrote.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) tasks: usize,
    pub(crate) snapshots: usize,
}

/// Writes the export of `stores` to `output` (standard output for `None` or `-`).
///
/// A file is written under a temporary name beside it and renamed when complete, so a failed
/// export never leaves a file that looks whole.
pub(crate) async fn export(stores: &Stores, output: Option<&Path>) -> anyhow::Result<Counts> {
    match output.filter(|p| p.as_os_str() != "-") {
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let counts = write_all(stores, &mut out).await?;
            out.flush().context("cannot write standard output")?;
            Ok(counts)
        }
        Some(path) => {
            let partial = partial_path(path);
            let file = std::fs::File::create(&partial)
                .with_context(|| format!("cannot create '{}'", partial.display()))?;
            let mut out = std::io::BufWriter::new(file);
            let written = async {
                let counts = write_all(stores, &mut out).await?;
                out.flush()?;
                out.get_ref().sync_all()?;
                anyhow::Ok(counts)
            }
            .await;
            match written {
                Ok(counts) => {
                    std::fs::rename(&partial, path).with_context(|| {
                        format!(
                            "cannot rename '{}' to '{}'",
                            partial.display(),
                            path.display()
                        )
                    })?;
                    Ok(counts)
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    Err(e.context(format!("cannot write '{}'", path.display())))
                }
            }
        }
    }
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

fn write_line(out: &mut impl Write, line: &Line) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")?;
    Ok(())
}

async fn write_all(stores: &Stores, out: &mut impl Write) -> anyhow::Result<Counts> {
    let mut counts = Counts::default();
    write_line(out, &Line::header())?;

    let mut after: Option<TaskId> = None;
    loop {
        let page = stores
            .tasks
            .list_ids(after.as_ref(), PAGE)
            .await
            .context("cannot list the tasks")?;
        for id in &page {
            // Gone since the page was read: nothing to export.
            let Some(task) = stores.tasks.get(id).await.context("cannot read a task")? else {
                continue;
            };
            let history = stores
                .tasks
                .history(id)
                .await
                .with_context(|| format!("cannot read the history of task {id}"))?;
            let history = history.iter().map(Change::from).collect();
            write_line(out, &Line::Task(TaskLine { task, history }))?;
            counts.tasks += 1;
        }
        match page.into_iter().last() {
            Some(last) => after = Some(last),
            None => break,
        }
    }

    let mut after: Option<TaskId> = None;
    loop {
        let page = stores
            .snapshots
            .list_tasks(after.as_ref(), PAGE)
            .await
            .context("cannot list the tasks with snapshots")?;
        for task in &page {
            let versions = stores
                .snapshots
                .list_versions(task)
                .await
                .with_context(|| format!("cannot list the snapshots of task {task}"))?;
            for version in versions {
                let record = stores
                    .snapshots
                    .get(task, Some(version))
                    .await
                    .with_context(|| format!("cannot read snapshot {version} of task {task}"))?;
                if let Some(record) = record {
                    write_line(out, &Line::snapshot(record))?;
                    counts.snapshots += 1;
                }
            }
        }
        match page.into_iter().last() {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    Ok(counts)
}
