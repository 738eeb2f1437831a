//! `cargo xtask schemas`: regenerate or check the JSON Schemas in `docs/schemas/`.
//!
//! The schemas are produced by the CLI (`asap schemas export <DIR>`). Files whose name
//! ends in `.schema.json` under `docs/schemas/` are managed by this command; any other
//! file there (a README, say) is left alone and never reported as stale.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::util::{self, TempDir};

/// Where the checked-in schemas live, relative to the workspace root.
pub(crate) const SCHEMAS_DIR: &str = "docs/schemas";

/// Suffix of the files this command manages.
const SCHEMA_SUFFIX: &str = ".schema.json";

/// Regenerate the JSON Schemas in docs/schemas/, or check that they are up to date.
///
/// Runs `cargo run --quiet -p asap-cli -- schemas export <DIR>` into a temporary
/// directory. Without `--check`, stale `*.schema.json` files in docs/schemas/ are
/// deleted and new or changed files are copied in. With `--check`, nothing is written:
/// every added, removed or changed file is listed and the command fails if there is
/// any difference.
#[derive(Args, Debug)]
pub(crate) struct SchemasArgs {
    /// Do not write anything; fail if docs/schemas/ differs from freshly exported schemas
    #[arg(long)]
    check: bool,
}

/// Entry point of `cargo xtask schemas`.
pub(crate) fn run(root: &Path, args: &SchemasArgs) -> Result<()> {
    if args.check {
        check(root)
    } else {
        regenerate(root)
    }
}

/// Exports the schemas into a temporary directory and fails if `docs/schemas/` differs.
pub(crate) fn check(root: &Path) -> Result<()> {
    let exported = export(root)?;
    let committed = root.join(SCHEMAS_DIR);
    let drift = compare(exported.path(), &committed)?;
    if drift.is_empty() {
        eprintln!("{SCHEMAS_DIR}/ is up to date");
        return Ok(());
    }
    eprint!("{drift}");
    bail!(
        "{SCHEMAS_DIR}/ is out of date ({} file(s) differ); run `cargo xtask schemas` and commit the result",
        drift.len()
    )
}

/// Exports the schemas and makes `docs/schemas/` match them.
fn regenerate(root: &Path) -> Result<()> {
    let exported = export(root)?;
    let dest = root.join(SCHEMAS_DIR);
    let drift = compare(exported.path(), &dest)?;
    sync(exported.path(), &dest, &drift)?;
    if drift.is_empty() {
        eprintln!("{SCHEMAS_DIR}/ was already up to date");
    } else {
        eprint!("{drift}");
        eprintln!("updated {SCHEMAS_DIR}/ ({} file(s))", drift.len());
    }
    Ok(())
}

/// Runs the CLI's schema export into a new temporary directory.
fn export(root: &Path) -> Result<TempDir> {
    let dir = TempDir::new("xtask-schemas")?;
    let mut cmd = util::cargo();
    cmd.current_dir(root)
        .args([
            "run", "--quiet", "-p", "asap-cli", "--", "schemas", "export",
        ])
        .arg(dir.path());
    util::run(&mut cmd).context("exporting the JSON Schemas with the CLI failed")?;
    let files = list_files(dir.path())?;
    if !files.iter().any(|f| is_managed(f)) {
        bail!("`asap schemas export` wrote no `*{SCHEMA_SUFFIX}` files");
    }
    Ok(dir)
}

/// How the checked-in directory differs from a fresh export. Paths are relative.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Drift {
    /// Exported, but missing from the checked-in directory.
    pub(crate) added: Vec<PathBuf>,
    /// Managed files in the checked-in directory that are no longer exported.
    pub(crate) removed: Vec<PathBuf>,
    /// Present in both with different bytes.
    pub(crate) changed: Vec<PathBuf>,
}

impl Drift {
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.added.len() + self.removed.len() + self.changed.len()
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for path in &self.added {
            writeln!(
                f,
                "  added:   {} (exported, not in {SCHEMAS_DIR}/)",
                slash(path)
            )?;
        }
        for path in &self.removed {
            writeln!(
                f,
                "  removed: {} (in {SCHEMAS_DIR}/, no longer exported)",
                slash(path)
            )?;
        }
        for path in &self.changed {
            writeln!(f, "  changed: {}", slash(path))?;
        }
        Ok(())
    }
}

/// Compares a fresh export with the checked-in directory, which may not exist yet.
pub(crate) fn compare(exported: &Path, committed: &Path) -> Result<Drift> {
    let exported_files = list_files(exported)?;
    let committed_files = if committed.exists() {
        list_files(committed)?
    } else {
        BTreeSet::new()
    };

    let mut drift = Drift::default();
    for rel in &exported_files {
        if !committed_files.contains(rel) {
            drift.added.push(rel.clone());
        } else if read(&exported.join(rel))? != read(&committed.join(rel))? {
            drift.changed.push(rel.clone());
        }
    }
    drift.removed = committed_files
        .iter()
        .filter(|rel| is_managed(rel) && !exported_files.contains(*rel))
        .cloned()
        .collect();
    Ok(drift)
}

/// Applies `drift` (as computed by [`compare`]) so that `dest` matches `exported`:
/// stale files are deleted first (and directories they leave empty), then added and
/// changed files are copied.
pub(crate) fn sync(exported: &Path, dest: &Path, drift: &Drift) -> Result<()> {
    for rel in &drift.removed {
        let path = dest.join(rel);
        fs::remove_file(&path).with_context(|| format!("could not delete {}", path.display()))?;
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == dest || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    for rel in drift.added.iter().chain(&drift.changed) {
        let (from, to) = (exported.join(rel), dest.join(rel));
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("could not create {}", parent.display()))?;
        }
        fs::copy(&from, &to)
            .with_context(|| format!("could not copy {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

fn is_managed(rel: &Path) -> bool {
    rel.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.ends_with(SCHEMA_SUFFIX))
}

/// All regular files below `dir`, as sorted paths relative to `dir`.
fn list_files(dir: &Path) -> Result<BTreeSet<PathBuf>> {
    let mut files = BTreeSet::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel_dir) = pending.pop() {
        let abs = dir.join(&rel_dir);
        let entries =
            fs::read_dir(&abs).with_context(|| format!("could not list {}", abs.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("could not list {}", abs.display()))?;
            let rel = rel_dir.join(entry.file_name());
            if entry.path().is_dir() {
                pending.push(rel);
            } else {
                files.insert(rel);
            }
        }
    }
    Ok(files)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("could not read {}", path.display()))
}

/// A relative path with `/` separators, as shown in messages.
fn slash(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, contents: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    fn paths(list: &[&str]) -> Vec<PathBuf> {
        list.iter().map(PathBuf::from).collect()
    }

    /// A typical export: the envelope plus one file in each subdirectory.
    fn sample_export(root: &Path) {
        write(root, "envelope.schema.json", "{\"title\":\"Envelope\"}\n");
        write(root, "entities/task.schema.json", "{\"title\":\"Task\"}\n");
        write(root, "parts/text.schema.json", "{\"title\":\"TextPart\"}\n");
        write(root, "payloads/task_request.schema.json", "{}\n");
    }

    #[test]
    fn identical_directories_have_no_drift() {
        let (exported, committed) = (
            TempDir::new("xtask-t").unwrap(),
            TempDir::new("xtask-t").unwrap(),
        );
        sample_export(exported.path());
        sample_export(committed.path());
        let drift = compare(exported.path(), committed.path()).unwrap();
        assert!(drift.is_empty(), "{drift:?}");
        assert_eq!(drift.to_string(), "");
    }

    #[test]
    fn reports_added_removed_and_changed_files() {
        let (exported, committed) = (
            TempDir::new("xtask-t").unwrap(),
            TempDir::new("xtask-t").unwrap(),
        );
        sample_export(exported.path());
        sample_export(committed.path());
        write(exported.path(), "parts/file.schema.json", "{}\n");
        write(committed.path(), "entities/old.schema.json", "{}\n");
        write(
            committed.path(),
            "envelope.schema.json",
            "{\"title\":\"Old\"}\n",
        );
        // A one-byte difference (trailing newline) counts.
        write(committed.path(), "payloads/task_request.schema.json", "{}");

        let drift = compare(exported.path(), committed.path()).unwrap();
        assert_eq!(
            drift,
            Drift {
                added: paths(&["parts/file.schema.json"]),
                removed: paths(&["entities/old.schema.json"]),
                changed: paths(&["envelope.schema.json", "payloads/task_request.schema.json"]),
            }
        );
        assert_eq!(drift.len(), 4);
        let shown = drift.to_string();
        assert!(shown.contains("added:   parts/file.schema.json"), "{shown}");
        assert!(
            shown.contains("removed: entities/old.schema.json"),
            "{shown}"
        );
        assert!(shown.contains("changed: envelope.schema.json"), "{shown}");
    }

    #[test]
    fn unmanaged_files_in_committed_dir_are_ignored() {
        let (exported, committed) = (
            TempDir::new("xtask-t").unwrap(),
            TempDir::new("xtask-t").unwrap(),
        );
        sample_export(exported.path());
        sample_export(committed.path());
        write(committed.path(), "README.md", "# Schemas\n");
        write(committed.path(), "entities/notes.txt", "notes\n");
        assert!(
            compare(exported.path(), committed.path())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn missing_committed_dir_reports_everything_as_added() {
        let exported = TempDir::new("xtask-t").unwrap();
        sample_export(exported.path());
        let missing = exported.path().join("does-not-exist");
        let drift = compare(exported.path(), &missing).unwrap();
        assert_eq!(drift.added.len(), 4);
        assert!(drift.removed.is_empty() && drift.changed.is_empty());
    }

    #[test]
    fn sync_makes_directories_match_and_keeps_unmanaged_files() {
        let (exported, committed) = (
            TempDir::new("xtask-t").unwrap(),
            TempDir::new("xtask-t").unwrap(),
        );
        sample_export(exported.path());
        write(committed.path(), "README.md", "# Schemas\n");
        write(committed.path(), "envelope.schema.json", "stale\n");
        write(committed.path(), "gone/deep/old.schema.json", "{}\n");
        write(committed.path(), "parts/old.schema.json", "{}\n");
        write(committed.path(), "parts/keep.txt", "kept\n");

        let drift = compare(exported.path(), committed.path()).unwrap();
        sync(exported.path(), committed.path(), &drift).unwrap();

        assert!(
            compare(exported.path(), committed.path())
                .unwrap()
                .is_empty()
        );
        assert!(committed.path().join("README.md").is_file());
        assert!(committed.path().join("parts/keep.txt").is_file());
        assert!(!committed.path().join("parts/old.schema.json").exists());
        // Directories emptied by the deletion are removed, the root is kept.
        assert!(!committed.path().join("gone").exists());
        assert!(committed.path().is_dir());
        assert_eq!(
            fs::read_to_string(committed.path().join("envelope.schema.json")).unwrap(),
            "{\"title\":\"Envelope\"}\n"
        );
    }

    #[test]
    fn sync_creates_missing_destination() {
        let (exported, parent) = (
            TempDir::new("xtask-t").unwrap(),
            TempDir::new("xtask-t").unwrap(),
        );
        sample_export(exported.path());
        let dest = parent.path().join("nested").join("schemas");
        let drift = compare(exported.path(), &dest).unwrap();
        sync(exported.path(), &dest, &drift).unwrap();
        assert!(compare(exported.path(), &dest).unwrap().is_empty());
    }
}
