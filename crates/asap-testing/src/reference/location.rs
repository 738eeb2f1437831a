//! Where the reference venvs live: one rule for the tests that use them and for
//! `cargo xtask peers install`, which makes them.
//!
//! This file depends on `std` only: xtask compiles it too (with `#[path]`), so that the
//! installer and the tests can never disagree on a location.
//!
//! The venv of reference version `V` is `/tmp/asap-peer-V`, with two overrides (an empty
//! value counts as unset):
//!
//! - `ASAP_PEER_PREFIX`: replaces `/tmp/asap-peer-`; the venv is `$ASAP_PEER_PREFIX` followed
//!   by `V` (a plain concatenation, so `/opt/peers/v` gives `/opt/peers/v1.0.0`);
//! - `ASAP_PEER_VENV`: the whole path of the 1.0.0 venv (the other versions keep the prefix).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The reference versions the project is tested against, newest first.
pub const VERSIONS: [&str; 3] = ["1.0.0", "0.5.0", "0.1.0"];

/// The venv prefix when `ASAP_PEER_PREFIX` is not set.
pub const DEFAULT_PREFIX: &str = "/tmp/asap-peer-";

/// The version whose venv `ASAP_PEER_VENV` names.
pub const EXPLICIT_VENV_VERSION: &str = "1.0.0";

/// The venv directory of reference `version`, from the environment (see the module docs).
pub fn venv_dir(version: &str) -> PathBuf {
    venv_dir_with(
        version,
        non_empty_env("ASAP_PEER_PREFIX").as_deref(),
        non_empty_env("ASAP_PEER_VENV").as_deref(),
    )
}

/// The venv directory of reference `version` for the given `ASAP_PEER_PREFIX` and
/// `ASAP_PEER_VENV` values (`None`: unset).
pub fn venv_dir_with(version: &str, prefix: Option<&OsStr>, explicit: Option<&OsStr>) -> PathBuf {
    if version == EXPLICIT_VENV_VERSION
        && let Some(explicit) = explicit
    {
        return PathBuf::from(explicit);
    }
    let mut path = prefix.map_or_else(|| OsString::from(DEFAULT_PREFIX), OsStr::to_os_string);
    path.push(version);
    PathBuf::from(path)
}

/// The interpreter of the venv at `venv`.
pub fn venv_python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

fn non_empty_env(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(text: &str) -> Option<&OsStr> {
        Some(OsStr::new(text))
    }

    #[test]
    fn default_location_is_the_prefix_and_the_version() {
        for version in VERSIONS {
            assert_eq!(
                venv_dir_with(version, None, None),
                PathBuf::from(format!("/tmp/asap-peer-{version}"))
            );
        }
    }

    #[test]
    fn the_prefix_is_concatenated_not_joined() {
        assert_eq!(
            venv_dir_with("0.5.0", os("/opt/peers/v"), None),
            PathBuf::from("/opt/peers/v0.5.0")
        );
        assert_eq!(
            venv_dir_with("0.1.0", os("/opt/peers/"), None),
            PathBuf::from("/opt/peers/0.1.0")
        );
    }

    #[test]
    fn the_explicit_venv_names_only_the_1_0_0_venv() {
        let explicit = os("/srv/reference");
        assert_eq!(
            venv_dir_with("1.0.0", os("/opt/p-"), explicit),
            PathBuf::from("/srv/reference")
        );
        assert_eq!(
            venv_dir_with("0.5.0", os("/opt/p-"), explicit),
            PathBuf::from("/opt/p-0.5.0")
        );
        assert_eq!(
            venv_dir_with("0.1.0", None, explicit),
            PathBuf::from("/tmp/asap-peer-0.1.0")
        );
    }

    #[test]
    fn the_interpreter_is_bin_python() {
        assert_eq!(
            venv_python(Path::new("/tmp/asap-peer-1.0.0")),
            PathBuf::from("/tmp/asap-peer-1.0.0/bin/python")
        );
    }
}
