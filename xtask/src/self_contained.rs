//! The `self-contained` step of `cargo xtask test`: no tracked file refers to material
//! beside the repository.
//!
//! A clone of the repository alone must build, test and document itself, so a path that
//! climbs out of the workspace into the sibling `shared` folder is an error wherever it
//! appears: code, manifests, scripts and documentation alike. Binary files are skipped.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// The text that must not appear: the parent directory, a separator and `shared`. Built
/// from pieces so that this file does not contain it.
fn needle() -> String {
    ["..", "shared"].join("/")
}

/// One occurrence: the file (relative to the root), the line (from 1) and its text.
#[derive(Debug, PartialEq, Eq)]
struct Hit {
    path: PathBuf,
    line: usize,
    text: String,
}

/// Runs the check on the files git tracks under `root`; skipped, with a printed reason,
/// when git or the repository is not available (e.g. an unpacked source archive).
pub(crate) fn check(root: &Path) -> Result<()> {
    let needle = needle();
    eprintln!("$ git ls-files (searching tracked text files for `{needle}`)");
    let Some(files) = tracked_files(root)? else {
        return Ok(());
    };
    let hits = search(root, &files, needle.as_bytes())?;
    if hits.is_empty() {
        eprintln!("{} tracked files, none refers to `{needle}`", files.len());
        return Ok(());
    }
    bail!("{}", report(&needle, &hits))
}

/// The paths `git ls-files` lists, or `None` (after saying why) when git cannot list them.
fn tracked_files(root: &Path) -> Result<Option<Vec<PathBuf>>> {
    let output = match Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z"])
        .stdin(Stdio::null())
        .output()
    {
        Ok(output) => output,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipped: git is not installed, so the tracked files are unknown");
            return Ok(None);
        }
        Err(err) => return Err(err).context("could not run `git ls-files`"),
    };
    if !output.status.success() {
        eprintln!(
            "skipped: {} is not a git work tree ({})",
            root.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
        return Ok(None);
    }
    Ok(Some(
        output
            .stdout
            .split(|&b| b == 0)
            .filter(|name| !name.is_empty())
            .map(|name| PathBuf::from(String::from_utf8_lossy(name).into_owned()))
            .collect(),
    ))
}

/// Every line of the text files among `files` (relative to `root`) that contains
/// `needle`. Files listed but absent from the work tree (deleted, not yet committed) and
/// directories (submodules) are skipped.
fn search(root: &Path, files: &[PathBuf], needle: &[u8]) -> Result<Vec<Hit>> {
    let mut hits = Vec::new();
    for relative in files {
        let path = root.join(relative);
        if path.is_dir() {
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => {
                return Err(err).with_context(|| format!("could not read {}", path.display()));
            }
        };
        if is_binary(&bytes) {
            continue;
        }
        for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if contains(line, needle) {
                hits.push(Hit {
                    path: relative.clone(),
                    line: index + 1,
                    text: String::from_utf8_lossy(line).trim().to_owned(),
                });
            }
        }
    }
    Ok(hits)
}

/// Git's rule of thumb: a NUL byte in the first 8000 bytes makes a file binary.
fn is_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8000).any(|&b| b == 0)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The failure message: what is wrong, how to fix it, then one `file:line: text` per hit.
fn report(needle: &str, hits: &[Hit]) -> String {
    let mut text = format!(
        "{} line(s) of tracked files refer to `{needle}`, outside the repository; a clone \
         alone cannot use them. Read fixtures through `asap_testing::fixtures` \
         (crates/asap-testing/fixtures/) and cite docs/protocol/ instead:",
        hits.len()
    );
    for hit in hits {
        let _ = write!(
            text,
            "\n  {}:{}: {}",
            hit.path.display(),
            hit.line,
            hit.text
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{self, TempDir};

    #[test]
    fn this_file_does_not_contain_what_it_searches_for() {
        assert!(!include_str!("self_contained.rs").contains(&needle()));
        assert_eq!(needle().len(), 9);
        assert!(needle().starts_with("../"));
    }

    #[test]
    fn hits_name_file_and_line_and_binary_files_are_skipped() {
        let dir = TempDir::new("xtask-self-contained").unwrap();
        let needle = needle();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        std::fs::write(
            dir.path().join("docs/a.md"),
            format!("fine\nsee {needle}/spec/x.md\nfine\n  path = \"{needle}\"  \n"),
        )
        .unwrap();
        std::fs::write(dir.path().join("clean.rs"), "fn main() {}\n").unwrap();
        std::fs::write(
            dir.path().join("blob.bin"),
            [b"\0\x01".as_slice(), needle.as_bytes()].concat(),
        )
        .unwrap();
        let files: Vec<PathBuf> = ["docs/a.md", "clean.rs", "blob.bin", "deleted.txt"]
            .into_iter()
            .map(PathBuf::from)
            .collect();
        let hits = search(dir.path(), &files, needle.as_bytes()).unwrap();
        assert_eq!(
            hits,
            [
                Hit {
                    path: "docs/a.md".into(),
                    line: 2,
                    text: format!("see {needle}/spec/x.md"),
                },
                Hit {
                    path: "docs/a.md".into(),
                    line: 4,
                    text: format!("path = \"{needle}\""),
                },
            ]
        );
        let message = report(&needle, &hits);
        assert!(
            message.starts_with("2 line(s) of tracked files"),
            "{message}"
        );
        assert!(message.contains("\n  docs/a.md:2: see "), "{message}");
        assert!(message.contains("\n  docs/a.md:4: path = "), "{message}");
    }

    fn git(dir: &Path, args: &[&str]) {
        let mut cmd = Command::new("git");
        cmd.current_dir(dir).args(args);
        util::query(&mut cmd).unwrap();
    }

    #[test]
    fn only_tracked_files_are_checked() {
        let dir = TempDir::new("xtask-self-contained").unwrap();
        git(dir.path(), &["init", "--quiet"]);
        std::fs::write(dir.path().join("tracked.md"), "clean\n").unwrap();
        std::fs::write(dir.path().join("untracked.md"), needle()).unwrap();
        git(dir.path(), &["add", "tracked.md"]);
        assert!(check(dir.path()).is_ok());

        std::fs::write(dir.path().join("tracked.md"), format!("x\n{}\n", needle())).unwrap();
        let err = check(dir.path()).unwrap_err().to_string();
        assert!(err.contains("\n  tracked.md:2: "), "{err}");
        assert!(!err.contains("untracked.md"), "{err}");
    }

    #[test]
    fn outside_a_work_tree_the_check_is_skipped() {
        let dir = TempDir::new("xtask-self-contained").unwrap();
        std::fs::write(dir.path().join("a.md"), needle()).unwrap();
        // Not a repository (unless the temporary directory sits inside one, in which case
        // a.md is untracked there): either way nothing tracked refers to it.
        assert!(check(dir.path()).is_ok());
    }
}
