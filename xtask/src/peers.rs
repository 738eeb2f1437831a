//! `cargo xtask peers`: the Python reference implementation (`asap-protocol` on PyPI), at
//! each version the interoperability tests talk to, in one venv per version on this machine.
//!
//! `peers install` builds what is missing or stale and keeps a venv that is up to date and
//! passes its smoke test, so a second run costs a few interpreter start-ups. A venv is up to
//! date when its stamp file holds the current recipe (the reference version, the extra pins
//! and the lock file's text): editing a lock file rebuilds the venvs built from it.
//!
//! The lock files (`xtask/peers/locks/<VERSION>.txt`, the dependency sets verified to work
//! on Python 3.11, used as pip constraints) live beside this installer because it is their
//! only reader; xtask is never published, so they stay out of every crate package.
//!
//! Locations come from `asap_testing::reference` (the same source file, compiled here with
//! `#[path]`), so the installer writes exactly where the tests look.

mod python;
mod shim;
mod wheel;

#[allow(unreachable_pub, dead_code)]
#[path = "../../crates/asap-testing/src/reference/location.rs"]
mod location;

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use python::Interpreter;

pub(crate) const PEERS_LONG_ABOUT: &str = "\
Install the Python reference implementation (PyPI asap-protocol) at each version the
interoperability tests use (1.0.0, 0.5.0, 0.1.0), one venv per version.

Venvs: /tmp/asap-peer-<VERSION>; ASAP_PEER_PREFIX replaces `/tmp/asap-peer-` and
ASAP_PEER_VENV names the 1.0.0 venv. PYTHON picks the interpreter (default python3,
3.11 or newer). The first install downloads from PyPI (or PIP_INDEX_URL) and takes a few
minutes; later runs keep every venv that is up to date and passes its smoke test.";

/// Arguments of `cargo xtask peers`.
#[derive(Args, Debug)]
pub(crate) struct PeersArgs {
    #[command(subcommand)]
    command: PeersCommand,
}

#[derive(Subcommand, Debug)]
enum PeersCommand {
    /// Build the venvs (default: every version), keeping those that are ready
    Install {
        /// Rebuild even the venvs that are ready
        #[arg(long)]
        force: bool,
        /// Reference versions (default: 1.0.0 0.5.0 0.1.0)
        #[arg(value_name = "VERSION")]
        versions: Vec<String>,
    },
    /// Print each version's venv and whether it is ready
    #[command(visible_alias = "status")]
    List {
        /// Reference versions (default: 1.0.0 0.5.0 0.1.0)
        #[arg(value_name = "VERSION")]
        versions: Vec<String>,
    },
}

/// Entry point of `cargo xtask peers`.
pub(crate) fn run(root: &Path, args: &PeersArgs) -> Result<()> {
    match &args.command {
        PeersCommand::Install { force, versions } => {
            let versions = selected(versions)?;
            let mut interpreter = None;
            for version in &versions {
                let venv = install(root, version, *force, &mut interpreter)?;
                println!("{version}: {}", venv.display());
            }
            Ok(())
        }
        PeersCommand::List { versions } => {
            for version in selected(versions)? {
                let venv = location::venv_dir(&version);
                let state = match Recipe::load(root, &version)
                    .map(|recipe| status(&venv, &version, &recipe))
                {
                    Ok(Status::Ready(what)) => format!("ready    ({what})"),
                    Ok(Status::Missing) => {
                        format!("missing  (cargo xtask peers install {version})")
                    }
                    Ok(Status::Stale(why)) => {
                        format!("stale    ({why}; cargo xtask peers install {version})")
                    }
                    Err(err) => format!("unknown  ({err:#})"),
                };
                println!("{version:<7} {:<28} {state}", venv.display());
            }
            Ok(())
        }
    }
}

/// The versions named on the command line (default: all), checked and without duplicates.
fn selected(versions: &[String]) -> Result<Vec<String>> {
    if versions.is_empty() {
        return Ok(location::VERSIONS.iter().map(|v| (*v).to_owned()).collect());
    }
    let mut chosen: Vec<String> = Vec::new();
    for version in versions {
        check_version(version)?;
        if !chosen.contains(version) {
            chosen.push(version.clone());
        }
    }
    Ok(chosen)
}

/// A version is digits, letters and `.+-` (it becomes part of a path and a requirement).
fn check_version(version: &str) -> Result<()> {
    let plausible = version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+-".contains(c));
    if !plausible {
        bail!("{version:?} is not a version (e.g. 1.0.0)");
    }
    Ok(())
}

/// Name of the file written into a venv once it passed its smoke test.
const STAMP: &str = ".asap-peer-ok";

/// Everything a venv is built from, as written into its stamp.
#[derive(Debug, PartialEq)]
struct Recipe {
    text: String,
    /// The constraints file, when the version has one.
    lock: Option<PathBuf>,
}

impl Recipe {
    /// The recipe of `version` with the lock file in `root`'s `xtask/peers/locks/`.
    fn load(root: &Path, version: &str) -> Result<Self> {
        let lock = root
            .join("xtask/peers/locks")
            .join(format!("{version}.txt"));
        let constraints = match fs::read_to_string(&lock) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", lock.display())),
        };
        let text = recipe_text(version, constraints.as_deref());
        Ok(Self {
            text,
            lock: constraints.is_some().then_some(lock),
        })
    }
}

/// The stamp text for `version` built with `constraints` (the lock file's text).
fn recipe_text(version: &str, constraints: Option<&str>) -> String {
    let mut text = format!(
        "asap-protocol {version}\npins: {}\n",
        wheel::FIXED_PINS.join(" ")
    );
    match constraints {
        Some(lock) => {
            text.push_str("constraints:\n");
            text.push_str(lock.trim_end());
            text.push('\n');
        }
        None => text.push_str("constraints: none\n"),
    }
    text
}

/// The state of a venv.
#[derive(Debug, PartialEq)]
enum Status {
    /// Up to date and passing its smoke test (what the smoke test printed).
    Ready(String),
    /// No interpreter in it.
    Missing,
    /// There, but unfinished, built from another recipe or failing its smoke test.
    Stale(String),
}

fn status(venv: &Path, version: &str, recipe: &Recipe) -> Status {
    let python = location::venv_python(venv);
    if !python.is_file() {
        return Status::Missing;
    }
    match fs::read_to_string(venv.join(STAMP)) {
        Ok(stamp) if stamp == recipe.text => {}
        Ok(_) => return Status::Stale("built from other dependencies".into()),
        Err(_) => return Status::Stale("never finished (no stamp)".into()),
    }
    match smoke(&python, version) {
        Ok(line) => Status::Ready(line),
        Err(err) => Status::Stale(format!("smoke test failed: {err:#}")),
    }
}

/// Imports the reference's server, client and models and checks the installed version.
const SMOKE: &str = "\
import importlib.metadata, sys
wanted = sys.argv[1]
installed = importlib.metadata.version('asap-protocol')
if installed != wanted:
    sys.exit(f'asap-protocol {installed} is installed, not {wanted}')
import asap.models, asap.transport.client, asap.transport.server
print(f'asap-protocol {installed} on Python {sys.version.split()[0]}')
";

/// Runs the smoke test; returns its last line (`asap-protocol V on Python X`).
fn smoke(python: &Path, version: &str) -> Result<String> {
    let out = python::run_script(
        python,
        SMOKE,
        &[OsStr::new(version)],
        &[("ASAP_LOG_LEVEL", "ERROR")],
    )?;
    Ok(out.lines().last().unwrap_or_default().trim().to_owned())
}

/// Makes the venv of `version` ready (unless it is and `force` is off); returns its path.
/// `interpreter` is found on first use, so a run with every venv ready needs no Python.
fn install(
    root: &Path,
    version: &str,
    force: bool,
    interpreter: &mut Option<Interpreter>,
) -> Result<PathBuf> {
    let venv = location::venv_dir(version);
    if !venv.is_absolute() {
        bail!(
            "the venv path {} is relative; ASAP_PEER_PREFIX and ASAP_PEER_VENV must be absolute \
             (tests resolve them from their own directories)",
            venv.display()
        );
    }
    let recipe = Recipe::load(root, version)?;
    if !force {
        match status(&venv, version, &recipe) {
            Status::Ready(what) => {
                eprintln!("ok: {what} in {} (kept; --force rebuilds)", venv.display());
                return Ok(venv);
            }
            Status::Missing => {}
            Status::Stale(why) => eprintln!("{}: {why}; rebuilding", venv.display()),
        }
    }
    let interpreter = match interpreter {
        Some(found) => found,
        None => interpreter.insert(Interpreter::find()?),
    };
    eprintln!(
        "building {} for asap-protocol {version} with {} (Python {}); the first install \
         downloads from PyPI and takes a few minutes",
        venv.display(),
        interpreter.program().to_string_lossy(),
        interpreter.version
    );
    build(&venv, version, &recipe, interpreter)
        .with_context(|| format!("installing asap-protocol {version} into {}", venv.display()))?;
    Ok(venv)
}

fn build(venv: &Path, version: &str, recipe: &Recipe, interpreter: &Interpreter) -> Result<()> {
    remove_venv(venv)?;
    interpreter.create_venv(venv)?;
    let python = location::venv_python(venv);

    let wheel = wheel::fetch(&python, &download_dir(version), version)?;
    let requirements = wheel::extra_requirements(&wheel::metadata(&python, &wheel)?);
    let mut args: Vec<OsString> = ["install", "--progress-bar=off", "--ignore-requires-python"]
        .map(OsString::from)
        .into();
    match &recipe.lock {
        Some(lock) => {
            eprintln!("constraints: {}", lock.display());
            args.extend(["--constraint".into(), lock.clone().into_os_string()]);
        }
        None => eprintln!("note: no lock file for {version}; its dependency set is not pinned"),
    }
    args.push(wheel.into_os_string());
    args.extend(requirements.into_iter().map(OsString::from));
    let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
    python::pip(
        &python,
        &format!("pip install asap-protocol {version}"),
        &args,
    )?;

    shim::install_if_needed(&python::site_packages(&python)?)?;
    let what = smoke(&python, version).context("the new venv fails its smoke test")?;
    fs::write(venv.join(STAMP), &recipe.text)
        .with_context(|| format!("cannot write {}", venv.join(STAMP).display()))?;
    eprintln!("ok: {what} in {}", venv.display());
    Ok(())
}

/// Where downloaded wheels are kept: `<prefix>dl/<VERSION>` (beside the venvs), so a rebuild
/// downloads only the dependencies again.
fn download_dir(version: &str) -> PathBuf {
    let prefix = std::env::var_os("ASAP_PEER_PREFIX")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| location::DEFAULT_PREFIX.into());
    let mut dir = prefix;
    dir.push("dl");
    PathBuf::from(dir).join(version)
}

/// Removes `venv` before a rebuild, refusing to delete a directory that is not a venv.
fn remove_venv(venv: &Path) -> Result<()> {
    let Ok(mut entries) = fs::read_dir(venv) else {
        return match venv.symlink_metadata() {
            Ok(_) => bail!("{} exists and is not a directory", venv.display()),
            Err(_) => Ok(()),
        };
    };
    if entries.next().is_some() && !venv.join("pyvenv.cfg").is_file() {
        bail!(
            "{} is not empty and is not a venv (no pyvenv.cfg); not removing it: move it away or \
             point ASAP_PEER_PREFIX / ASAP_PEER_VENV elsewhere",
            venv.display()
        );
    }
    fs::remove_dir_all(venv).with_context(|| format!("cannot remove {}", venv.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{self, TempDir};

    #[test]
    fn every_tested_version_has_a_lock_file() {
        let root = util::workspace_root().unwrap();
        for version in location::VERSIONS {
            let recipe = Recipe::load(&root, version).unwrap();
            let lock = recipe.lock.expect("lock file");
            let text = fs::read_to_string(lock).unwrap();
            assert!(text.contains("httpx==0.28.1"), "{version}");
            assert!(!text.contains("asap-protocol"), "{version}");
            assert!(recipe.text.contains(text.trim_end()), "{version}");
        }
    }

    #[test]
    fn the_recipe_names_the_version_the_pins_and_the_constraints() {
        assert_eq!(
            recipe_text("0.5.0", Some("a==1\nb==2\n\n")),
            "asap-protocol 0.5.0\npins: httpx[http2]==0.28.1 deprecated<1.2.19\n\
             constraints:\na==1\nb==2\n"
        );
        assert_eq!(
            recipe_text("9.0.0", None),
            "asap-protocol 9.0.0\npins: httpx[http2]==0.28.1 deprecated<1.2.19\n\
             constraints: none\n"
        );
    }

    #[test]
    fn default_selection_is_every_version_and_duplicates_go() {
        assert_eq!(selected(&[]).unwrap(), ["1.0.0", "0.5.0", "0.1.0"]);
        let asked = ["0.1.0", "1.0.0", "0.1.0"].map(String::from);
        assert_eq!(selected(&asked).unwrap(), ["0.1.0", "1.0.0"]);
        for bad in ["", "../x", "1.0 0", "latest", "1.0.0/.."] {
            assert!(selected(&[bad.to_owned()]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn venv_states_follow_the_interpreter_and_the_stamp() {
        let dir = TempDir::new("xtask-peers-status").unwrap();
        let venv = dir.path().join("venv");
        let recipe = Recipe {
            text: recipe_text("1.0.0", Some("x==1")),
            lock: None,
        };
        assert_eq!(status(&venv, "1.0.0", &recipe), Status::Missing);
        fs::create_dir_all(venv.join("bin")).unwrap();
        fs::write(venv.join("bin/python"), "").unwrap();
        assert!(
            matches!(status(&venv, "1.0.0", &recipe), Status::Stale(why) if why.contains("no stamp"))
        );
        fs::write(venv.join(STAMP), recipe_text("1.0.0", Some("x==2"))).unwrap();
        assert!(
            matches!(status(&venv, "1.0.0", &recipe), Status::Stale(why) if why.contains("other dependencies"))
        );
        // Up to date, but the interpreter is an empty file: the smoke test decides.
        fs::write(venv.join(STAMP), &recipe.text).unwrap();
        assert!(
            matches!(status(&venv, "1.0.0", &recipe), Status::Stale(why) if why.contains("smoke test"))
        );
    }

    #[test]
    fn only_venvs_and_empty_directories_are_removed() {
        let dir = TempDir::new("xtask-peers-remove").unwrap();
        remove_venv(&dir.path().join("absent")).unwrap();

        let empty = dir.path().join("empty");
        fs::create_dir(&empty).unwrap();
        remove_venv(&empty).unwrap();
        assert!(!empty.exists());

        let venv = dir.path().join("venv");
        fs::create_dir_all(venv.join("lib")).unwrap();
        fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        remove_venv(&venv).unwrap();
        assert!(!venv.exists());

        let other = dir.path().join("home");
        fs::create_dir(&other).unwrap();
        fs::write(other.join("notes.txt"), "keep me").unwrap();
        let err = remove_venv(&other).unwrap_err().to_string();
        assert!(err.contains("not a venv"), "{err}");
        assert!(other.join("notes.txt").is_file());

        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        assert!(remove_venv(&file).is_err());
        assert!(file.is_file());
    }
}
