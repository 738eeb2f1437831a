//! Semantic versions and the version bump of the root `Cargo.toml`.
//!
//! The bump is a textual edit that keeps comments and formatting: it changes the
//! `version = "…"` of `[workspace.package]` and of every internal crate (an entry with
//! a `path`) in `[workspace.dependencies]`, written either as an inline table
//! (`asap-model = { path = "…", version = "…" }`) or as a
//! `[workspace.dependencies.<name>]` table. The parse understands one-line
//! `key = value` pairs, inline tables and quoted strings, which is what the root
//! manifest uses.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use anyhow::{Result, bail};

/// A semantic version `x.y.z` or `x.y.z-pre` (build metadata is not accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub(crate) major: u64,
    pub(crate) minor: u64,
    pub(crate) patch: u64,
    /// Dot-separated pre-release identifiers (empty for a release).
    pub(crate) pre: Vec<String>,
}

impl FromStr for Version {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Self> {
        let explain = |why: &str| {
            anyhow::anyhow!(
                "`{text}` is not a valid version: {why} (expected MAJOR.MINOR.PATCH or \
                 MAJOR.MINOR.PATCH-PRERELEASE, e.g. 1.2.3 or 1.2.3-rc.1)"
            )
        };
        if text.contains('+') {
            return Err(explain("build metadata (`+…`) is not used for releases"));
        }
        let text_v = text.strip_prefix('v').unwrap_or(text);
        if text_v.len() != text.len() {
            return Err(explain("leave out the `v` prefix (the tag gets it)"));
        }
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        let numbers: Vec<&str> = core.split('.').collect();
        if numbers.len() != 3 {
            return Err(explain("it needs exactly three numbers"));
        }
        let mut parsed = [0u64; 3];
        for (slot, number) in parsed.iter_mut().zip(&numbers) {
            if !is_numeric_identifier(number) {
                return Err(explain("each number must be digits without leading zeros"));
            }
            *slot = number
                .parse()
                .map_err(|_| explain("a number is too large"))?;
        }
        let pre = match pre {
            None => Vec::new(),
            Some(pre) => {
                let ids: Vec<String> = pre.split('.').map(str::to_owned).collect();
                for id in &ids {
                    let valid_chars =
                        !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
                    if !valid_chars {
                        return Err(explain(
                            "pre-release identifiers are non-empty [0-9A-Za-z-] separated by dots",
                        ));
                    }
                    if id.chars().all(|c| c.is_ascii_digit()) && !is_numeric_identifier(id) {
                        return Err(explain(
                            "numeric pre-release identifiers have no leading zeros",
                        ));
                    }
                }
                ids
            }
        };
        Ok(Self {
            major: parsed[0],
            minor: parsed[1],
            patch: parsed[2],
            pre,
        })
    }
}

fn is_numeric_identifier(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| c.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre.join("."))?;
        }
        Ok(())
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Semantic versioning precedence (section 11 of semver 2.0.0).
impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre.iter().zip(&other.pre) {
                        let order = match (a.parse::<u64>(), b.parse::<u64>()) {
                            (Ok(a), Ok(b)) => a.cmp(&b),
                            (Ok(_), Err(_)) => Ordering::Less,
                            (Err(_), Ok(_)) => Ordering::Greater,
                            (Err(_), Err(_)) => a.cmp(b),
                        };
                        if order != Ordering::Equal {
                            return order;
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            })
    }
}

/// What [`bump_manifest`] changed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Bump {
    pub(crate) text: String,
    /// The `[workspace.package]` version before the bump.
    pub(crate) previous: String,
    /// Internal crates whose `[workspace.dependencies]` version was changed.
    pub(crate) dependencies: Vec<String>,
}

/// `[workspace.package] version` of a root manifest.
pub(crate) fn workspace_version(manifest: &str) -> Result<String> {
    Ok(bump_manifest(manifest, "0.0.0")?.previous)
}

/// Sets the workspace version and the version of every internal crate in
/// `[workspace.dependencies]` to `new` (a requirement operator such as `=` is kept).
pub(crate) fn bump_manifest(manifest: &str, new: &str) -> Result<Bump> {
    // First pass: which `[workspace.dependencies.<name>]` tables have a `path`.
    let mut section = String::new();
    let mut path_tables = BTreeSet::new();
    for line in manifest.lines() {
        if let Some(header) = section_header(line) {
            section = header;
            continue;
        }
        if section.starts_with("workspace.dependencies.")
            && pairs(line).iter().any(|p| p.depth == 0 && p.key == "path")
        {
            path_tables.insert(section.clone());
        }
    }

    let mut out = String::with_capacity(manifest.len());
    let mut previous = None;
    let mut dependencies = Vec::new();
    let mut missing = Vec::new();
    section.clear();
    for line in manifest.split_inclusive('\n') {
        if let Some(header) = section_header(line) {
            section = header;
            out.push_str(line);
            continue;
        }
        let found = pairs(line);
        let mut edit: Option<Range<usize>> = None;
        if section == "workspace.package" {
            if let Some(p) = found.iter().find(|p| p.depth == 0 && p.key == "version") {
                let Some(range) = p.string.clone() else {
                    bail!(
                        "[workspace.package] version is not a string: {}",
                        line.trim()
                    );
                };
                previous = Some(line[range.clone()].to_owned());
                edit = Some(range);
            }
        } else if section == "workspace.dependencies" {
            let name = found.iter().find(|p| p.depth == 0).map(|p| p.key);
            let has_path = found.iter().any(|p| p.depth == 1 && p.key == "path");
            if let (Some(name), true) = (name, has_path) {
                match found.iter().find(|p| p.depth == 1 && p.key == "version") {
                    Some(p) if p.string.is_some() => {
                        edit = p.string.clone();
                        dependencies.push(name.to_owned());
                    }
                    _ => missing.push(name.to_owned()),
                }
            }
        } else if path_tables.contains(&section)
            && let Some(p) = found.iter().find(|p| p.depth == 0 && p.key == "version")
        {
            edit = p.string.clone();
            if let Some(name) = section.strip_prefix("workspace.dependencies.") {
                dependencies.push(name.to_owned());
            }
        }
        match edit {
            Some(range) => {
                let old = &line[range.clone()];
                // Keep a requirement operator (`=`, `^`, `~`, `>=`).
                let operator_len =
                    old.len() - old.trim_start_matches(|c: char| !c.is_ascii_digit()).len();
                out.push_str(&line[..range.start]);
                out.push_str(&old[..operator_len]);
                out.push_str(new);
                out.push_str(&line[range.end..]);
            }
            None => out.push_str(line),
        }
    }
    // Dependency tables without a `version` line.
    for table in &path_tables {
        let name = table.trim_start_matches("workspace.dependencies.");
        if !dependencies.iter().any(|d| d == name) {
            missing.push(name.to_owned());
        }
    }
    let Some(previous) = previous else {
        bail!("the root Cargo.toml has no `version = \"…\"` in [workspace.package]");
    };
    if !missing.is_empty() {
        bail!(
            "internal crates without a version in [workspace.dependencies]: {} \
             (add `version = \"{previous}\"` next to their `path`; crates.io needs it)",
            missing.join(", ")
        );
    }
    Ok(Bump {
        text: out,
        previous,
        dependencies,
    })
}

/// `workspace.dependencies` for `[workspace.dependencies]` (comments and spaces
/// removed); `None` for other lines. Array-of-tables headers count as sections too.
fn section_header(line: &str) -> Option<String> {
    let trimmed = line.trim();
    if !trimmed.starts_with('[') {
        return None;
    }
    let without_comment = trimmed.split('#').next().unwrap_or("").trim();
    let inner = without_comment
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim();
    if inner.is_empty() || !without_comment.ends_with(']') {
        return None;
    }
    Some(
        inner
            .split('.')
            .map(|part| part.trim().trim_matches('"'))
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// A `key = value` pair of a manifest line.
#[derive(Debug, PartialEq, Eq)]
struct Pair<'a> {
    /// 0 for the line's own key, 1 for keys of an inline table value.
    depth: usize,
    key: &'a str,
    /// The byte range of the value's contents when it is a basic string.
    string: Option<Range<usize>>,
}

/// The keys of a line: its own (depth 0) and those of a one-line inline table.
fn pairs(line: &str) -> Vec<Pair<'_>> {
    let bytes = line.as_bytes();
    let mut found = Vec::new();
    let mut depth = 0usize;
    let mut expect_key = true;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => break,
            b'"' | b'\'' => i = skip_string(bytes, i),
            b'{' => {
                depth += 1;
                expect_key = depth == 1;
                i += 1;
            }
            b'[' => {
                depth += 1;
                expect_key = false;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b',' => {
                expect_key = depth == 1;
                i += 1;
            }
            b if b.is_ascii_whitespace() => i += 1,
            b if expect_key
                && depth <= 1
                && (b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
            {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'-')
                {
                    i += 1;
                }
                let key = &line[start..i];
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                expect_key = false;
                if bytes.get(i) != Some(&b'=') {
                    // A dotted key or garbage: not a pair this parse understands.
                    continue;
                }
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                let string = (bytes.get(i) == Some(&b'"')).then(|| {
                    let end = skip_string(bytes, i);
                    i + 1..end.saturating_sub(1).max(i + 1)
                });
                found.push(Pair { depth, key, string });
            }
            _ => {
                expect_key = false;
                i += 1;
            }
        }
    }
    found
}

/// The index just past the string starting at `start` (a `"` or `'`).
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        if quote == b'"' && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        text.parse().unwrap()
    }

    #[test]
    fn parses_and_displays_versions() {
        assert_eq!(
            v("1.22.333"),
            Version {
                major: 1,
                minor: 22,
                patch: 333,
                pre: vec![]
            }
        );
        for text in [
            "0.0.0",
            "0.1.1",
            "1.0.0-rc.1",
            "0.0.0-ci",
            "2.0.0-alpha-2.x.0",
        ] {
            assert_eq!(v(text).to_string(), text);
        }
    }

    #[test]
    fn rejects_invalid_versions() {
        for (text, why) in [
            ("1.2", "three numbers"),
            ("1.2.3.4", "three numbers"),
            ("01.2.3", "leading zeros"),
            ("1.x.3", "digits"),
            ("v1.2.3", "`v` prefix"),
            ("1.2.3+build.5", "build metadata"),
            ("1.2.3-", "pre-release identifiers"),
            ("1.2.3-rc..1", "pre-release identifiers"),
            ("1.2.3-rc.01", "leading zeros"),
            ("1.2.3-rc_1", "pre-release identifiers"),
            ("", "three numbers"),
        ] {
            let err = text.parse::<Version>().unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
            assert!(err.contains("MAJOR.MINOR.PATCH"), "{text}: {err}");
        }
    }

    #[test]
    fn precedence_follows_semver() {
        let ordered = [
            "0.0.0-ci",
            "0.1.0",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.10.0",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    const MANIFEST: &str = r#"[workspace]
members = ["crates/*", "xtask"]

[workspace.package]
version = "0.1.0" # the release version
edition = "2024"

[workspace.dependencies]
# Internal crates
asap-model = { path = "crates/asap-model", version = "0.1.0" }
asap-codec = { path = "crates/asap-codec", version = "=0.1.0", default-features = false }
# External
serde = { version = "1", features = ["derive"] }
toml = "0.9"
tricky = { version = "1", features = ["path"], git-ish = "{ path = 1 }" }

[workspace.dependencies.asap-cache]
path = "crates/asap-cache"
version = "0.1.0"

[workspace.dependencies.moka]
version = "0.12"

[profile.release]
version = "not a version"
"#;

    #[test]
    fn bumps_workspace_and_internal_dependency_versions() {
        let bump = bump_manifest(MANIFEST, "0.2.0-rc.1").unwrap();
        assert_eq!(bump.previous, "0.1.0");
        assert_eq!(
            bump.dependencies,
            ["asap-model", "asap-codec", "asap-cache"]
        );
        let expected = MANIFEST
            .replace(
                r#"version = "0.1.0" # the release"#,
                r#"version = "0.2.0-rc.1" # the release"#,
            )
            .replace(
                r#"asap-model", version = "0.1.0""#,
                r#"asap-model", version = "0.2.0-rc.1""#,
            )
            .replace(r#"version = "=0.1.0""#, r#"version = "=0.2.0-rc.1""#)
            .replace(
                "path = \"crates/asap-cache\"\nversion = \"0.1.0\"",
                "path = \"crates/asap-cache\"\nversion = \"0.2.0-rc.1\"",
            );
        assert_eq!(bump.text, expected);
        assert_eq!(workspace_version(&bump.text).unwrap(), "0.2.0-rc.1");
    }

    #[test]
    fn internal_crate_without_version_is_an_error() {
        let manifest = "[workspace.package]\nversion = \"1.0.0\"\n\n[workspace.dependencies]\n\
                        a = { path = \"crates/a\" }\n";
        let err = bump_manifest(manifest, "1.0.1").unwrap_err().to_string();
        assert!(
            err.contains("without a version") && err.contains(": a "),
            "{err}"
        );
    }

    #[test]
    fn missing_workspace_version_is_an_error() {
        let err = bump_manifest("[workspace]\nmembers = []\n", "1.0.0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[workspace.package]"), "{err}");
    }

    #[test]
    fn pairs_of_a_line() {
        let line = r#"a-b = { path = "x#y", version = "1", features = ["p", "q"] } # c = "d""#;
        let found = pairs(line);
        let keys: Vec<_> = found.iter().map(|p| (p.depth, p.key)).collect();
        assert_eq!(
            keys,
            [(0, "a-b"), (1, "path"), (1, "version"), (1, "features")]
        );
        assert_eq!(&line[found[1].string.clone().unwrap()], "x#y");
        assert_eq!(&line[found[2].string.clone().unwrap()], "1");
        assert_eq!(found[3].string, None);
        assert_eq!(
            section_header("[ workspace . \"dependencies\" ] # x"),
            Some("workspace.dependencies".to_owned())
        );
        assert_eq!(section_header("[[bin]]"), Some("bin".to_owned()));
        assert_eq!(section_header("version = 1"), None);
    }

    #[test]
    fn bumps_this_workspace_manifest() {
        let root = crate::util::workspace_root().unwrap();
        let text = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let bump = bump_manifest(&text, "9.9.9").unwrap();
        assert!(bump.dependencies.iter().any(|d| d == "asap-model"));
        assert_eq!(workspace_version(&bump.text).unwrap(), "9.9.9");
    }
}
