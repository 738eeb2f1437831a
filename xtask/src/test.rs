//! `cargo xtask test`: the full local/CI check, one step after another.

use std::path::Path;

use anyhow::{Context, Result};

use crate::{schemas, self_contained, util};

/// What a step does.
#[derive(Debug)]
enum Action {
    /// `cargo <args>` with extra environment variables.
    Cargo {
        args: &'static [&'static str],
        env: &'static [(&'static str, &'static str)],
    },
    /// `cargo xtask schemas --check`, run in-process.
    SchemasCheck,
    /// No tracked file refers to material outside the repository, run in-process.
    SelfContained,
}

#[derive(Debug)]
struct Step {
    name: &'static str,
    action: Action,
}

/// The steps, in order. Plain `cargo test` runs unit, integration and doc tests in one
/// go, so no test runner needs to be installed.
const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        action: Action::Cargo {
            args: &["fmt", "--all", "--", "--check"],
            env: &[],
        },
    },
    Step {
        name: "self-contained",
        action: Action::SelfContained,
    },
    Step {
        name: "clippy",
        action: Action::Cargo {
            args: &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ],
            env: &[],
        },
    },
    Step {
        name: "tests",
        action: Action::Cargo {
            args: &["test", "--workspace", "--all-features"],
            env: &[],
        },
    },
    Step {
        name: "docs",
        action: Action::Cargo {
            args: &["doc", "--workspace", "--no-deps", "--all-features"],
            env: &[(
                "RUSTDOCFLAGS",
                "-D warnings -D rustdoc::broken_intra_doc_links",
            )],
        },
    },
    Step {
        name: "schemas",
        action: Action::SchemasCheck,
    },
];

/// Runs every step from the workspace root, stopping at the first failure.
pub(crate) fn run(root: &Path) -> Result<()> {
    let total = STEPS.len();
    for (index, step) in STEPS.iter().enumerate() {
        let number = index + 1;
        eprintln!("\n==> [{number}/{total}] {}", step.name);
        run_step(root, step)
            .with_context(|| format!("step {number}/{total} `{}` failed", step.name))?;
    }
    eprintln!("\n==> all {total} steps passed");
    Ok(())
}

fn run_step(root: &Path, step: &Step) -> Result<()> {
    match &step.action {
        Action::Cargo { args, env } => {
            let mut cmd = util::cargo();
            cmd.current_dir(root).args(*args);
            for (key, value) in *env {
                cmd.env(key, value);
            }
            util::run(&mut cmd)
        }
        Action::SchemasCheck => {
            eprintln!("$ cargo xtask schemas --check");
            schemas::check(root)
        }
        Action::SelfContained => self_contained::check(root),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_in_the_documented_order() {
        let names: Vec<_> = STEPS.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "fmt",
                "self-contained",
                "clippy",
                "tests",
                "docs",
                "schemas"
            ]
        );
    }

    #[test]
    fn every_step_is_in_the_help_text() {
        for (index, step) in STEPS.iter().enumerate() {
            let entry = format!("  {}. {} ", index + 1, step.name);
            assert!(crate::TEST_LONG_ABOUT.contains(&entry), "{entry:?}");
        }
    }
}
