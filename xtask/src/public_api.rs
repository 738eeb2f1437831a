//! `cargo xtask public-api`: the public API of each library crate, checked against
//! `docs/public-api/<crate>.txt`.
//!
//! The listing comes from rustdoc JSON (see [`crate::rustdoc_json`] for the format of
//! the lines). rustdoc's JSON output is unstable, so it is enabled on the stable
//! toolchain with `RUSTC_BOOTSTRAP=1`; the build goes to its own target directory
//! (`<target>/public-api`) so it neither invalidates nor waits for regular builds, and
//! a re-run after a small change only re-documents the changed crates.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::metadata::{Package, Workspace};
use crate::rustdoc_json::{self, line_key, line_path};
use crate::util;

/// Where the listings live, relative to the workspace root.
pub(crate) const API_DIR: &str = "docs/public-api";

/// Check the public API of the library crates against docs/public-api/, or rewrite it.
///
/// Builds rustdoc JSON for every library crate under crates/ (`--all-features`,
/// RUSTC_BOOTSTRAP=1, in `<target>/public-api`), lists each crate's public items (every
/// public path: modules, types, fields, variants, functions and methods with their
/// signatures, trait items, constants, statics, type aliases, macros, trait impls) and
/// compares the listing with `docs/public-api/<crate>.txt`. Without --bless, any
/// difference is printed as removed (-) and added (+) lines and the command fails.
#[derive(Args, Debug)]
pub(crate) struct PublicApiArgs {
    /// Write the current listings to docs/public-api/ instead of checking them
    #[arg(long)]
    bless: bool,
    /// Only these crates (default: every library crate under crates/)
    #[arg(short = 'p', long = "package", value_name = "CRATE")]
    packages: Vec<String>,
}

/// Entry point of `cargo xtask public-api`.
pub(crate) fn run(root: &Path, args: &PublicApiArgs) -> Result<()> {
    let ws = Workspace::load(root)?;
    let crates = select(root, &ws, &args.packages)?;
    let listings = generate(root, &ws, &crates)?;
    let whole_workspace = args.packages.is_empty();
    if args.bless {
        bless(root, &listings, whole_workspace)
    } else {
        check_listings(root, &listings, whole_workspace)
    }
}

/// Generates the listings of every library crate and fails on any drift.
pub(crate) fn check(root: &Path, ws: &Workspace) -> Result<()> {
    let crates = select(root, ws, &[])?;
    let listings = generate(root, ws, &crates)?;
    check_listings(root, &listings, true)
}

fn select<'a>(root: &Path, ws: &'a Workspace, names: &[String]) -> Result<Vec<&'a Package>> {
    let libraries = ws.library_crates(root);
    if libraries.is_empty() {
        bail!("no library crates found under crates/");
    }
    if names.is_empty() {
        return Ok(libraries);
    }
    names
        .iter()
        .map(|name| {
            libraries
                .iter()
                .copied()
                .find(|p| &p.name == name)
                .with_context(|| {
                    let known: Vec<_> = libraries.iter().map(|p| p.name.as_str()).collect();
                    format!(
                        "`{name}` is not a library crate under crates/ (known: {})",
                        known.join(", ")
                    )
                })
        })
        .collect()
}

/// Runs rustdoc once for all `crates` and returns each crate's listing, by crate name.
pub(crate) fn generate(
    root: &Path,
    ws: &Workspace,
    crates: &[&Package],
) -> Result<BTreeMap<String, Vec<String>>> {
    let target_dir = ws.target_dir.join("public-api");
    let mut cmd = util::cargo();
    cmd.current_dir(root)
        .args(["doc", "--no-deps", "--all-features"])
        .env("RUSTC_BOOTSTRAP", "1")
        .env("RUSTDOCFLAGS", "-Z unstable-options --output-format json")
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("CARGO_ENCODED_RUSTDOCFLAGS");
    for krate in crates {
        cmd.args(["-p", &krate.name]);
    }
    util::run(&mut cmd).context("building rustdoc JSON failed")?;

    let mut listings = BTreeMap::new();
    for krate in crates {
        let lib_name = krate
            .lib_name
            .as_deref()
            .with_context(|| format!("`{}` has no library target", krate.name))?;
        let file = target_dir.join("doc").join(format!("{lib_name}.json"));
        let text = fs::read_to_string(&file)
            .with_context(|| format!("could not read rustdoc JSON {}", file.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", file.display()))?;
        let version = json["format_version"].as_u64().unwrap_or(0);
        let lines = rustdoc_json::public_api(&json).with_context(|| {
            format!(
                "could not list the public API of `{}` from {} (rustdoc JSON format {version}; \
                 this walker was written for format {})",
                krate.name,
                file.display(),
                rustdoc_json::FORMAT_VERSION
            )
        })?;
        if version != rustdoc_json::FORMAT_VERSION {
            eprintln!(
                "warning: {} has rustdoc JSON format {version}, this walker was written for {}; \
                 check the listing",
                file.display(),
                rustdoc_json::FORMAT_VERSION
            );
        }
        listings.insert(krate.name.clone(), lines);
    }
    Ok(listings)
}

fn listing_path(root: &Path, name: &str) -> std::path::PathBuf {
    root.join(API_DIR).join(format!("{name}.txt"))
}

/// The lines of a listing file (empty lines ignored), or `None` when it does not exist.
fn read_listing(path: &Path) -> Result<Option<Vec<String>>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(parse_listing(&text))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("could not read {}", path.display())),
    }
}

pub(crate) fn parse_listing(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checked-in listings of crates that are not library crates (any more).
fn stale_listings(root: &Path, listings: &BTreeMap<String, Vec<String>>) -> Result<Vec<String>> {
    let dir = root.join(API_DIR);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut stale = Vec::new();
    for entry in fs::read_dir(&dir).with_context(|| format!("could not list {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(krate) = name.strip_suffix(".txt")
            && !listings.contains_key(krate)
        {
            stale.push(krate.to_owned());
        }
    }
    stale.sort();
    Ok(stale)
}

fn check_listings(
    root: &Path,
    listings: &BTreeMap<String, Vec<String>>,
    whole_workspace: bool,
) -> Result<()> {
    let mut drifted = Vec::new();
    for (name, lines) in listings {
        let path = listing_path(root, name);
        match read_listing(&path)? {
            None => {
                eprintln!(
                    "{API_DIR}/{name}.txt: missing ({} public items)",
                    lines.len()
                );
                drifted.push(name.clone());
            }
            Some(committed) => {
                let diff = diff_lines(&committed, lines);
                if diff.is_empty() {
                    eprintln!(
                        "{API_DIR}/{name}.txt: up to date ({} public items)",
                        lines.len()
                    );
                } else {
                    eprintln!("{API_DIR}/{name}.txt: public API changed");
                    eprintln!("--- {API_DIR}/{name}.txt (checked in)");
                    eprintln!("+++ {name} (current source)");
                    eprint!("{diff}");
                    drifted.push(name.clone());
                }
            }
        }
    }
    if whole_workspace {
        for name in stale_listings(root, listings)? {
            eprintln!("{API_DIR}/{name}.txt: `{name}` is no longer a library crate under crates/");
            drifted.push(name);
        }
    }
    if drifted.is_empty() {
        return Ok(());
    }
    bail!(
        "the public API differs from {API_DIR}/ ({}); if the change is intended, \
         run `cargo xtask public-api --bless` and commit the result",
        drifted.join(", ")
    )
}

fn bless(
    root: &Path,
    listings: &BTreeMap<String, Vec<String>>,
    whole_workspace: bool,
) -> Result<()> {
    let dir = root.join(API_DIR);
    fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    for (name, lines) in listings {
        let path = listing_path(root, name);
        let before = read_listing(&path)?;
        let mut text = lines.join("\n");
        text.push('\n');
        fs::write(&path, text).with_context(|| format!("could not write {}", path.display()))?;
        let what = match before {
            None => "created".to_owned(),
            Some(old) => {
                let diff = diff_lines(&old, lines);
                if diff.is_empty() {
                    "unchanged".to_owned()
                } else {
                    format!("updated, +{} -{}", diff.added(), diff.removed())
                }
            }
        };
        eprintln!(
            "{API_DIR}/{name}.txt: {} public items ({what})",
            lines.len()
        );
    }
    if whole_workspace {
        for name in stale_listings(root, listings)? {
            let path = listing_path(root, &name);
            fs::remove_file(&path)
                .with_context(|| format!("could not delete {}", path.display()))?;
            eprintln!("{API_DIR}/{name}.txt: deleted (not a library crate any more)");
        }
    }
    Ok(())
}

/// Lines only in the old listing (`-`) or only in the new one (`+`), in item order.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct LineDiff {
    pub(crate) lines: Vec<(char, String)>,
}

impl LineDiff {
    pub(crate) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    fn added(&self) -> usize {
        self.lines.iter().filter(|(sign, _)| *sign == '+').count()
    }

    fn removed(&self) -> usize {
        self.lines.iter().filter(|(sign, _)| *sign == '-').count()
    }
}

impl std::fmt::Display for LineDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (sign, line) in &self.lines {
            writeln!(f, "{sign} {line}")?;
        }
        Ok(())
    }
}

/// Compares two listings as sets of lines; the result is ordered like the listings
/// (by item path), a removed line before the added line that replaces it.
pub(crate) fn diff_lines(old: &[String], new: &[String]) -> LineDiff {
    let old_set: BTreeSet<&str> = old.iter().map(String::as_str).collect();
    let new_set: BTreeSet<&str> = new.iter().map(String::as_str).collect();
    let mut lines: Vec<(&str, char, &str)> = old_set
        .difference(&new_set)
        .map(|l| (line_path(l), '-', *l))
        .chain(
            new_set
                .difference(&old_set)
                .map(|l| (line_path(l), '+', *l)),
        )
        .collect();
    lines.sort_by(|a, b| (a.0, a.1 == '+', a.2).cmp(&(b.0, b.1 == '+', b.2)));
    LineDiff {
        lines: lines
            .into_iter()
            .map(|(_, sign, line)| (sign, line.to_owned()))
            .collect(),
    }
}

/// How a crate's API changed between two listings, item by item: an item whose
/// path (with its kind) is in both but whose line differs is "changed".
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ApiChanges {
    pub(crate) removed: Vec<String>,
    /// (old line, new line)
    pub(crate) changed: Vec<(String, String)>,
    pub(crate) added: Vec<String>,
}

pub(crate) fn api_changes(old: &[String], new: &[String]) -> ApiChanges {
    fn by_key(lines: &[String]) -> BTreeMap<&str, BTreeSet<&str>> {
        let mut map: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for line in lines {
            map.entry(line_key(line)).or_default().insert(line);
        }
        map
    }
    let (old_map, new_map) = (by_key(old), by_key(new));
    let mut changes = ApiChanges::default();
    for (key, old_lines) in &old_map {
        match new_map.get(key) {
            None => changes
                .removed
                .extend(old_lines.iter().map(|l| (*l).to_owned())),
            Some(new_lines) if new_lines != old_lines => {
                let joined =
                    |set: &BTreeSet<&str>| set.iter().copied().collect::<Vec<_>>().join(" | ");
                changes.changed.push((joined(old_lines), joined(new_lines)));
            }
            Some(_) => {}
        }
    }
    for (key, new_lines) in &new_map {
        if !old_map.contains_key(key) {
            changes
                .added
                .extend(new_lines.iter().map(|l| (*l).to_owned()));
        }
    }
    changes
}

/// Markdown for the upgrade notes of one crate (empty when nothing was removed or
/// changed).
pub(crate) fn upgrade_notes(name: &str, changes: &ApiChanges) -> String {
    let mut text = String::new();
    if changes.removed.is_empty() && changes.changed.is_empty() {
        return text;
    }
    let _ = writeln!(text, "### {name}\n");
    for line in &changes.removed {
        let _ = writeln!(text, "- removed: `{line}`");
    }
    for (old, new) in &changes.changed {
        let _ = writeln!(text, "- changed: `{old}`\n  now: `{new}`");
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn diff_is_ordered_by_item_with_removals_first() {
        let old = lines(&[
            "mod a",
            "fn a::f(x: u8)",
            "struct a::S",
            "field a::S::x: u8",
            "fn a::z()",
        ]);
        let new = lines(&[
            "mod a",
            "fn a::f(x: u16)",
            "struct a::S",
            "field a::S::y: u8",
            "fn a::z()",
            "fn a::g()",
        ]);
        let diff = diff_lines(&old, &new);
        assert_eq!(
            diff.to_string(),
            "- field a::S::x: u8\n+ field a::S::y: u8\n- fn a::f(x: u8)\n+ fn a::f(x: u16)\n+ fn a::g()\n"
        );
        assert_eq!((diff.added(), diff.removed()), (3, 2));
        assert!(diff_lines(&old, &old).is_empty());
    }

    #[test]
    fn changes_pair_items_by_kind_and_path() {
        let old = lines(&[
            "fn a::f(x: u8)",
            "struct a::S",
            "impl Clone for a::S",
            "fn a::gone()",
        ]);
        let new = lines(&["fn a::f(x: u16)", "struct a::S { .. }", "fn a::new()"]);
        let changes = api_changes(&old, &new);
        assert_eq!(changes.removed, ["fn a::gone()", "impl Clone for a::S"]);
        assert_eq!(
            changes.changed,
            [
                ("fn a::f(x: u8)".to_owned(), "fn a::f(x: u16)".to_owned()),
                ("struct a::S".to_owned(), "struct a::S { .. }".to_owned()),
            ]
        );
        assert_eq!(changes.added, ["fn a::new()"]);

        let notes = upgrade_notes("a", &changes);
        assert!(
            notes.starts_with("### a\n\n- removed: `fn a::gone()`\n"),
            "{notes}"
        );
        assert!(notes.contains("- changed: `fn a::f(x: u8)`\n  now: `fn a::f(x: u16)`\n"));
        assert_eq!(upgrade_notes("a", &ApiChanges::default()), "");
    }

    #[test]
    fn listing_files_ignore_blank_lines_and_trailing_space() {
        assert_eq!(
            parse_listing("mod a \n\nfn a::f()\n"),
            ["mod a", "fn a::f()"]
        );
    }

    #[test]
    fn check_reports_missing_changed_and_stale_listings() {
        let root = util::TempDir::new("xtask-public-api").unwrap();
        let dir = root.path().join(API_DIR);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("b.txt"), "mod b\nfn b::old()\n").unwrap();
        fs::write(dir.join("gone.txt"), "mod gone\n").unwrap();
        fs::write(dir.join("README.md"), "not a listing\n").unwrap();
        let listings: BTreeMap<String, Vec<String>> = [
            ("a".to_owned(), lines(&["mod a"])),
            ("b".to_owned(), lines(&["mod b", "fn b::new()"])),
        ]
        .into();

        let err = check_listings(root.path(), &listings, true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("(a, b, gone)"), "{err}");
        assert!(err.contains("cargo xtask public-api --bless"), "{err}");

        bless(root.path(), &listings, true).unwrap();
        assert_eq!(fs::read_to_string(dir.join("a.txt")).unwrap(), "mod a\n");
        assert!(!dir.join("gone.txt").exists());
        assert!(dir.join("README.md").exists());
        check_listings(root.path(), &listings, true).unwrap();
    }
}
