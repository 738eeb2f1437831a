//! `cargo xtask release <version>`: prepare (and with `--execute`, make) a release.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::changelog::{self, Links};
use crate::metadata::Workspace;
use crate::public_api::{self, API_DIR};
use crate::util::{self, TempDir};
use crate::version::{self, Version};

pub(crate) const RELEASE_LONG_ABOUT: &str = "\
Prepare a release: bump versions, cut the changelog, test, package, write release notes.

By default this is a dry run on a scratch clone of HEAD (`git clone --local
--no-hardlinks`, so uncommitted changes are not included); nothing in the working tree
changes. With --execute the same steps run in the working tree, which must be clean,
and end with a `Release <version>` commit and an annotated `v<version>` tag. Nothing
is published: the `cargo publish` commands are printed.

Steps:
  1. version    root Cargo.toml: [workspace.package] version and the version of every
                internal crate (entries with a `path`) in [workspace.dependencies]
  2. changelog  CHANGELOG.md (Keep a Changelog 1.1.0): the `## [Unreleased]` entries
                move to `## [<version>] - <today, UTC>`, joined by the subjects of
                the commits since the last v* tag (all commits when there is none):
                  Added   feat:, or words add/new/introduce/implement/support/initial/...
                  Fixed   fix:, or words fix/fixes/fixed/bug/regression/crash/typo/...
                  Changed everything else (release and merge commits are left out)
  3. tests      cargo xtask test (skipped with --skip-tests)
  4. package    cargo package -p <crate> ... for every publishable crate, in dependency
                order, in one invocation: cargo packages the workspace crates together
                against a local registry overlay, so crates whose workspace
                dependencies are not on crates.io yet can be packaged (packaging one
                crate alone fails with `no matching package named ...`). A
                dev-dependency on a workspace crate that carries a version (e.g.
                `asap-testing.workspace = true`) must be published first, so a cycle
                through one is reported: declare such dev-dependencies path-only. With
                --skip-tests packaging uses --no-verify (no build of the .crate files).
  5. notes      <target>/release-notes/<version>.md: the changelog section and upgrade
                notes listing the public API items (docs/public-api/) removed or
                changed since the last tag

The dry run's build output goes to <target>/release-scratch.";

/// Prepare (or with --execute, make) a release.
#[derive(Args, Debug)]
pub(crate) struct ReleaseArgs {
    /// The version to release: MAJOR.MINOR.PATCH or MAJOR.MINOR.PATCH-PRERELEASE
    version: String,
    /// Release in this working tree (must be clean): commit `Release <version>` and
    /// tag `v<version>`; nothing is pushed or published
    #[arg(long)]
    execute: bool,
    /// Do not run `cargo xtask test`; package with --no-verify
    #[arg(long)]
    skip_tests: bool,
}

const STEPS: &[&str] = &["version", "changelog", "tests", "package", "notes"];

/// Entry point of `cargo xtask release`.
pub(crate) fn run(root: &Path, args: &ReleaseArgs) -> Result<()> {
    let version: Version = args.version.parse()?;
    let tag = format!("v{version}");
    let ws = Workspace::load(root)?;
    let manifest = read(&root.join("Cargo.toml"))?;
    let current = version::workspace_version(&manifest)?;
    let repository = workspace_repository(&manifest);

    let mut problems = Vec::new();
    match current.parse::<Version>() {
        Ok(current) if version <= current => problems.push(format!(
            "{version} is not greater than the current version {current}"
        )),
        _ => {}
    }
    if git_succeeds(
        root,
        &[
            "rev-parse",
            "--quiet",
            "--verify",
            &format!("refs/tags/{tag}"),
        ],
    ) {
        problems.push(format!("tag {tag} already exists"));
    }
    for problem in &problems {
        if args.execute {
            bail!("{problem}");
        }
        eprintln!("warning: {problem} (a dry run goes on; --execute would stop here)");
    }

    let status = git(root, &["status", "--porcelain"])?;
    let previous_tag = last_tag(root)?;
    let range = previous_tag
        .as_ref()
        .map_or_else(|| "HEAD".to_owned(), |t| format!("{t}..HEAD"));
    let subjects: Vec<String> = git(root, &["log", "--no-merges", "--format=%s", &range])?
        .lines()
        .map(str::to_owned)
        .collect();
    let date = changelog::today();

    let scratch;
    let (work, target_override): (PathBuf, Option<PathBuf>) = if args.execute {
        if !status.trim().is_empty() {
            bail!(
                "the working tree has uncommitted changes; commit or stash them before \
                 `--execute` (see `git status`)"
            );
        }
        (root.to_path_buf(), None)
    } else {
        if !status.trim().is_empty() {
            eprintln!(
                "note: {} uncommitted path(s) are not included: the dry run works on a clone of HEAD",
                status.lines().count()
            );
        }
        scratch = TempDir::new("xtask-release")?;
        let clone = scratch.path().join("repo");
        let mut cmd = git_command(root);
        cmd.args(["clone", "--quiet", "--local", "--no-hardlinks", "."])
            .arg(&clone);
        util::run(&mut cmd).context("could not clone the repository for the dry run")?;
        (clone, Some(ws.target_dir.join("release-scratch")))
    };
    let mode = if args.execute { "release" } else { "dry run" };
    eprintln!(
        "{mode}: {current} -> {version} in {} (previous release: {}, {} commit(s) since)",
        work.display(),
        previous_tag.as_deref().unwrap_or("none"),
        subjects.len()
    );
    let cargo = || {
        let mut cmd = util::cargo();
        cmd.current_dir(&work);
        if let Some(dir) = &target_override {
            cmd.env("CARGO_TARGET_DIR", dir);
        }
        cmd
    };
    let total = STEPS.len();
    let step = |n: usize| eprintln!("\n==> [{}/{total}] {}", n + 1, STEPS[n]);

    // 1. version
    step(0);
    let manifest_path = work.join("Cargo.toml");
    let bump = version::bump_manifest(&read(&manifest_path)?, &version.to_string())?;
    write(&manifest_path, &bump.text)?;
    eprintln!(
        "Cargo.toml: [workspace.package] version {} -> {version}; [workspace.dependencies] {} -> {version}",
        bump.previous,
        bump.dependencies.join(", ")
    );
    let mut metadata = cargo();
    metadata.args(["metadata", "--no-deps", "--format-version", "1"]);
    let bumped = Workspace::parse(&util::query(&mut metadata)?)?;
    let stale: Vec<String> = bumped
        .packages
        .iter()
        .filter(|p| p.publishable && p.version != version.to_string())
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    if !stale.is_empty() {
        bail!(
            "publishable crates not on the workspace version after the bump (use \
             `version.workspace = true`): {}",
            stale.join(", ")
        );
    }

    // 2. changelog
    step(1);
    let changelog_path = work.join(changelog::FILE);
    let existing = match fs::read_to_string(&changelog_path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "note: {} does not exist (at HEAD); starting one",
                changelog::FILE
            );
            changelog::template()
        }
        Err(err) => {
            return Err(err)
                .with_context(|| format!("could not read {}", changelog_path.display()));
        }
    };
    let links = repository.as_deref().map(|repository| Links {
        repository,
        previous_tag: previous_tag.as_deref(),
    });
    let cut = changelog::cut_release(
        &existing,
        &version.to_string(),
        &date,
        &subjects,
        links.as_ref(),
    )?;
    write(&changelog_path, &cut.text)?;
    eprintln!("{}: added ## [{version}] - {date}", changelog::FILE);

    // 3. tests
    step(2);
    if args.skip_tests {
        eprintln!("skipped (--skip-tests)");
    } else {
        let mut cmd = cargo();
        cmd.args(["xtask", "test"]);
        util::run(&mut cmd).context(reverting_hint(args.execute))?;
    }

    // 4. package
    step(3);
    let order = bumped.publish_order()?;
    let names: Vec<&str> = order.iter().map(|p| p.name.as_str()).collect();
    eprintln!("publish order: {}", names.join(", "));
    let mut cmd = cargo();
    // The tree has the uncommitted version and changelog edits.
    cmd.args(["package", "--allow-dirty"]);
    if args.skip_tests {
        cmd.arg("--no-verify");
    }
    for name in &names {
        cmd.args(["-p", name]);
    }
    util::run(&mut cmd).context(reverting_hint(args.execute))?;
    let package_dir = target_override
        .clone()
        .unwrap_or_else(|| bumped.target_dir.clone())
        .join("package");

    // 5. notes
    step(4);
    let notes = release_notes(
        root,
        &work,
        &version,
        &date,
        &cut.section,
        previous_tag.as_deref(),
        &names,
    )?;
    let notes_dir = ws.target_dir.join("release-notes");
    fs::create_dir_all(&notes_dir)
        .with_context(|| format!("could not create {}", notes_dir.display()))?;
    let notes_path = notes_dir.join(format!("{version}.md"));
    write(&notes_path, &notes)?;
    eprintln!("wrote {}", notes_path.display());

    if !args.execute {
        eprintln!("\n==> changes the release makes (dry run, in the scratch clone):");
        let mut diff = git_command(&work);
        diff.args(["diff", "--stat"]);
        util::run(&mut diff)?;
        eprintln!(
            "\n--- {}: ## [{version}] - {date}\n{}",
            changelog::FILE,
            cut.section
        );
        eprintln!("packages: {}", package_dir.display());
        eprintln!("release notes: {}", notes_path.display());
        eprintln!(
            "\ndry run complete: nothing was changed in {}. To release, from a clean working \
             tree: cargo xtask release {version} --execute",
            root.display()
        );
        return Ok(());
    }

    let mut add = git_command(&work);
    add.args(["add", "Cargo.toml", "Cargo.lock", changelog::FILE]);
    util::run(&mut add)?;
    let mut commit = git_command(&work);
    commit.args(["commit", "--quiet", "-m", &format!("Release {version}")]);
    util::run(&mut commit)?;
    let mut tag_cmd = git_command(&work);
    tag_cmd.args(["tag", "-a", &tag, "-m", &format!("Release {version}")]);
    util::run(&mut tag_cmd)?;

    eprintln!("\nreleased {version}: commit `Release {version}`, tag {tag}");
    eprintln!("packages: {}", package_dir.display());
    eprintln!("release notes: {}", notes_path.display());
    eprintln!("\nnext steps (not done by this command):");
    eprintln!("  git push origin HEAD {tag}");
    for name in &names {
        eprintln!("  cargo publish -p {name}");
    }
    Ok(())
}

fn reverting_hint(execute: bool) -> &'static str {
    if execute {
        "the release edits are left in the working tree; undo them with \
         `git checkout -- Cargo.toml Cargo.lock CHANGELOG.md`"
    } else {
        "the dry run failed (the scratch clone has been removed)"
    }
}

/// The release notes: changelog section, upgrade notes and publish order.
fn release_notes(
    root: &Path,
    work: &Path,
    version: &Version,
    date: &str,
    section: &str,
    previous_tag: Option<&str>,
    crates: &[&str],
) -> Result<String> {
    let mut notes = String::new();
    let _ = writeln!(notes, "# asap-rs {version}\n\nReleased {date}.\n");
    let _ = writeln!(notes, "## Changes\n\n{}", section.trim_end());
    let _ = writeln!(notes, "\n## Upgrade notes\n");
    let _ = writeln!(
        notes,
        "{}",
        upgrade_notes(root, work, previous_tag)?.trim_end()
    );
    let _ = writeln!(notes, "\n## Crates\n");
    let _ = writeln!(
        notes,
        "Published in this order: {}.",
        crates
            .iter()
            .map(|c| format!("`{c}` {version}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(notes)
}

/// Public API items removed or changed since `previous_tag`, from the listings in
/// docs/public-api/ at that tag and in `work`.
fn upgrade_notes(root: &Path, work: &Path, previous_tag: Option<&str>) -> Result<String> {
    let Some(tag) = previous_tag else {
        return Ok(
            "There is no earlier release tag (`v*`), so there is no public API to \
                   compare with.\n"
                .to_owned(),
        );
    };
    let files = git(
        root,
        &["ls-tree", "--name-only", tag, &format!("{API_DIR}/")],
    )?;
    let old_files: Vec<&str> = files.lines().filter(|f| f.ends_with(".txt")).collect();
    if old_files.is_empty() {
        return Ok(format!(
            "{tag} has no {API_DIR}/ listings, so public API changes since then are not known.\n"
        ));
    }
    let mut text = String::new();
    let mut added = Vec::new();
    for file in old_files {
        let name = Path::new(file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let old = public_api::parse_listing(&git(root, &["show", &format!("{tag}:{file}")])?);
        let new = match fs::read_to_string(work.join(file)) {
            Ok(content) => public_api::parse_listing(&content),
            Err(_) => {
                let _ = writeln!(
                    text,
                    "- `{name}`: no longer a library crate (its listing is gone)."
                );
                continue;
            }
        };
        let changes = public_api::api_changes(&old, &new);
        text.push_str(&public_api::upgrade_notes(&name, &changes));
        if !changes.added.is_empty() {
            added.push(format!("{name} {}", changes.added.len()));
        }
    }
    if text.is_empty() {
        text = format!("No public API item was removed or changed since {tag}.\n");
    } else {
        text.insert_str(
            0,
            &format!("Public API items removed or changed since {tag} (from {API_DIR}/):\n\n"),
        );
    }
    if !added.is_empty() {
        let _ = writeln!(text, "\nNew public items: {}.", added.join(", "));
    }
    Ok(text)
}

/// `[workspace.package] repository`, for changelog links.
fn workspace_repository(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_package = trimmed.starts_with("[workspace.package]");
            continue;
        }
        if in_package
            && let Some(rest) = trimmed.strip_prefix("repository")
            && let Some(value) = rest.trim_start().strip_prefix('=')
        {
            let value = value.trim();
            let value = value.strip_prefix('"')?;
            return value.split('"').next().map(str::to_owned);
        }
    }
    None
}

/// The most recent `v*` tag reachable from HEAD.
fn last_tag(root: &Path) -> Result<Option<String>> {
    let mut cmd = git_command(root);
    cmd.args([
        "describe",
        "--tags",
        "--abbrev=0",
        "--match",
        "v[0-9]*",
        "HEAD",
    ]);
    let output = cmd
        .output()
        .context("could not run `git describe` (is git installed?)")?;
    if output.status.success() {
        return Ok(Some(
            String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        ));
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No names found") || stderr.contains("No tags can describe") {
        return Ok(None);
    }
    bail!("`git describe` failed: {}", stderr.trim())
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let mut cmd = git_command(dir);
    cmd.args(args);
    util::query(&mut cmd)
}

fn git_succeeds(dir: &Path, args: &[&str]) -> bool {
    let mut cmd = git_command(dir);
    cmd.args(args);
    cmd.output().is_ok_and(|o| o.status.success())
}

/// A `git` command run in `dir`.
fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir);
    cmd
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).with_context(|| format!("could not write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_documented() {
        for step in STEPS {
            assert!(RELEASE_LONG_ABOUT.contains(&format!(" {step} ")), "{step}");
        }
    }

    #[test]
    fn repository_comes_from_workspace_package() {
        let manifest = "[package]\nrepository = \"https://wrong\"\n\n[workspace.package]\n\
                        version = \"0.1.0\"\nrepository = \"https://github.com/asap-rs/asap-rs\"\n";
        assert_eq!(
            workspace_repository(manifest).as_deref(),
            Some("https://github.com/asap-rs/asap-rs")
        );
        assert_eq!(workspace_repository("[workspace.package]\n"), None);
    }

    fn git_in(dir: &Path, args: &[&str]) {
        let mut cmd = git_command(dir);
        cmd.args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com");
        util::query(&mut cmd).unwrap();
    }

    fn commit(dir: &Path, message: &str) {
        git_in(dir, &["add", "--all"]);
        git_in(dir, &["commit", "--quiet", "-m", message]);
    }

    /// A throwaway repository with one commit holding a public-api listing, tagged.
    fn repo_with_tag() -> TempDir {
        let dir = TempDir::new("xtask-release-test").unwrap();
        git_in(dir.path(), &["init", "--quiet"]);
        fs::create_dir_all(dir.path().join(API_DIR)).unwrap();
        fs::write(
            dir.path().join(API_DIR).join("a.txt"),
            "mod a\nfn a::f(x: u8)\nfn a::gone()\n",
        )
        .unwrap();
        commit(dir.path(), "first");
        git_in(dir.path(), &["tag", "-a", "v0.1.0", "-m", "Release 0.1.0"]);
        dir
    }

    #[test]
    fn upgrade_notes_compare_listings_with_the_tag() {
        let repo = repo_with_tag();
        assert_eq!(last_tag(repo.path()).unwrap().as_deref(), Some("v0.1.0"));
        fs::write(
            repo.path().join(API_DIR).join("a.txt"),
            "mod a\nfn a::f(x: u16)\nfn a::new()\n",
        )
        .unwrap();
        let notes = upgrade_notes(repo.path(), repo.path(), Some("v0.1.0")).unwrap();
        assert!(
            notes.starts_with("Public API items removed or changed since v0.1.0"),
            "{notes}"
        );
        assert!(notes.contains("- removed: `fn a::gone()`"), "{notes}");
        assert!(
            notes.contains("- changed: `fn a::f(x: u8)`\n  now: `fn a::f(x: u16)`"),
            "{notes}"
        );
        assert!(notes.contains("New public items: a 1."), "{notes}");

        let none = upgrade_notes(repo.path(), repo.path(), None).unwrap();
        assert!(none.contains("no earlier release tag"), "{none}");
    }

    #[test]
    fn tag_without_listings_is_explained() {
        let repo = repo_with_tag();
        let mut cmd = git_command(repo.path());
        cmd.args(["rm", "--quiet", "-r", API_DIR]);
        util::query(&mut cmd).unwrap();
        commit(repo.path(), "drop listings");
        let mut cmd = git_command(repo.path());
        cmd.args(["tag", "v0.2.0"]);
        util::query(&mut cmd).unwrap();
        let notes = upgrade_notes(repo.path(), repo.path(), Some("v0.2.0")).unwrap();
        assert_eq!(
            notes,
            format!(
                "v0.2.0 has no {API_DIR}/ listings, so public API changes since then are not known.\n"
            )
        );
        // A listing that existed at the tag but is gone now.
        let notes = upgrade_notes(repo.path(), repo.path(), Some("v0.1.0")).unwrap();
        assert!(
            notes.contains("- `a`: no longer a library crate"),
            "{notes}"
        );
    }

    #[test]
    fn no_tag_means_none() {
        let dir = TempDir::new("xtask-release-test").unwrap();
        git_in(dir.path(), &["init", "--quiet"]);
        fs::write(dir.path().join("f"), "x").unwrap();
        commit(dir.path(), "x");
        assert_eq!(last_tag(dir.path()).unwrap(), None);
    }
}
