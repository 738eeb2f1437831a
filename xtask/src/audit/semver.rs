//! The `semver` audit step: cargo-semver-checks of every library crate against a baseline
//! revision, under the version the crates carry.
//!
//! The baseline is the latest `v*` release tag reachable from HEAD (the release
//! `cargo xtask release` compares its upgrade notes with). Before the first release there is
//! no tag and nothing on crates.io, so the revision recorded in [`BASELINE_FILE`] stands in:
//! it works on a clean clone of main. The version rule is cargo's: the bump from the
//! baseline's `[workspace.package] version` to the current one must allow the changes. In
//! 0.x a minor bump (0.1 → 0.2) may break and a patch bump may not; an unchanged version is
//! checked as the next patch release, so a breaking change fails until the version says
//! so. All crates share the workspace version, as the release flow requires.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::metadata::Workspace;
use crate::util;

/// The baseline used while the repository has no `v*` tag, relative to the workspace root.
pub(crate) const BASELINE_FILE: &str = "xtask/semver-baseline";

/// Where the baseline comes from, for the step's log.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Baseline {
    /// The latest release tag.
    Tag(String),
    /// The revision recorded in [`BASELINE_FILE`].
    Recorded(String),
}

impl Baseline {
    fn rev(&self) -> &str {
        match self {
            Self::Tag(rev) | Self::Recorded(rev) => rev,
        }
    }
}

/// Runs cargo-semver-checks for the library crates that exist at the baseline.
pub(crate) fn check(root: &Path, ws: &Workspace) -> Result<()> {
    let baseline = baseline(root)?;
    let rev = baseline.rev();
    match &baseline {
        Baseline::Tag(tag) => eprintln!("baseline: release tag {tag}"),
        Baseline::Recorded(rev) => {
            eprintln!("baseline: {rev} (no v* tag yet; recorded in {BASELINE_FILE})")
        }
    }
    let libraries = ws.library_crates(root);
    if libraries.is_empty() {
        bail!("no library crates found under crates/");
    }
    let mut cmd = util::cargo_tool("semver-checks");
    cmd.current_dir(root)
        .args(["check-release", "--all-features", "--baseline-rev", rev]);
    let mut checked = 0;
    for krate in libraries {
        let manifest = krate.dir.join("Cargo.toml");
        let relative = manifest.strip_prefix(root).unwrap_or(&manifest);
        let spec = format!("{rev}:{}", relative.to_string_lossy().replace('\\', "/"));
        if git_succeeds(root, &["cat-file", "-e", &spec]) {
            cmd.args(["-p", &krate.name]);
            checked += 1;
        } else {
            eprintln!(
                "note: {} is new since {rev}; nothing to compare",
                krate.name
            );
        }
    }
    if checked == 0 {
        eprintln!("no library crate exists at the baseline; nothing to check");
        return Ok(());
    }
    util::run(&mut cmd).context(
        "semver check failed: an intentional breaking change needs the version bump it \
         requires (see `cargo xtask audit --help`, step semver)",
    )
}

/// The latest `v*` tag reachable from HEAD, else the revision in [`BASELINE_FILE`].
fn baseline(root: &Path) -> Result<Baseline> {
    let mut describe = git(root);
    describe.args(["describe", "--tags", "--abbrev=0", "--match", "v*", "HEAD"]);
    if let Ok(tag) = util::query(&mut describe) {
        let tag = tag.trim();
        if !tag.is_empty() {
            return Ok(Baseline::Tag(tag.to_owned()));
        }
    }
    let path = root.join(BASELINE_FILE);
    let text = fs::read_to_string(&path)
        .with_context(|| format!("no v* tag and no baseline file {}", path.display()))?;
    let rev = recorded_revision(&text)
        .with_context(|| format!("{} names no revision", path.display()))?;
    if !git_succeeds(root, &["cat-file", "-e", &format!("{rev}^{{commit}}")]) {
        bail!(
            "the semver baseline {rev} ({BASELINE_FILE}) is not in this clone; a shallow clone \
             needs `git fetch --unshallow` (or a deeper fetch)"
        );
    }
    Ok(Baseline::Recorded(rev.to_owned()))
}

/// The first line of `text` that is neither blank nor a `#` comment.
fn recorded_revision(text: &str) -> Option<&str> {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
}

fn git(root: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("git");
    cmd.current_dir(root);
    cmd
}

fn git_succeeds(root: &Path, args: &[&str]) -> bool {
    git(root)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_revision_skips_comments_and_blank_lines() {
        let text = "# Baseline of the semver audit step.\n\n  abc123  \n# trailing\nignored\n";
        assert_eq!(recorded_revision(text), Some("abc123"));
        assert_eq!(recorded_revision("# only a comment\n\n"), None);
    }

    #[test]
    fn the_recorded_baseline_is_a_full_commit_hash() {
        let root = util::workspace_root().unwrap();
        let text = fs::read_to_string(root.join(BASELINE_FILE)).unwrap();
        let rev = recorded_revision(&text).unwrap();
        assert_eq!(rev.len(), 40, "a full commit hash: {rev}");
        assert!(rev.chars().all(|c| c.is_ascii_hexdigit()), "{rev}");
    }
}
