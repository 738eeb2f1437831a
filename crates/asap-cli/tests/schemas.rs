//! `asap schemas`, `--help` and `--version`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use asap_testing::fixtures::schemas_live_dir;
use assert_cmd::Command;

fn asap(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("asap")
        .expect("asap binary")
        .args(args)
        .output()
        .expect("run asap")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// Every file under `dir`, by relative path (with `/`), with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("list directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("relative")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn export(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let out = asap(&["schemas", "export", dir.to_str().expect("UTF-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("Exported 25 schemas to {}\n", dir.display())
    );
    tree(dir)
}

#[test]
fn export_writes_the_layout_of_schemas_live() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target: PathBuf = dir.path().join("new/nested/schemas");
    let ours = export(&target);
    let live = tree(&schemas_live_dir());
    assert_eq!(ours.len(), 25);
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        live.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &ours {
        let content = text(bytes);
        let value: serde_json::Value = serde_json::from_str(&content).expect("JSON");
        let mut pretty = serde_json::to_string_pretty(&value).expect("pretty");
        pretty.push('\n');
        assert_eq!(content, pretty, "{name}: not 2-space pretty-printed");
        assert_eq!(
            value["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        assert_eq!(value["type"], "object", "{name}");
    }
}

#[test]
fn export_is_deterministic_and_leaves_other_files_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let other = dir.path().join("README.txt");
    std::fs::write(&other, "keep me").expect("write");
    let first = export(dir.path());
    let second = export(dir.path());
    assert_eq!(first, second);
    assert_eq!(std::fs::read_to_string(&other).expect("read"), "keep me");
    assert_eq!(first.len(), 26);

    let elsewhere = tempfile::tempdir().expect("temp dir");
    let mut third = export(elsewhere.path());
    third.insert("README.txt".into(), b"keep me".to_vec());
    assert_eq!(first, third);
}

#[test]
fn verbose_export_lists_the_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_str().expect("UTF-8 path");
    let out = asap(&["-v", "schemas", "export", path]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with(&format!("Exported 25 schemas to {path}\n")));
    assert!(stdout.contains("  - payloads/task_request.schema.json\n"));
    assert_eq!(stdout.lines().count(), 26);
}

#[test]
fn export_into_a_file_is_an_io_error() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let out = asap(&[
        "schemas",
        "export",
        file.path().to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("error: "));
}

#[test]
fn list_matches_the_exported_files() {
    let out = asap(&["schemas", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let lines: Vec<(&str, &str)> = stdout
        .lines()
        .map(|l| l.split_once('\t').expect("name<TAB>path"))
        .collect();
    assert_eq!(lines.len(), 25);
    let live = tree(&schemas_live_dir());
    for (name, path) in &lines {
        assert!(live.contains_key(*path), "{path}");
        assert!(
            path.ends_with(&format!("{name}.schema.json")),
            "{name} {path}"
        );
    }
    assert!(lines.contains(&("envelope", "envelope.schema.json")));
    assert!(lines.contains(&("state_snapshot", "entities/state_snapshot.schema.json")));
    assert!(lines.contains(&("text_part", "parts/text_part.schema.json")));
    assert!(lines.contains(&("mcp_tool_result", "payloads/mcp_tool_result.schema.json")));
}

#[test]
fn show_prints_the_exported_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = export(dir.path());
    let out = asap(&["schemas", "show", "task"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(&out.stdout, &files["entities/task.schema.json"]);

    let out = asap(&["schemas", "show", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_command_has_help() {
    for args in [
        &[][..],
        &["validate"],
        &["serve"],
        &["send"],
        &["manifest"],
        &["schemas"],
        &["schemas", "export"],
        &["schemas", "list"],
        &["schemas", "show"],
    ] {
        for flag in ["--help", "-h"] {
            let mut all = args.to_vec();
            all.push(flag);
            let out = asap(&all);
            assert_eq!(out.status.code(), Some(0), "{all:?}");
            assert!(text(&out.stdout).contains("Usage: asap"), "{all:?}");
        }
    }
    let about = text(&asap(&["--help"]).stdout);
    let first = about.lines().next().unwrap_or_default();
    for command in ["serve", "send", "manifest", "validate", "JSON Schemas"] {
        assert!(
            first.contains(command),
            "the about line lacks {command}: {first}"
        );
    }

    let out = asap(&["help", "schemas", "export"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("Usage: asap schemas export"));

    let help = text(&asap(&["validate", "--help"]).stdout);
    for needle in [
        "--kind",
        "state_snapshot",
        "task_request",
        "stderr",
        "exit status",
    ] {
        assert!(help.contains(needle), "validate --help lacks {needle}");
    }
}

#[test]
fn version_is_printed() {
    for args in [&["--version"][..], &["-V"]] {
        let out = asap(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(
            text(&out.stdout),
            format!("asap {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
    let out = asap(&["schemas", "--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}
