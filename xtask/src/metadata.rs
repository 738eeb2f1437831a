//! The workspace as `cargo metadata --no-deps` describes it: members, their targets,
//! whether they are published, and the dependency order among them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::util;

/// Where library crates live, relative to the workspace root.
pub(crate) const CRATES_DIR: &str = "crates";

/// The workspace members.
#[derive(Debug)]
pub(crate) struct Workspace {
    /// The build directory (`target/` or `$CARGO_TARGET_DIR`).
    pub(crate) target_dir: PathBuf,
    /// Members sorted by name.
    pub(crate) packages: Vec<Package>,
}

/// One workspace member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Package {
    pub(crate) name: String,
    pub(crate) version: String,
    /// The directory holding its `Cargo.toml`.
    pub(crate) dir: PathBuf,
    /// The name of its library target (`asap_model`), when it has one.
    pub(crate) lib_name: Option<String>,
    /// `publish` is not `false`.
    pub(crate) publishable: bool,
    /// Names of the workspace members it depends on as normal or build dependency
    /// (dev-dependencies are left out: they may form cycles and are not needed to
    /// publish).
    pub(crate) workspace_deps: BTreeSet<String>,
    /// Workspace members it dev-depends on with a version requirement. cargo keeps
    /// those in the published manifest, so they must be on crates.io first; path-only
    /// dev-dependencies are dropped when packaging.
    pub(crate) versioned_dev_deps: BTreeSet<String>,
}

impl Workspace {
    /// Runs `cargo metadata --no-deps` in `root`.
    pub(crate) fn load(root: &Path) -> Result<Self> {
        let mut cmd = util::cargo();
        cmd.current_dir(root)
            .args(["metadata", "--no-deps", "--format-version", "1"]);
        let text = util::query(&mut cmd)?;
        Self::parse(&text).context("could not understand `cargo metadata` output")
    }

    /// Parses `cargo metadata --format-version 1` output.
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let json: Value = serde_json::from_str(text)?;
        let target_dir = PathBuf::from(str_field(&json, "target_directory")?);
        let members: BTreeSet<&str> = json["workspace_members"]
            .as_array()
            .context("no `workspace_members`")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let raw = json["packages"].as_array().context("no `packages`")?;
        let names: BTreeSet<&str> = raw
            .iter()
            .filter(|p| p["id"].as_str().is_some_and(|id| members.contains(id)))
            .filter_map(|p| p["name"].as_str())
            .collect();

        let mut packages = Vec::new();
        for p in raw {
            if !p["id"].as_str().is_some_and(|id| members.contains(id)) {
                continue;
            }
            let name = str_field(p, "name")?.to_owned();
            let manifest = PathBuf::from(str_field(p, "manifest_path")?);
            let dir = manifest
                .parent()
                .with_context(|| format!("odd manifest path {}", manifest.display()))?
                .to_path_buf();
            let lib_name = p["targets"].as_array().and_then(|targets| {
                targets.iter().find_map(|t| {
                    let kinds = t["kind"].as_array()?;
                    let is_lib = kinds.iter().filter_map(Value::as_str).any(|k| {
                        matches!(k, "lib" | "rlib" | "dylib" | "proc-macro" | "staticlib")
                    });
                    is_lib.then(|| t["name"].as_str().map(|n| n.replace('-', "_")))?
                })
            });
            // `publish`: null = anywhere, [] = nowhere (`publish = false`), [..] = those
            // registries.
            let publishable = match &p["publish"] {
                Value::Array(list) => !list.is_empty(),
                _ => true,
            };
            let deps = p["dependencies"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let member_deps = |dev: bool| -> BTreeSet<String> {
                deps.iter()
                    .filter(|d| (d["kind"].as_str() == Some("dev")) == dev)
                    // A path-only dependency has the requirement `*`.
                    .filter(|d| !dev || d["req"].as_str().is_some_and(|r| r != "*"))
                    .filter_map(|d| d["name"].as_str())
                    .filter(|n| names.contains(n) && *n != name)
                    .map(str::to_owned)
                    .collect()
            };
            let workspace_deps = member_deps(false);
            let versioned_dev_deps = member_deps(true);
            packages.push(Package {
                name,
                version: str_field(p, "version")?.to_owned(),
                dir,
                lib_name,
                publishable,
                workspace_deps,
                versioned_dev_deps,
            });
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self {
            target_dir,
            packages,
        })
    }

    /// Members under `<root>/crates/` that have a library target, sorted by name.
    pub(crate) fn library_crates(&self, root: &Path) -> Vec<&Package> {
        let crates_dir = root.join(CRATES_DIR);
        self.packages
            .iter()
            .filter(|p| p.lib_name.is_some() && p.dir.starts_with(&crates_dir))
            .collect()
    }

    /// Publishable members, each after the members it depends on (including
    /// dev-dependencies with a version, which must be published first).
    pub(crate) fn publish_order(&self) -> Result<Vec<&Package>> {
        let publishable: Vec<&Package> = self.packages.iter().filter(|p| p.publishable).collect();
        let is_publishable = |name: &str| publishable.iter().any(|q| q.name == name);
        for p in &publishable {
            for dep in &p.workspace_deps {
                if !is_publishable(dep) {
                    bail!(
                        "`{}` is publishable but depends on `{dep}`, which is not (`publish = false`)",
                        p.name
                    );
                }
            }
            for dep in &p.versioned_dev_deps {
                if !is_publishable(dep) {
                    bail!(
                        "`{}` is publishable but has a dev-dependency with a version on `{dep}`, \
                         which is not (`publish = false`); make the dev-dependency path-only",
                        p.name
                    );
                }
            }
        }
        let graph: BTreeMap<&str, BTreeSet<&str>> = publishable
            .iter()
            .map(|p| {
                let deps = p
                    .workspace_deps
                    .iter()
                    .chain(&p.versioned_dev_deps)
                    .map(String::as_str)
                    .collect();
                (p.name.as_str(), deps)
            })
            .collect();
        let order = match topological_order(&graph) {
            Ok(order) => order,
            Err(err) => {
                let blocking = dev_dependency_cycles(&publishable);
                if blocking.is_empty() {
                    return Err(err);
                }
                bail!(
                    "these dev-dependencies make the crates impossible to publish:\n  - {}\n\
                     A dev-dependency with a version must be on crates.io before the crate \
                     that uses it, which these cycles prevent. Declare enough of them \
                     path-only to break the cycles (e.g. `asap-testing = {{ path = \
                     \"../asap-testing\" }}` instead of `asap-testing.workspace = true`): \
                     cargo drops path-only dev-dependencies when packaging",
                    blocking.join("\n  - ")
                )
            }
        };
        Ok(order
            .into_iter()
            .filter_map(|name| publishable.iter().copied().find(|p| p.name == name))
            .collect())
    }
}

/// Explains each versioned dev-dependency of A on B that closes a cycle: B depends on
/// A, directly or through other crates (dev-dependencies with a version included).
fn dev_dependency_cycles(packages: &[&Package]) -> Vec<String> {
    let deps_of = |name: &str| {
        packages
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.workspace_deps.iter().chain(&p.versioned_dev_deps))
    };
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut pending = vec![from.to_owned()];
        while let Some(next) = pending.pop() {
            if next == to {
                return true;
            }
            if seen.insert(next.clone())
                && let Some(deps) = deps_of(&next)
            {
                pending.extend(deps.cloned());
            }
        }
        false
    };
    let mut found = Vec::new();
    for p in packages {
        for dev in &p.versioned_dev_deps {
            if reaches(dev, &p.name) {
                let direct = packages
                    .iter()
                    .find(|q| &q.name == dev)
                    .is_some_and(|q| q.workspace_deps.contains(&p.name));
                let how = if direct {
                    "which depends on it"
                } else {
                    "which needs it first (through its dependencies or versioned dev-dependencies)"
                };
                found.push(format!(
                    "`{}` dev-depends on `{dev}` with a version, {how}",
                    p.name
                ));
            }
        }
    }
    found
}

/// Orders the nodes of `graph` (node -> the nodes it depends on) so that every node
/// comes after its dependencies. Among nodes whose dependencies are all placed, the
/// alphabetically first goes next, so the order is deterministic. Dependencies that
/// are not nodes themselves are ignored. Fails on a cycle, naming its members.
pub(crate) fn topological_order<'a>(
    graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
) -> Result<Vec<&'a str>> {
    let mut remaining: BTreeMap<&str, BTreeSet<&str>> = graph
        .iter()
        .map(|(node, deps)| {
            let deps = deps
                .iter()
                .copied()
                .filter(|d| graph.contains_key(d) && d != node)
                .collect();
            (*node, deps)
        })
        .collect();
    let mut order = Vec::with_capacity(graph.len());
    while !remaining.is_empty() {
        let Some(next) = remaining
            .iter()
            .find(|(_, deps)| deps.is_empty())
            .map(|(node, _)| *node)
        else {
            let stuck: Vec<_> = remaining.keys().copied().collect();
            bail!(
                "dependency cycle among workspace crates: {}",
                stuck.join(", ")
            );
        };
        remaining.remove(next);
        for deps in remaining.values_mut() {
            deps.remove(next);
        }
        order.push(next);
    }
    Ok(order)
}

fn str_field<'a>(value: &'a Value, key: &str) -> Result<&'a str> {
    value[key]
        .as_str()
        .with_context(|| format!("missing string field `{key}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph<'a>(edges: &[(&'a str, &[&'a str])]) -> BTreeMap<&'a str, BTreeSet<&'a str>> {
        edges
            .iter()
            .map(|(node, deps)| (*node, deps.iter().copied().collect()))
            .collect()
    }

    #[test]
    fn dependencies_come_first_and_ties_are_alphabetical() {
        let g = graph(&[
            (
                "asap-cli",
                &["asap-codec", "asap-model", "asap-transport-server"],
            ),
            (
                "asap-transport-client",
                &["asap-cache", "asap-codec", "asap-model"],
            ),
            ("asap-cache", &["asap-model"]),
            ("asap-codec", &["asap-model"]),
            ("asap-model", &[]),
            ("asap-transport-server", &["asap-codec", "asap-model"]),
            ("asap-testing", &["asap-transport-server", "asap-codec"]),
        ]);
        assert_eq!(
            topological_order(&g).unwrap(),
            [
                "asap-model",
                "asap-cache",
                "asap-codec",
                "asap-transport-client",
                "asap-transport-server",
                "asap-cli",
                "asap-testing",
            ]
        );
    }

    #[test]
    fn unknown_and_self_dependencies_are_ignored() {
        let g = graph(&[("b", &["a", "serde", "b"]), ("a", &[])]);
        assert_eq!(topological_order(&g).unwrap(), ["a", "b"]);
    }

    #[test]
    fn cycles_are_reported() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &[])]);
        let err = topological_order(&g).unwrap_err().to_string();
        assert_eq!(err, "dependency cycle among workspace crates: a, b, c");
    }

    const METADATA: &str = r#"{
        "target_directory": "/ws/target",
        "workspace_members": ["m 0.1.0", "c 0.1.0", "x 0.1.0", "t 0.1.0"],
        "packages": [
            {"id": "m 0.1.0", "name": "m", "version": "0.1.0", "publish": null,
             "manifest_path": "/ws/crates/m/Cargo.toml",
             "targets": [{"name": "m", "kind": ["lib"]}],
             "dependencies": [{"name": "serde", "kind": null}]},
            {"id": "c 0.1.0", "name": "c", "version": "0.1.0", "publish": null,
             "manifest_path": "/ws/crates/c/Cargo.toml",
             "targets": [{"name": "c", "kind": ["bin"]}],
             "dependencies": [{"name": "m", "kind": null, "req": "^0.1.0"},
                              {"name": "t", "kind": "dev", "req": "*"}]},
            {"id": "t 0.1.0", "name": "t", "version": "0.1.0", "publish": null,
             "manifest_path": "/ws/crates/t/Cargo.toml",
             "targets": [{"name": "t-lib", "kind": ["lib"]}, {"name": "t", "kind": ["test"]}],
             "dependencies": [{"name": "c", "kind": "build"}, {"name": "m", "kind": null}]},
            {"id": "x 0.1.0", "name": "x", "version": "0.1.0", "publish": [],
             "manifest_path": "/ws/x/Cargo.toml",
             "targets": [{"name": "x", "kind": ["bin"]}],
             "dependencies": [{"name": "m", "kind": null}]}
        ]
    }"#;

    #[test]
    fn parses_members_libraries_and_publish_order() {
        let ws = Workspace::parse(METADATA).unwrap();
        assert_eq!(ws.target_dir, Path::new("/ws/target"));
        let names: Vec<_> = ws.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["c", "m", "t", "x"]);

        let libs: Vec<_> = ws
            .library_crates(Path::new("/ws"))
            .into_iter()
            .map(|p| (p.name.as_str(), p.lib_name.as_deref().unwrap()))
            .collect();
        assert_eq!(libs, [("m", "m"), ("t", "t_lib")]);

        let x = ws.packages.iter().find(|p| p.name == "x").unwrap();
        assert!(!x.publishable);
        // The dev-dependency t -> c does not count; the build dependency does.
        let order: Vec<_> = ws
            .publish_order()
            .unwrap()
            .into_iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(order, ["m", "c", "t"]);
    }

    #[test]
    fn versioned_dev_dependencies_order_crates_and_cycles_are_explained() {
        // c dev-depends on t with a version, and t build-depends on c: a cycle.
        let text = METADATA.replace(
            r#"{"name": "t", "kind": "dev", "req": "*"}"#,
            r#"{"name": "t", "kind": "dev", "req": "^0.1.0"}"#,
        );
        let ws = Workspace::parse(&text).unwrap();
        let c = ws.packages.iter().find(|p| p.name == "c").unwrap();
        assert_eq!(c.versioned_dev_deps, BTreeSet::from(["t".to_owned()]));
        let err = ws.publish_order().unwrap_err().to_string();
        assert!(
            err.contains("`c` dev-depends on `t` with a version, which depends on it"),
            "{err}"
        );
        assert!(err.contains("path-only"), "{err}");

        // Two versioned dev-dependencies pointing at each other are a cycle too.
        let mutual = text.replace(
            r#"{"name": "c", "kind": "build"}"#,
            r#"{"name": "c", "kind": "dev", "req": "^0.1"}"#,
        );
        let err = Workspace::parse(&mutual)
            .unwrap()
            .publish_order()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`c` dev-depends on `t` with a version, which needs it first")
                && err.contains("`t` dev-depends on `c` with a version, which needs it first"),
            "{err}"
        );

        // Without the cycle (t no longer build-depends on c), the versioned
        // dev-dependency just puts t first.
        let text = text.replace(
            r#"{"name": "c", "kind": "build"}"#,
            r#"{"name": "x", "kind": "dev", "req": "*"}"#,
        );
        let ws = Workspace::parse(&text).unwrap();
        let order: Vec<_> = ws
            .publish_order()
            .unwrap()
            .into_iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(order, ["m", "t", "c"]);
    }

    #[test]
    fn publishable_crate_depending_on_unpublished_one_is_an_error() {
        let text = METADATA.replace(
            r#""name": "m", "version": "0.1.0", "publish": null"#,
            r#""name": "m", "version": "0.1.0", "publish": []"#,
        );
        let ws = Workspace::parse(&text).unwrap();
        let err = ws.publish_order().unwrap_err().to_string();
        assert!(err.contains("depends on `m`, which is not"), "{err}");
    }

    #[test]
    fn this_workspace_has_library_crates() {
        let root = util::workspace_root().unwrap();
        let ws = Workspace::load(&root).unwrap();
        let libs: Vec<_> = ws
            .library_crates(&root)
            .into_iter()
            .map(|p| p.name.as_str())
            .collect();
        assert!(libs.contains(&"asap-model"), "{libs:?}");
        assert!(!libs.contains(&"asap-cli") && !libs.contains(&"xtask"));
        // The order itself depends on the crates' dev-dependencies (see
        // `versioned_dev_dependencies_order_crates_and_cycles_are_explained`).
        if let Ok(order) = ws.publish_order() {
            // Every crate comes after the workspace crates it depends on, and the first
            // one depends on none of them (asap-model, or a crate as free of them).
            let position = |name: &str| order.iter().position(|p| p.name == name);
            for (i, package) in order.iter().enumerate() {
                for dep in &package.workspace_deps {
                    assert!(
                        position(dep).is_some_and(|at| at < i),
                        "{} is published before its dependency {dep}",
                        package.name
                    );
                }
            }
            assert!(order.first().is_some_and(|p| p.workspace_deps.is_empty()));
            assert!(position("asap-model").is_some());
            assert!(order.iter().all(|p| p.name != "xtask"));
        }
    }
}
