//! Shared helpers: locating the workspace root, running commands with an echo of the
//! command line and a readable error when they fail, and a self-cleaning temporary
//! directory.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use std::{env, fs, io};

use anyhow::{Context, Result, bail};

/// The workspace root: the parent of this crate's manifest directory, or, if that does
/// not look like the workspace (the binary was built elsewhere and moved), what
/// `cargo locate-project --workspace` reports for the current directory.
pub(crate) fn workspace_root() -> Result<PathBuf> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(root) = manifest_dir.parent()
        && root.join("Cargo.toml").is_file()
        && root.join("xtask").is_dir()
    {
        return Ok(root.to_path_buf());
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
