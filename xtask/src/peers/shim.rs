//! `warnings.deprecated` for Pythons older than 3.13.
//!
//! Some reference releases decorate classes with `@warnings.deprecated` (PEP 702, new in
//! Python 3.13) at import time. `typing_extensions.deprecated` is the same decorator for older
//! Pythons; a `.pth` file in the venv's site-packages makes `warnings.deprecated` an alias of
//! it before any reference module is imported.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

/// Name of the module (and, with `.pth`, of the start-up hook) the shim is written to.
const MODULE: &str = "_asap_peer_deprecated_alias";

const MODULE_SOURCE: &str = "\
\"\"\"Written by `cargo xtask peers install`: `warnings.deprecated` before Python 3.13.\"\"\"
import sys
import warnings

if sys.version_info < (3, 13) and not hasattr(warnings, \"deprecated\"):
    from typing_extensions import deprecated

    warnings.deprecated = deprecated
";

/// Writes the alias into `site_packages` when the installed reference package uses
/// `warnings.deprecated`; returns whether it did.
pub(super) fn install_if_needed(site_packages: &Path) -> Result<bool> {
    let package = site_packages.join("asap");
    if !uses_warnings_deprecated(&package)? {
        return Ok(false);
    }
    let module = site_packages.join(format!("{MODULE}.py"));
    fs::write(&module, MODULE_SOURCE)
        .with_context(|| format!("cannot write {}", module.display()))?;
    let hook = site_packages.join(format!("{MODULE}.pth"));
    fs::write(&hook, format!("import {MODULE}\n"))
        .with_context(|| format!("cannot write {}", hook.display()))?;
    eprintln!(
        "shim: warnings.deprecated -> typing_extensions.deprecated ({})",
        hook.display()
    );
    Ok(true)
}

/// Whether any `.py` file under `dir` mentions `warnings.deprecated`.
fn uses_warnings_deprecated(dir: &Path) -> Result<bool> {
    let entries = fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read {}", dir.display()))?
            .path();
        if path.is_dir() {
            if uses_warnings_deprecated(&path)? {
                return Ok(true);
            }
        } else if path.extension().is_some_and(|ext| ext == "py") {
            let bytes =
                fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            if contains(&bytes, b"warnings.deprecated") {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::TempDir;

    #[test]
    fn the_alias_is_written_only_for_packages_that_use_it() {
        let site = TempDir::new("xtask-peers-shim").unwrap();
        let package = site.path().join("asap").join("state");
        fs::create_dir_all(&package).unwrap();
        fs::write(package.join("store.py"), "import warnings\n").unwrap();
        assert!(!install_if_needed(site.path()).unwrap());
        assert!(!site.path().join(format!("{MODULE}.pth")).exists());

        fs::write(
            package.join("legacy.py"),
            "import warnings\n\n@warnings.deprecated('use Store')\nclass Old: ...\n",
        )
        .unwrap();
        assert!(install_if_needed(site.path()).unwrap());
        let hook = fs::read_to_string(site.path().join(format!("{MODULE}.pth"))).unwrap();
        assert_eq!(hook, format!("import {MODULE}\n"));
        let module = fs::read_to_string(site.path().join(format!("{MODULE}.py"))).unwrap();
        assert!(module.contains("warnings.deprecated = deprecated"));
    }

    #[test]
    fn a_missing_package_is_an_error() {
        let site = TempDir::new("xtask-peers-shim").unwrap();
        assert!(install_if_needed(site.path()).is_err());
    }
}
