//! The reference wheel: fetching it once into a download cache, reading its `METADATA`, and
//! the requirements pip needs beside it on Python 3.11.
//!
//! Every published `asap-protocol` wheel declares `Requires-Python >= 3.13` but runs on 3.11
//! once a few dependencies are held back:
//!
//! - `httpx[http2]==0.28.1`: later httpx releases removed `AsyncBaseTransport`, which the
//!   reference client subclasses;
//! - `deprecated<1.2.19`: later releases use `type X = …` statements (Python 3.12 syntax);
//!   the reference pulls it in through `slowapi` and `limits`;
//! - each `opentelemetry-instrumentation-*` the wheel requires (1.0.0 does): only
//!   pre-releases of those exist, and naming one (`>=0.41b0`) lets pip choose it without
//!   allowing pre-releases of everything.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::python;

/// Requirements installed with every version (see the module docs).
pub(super) const FIXED_PINS: [&str; 2] = ["httpx[http2]==0.28.1", "deprecated<1.2.19"];

/// The lowest version named for an `opentelemetry-instrumentation-*` requirement.
const INSTRUMENTATION_FLOOR: &str = ">=0.41b0";

/// Prints the `METADATA` of the wheel given as the first argument.
const READ_METADATA: &str = "\
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    name = next(n for n in wheel.namelist() if n.endswith('.dist-info/METADATA'))
    sys.stdout.write(wheel.read(name).decode('utf-8'))
";

/// The wheel of `asap-protocol` `version` in `cache`, downloaded with the venv's pip (as a
/// Python 3.13 wheel, which it is: pure Python) when it is not there yet.
pub(super) fn fetch(venv_python: &Path, cache: &Path, version: &str) -> Result<PathBuf> {
    if let Some(wheel) = cached(cache, version)? {
        eprintln!("wheel: {} (cached)", wheel.display());
        return Ok(wheel);
    }
    fs::create_dir_all(cache).with_context(|| format!("cannot create {}", cache.display()))?;
    let requirement = format!("asap-protocol=={version}");
    python::pip(
        venv_python,
        &format!("pip download {requirement}"),
        &[
            OsStr::new("download"),
            OsStr::new("--no-deps"),
            OsStr::new("--progress-bar=off"),
            OsStr::new("--python-version"),
            OsStr::new("3.13"),
            OsStr::new("--only-binary=:all:"),
            OsStr::new("--dest"),
            cache.as_os_str(),
            OsStr::new(&requirement),
        ],
    )?;
    match cached(cache, version)? {
        Some(wheel) => Ok(wheel),
        None => bail!(
            "pip download {requirement} succeeded but left no wheel in {}",
            cache.display()
        ),
    }
}

/// A wheel of `version` already in `cache`.
fn cached(cache: &Path, version: &str) -> Result<Option<PathBuf>> {
    let entries = match fs::read_dir(cache) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", cache.display())),
    };
    let mut wheels: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(OsStr::to_str)
                .is_some_and(|name| is_wheel_of(name, version))
        })
        .collect();
    wheels.sort();
    Ok(wheels.into_iter().next())
}

/// Whether `file_name` is a wheel of `asap-protocol` `version`.
fn is_wheel_of(file_name: &str, version: &str) -> bool {
    file_name
        .strip_prefix("asap_protocol-")
        .and_then(|rest| rest.strip_prefix(version))
        .is_some_and(|rest| rest.starts_with('-') && rest.ends_with(".whl"))
}

/// The `METADATA` text of `wheel`, read with `python`'s zipfile module.
pub(super) fn metadata(python: &Path, wheel: &Path) -> Result<String> {
    python::run_script(python, READ_METADATA, &[wheel.as_os_str()], &[])
        .with_context(|| format!("cannot read the METADATA of {}", wheel.display()))
}

/// What pip installs beside the wheel: [`FIXED_PINS`], then each unconditional
/// `opentelemetry-instrumentation*` requirement of `metadata` with a pre-release floor.
pub(super) fn extra_requirements(metadata: &str) -> Vec<String> {
    let mut requirements: Vec<String> = FIXED_PINS.iter().map(|p| (*p).to_owned()).collect();
    for name in instrumentation_requirements(metadata) {
        requirements.push(format!("{name}{INSTRUMENTATION_FLOOR}"));
    }
    requirements
}

/// Names of the `opentelemetry-instrumentation*` distributions that `metadata` requires
/// outside any extra, in order, without duplicates.
fn instrumentation_requirements(metadata: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for line in metadata.lines() {
        let Some(spec) = line.strip_prefix("Requires-Dist:") else {
            continue;
        };
        let (requirement, marker) = spec.split_once(';').unwrap_or((spec, ""));
        if marker_names_an_extra(marker) {
            continue;
        }
        let name = distribution_name(requirement);
        if name
            .to_ascii_lowercase()
            .replace('_', "-")
            .starts_with("opentelemetry-instrumentation")
            && !names.iter().any(|known| known == name)
        {
            names.push(name.to_owned());
        }
    }
    names
}

/// The distribution name at the start of a requirement (`name[extra]>=1 (…)`).
fn distribution_name(requirement: &str) -> &str {
    let requirement = requirement.trim_start();
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .unwrap_or(requirement.len());
    &requirement[..end]
}

/// Whether an environment marker depends on `extra` (an optional dependency).
fn marker_names_an_extra(marker: &str) -> bool {
    marker
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| word == "extra")
}

#[cfg(test)]
mod tests {
    use super::*;

    const METADATA: &str = "\
Metadata-Version: 2.4
Name: asap-protocol
Version: 1.0.0
Requires-Python: >=3.13
Requires-Dist: fastapi>=0.115
Requires-Dist: opentelemetry-api>=1.20
Requires-Dist: opentelemetry-instrumentation-fastapi>=0.41
Requires-Dist: opentelemetry-instrumentation-httpx>=0.41 ; python_version >= \"3.10\"
Requires-Dist: opentelemetry_instrumentation_asgi[all] (>=0.41)
Requires-Dist: opentelemetry-instrumentation-redis>=0.41; extra == 'redis'
Requires-Dist: opentelemetry-instrumentation-sqlite3>=0.41 ; extra==\"sql\"
Requires-Dist: opentelemetry-instrumentation-fastapi>=0.42
Provides-Extra: redis

Description text mentioning Requires-Dist: opentelemetry-instrumentation-django
";

    #[test]
    fn unconditional_instrumentation_requirements_get_a_pre_release_floor() {
        assert_eq!(
            extra_requirements(METADATA),
            [
                "httpx[http2]==0.28.1",
                "deprecated<1.2.19",
                "opentelemetry-instrumentation-fastapi>=0.41b0",
                "opentelemetry-instrumentation-httpx>=0.41b0",
                "opentelemetry_instrumentation_asgi>=0.41b0",
            ]
        );
    }

    #[test]
    fn a_wheel_without_instrumentation_gets_only_the_fixed_pins() {
        let old = "Name: asap-protocol\nVersion: 0.1.0\nRequires-Dist: httpx>=0.27\n\
                   Requires-Dist: opentelemetry-api>=1.20\n";
        assert_eq!(extra_requirements(old), FIXED_PINS);
    }

    #[test]
    fn requirement_names_end_at_the_first_specifier_character() {
        assert_eq!(distribution_name(" httpx[http2]==0.28"), "httpx");
        assert_eq!(distribution_name("a.b_c-d (>=1)"), "a.b_c-d");
        assert_eq!(distribution_name("name"), "name");
        assert_eq!(distribution_name(""), "");
    }

    #[test]
    fn markers_on_extras_are_recognised() {
        assert!(marker_names_an_extra(" extra == 'redis'"));
        assert!(marker_names_an_extra("python_version>'3'and extra==\"x\""));
        assert!(!marker_names_an_extra(" python_version >= \"3.10\""));
        assert!(!marker_names_an_extra(" platform_extra_thing == 'a'"));
        assert!(!marker_names_an_extra(""));
    }

    #[test]
    fn cached_wheels_are_matched_by_exact_version() {
        assert!(is_wheel_of("asap_protocol-1.0.0-py3-none-any.whl", "1.0.0"));
        assert!(!is_wheel_of("asap_protocol-1.0.0-py3-none-any.whl", "1.0"));
        assert!(!is_wheel_of(
            "asap_protocol-1.0.01-py3-none-any.whl",
            "1.0.0"
        ));
        assert!(!is_wheel_of("asap_protocol-1.0.0.tar.gz", "1.0.0"));
        assert!(!is_wheel_of("other-1.0.0-py3-none-any.whl", "1.0.0"));
    }
}
