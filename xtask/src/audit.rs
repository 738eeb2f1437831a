//! `cargo xtask audit`: dependency policy, unused dependencies, feature combinations,
//! public-API drift and semver compatibility, one step after another.

mod semver;

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::metadata::Workspace;
use crate::public_api;
use crate::util::{self, INSTALL_HINT};

pub(crate) const AUDIT_LONG_ABOUT: &str = "\
Audit the workspace, from its root, stopping at the first failure.

Steps, in order:
  1. deny         cargo deny check licenses bans sources   (policy in deny.toml)
  2. advisories   cargo deny check advisories
                  When the RustSec database cannot be fetched (no network), the
                  check is retried against a local copy (--offline); without one it is
                  skipped with a warning. A real advisory always fails.
  3. unused-deps  cargo machete --skip-target-dir
                  False positives go in the crate's Cargo.toml:
                  [package.metadata.cargo-machete] ignored = [\"name\"]
  4. features     cargo hack check --each-feature --no-dev-deps -p <each library crate>
                  (cargo-hack removes dev-dependencies from the manifests while it
                  runs and restores them afterwards)
  5. public-api   the public API of each library crate against docs/public-api/
                  (see `cargo xtask public-api --help`)
  6. semver       cargo semver-checks check-release --all-features
                  --baseline-rev <baseline> -p <each library crate at the baseline>
                  Baseline: the latest v* tag reachable from HEAD (the previous
                  release); before the first release, the commit recorded in
                  xtask/semver-baseline, so a clean clone of main needs no tag and
                  no published crate (a shallow clone must be deep enough to hold it).
                  The crates must be compatible with the baseline under the version
                  they carry, by cargo's rules: in 0.x a minor bump (0.1 -> 0.2) may
                  break, a patch bump may not, and an unchanged version is checked as
                  the next patch release. An intentional breaking change therefore
                  comes with the bump: the edit `cargo xtask release` makes (root
                  Cargo.toml, [workspace.package] version and the internal crates in
                  [workspace.dependencies]) to a pre-release of the next version, e.g.
                  0.1.0 -> 0.2.0-dev; `cargo xtask release 0.2.0` later releases it
                  and its tag becomes the baseline.

Library crates are the workspace members under crates/ with a library target.
Requires cargo-deny, cargo-machete, cargo-hack and cargo-semver-checks:
  cargo install --locked cargo-deny cargo-hack cargo-machete cargo-semver-checks";

/// The steps, in order.
const STEPS: &[&str] = &[
    "deny",
    "advisories",
    "unused-deps",
    "features",
    "public-api",
    "semver",
];

/// Entry point of `cargo xtask audit`.
pub(crate) fn run(root: &Path) -> Result<()> {
    let missing: Vec<&str> = [
        ("deny", "cargo-deny"),
        ("machete", "cargo-machete"),
        ("hack", "cargo-hack"),
        ("semver-checks", "cargo-semver-checks"),
    ]
    .into_iter()
    .filter(|(subcommand, _)| !util::has_cargo_subcommand(subcommand))
    .map(|(_, tool)| tool)
    .collect();
    if !missing.is_empty() {
        bail!(
            "not installed: {}; install the audit tools with `{INSTALL_HINT}`",
            missing.join(", ")
        );
    }
    let ws = Workspace::load(root)?;

    let total = STEPS.len();
    for (index, name) in STEPS.iter().enumerate() {
        let number = index + 1;
        eprintln!("\n==> [{number}/{total}] {name}");
        run_step(root, &ws, name)
            .with_context(|| format!("audit step {number}/{total} `{name}` failed"))?;
    }
    eprintln!("\n==> audit: all {total} steps passed");
    Ok(())
}

fn run_step(root: &Path, ws: &Workspace, name: &str) -> Result<()> {
    match name {
        "deny" => {
            let mut cmd = util::cargo_tool("deny");
            cmd.current_dir(root).args([
                "check",
                "--hide-inclusion-graph",
                "licenses",
                "bans",
                "sources",
            ]);
            util::run(&mut cmd).context(
                "dependency policy violated (deny.toml); run `cargo deny check licenses bans sources` \
                 for the inclusion graphs",
            )
        }
        "advisories" => advisories(root),
        "unused-deps" => unused_dependencies(root),
        "features" => {
            let libraries = ws.library_crates(root);
            if libraries.is_empty() {
                bail!("no library crates found under crates/");
            }
            let mut cmd = util::cargo_tool("hack");
            cmd.current_dir(root)
                .args(["check", "--each-feature", "--no-dev-deps"]);
            for krate in libraries {
                cmd.args(["-p", &krate.name]);
            }
            util::run(&mut cmd)
        }
        "public-api" => public_api::check(root, ws),
        "semver" => semver::check(root, ws),
        other => bail!("unknown audit step `{other}`"),
    }
}

fn advisories(root: &Path) -> Result<()> {
    let check = |offline: bool| {
        let mut cmd = util::cargo_tool("deny");
        cmd.current_dir(root);
        if offline {
            cmd.arg("--offline");
        }
        cmd.args(["check", "--hide-inclusion-graph", "advisories"]);
        util::capture(&mut cmd)
    };
    let online = check(false)?;
    match classify_advisories(&online) {
        AdvisoryOutcome::Passed => return Ok(()),
        AdvisoryOutcome::Failed => bail!("security advisories found (see above)"),
        AdvisoryOutcome::Unreachable => {}
    }
    eprintln!("note: the advisory database could not be fetched; retrying against a local copy");
    let offline = check(true)?;
    match classify_advisories(&offline) {
        AdvisoryOutcome::Passed => {
            eprintln!(
                "warning: advisory database unreachable; advisories checked against the local \
                 copy, which may be out of date"
            );
            Ok(())
        }
        AdvisoryOutcome::Failed => bail!("security advisories found (see above)"),
        AdvisoryOutcome::Unreachable => {
            eprintln!("warning: advisory database unreachable; advisories not checked");
            Ok(())
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum AdvisoryOutcome {
    Passed,
    /// Advisories were found, or the check failed for a reason other than fetching
    /// the database.
    Failed,
    /// The database could not be fetched or opened.
    Unreachable,
}

fn classify_advisories(result: &util::Captured) -> AdvisoryOutcome {
    if result.success {
        return AdvisoryOutcome::Passed;
    }
    let text = result.text.to_lowercase();
    // Diagnostics cargo-deny prints for an actual finding.
    const FINDINGS: &[&str] = &[
        "error[vulnerability]",
        "error[unsound]",
        "error[unmaintained]",
        "error[notice]",
        "error[yanked]",
        "advisories failed",
    ];
    if FINDINGS.iter().any(|f| text.contains(f)) {
        return AdvisoryOutcome::Failed;
    }
    let about_database = text.contains("advisory database")
        || text.contains("advisory-db")
        || text.contains("advisory-dbs");
    const FETCH_ERRORS: &[&str] = &[
        "failed to fetch",
        "failed to clone",
        "unable to access",
        "could not resolve",
        "failed to resolve",
        "couldn't resolve",
        "dns error",
        "network",
        "timed out",
        "connection refused",
        "connection reset",
        "no such file or directory",
        "failed to open",
        "failed to get 'fetch_head'",
    ];
    if about_database && FETCH_ERRORS.iter().any(|e| text.contains(e)) {
        AdvisoryOutcome::Unreachable
    } else {
        AdvisoryOutcome::Failed
    }
}

fn unused_dependencies(root: &Path) -> Result<()> {
    let mut cmd = util::cargo_tool("machete");
    cmd.current_dir(root).arg("--skip-target-dir");
    let result = util::capture(&mut cmd)?;
    if result.success {
        return Ok(());
    }
    let findings = machete_findings(&result.text);
    if findings.is_empty() {
        bail!("`cargo machete` {} (see its output above)", result.status);
    }
    let mut message = String::from("unused dependencies:");
    for (krate, manifest, deps) in &findings {
        message.push_str(&format!("\n  {krate} ({manifest}): {}", deps.join(", ")));
    }
    message.push_str(
        "\nremove them, or, for false positives, list them in the crate's Cargo.toml under \
         `[package.metadata.cargo-machete] ignored = [...]`",
    );
    bail!(message)
}

/// (crate, manifest, unused dependencies) from cargo-machete's report:
///
/// ```text
/// asap-codec -- ./crates/asap-codec/Cargo.toml:
///     bytes
/// ```
fn machete_findings(output: &str) -> Vec<(String, String, Vec<String>)> {
    let mut findings: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut in_block = false;
    for line in output.lines() {
        let indented = line.starts_with(char::is_whitespace);
        if !indented
            && let Some((krate, manifest)) = line.split_once(" -- ")
            && let Some(manifest) = manifest.strip_suffix(':')
            && !krate.contains(char::is_whitespace)
        {
            findings.push((krate.to_owned(), manifest.to_owned(), Vec::new()));
            in_block = true;
        } else if indented && in_block && !line.trim().is_empty() {
            if let Some(last) = findings.last_mut() {
                last.2.push(line.trim().to_owned());
            }
        } else {
            in_block = false;
        }
    }
    findings.retain(|f| !f.2.is_empty());
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(success: bool, text: &str) -> util::Captured {
        util::Captured {
            success,
            status: if success {
                "exited with status 0".to_owned()
            } else {
                "exited with status 1".to_owned()
            },
            text: text.to_owned(),
        }
    }

    #[test]
    fn steps_are_in_the_documented_order() {
        assert_eq!(
            STEPS,
            [
                "deny",
                "advisories",
                "unused-deps",
                "features",
                "public-api",
                "semver"
            ]
        );
        for step in STEPS {
            assert!(AUDIT_LONG_ABOUT.contains(step), "{step}");
        }
    }

    #[test]
    fn unreachable_advisory_database_is_recognised() {
        let fetch = "2026-11-25 01:09:44 [ERROR] failed to fetch advisory database \
            https://github.com/RustSec/advisory-db with cli: failed to clone: [..]\n\
            fatal: unable to access 'https://github.com/RustSec/advisory-db/': \
            Could not resolve host: github.com\n";
        assert_eq!(
            classify_advisories(&captured(false, fetch)),
            AdvisoryOutcome::Unreachable
        );
        let no_local_copy = "[ERROR] failed to get 'FETCH_HEAD' metadata: failed to get HEAD \
            timestamp: [\"-C\", \"/root/.cargo/advisory-dbs/advisory-db-3157b0e258782691\"]\n\
            fatal: cannot change to '/root/.cargo/advisory-dbs/advisory-db-3157b0e258782691': \
            No such file or directory\n";
        assert_eq!(
            classify_advisories(&captured(false, no_local_copy)),
            AdvisoryOutcome::Unreachable
        );
    }

    #[test]
    fn findings_and_other_errors_fail() {
        let finding = "error[vulnerability]: Timing variability in `foo`\n\
            ID: RUSTSEC-2099-0001\nadvisories FAILED\n";
        assert_eq!(
            classify_advisories(&captured(false, finding)),
            AdvisoryOutcome::Failed
        );
        // A network message next to a finding is still a failure.
        let both = format!("{finding}warning: network slow, advisory database stale\n");
        assert_eq!(
            classify_advisories(&captured(false, &both)),
            AdvisoryOutcome::Failed
        );
        let config = "error: failed to parse deny.toml: unknown field `foo`\n";
        assert_eq!(
            classify_advisories(&captured(false, config)),
            AdvisoryOutcome::Failed
        );
        assert_eq!(
            classify_advisories(&captured(true, "advisories ok\n")),
            AdvisoryOutcome::Passed
        );
    }

    #[test]
    fn machete_report_is_parsed() {
        let output = "Analyzing dependencies of crates in this directory...\n\
cargo-machete found the following unused dependencies in this directory:\n\
asap-codec -- ./crates/asap-codec/Cargo.toml:\n\
\tbytes\n\
asap-transport-client -- ./crates/asap-transport-client/Cargo.toml:\n\
\tserde\n\
\ttower-layer\n\
\n\
If you believe cargo-machete has detected an unused dependency incorrectly,\n\
you can add the dependency to the list of dependencies to ignore in the\n\
`[package.metadata.cargo-machete]` section of the appropriate Cargo.toml.\n\
For example:\n\
\n\
[package.metadata.cargo-machete]\n\
ignored = [\"prost\"]\n\
\n\
Done!\n";
        let findings = machete_findings(output);
        assert_eq!(
            findings,
            [
                (
                    "asap-codec".to_owned(),
                    "./crates/asap-codec/Cargo.toml".to_owned(),
                    vec!["bytes".to_owned()]
                ),
                (
                    "asap-transport-client".to_owned(),
                    "./crates/asap-transport-client/Cargo.toml".to_owned(),
                    vec!["serde".to_owned(), "tower-layer".to_owned()]
                ),
            ]
        );
    }
}
