//! The Python side of the installer: finding a usable interpreter, running Python and pip
//! with their output shown and kept, and turning a pip failure into a readable error.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

use crate::util;

/// The oldest Python the reference releases are known to run on (with the installer's pins).
pub(super) const MIN_PYTHON: (u32, u32) = (3, 11);

/// Prints the interpreter's version, then fails unless it can create venvs with pip.
const PROBE: &str = "\
import sys
print('%d.%d.%d' % sys.version_info[:3], flush=True)
import ensurepip, venv
";

/// The interpreter venvs are created with: `$PYTHON`, else `python3` on `PATH`.
#[derive(Debug)]
pub(super) struct Interpreter {
    program: OsString,
    /// `major.minor.micro`.
    pub(super) version: String,
}

impl Interpreter {
    /// Finds the interpreter and checks that it is recent enough and has `venv`.
    pub(super) fn find() -> Result<Self> {
        let program = std::env::var_os("PYTHON")
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "python3".into());
        let shown = program.to_string_lossy().into_owned();
        let output = match Command::new(&program)
            .args(["-c", PROBE])
            .stdin(Stdio::null())
            .output()
        {
            Ok(output) => output,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => bail!(
                "`{shown}` not found: the reference peers need Python {}.{} or newer with its \
                 venv module; install it (Debian: apt-get install python3 python3-venv) or set \
                 PYTHON to an interpreter",
                MIN_PYTHON.0,
                MIN_PYTHON.1
            ),
            Err(err) => return Err(err).with_context(|| format!("could not run `{shown}`")),
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let version = stdout.lines().next().unwrap_or_default().trim().to_owned();
        let Some(found) = parse_version(&version) else {
            bail!(
                "`{shown}` does not look like Python (it printed {:?}): set PYTHON to an interpreter",
                stdout.trim()
            );
        };
        if found < MIN_PYTHON {
            bail!(
                "`{shown}` is Python {version}; the reference peers need {}.{} or newer (set PYTHON)",
                MIN_PYTHON.0,
                MIN_PYTHON.1
            );
        }
        if !output.status.success() {
            bail!(
                "`{shown}` (Python {version}) cannot create venvs: {} (Debian: apt-get install \
                 python3-venv)",
                last_line(&String::from_utf8_lossy(&output.stderr))
            );
        }
        Ok(Self { program, version })
    }

    /// `<interpreter> -m venv <dir>`.
    pub(super) fn create_venv(&self, dir: &Path) -> Result<()> {
        let mut cmd = Command::new(&self.program);
        cmd.args(["-m", "venv"]).arg(dir);
        let (ok, text) = run_teed(&mut cmd)?;
        if !ok {
            bail!(
                "could not create the venv {}: {}",
                dir.display(),
                last_line(&text)
            );
        }
        Ok(())
    }

    /// The interpreter as it was named (`python3`, or `$PYTHON`).
    pub(super) fn program(&self) -> &OsStr {
        &self.program
    }
}

/// `(major, minor)` of a `major.minor[.micro…]` version.
pub(super) fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Runs `python -c script args…` quietly and returns its standard output, or an error with
/// the last line it printed on standard error.
pub(super) fn run_script(
    python: &Path,
    script: &str,
    args: &[&OsStr],
    envs: &[(&str, &str)],
) -> Result<String> {
    let output = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not run {}", python.display()))?;
    if !output.status.success() {
        bail!("{}", last_line(&String::from_utf8_lossy(&output.stderr)));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs `python -m pip <args>` (echoing the command and pip's output) and fails with
/// [`describe_pip_failure`] when pip does.
pub(super) fn pip(python: &Path, what: &str, args: &[&OsStr]) -> Result<()> {
    let mut cmd = Command::new(python);
    cmd.args(["-m", "pip", "--disable-pip-version-check"])
        .args(args);
    let (ok, text) = run_teed(&mut cmd)?;
    if !ok {
        bail!("{}", describe_pip_failure(what, &text));
    }
    Ok(())
}

/// Signs in pip's output that the package index could not be reached at all (rather than
/// answering that something does not exist).
const NETWORK_SIGNS: &[&str] = &[
    "NewConnectionError",
    "Failed to establish a new connection",
    "Max retries exceeded",
    "connection broken by",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ProxyError",
    "SSLError",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
];

const NETWORK_ONCE: &str =
    "the reference peers need network access once, to PyPI or to a mirror named by PIP_INDEX_URL";

/// The error for a failed pip run doing `what` that printed `output`.
pub(super) fn describe_pip_failure(what: &str, output: &str) -> String {
    let detail = output
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with("ERROR:"))
        .map_or_else(|| last_line(output), |line| line.trim().to_owned());
    if NETWORK_SIGNS.iter().any(|sign| output.contains(sign)) {
        format!("cannot reach PyPI ({what} failed: {detail}): {NETWORK_ONCE}")
    } else if output.contains("(from versions: none)") {
        // What pip says when it reached nothing and did not retry, too.
        format!(
            "{what} failed: {detail}; the package index offered no version at all: if PyPI \
             is not reachable from here, {NETWORK_ONCE}"
        )
    } else {
        format!("{what} failed: {detail}")
    }
}

/// The last non-blank line of `text`, trimmed (or a placeholder).
fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("no output")
        .to_owned()
}

/// Echoes `cmd`, runs it with both output streams copied to stderr as they come and kept,
/// and returns whether it succeeded and what it printed.
fn run_teed(cmd: &mut Command) -> Result<(bool, String)> {
    let shown = util::display(cmd);
    eprintln!("$ {shown}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    let kept = Mutex::new(String::new());
    let stdout = child.stdout.take().context("no stdout pipe")?;
    let stderr = child.stderr.take().context("no stderr pipe")?;
    std::thread::scope(|scope| {
        scope.spawn(|| copy_lines(stdout, &kept));
        scope.spawn(|| copy_lines(stderr, &kept));
    });
    let status = child
        .wait()
        .with_context(|| format!("could not wait for `{shown}`"))?;
    let text = kept.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok((status.success(), text))
}

fn copy_lines(from: impl Read, kept: &Mutex<String>) {
    for line in BufReader::new(from).lines().map_while(Result::ok) {
        let _ = writeln!(std::io::stderr(), "  {line}");
        let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.push_str(&line);
        kept.push('\n');
    }
}

/// The `purelib` directory (site-packages) of the venv interpreter `python`.
pub(super) fn site_packages(python: &Path) -> Result<PathBuf> {
    let out = run_script(
        python,
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        &[],
        &[],
    )
    .with_context(|| format!("cannot ask {} for its site-packages", python.display()))?;
    Ok(PathBuf::from(out.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_to_major_and_minor() {
        assert_eq!(parse_version("3.11.7"), Some((3, 11)));
        assert_eq!(parse_version("3.13"), Some((3, 13)));
        assert_eq!(parse_version("3"), None);
        assert_eq!(parse_version("Python 3.11"), None);
        assert!(parse_version("3.9.18").unwrap() < MIN_PYTHON);
        assert!(parse_version("3.12.1").unwrap() >= MIN_PYTHON);
    }

    #[test]
    fn an_unreachable_index_is_reported_as_such() {
        let output = "\
WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after \
connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection \
object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused')': \
/simple/asap-protocol/
ERROR: Could not find a version that satisfies the requirement asap-protocol==1.0.0 (from versions: none)
ERROR: No matching distribution found for asap-protocol==1.0.0
";
        let message = describe_pip_failure("pip download asap-protocol==1.0.0", output);
        assert!(message.starts_with("cannot reach PyPI ("), "{message}");
        assert!(
            message.contains("No matching distribution found for asap-protocol==1.0.0"),
            "{message}"
        );
        assert!(message.contains("PIP_INDEX_URL"), "{message}");
    }

    #[test]
    fn other_pip_failures_keep_pip_s_last_error() {
        let output = "\
Collecting asap-protocol==9.9.9
ERROR: Could not find a version that satisfies the requirement asap-protocol==9.9.9 (from versions: 0.1.0, 0.5.0, 1.0.0)
ERROR: No matching distribution found for asap-protocol==9.9.9
";
        assert_eq!(
            describe_pip_failure("pip download", output),
            "pip download failed: ERROR: No matching distribution found for asap-protocol==9.9.9"
        );
        let nothing = "ERROR: Could not find a version that satisfies the requirement \
                       asap-protocol==1.0.0 (from versions: none)\n\
                       ERROR: No matching distribution found for asap-protocol==1.0.0\n";
        let message = describe_pip_failure("pip download", nothing);
        assert!(
            message.starts_with(
                "pip download failed: ERROR: No matching distribution found for \
                 asap-protocol==1.0.0; the package index offered no version at all"
            ),
            "{message}"
        );
        assert!(message.contains("PIP_INDEX_URL"), "{message}");
        assert_eq!(
            describe_pip_failure("pip install", "\n  something broke  \n\n"),
            "pip install failed: something broke"
        );
        assert_eq!(
            describe_pip_failure("pip install", ""),
            "pip install failed: no output"
        );
    }
}
