//! Shared helpers: locating the workspace root, running commands with an echo of the
//! command line and a readable error when they fail, and a self-cleaning temporary
//! directory.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use std::{env, fs, io};

use anyhow::{Context, Result, bail};

/// The workspace root: the parent of this crate's manifest directory, or, if that does
/// not look like the workspace (the binary was built elsewhere and moved), what
/// `cargo locate-project --workspace` reports for the current directory.
///
/// The manifest directory `cargo run` passes at run time wins over the one compiled in:
/// clones that share one target directory (the release dry run builds in a scratch clone)
/// may leave a binary compiled in another clone behind, and that one must not act on the
/// other clone's files.
pub(crate) fn workspace_root() -> Result<PathBuf> {
    let run_time = env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let compiled = Path::new(env!("CARGO_MANIFEST_DIR"));
    for manifest_dir in run_time.as_deref().into_iter().chain([compiled]) {
        if let Some(root) = manifest_dir.parent()
            && root.join("Cargo.toml").is_file()
            && root.join("xtask").is_dir()
        {
            return Ok(root.to_path_buf());
        }
    }

    let output = cargo()
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .output()
        .context("could not run `cargo locate-project --workspace`")?;
    if !output.status.success() {
        bail!(
            "`cargo locate-project --workspace` {}: {}",
            describe_status(output.status),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let manifest = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    manifest
        .parent()
        .map(Path::to_path_buf)
        .with_context(|| format!("unexpected workspace manifest path {}", manifest.display()))
}

/// A `cargo` command using the same cargo that runs xtask (`$CARGO`), falling back to
/// `cargo` on `PATH`.
pub(crate) fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// A `cargo <tool>` command for an external subcommand (cargo-deny, cargo-hack, ...):
/// like [`cargo`], without the variables `cargo run` set for xtask itself
/// (`CARGO_PKG_*`, `CARGO_MANIFEST_DIR`, ...). Some tools read them: cargo-machete
/// takes `CARGO_PKG_NAME` as a sign that it was not started as `cargo machete` and
/// misreads its arguments.
pub(crate) fn cargo_tool(tool: &str) -> Command {
    let mut cmd = cargo();
    cmd.arg(tool);
    for (key, _) in env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("CARGO_PKG_")
            || matches!(
                &*key_text,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
            )
        {
            cmd.env_remove(&key);
        }
    }
    cmd
}

/// Echoes `cmd` to stderr, runs it with inherited stdio and fails unless it exits
/// successfully. The error names the command line and its exit status.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let shown = display(cmd);
    eprintln!("$ {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` {}", describe_status(status));
    }
    Ok(())
}

/// Runs `cmd` silently with stdin closed and returns its standard output (lossily
/// decoded); standard error goes into the error message when it fails. For quick queries (`git`, `cargo metadata`) whose command line
/// is not interesting.
pub(crate) fn query(cmd: &mut Command) -> Result<String> {
    let shown = display(cmd);
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !output.status.success() {
        bail!(
            "`{shown}` {}: {}",
            describe_status(output.status),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// What a command printed and how it ended, for callers that inspect the output.
#[derive(Debug)]
pub(crate) struct Captured {
    pub(crate) success: bool,
    pub(crate) status: String,
    /// Standard output followed by standard error.
    pub(crate) text: String,
}

/// Echoes `cmd` to stderr, runs it capturing both output streams, replays them to
/// stderr once it is done and returns them. Fails only when the command cannot start.
pub(crate) fn capture(cmd: &mut Command) -> Result<Captured> {
    let shown = display(cmd);
    eprintln!("$ {shown}");
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{shown}`"))?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    eprint!("{text}");
    if !text.is_empty() && !text.ends_with('\n') {
        eprintln!();
    }
    Ok(Captured {
        success: output.status.success(),
        status: describe_status(output.status),
        text,
    })
}

/// How to install the external cargo subcommands `cargo xtask audit` uses.
pub(crate) const INSTALL_HINT: &str =
    "cargo install --locked cargo-deny cargo-hack cargo-machete cargo-semver-checks";

/// Whether `cargo <subcommand> --version` runs successfully.
pub(crate) fn has_cargo_subcommand(subcommand: &str) -> bool {
    cargo_tool(subcommand)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Fails with an installation hint unless `cargo <subcommand> --version` works.
/// `install` is the command that installs it.
pub(crate) fn require_cargo_subcommand(subcommand: &str, install: &str) -> Result<()> {
    if !has_cargo_subcommand(subcommand) {
        bail!(
            "`cargo {subcommand}` is not installed (or does not run); install it with `{install}`"
        );
    }
    Ok(())
}

/// A shell-like rendering of `cmd`: explicitly set environment variables, the program
/// (`cargo` when it is the cargo from `$CARGO`) and its arguments, quoted when needed.
pub(crate) fn display(cmd: &Command) -> String {
    let mut parts = Vec::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            parts.push(format!("{}={}", key.to_string_lossy(), quote(value)));
        }
    }
    let program = cmd.get_program();
    let program_name = if env::var_os("CARGO").as_deref() == Some(program) {
        "cargo".to_owned()
    } else {
        quote(program)
    };
    parts.push(program_name);
    parts.extend(cmd.get_args().map(quote));
    parts.join(" ")
}

fn quote(text: &OsStr) -> String {
    let text = text.to_string_lossy();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c));
    if plain {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

fn describe_status(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => "was terminated by a signal".to_owned(),
    }
}

/// A fresh, uniquely named directory under [`env::temp_dir`], removed with its
/// contents when dropped.
#[derive(Debug)]
pub(crate) struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<temp>/<prefix>-<pid>-<nanos>-<n>`.
    pub(crate) fn new(prefix: &str) -> Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let base = env::temp_dir();
        for _ in 0..100 {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!("{prefix}-{}-{nanos}-{n}", std::process::id()));
            match fs::create_dir(&path) {
                Ok(()) => return Ok(Self { path }),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(err) => {
                    return Err(err).with_context(|| {
                        format!("could not create temporary directory {}", path.display())
                    });
                }
            }
        }
        bail!(
            "could not create a unique temporary directory under {}",
            base.display()
        )
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(err) = fs::remove_dir_all(&self.path)
            && err.kind() != io::ErrorKind::NotFound
        {
            eprintln!(
                "warning: could not remove temporary directory {}: {err}",
                self.path.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_env_and_arguments() {
        let mut cmd = Command::new("cargo");
        cmd.args(["doc", "--no-deps", "a b", "it's"])
            .env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            display(&cmd),
            r"RUSTDOCFLAGS='-D warnings' cargo doc --no-deps 'a b' 'it'\''s'"
        );
    }

    #[test]
    fn cargo_tool_drops_package_variables_of_cargo_run() {
        let cmd = cargo_tool("machete");
        assert_eq!(
            cmd.get_args().collect::<Vec<_>>(),
            [std::ffi::OsStr::new("machete")]
        );
        // Under `cargo test`, cargo sets CARGO_PKG_NAME and CARGO_MANIFEST_DIR.
        let removed: Vec<_> = cmd
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(key, _)| key.to_string_lossy().into_owned())
            .collect();
        assert!(removed.iter().any(|k| k == "CARGO_PKG_NAME"), "{removed:?}");
        assert!(
            removed.iter().any(|k| k == "CARGO_MANIFEST_DIR"),
            "{removed:?}"
        );
    }

    #[test]
    fn missing_subcommand_is_reported_with_its_install_command() {
        assert!(!has_cargo_subcommand("xtask-no-such-subcommand"));
        let err = require_cargo_subcommand("xtask-no-such-subcommand", "cargo install x")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "`cargo xtask-no-such-subcommand` is not installed (or does not run); \
             install it with `cargo install x`"
        );
    }

    #[test]
    fn temp_dir_is_unique_and_removed_on_drop() {
        let a = TempDir::new("xtask-util-test").unwrap();
        let b = TempDir::new("xtask-util-test").unwrap();
        assert_ne!(a.path(), b.path());
        fs::write(a.path().join("file"), b"x").unwrap();
        let kept = a.path().to_path_buf();
        drop(a);
        assert!(!kept.exists());
        assert!(b.path().is_dir());
    }

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        let root = workspace_root().unwrap();
        assert!(root.join("Cargo.toml").is_file());
        assert!(root.join("xtask").join("Cargo.toml").is_file());
    }
}
