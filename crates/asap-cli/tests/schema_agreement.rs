//! The exported JSON Schemas give the same verdict as the reference's live schemas (the
//! `schemas-live/` fixtures) on every example, every invalid sample and systematic
//! mutations of them.
//!
//! Both schema sets are compiled as JSON Schema 2020-12 (formats are annotations only, as in
//! the specification's own comparison). A mutation replaces, removes or adds one member
//! anywhere in a document, so every structural constraint that a document reaches (required
//! members, `additionalProperties`, enums, `const` tags, nullability, bounds) is exercised on
//! both sides.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use asap_model::PayloadKind;
use assert_cmd::Command;
use jsonschema::Validator;
use serde_json::{Value, json};

/// A path in the protocol fixtures (`examples/...`, `schemas-live/...`).
fn spec(rel: &str) -> PathBuf {
    let path = asap_testing::fixtures::fixtures_dir().join(rel);
    assert!(path.exists(), "{} not found", path.display());
    path
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn relative_path(name: &str) -> String {
    match name {
        "envelope" => "envelope.schema.json".into(),
        n if n.ends_with("_part") => format!("parts/{n}.schema.json"),
        n if PayloadKind::ALL.iter().any(|k| k.schema_name() == n) => {
            format!("payloads/{n}.schema.json")
        }
        n => format!("entities/{n}.schema.json"),
    }
}

/// Our schemas and the live ones, compiled, by schema name.
struct Schemas {
    ours: BTreeMap<String, Validator>,
    live: BTreeMap<String, Validator>,
    _dir: tempfile::TempDir,
}

impl Schemas {
    fn load() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::cargo_bin("asap")
            .expect("asap binary")
            .args(["schemas", "export"])
            .arg(dir.path())
            .output()
            .expect("run asap");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let list = Command::cargo_bin("asap")
            .expect("asap binary")
            .args(["schemas", "list"])
            .output()
            .expect("run asap");
        let list = String::from_utf8(list.stdout).expect("UTF-8");
        let mut ours = BTreeMap::new();
        let mut live = BTreeMap::new();
        for line in list.lines() {
            let (name, rel) = line.split_once('\t').expect("name<TAB>path");
            assert_eq!(rel, relative_path(name));
            let our_schema = read_json(&dir.path().join(rel));
            assert!(
                jsonschema::meta::is_valid(&our_schema),
                "{name}: not a valid JSON Schema"
            );
            ours.insert(name.to_owned(), compile(&our_schema, name));
            live.insert(
                name.to_owned(),
                compile(&read_json(&spec("schemas-live").join(rel)), name),
            );
        }
        assert_eq!(ours.len(), 25);
        Schemas {
            ours,
            live,
            _dir: dir,
        }
    }

    /// Records a disagreement, returns the (common) verdict otherwise.
    fn compare(&self, schema: &str, doc: &Value, what: &str, report: &mut Report) -> bool {
        let ours = self.ours[schema].is_valid(doc);
        let live = self.live[schema].is_valid(doc);
        report.checked += 1;
        if ours != live {
            report.disagreements.push(format!(
                "{what} against {schema}: ours {ours}, live {live}: {doc}"
            ));
        }
        if !live {
            report.rejected += 1;
        }
        live
    }

    /// Compares `doc` and all its mutations against `schema`.
    fn compare_mutated(&self, schema: &str, doc: &Value, what: &str, report: &mut Report) {
        self.compare(schema, doc, what, report);
        for (how, mutant) in mutations(doc) {
            self.compare(schema, &mutant, &format!("{what} [{how}]"), report);
        }
    }

    /// An envelope and its payload (against the payload schema of a known `payload_type`).
    fn compare_envelope(&self, doc: &Value, what: &str, report: &mut Report) {
        self.compare_mutated("envelope", doc, what, report);
        let kind = doc
            .get("payload_type")
            .and_then(Value::as_str)
            .and_then(PayloadKind::from_payload_type);
        if let (Some(kind), Some(payload)) = (kind, doc.get("payload"))
            && payload.is_object()
        {
            self.compare_mutated(
                kind.schema_name(),
                payload,
                &format!("{what} payload"),
                report,
            );
        }
    }
}

fn compile(schema: &Value, name: &str) -> Validator {
    jsonschema::draft202012::new(schema).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[derive(Default)]
struct Report {
    checked: usize,
    rejected: usize,
    disagreements: Vec<String>,
}

impl Report {
    fn assert_agreement(&self) {
        assert!(
            self.disagreements.is_empty(),
            "{} of {} verdicts differ:\n{}",
            self.disagreements.len(),
            self.checked,
            self.disagreements.join("\n")
        );
    }
}

/// One-member mutations of every object in `doc`: each member removed, set to `null`, to a
/// number, to a string, to an empty array/object; a string member set to an unexpected
/// string; an unknown member added. Each comes with a description.
fn mutations(doc: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    mutate(doc, &mut Vec::new(), doc, &mut out);
    out
}

fn mutate(root: &Value, path: &mut Vec<String>, node: &Value, out: &mut Vec<(String, Value)>) {
    let Value::Object(object) = node else {
        if let Value::Array(items) = node {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                mutate(root, path, item, out);
                path.pop();
            }
        }
        return;
    };
    // JSON pointer of `path` ("" is the root).
    let at = |path: &[String]| {
        path.iter()
            .map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1")))
            .collect::<String>()
    };
    let mut with = |what: String, change: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut copy = root.clone();
        if let Some(Value::Object(target)) = copy.pointer_mut(&at(path)) {
            change(target);
            out.push((what, copy));
        }
    };
    with(format!("add {}/zz_unknown", at(path)), &|o| {
        o.insert("zz_unknown".into(), json!(1));
    });
    for key in object.keys() {
        let replacements = [
            Value::Null,
            json!(7),
            json!(-1),
            json!(11),
            json!(1.5),
            json!(true),
            json!("zz-not-a-known-value"),
            json!([]),
            json!({}),
        ];
        with(format!("remove {}/{key}", at(path)), &|o| {
            o.remove(key);
        });
        for replacement in replacements {
            with(format!("set {}/{key} = {replacement}", at(path)), &|o| {
                o.insert(key.clone(), replacement.clone());
            });
        }
    }
    for (key, child) in object {
        path.push(key.clone());
        mutate(root, path, child, out);
        path.pop();
    }
}

#[test]
fn verdicts_agree_on_examples_and_their_mutations() {
    let schemas = Schemas::load();
    let mut report = Report::default();

    for path in json_files(&spec("examples")) {
        let doc = read_json(&path);
        let what = path.display().to_string();
        assert!(
            schemas.compare("envelope", &doc, &what, &mut report),
            "{what}"
        );
        schemas.compare_envelope(&doc, &what, &mut report);
    }
    for path in json_files(&spec("examples/entities")) {
        let doc = read_json(&path);
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("stem");
        let name = stem.strip_suffix("_minimal").unwrap_or(stem);
        let what = path.display().to_string();
        assert!(schemas.compare(name, &doc, &what, &mut report), "{what}");
        schemas.compare_mutated(name, &doc, &what, &mut report);
    }
    for path in json_files(&spec("examples/parts")) {
        let doc = read_json(&path);
        let name = format!("{}_part", doc["type"].as_str().expect("part type"));
        let what = path.display().to_string();
        assert!(schemas.compare(&name, &doc, &what, &mut report), "{what}");
        schemas.compare_mutated(&name, &doc, &what, &mut report);
    }
    // Envelopes inside the JSON-RPC captures.
    for path in json_files(&spec("examples/jsonrpc")) {
        let capture = read_json(&path);
        for (side, envelope) in [
            ("request", &capture["request"]["body"]["params"]["envelope"]),
            (
                "response",
                &capture["response"]["body"]["result"]["envelope"],
            ),
        ] {
            if envelope.is_object() {
                let what = format!("{} {side}", path.display());
                schemas.compare_envelope(envelope, &what, &mut report);
            }
        }
    }

    report.assert_agreement();
    assert!(report.checked > 5_000, "only {} verdicts", report.checked);
    assert!(
        report.rejected > 2_000,
        "only {} rejections",
        report.rejected
    );
}

/// Schema name of each model-level invalid sample (the README's "Model" column).
fn model_schema(file: &str) -> &'static str {
    const PREFIXES: [(&str, &str); 12] = [
        ("file_part_", "file_part"),
        ("text_part_", "text_part"),
        ("mcp_tool_result_", "mcp_tool_result"),
        ("task_update_", "task_update"),
        ("task_response_", "task_response"),
        ("task_depth_", "task"),
        ("state_snapshot_", "state_snapshot"),
        ("manifest_", "manifest"),
        ("agent_", "agent"),
        ("message_send_", "message_send"),
        ("envelope_", "envelope"),
        ("jsonrpc_", "request"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| file.starts_with(prefix))
        .map(|(_, schema)| *schema)
        .unwrap_or_else(|| panic!("{file}: unclassified invalid sample"))
}

#[test]
fn verdicts_agree_on_invalid_samples() {
    let schemas = Schemas::load();
    let mut report = Report::default();
    let mut schema_rejected = Vec::new();
    for path in json_files(&spec("examples/invalid")) {
        let file = path.file_name().and_then(|n| n.to_str()).expect("name");
        let doc = read_json(&path);
        let what = path.display().to_string();
        match model_schema(file) {
            // Request bodies have no schema.
            "request" => continue,
            "envelope" => {
                if !schemas.compare("envelope", &doc, &what, &mut report) {
                    schema_rejected.push(file.to_owned());
                }
                schemas.compare_envelope(&doc, &what, &mut report);
            }
            name => {
                if !schemas.compare(name, &doc, &what, &mut report) {
                    schema_rejected.push(file.to_owned());
                }
                schemas.compare_mutated(name, &doc, &what, &mut report);
            }
        }
    }
    report.assert_agreement();
    // The samples the invalid-samples README marks "live ✗".
    schema_rejected.sort();
    assert_eq!(
        schema_rejected,
        [
            "agent_empty_capabilities.json",
            "envelope_id_not_string.json",
            "envelope_missing_sender.json",
            "envelope_payload_not_object.json",
            "envelope_unknown_field.json",
            "message_send_bad_role.json",
            "state_snapshot_version_zero.json",
            "task_depth_too_large.json",
            "task_response_bad_status.json",
            "task_update_bad_update_type.json",
            "text_part_unknown_type.json",
        ]
    );
}
