//! CHANGELOG.md in the Keep a Changelog 1.1.0 format
//! (<https://keepachangelog.com/en/1.1.0/>): cutting a release section out of
//! `## [Unreleased]`, with the commit subjects since the previous release sorted into
//! Added / Changed / Fixed.
//!
//! Commit subjects are grouped by these rules, first match wins:
//!
//! 1. Skipped: `Release …` (release commits), `Merge …`, `fixup! …`, `squash! …`.
//! 2. Conventional-commit prefixes: `feat:` / `feat(scope):` → Added, `fix:` → Fixed,
//!    any other type (`refactor:`, `docs:`, `perf:`, …) → Changed. The entry drops the
//!    type and keeps the scope: `feat(client): retries` → `client: retries`.
//! 3. Keywords, as whole words, case-insensitive: fix, fixes, fixed, fixing, bug,
//!    bugfix, hotfix, regression, crash, typo → Fixed; add, adds, added, adding, new,
//!    introduce(s), implement(s), support(s), initial, skeleton(s), feature → Added.
//!    Fixed keywords are tested first.
//! 4. Anything else → Changed.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};

/// The file name, at the workspace root.
pub(crate) const FILE: &str = "CHANGELOG.md";

/// Subsections in the order Keep a Changelog lists them.
const GROUP_ORDER: &[&str] = &[
    "Added",
    "Changed",
    "Deprecated",
    "Removed",
    "Fixed",
    "Security",
];

const FIXED_WORDS: &[&str] = &[
    "fix",
    "fixes",
    "fixed",
    "fixing",
    "bug",
    "bugfix",
    "hotfix",
    "regression",
    "crash",
    "typo",
];

const ADDED_WORDS: &[&str] = &[
    "add",
    "adds",
    "added",
    "adding",
    "new",
    "introduce",
    "introduces",
    "implement",
    "implements",
    "support",
    "supports",
    "initial",
    "skeleton",
    "skeletons",
    "feature",
];

/// A new, empty changelog.
pub(crate) fn template() -> String {
    "# Changelog\n\
     \n\
     All notable changes to this project are documented in this file.\n\
     \n\
     The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),\n\
     and this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).\n\
     \n\
     ## [Unreleased]\n"
        .to_owned()
}

/// The Keep a Changelog group of a commit subject, or `None` to leave it out.
pub(crate) fn classify(subject: &str) -> Option<&'static str> {
    let subject = subject.trim();
    let lower = subject.to_lowercase();
    if subject.is_empty()
        || subject.starts_with("Release ")
        || lower.starts_with("merge ")
        || lower.starts_with("fixup!")
        || lower.starts_with("squash!")
    {
        return None;
    }
    if let Some(kind) = conventional_type(&lower) {
        return Some(match kind {
            "feat" => "Added",
            "fix" => "Fixed",
            _ => "Changed",
        });
    }
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().any(|w| FIXED_WORDS.contains(w)) {
        Some("Fixed")
    } else if words.iter().any(|w| ADDED_WORDS.contains(w)) {
        Some("Added")
    } else {
        Some("Changed")
    }
}

/// The changelog text of a commit subject: conventional-commit prefixes are dropped,
/// keeping the scope (`feat(client): retries` → `client: retries`).
fn entry_text(subject: &str) -> String {
    let subject = subject.trim();
    if conventional_type(&subject.to_lowercase()).is_none() {
        return subject.to_owned();
    }
    let Some((head, description)) = subject.split_once(':') else {
        return subject.to_owned();
    };
    let description = description.trim();
    match head
        .split_once('(')
        .and_then(|(_, scope)| scope.trim_end_matches('!').strip_suffix(')'))
    {
        Some(scope) if !scope.trim().is_empty() => format!("{}: {description}", scope.trim()),
        _ => description.to_owned(),
    }
}

/// `feat` for `feat: …`, `feat(scope): …` or `feat!: …`.
fn conventional_type(lower: &str) -> Option<&str> {
    const TYPES: &[&str] = &[
        "feat", "fix", "refactor", "perf", "docs", "style", "test", "tests", "build", "ci",
        "chore", "revert",
    ];
    let (head, _) = lower.split_once(':')?;
    let kind = head.split(['(', '!']).next()?.trim();
    let rest = &head[kind.len()..];
    let well_formed = rest.is_empty()
        || rest == "!"
        || (rest.starts_with('(') && (rest.ends_with(')') || rest.ends_with(")!")));
    (well_formed && TYPES.contains(&kind)).then_some(kind)
}

/// Where version headings link to.
#[derive(Debug, Clone)]
pub(crate) struct Links<'a> {
    /// `https://github.com/owner/repo`
    pub(crate) repository: &'a str,
    /// The tag of the previous release (`v0.1.0`), if any.
    pub(crate) previous_tag: Option<&'a str>,
}

/// The changelog after a release, and the release's section.
#[derive(Debug)]
pub(crate) struct Cut {
    pub(crate) text: String,
    /// The new section's body (without its `## [x.y.z] - date` heading).
    pub(crate) section: String,
}

/// Moves the `## [Unreleased]` entries into a new `## [<version>] - <date>` section,
/// adds the commit `subjects` to its Added / Changed / Fixed groups and leaves an
/// empty `## [Unreleased]` section above it. With `links`, the `[unreleased]` and
/// `[<version>]` link definitions at the bottom are updated (or added).
pub(crate) fn cut_release(
    text: &str,
    version: &str,
    date: &str,
    subjects: &[String],
    links: Option<&Links<'_>>,
) -> Result<Cut> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| is_unreleased_heading(l)) else {
        bail!("{FILE} has no `## [Unreleased]` section");
    };
    if lines
        .iter()
        .any(|l| l.trim_start().starts_with(&format!("## [{version}]")))
    {
        bail!("{FILE} already has a section for {version}");
    }
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.starts_with("## ") || is_link_definition(l))
        .map_or(lines.len(), |offset| start + 1 + offset);

    // The Unreleased body: free text, then `### Group` subsections.
    let mut preamble: Vec<&str> = Vec::new();
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for line in &lines[start + 1..end] {
        if let Some(name) = line.strip_prefix("### ") {
            groups.push((name.trim().to_owned(), Vec::new()));
        } else if let Some((_, items)) = groups.last_mut() {
            items.push((*line).to_owned());
        } else {
            preamble.push(line);
        }
    }
    for subject in subjects {
        let Some(group) = classify(subject) else {
            continue;
        };
        let entry = format!("- {}", entry_text(subject));
        let index = match groups.iter().position(|(name, _)| name == group) {
            Some(index) => index,
            None => {
                groups.push((group.to_owned(), Vec::new()));
                groups.len() - 1
            }
        };
        let items = &mut groups[index].1;
        if !items.iter().any(|i| i.trim_end() == entry) {
            // After the group's last non-blank line.
            let at = items
                .iter()
                .rposition(|l| !l.trim().is_empty())
                .map_or(0, |i| i + 1);
            items.insert(at, entry);
        }
    }
    groups.sort_by_key(|(name, _)| {
        GROUP_ORDER
            .iter()
            .position(|g| g == name)
            .unwrap_or(GROUP_ORDER.len())
    });

    let mut section = String::new();
    let preamble = trim_blank(&preamble);
    if !preamble.is_empty() {
        for line in preamble {
            let _ = writeln!(section, "{line}");
        }
        section.push('\n');
    }
    for (name, items) in &groups {
        let items = trim_blank(items);
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(section, "### {name}\n");
        for item in items {
            let _ = writeln!(section, "{item}");
        }
        section.push('\n');
    }
    if section.is_empty() {
        section.push_str("No notable changes.\n\n");
    }

    let mut out = String::new();
    for line in &lines[..start] {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "## [Unreleased]\n");
    let _ = writeln!(out, "## [{version}] - {date}\n");
    out.push_str(&section);
    let mut rest: Vec<String> = lines[end..].iter().map(|l| (*l).to_owned()).collect();
    if let Some(links) = links {
        update_links(&mut rest, version, links);
    }
    for line in &rest {
        let _ = writeln!(out, "{line}");
    }
    let out = format!("{}\n", out.trim_end());
    Ok(Cut {
        text: out,
        section: format!("{}\n", section.trim_end()),
    })
}

fn update_links(rest: &mut Vec<String>, version: &str, links: &Links<'_>) {
    let repo = links.repository.trim_end_matches('/');
    let unreleased = format!("[unreleased]: {repo}/compare/v{version}...HEAD");
    let this = match links.previous_tag {
        Some(previous) => format!("[{version}]: {repo}/compare/{previous}...v{version}"),
        None => format!("[{version}]: {repo}/releases/tag/v{version}"),
    };
    match rest
        .iter()
        .position(|l| l.to_lowercase().starts_with("[unreleased]:"))
    {
        Some(i) => {
            rest[i] = unreleased;
            rest.insert(i + 1, this);
        }
        None => {
            // Link definitions go after everything else, separated by a blank line.
            while rest.last().is_some_and(|l| l.trim().is_empty()) {
                rest.pop();
            }
            if !rest.is_empty() && !rest.last().is_some_and(|l| is_link_definition(l)) {
                rest.push(String::new());
            }
            rest.push(unreleased);
            rest.push(this);
        }
    }
}

fn is_unreleased_heading(line: &str) -> bool {
    line.trim_end().eq_ignore_ascii_case("## [unreleased]")
}

/// `[label]: url` at the start of a line.
fn is_link_definition(line: &str) -> bool {
    line.starts_with('[') && line.find("]:").is_some_and(|i| !line[1..i].contains(']'))
}

fn trim_blank<S: AsRef<str>>(lines: &[S]) -> &[S] {
    let start = lines
        .iter()
        .position(|l| !l.as_ref().trim().is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.as_ref().trim().is_empty())
        .map_or(start, |i| i + 1);
    &lines[start..end]
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub(crate) fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// (year, month, day) of the day `days` after 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's algorithm (http://howardhinnant.github.io/date_algorithms.html).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subjects(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn classification_rules() {
        let cases = [
            ("feat(client): retries with backoff", Some("Added")),
            ("feat!: drop the v1 envelope", Some("Added")),
            ("fix: off-by-one in the body limit", Some("Fixed")),
            ("refactor(codec): split decode.rs", Some("Changed")),
            ("asap-codec: fix stack exhaustion", Some("Fixed")),
            ("Fixes #12: panic on empty batch", Some("Fixed")),
            ("asap-cache: Add a file-backed tier", Some("Added")),
            (
                "Skeletons of asap-transport-client and asap-cache",
                Some("Added"),
            ),
            ("README: new quick start", Some("Added")),
            ("asap-model: payload equality by wire form", Some("Changed")),
            // Whole words only: "prefix" is not "fix", "address" is not "add".
            ("asap-model: prefix validation errors", Some("Changed")),
            ("address review comments", Some("Changed")),
            // Not a conventional-commit type: falls through to keywords.
            ("asap-transport-server: add rate limiting", Some("Added")),
            ("Release 0.1.0", None),
            ("Merge branch 'main'", None),
            ("fixup! asap-model: x", None),
            ("  ", None),
        ];
        for (subject, group) in cases {
            assert_eq!(classify(subject), group, "{subject}");
        }
    }

    const CHANGELOG: &str = "# Changelog

Intro.

## [Unreleased]

Highlights of the next release.

### Changed

- Manual entry.

### Removed

- Old thing.

## [0.1.0] - 2026-01-02

### Added

- First release.

[unreleased]: https://example.com/r/compare/v0.1.0...HEAD
[0.1.0]: https://example.com/r/releases/tag/v0.1.0
";

    #[test]
    fn cuts_a_release_section() {
        let links = Links {
            repository: "https://example.com/r",
            previous_tag: Some("v0.1.0"),
        };
        let cut = cut_release(
            CHANGELOG,
            "0.2.0",
            "2026-11-25",
            &subjects(&[
                "asap-model: fix validation of URNs",
                "Add batch sends",
                "Rename a field",
                "Release 0.1.0",
            ]),
            Some(&links),
        )
        .unwrap();
        let expected = "# Changelog

Intro.

## [Unreleased]

## [0.2.0] - 2026-11-25

Highlights of the next release.

### Added

- Add batch sends

### Changed

- Manual entry.
- Rename a field

### Removed

- Old thing.

### Fixed

- asap-model: fix validation of URNs

## [0.1.0] - 2026-01-02

### Added

- First release.

[unreleased]: https://example.com/r/compare/v0.2.0...HEAD
[0.2.0]: https://example.com/r/compare/v0.1.0...v0.2.0
[0.1.0]: https://example.com/r/releases/tag/v0.1.0
";
        assert_eq!(cut.text, expected, "\n{}", cut.text);
        assert!(
            cut.section
                .starts_with("Highlights of the next release.\n\n### Added\n")
        );
        assert!(
            cut.section
                .ends_with("- asap-model: fix validation of URNs\n")
        );

        // Cutting the same version twice is refused.
        let again = cut_release(&cut.text, "0.2.0", "2026-11-25", &[], Some(&links));
        assert!(
            again
                .unwrap_err()
                .to_string()
                .contains("already has a section")
        );
    }

    #[test]
    fn first_release_without_links_or_entries() {
        let cut = cut_release(&template(), "0.1.0", "2026-11-25", &[], None).unwrap();
        assert!(
            cut.text
                .ends_with("## [Unreleased]\n\n## [0.1.0] - 2026-11-25\n\nNo notable changes.\n"),
            "{}",
            cut.text
        );

        let links = Links {
            repository: "https://example.com/r/",
            previous_tag: None,
        };
        let cut = cut_release(
            &template(),
            "0.1.0",
            "2026-11-25",
            &subjects(&["Initial import"]),
            Some(&links),
        )
        .unwrap();
        assert!(
            cut.text.ends_with(
                "### Added\n\n- Initial import\n\n\
                 [unreleased]: https://example.com/r/compare/v0.1.0...HEAD\n\
                 [0.1.0]: https://example.com/r/releases/tag/v0.1.0\n"
            ),
            "{}",
            cut.text
        );
    }

    #[test]
    fn conventional_prefixes_are_dropped_from_entries() {
        assert_eq!(entry_text("feat(client): retries"), "client: retries");
        assert_eq!(entry_text("fix!: drop v1"), "drop v1");
        assert_eq!(entry_text("refactor(codec)!: split"), "codec: split");
        assert_eq!(entry_text(" asap-model: fix URNs "), "asap-model: fix URNs");
        let cut = cut_release(
            &template(),
            "1.0.0",
            "2026-11-25",
            &subjects(&["feat(client): retries with backoff"]),
            None,
        )
        .unwrap();
        assert_eq!(cut.section, "### Added\n\n- client: retries with backoff\n");
    }

    #[test]
    fn duplicate_subjects_are_not_repeated() {
        let text = "## [Unreleased]\n\n### Added\n\n- Add batch sends\n";
        let cut = cut_release(
            text,
            "1.0.0",
            "2026-11-25",
            &subjects(&["Add batch sends"]),
            None,
        )
        .unwrap();
        assert_eq!(cut.section, "### Added\n\n- Add batch sends\n");
    }

    #[test]
    fn missing_unreleased_section_is_an_error() {
        let err = cut_release("# Changelog\n", "1.0.0", "2026-11-25", &[], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `## [Unreleased]` section"), "{err}");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_507), (2026, 2, 23));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        let today = today();
        assert_eq!(today.len(), 10, "{today}");
        assert!(today.starts_with("20"), "{today}");
    }
}
