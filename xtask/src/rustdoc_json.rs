//! Lists the public API of a crate from its rustdoc JSON (`--output-format json`,
//! written for format version 57; other versions are read on a best-effort basis).
//!
//! The walk starts at the crate root and follows public modules and `pub use`
//! re-exports (globs included), so every item is listed under each public path it
//! can be named by. One line per item, `<kind> <path><signature>`:
//!
//! ```text
//! mod asap_model::payload
//! #[non_exhaustive] enum asap_model::Payload
//! variant asap_model::Payload::TaskRequest(TaskRequest)
//! struct asap_model::Envelope { .. }
//! field asap_model::Envelope::id: EnvelopeId
//! fn asap_model::Envelope::new(sender: AgentUrn, recipient: AgentUrn, payload: impl Into<Payload>) -> Envelope
//! impl Clone for asap_model::Envelope
//! trait asap_model::PayloadModel: Serialize + DeserializeOwned + Into<Payload>
//! const asap_model::PayloadModel::KIND: PayloadKind
//! use asap_codec::Envelope = asap_model::Envelope
//! ```
//!
//! Kinds: `mod`, `struct`, `enum`, `union`, `variant`, `field`, `trait`, `fn` (with
//! `const`/`async`/`unsafe`/`extern` qualifiers), `const`, `static`, `type` (aliases and
//! associated types), `macro`, `proc_macro`, `impl` (trait implementations of the
//! crate's types, not blanket or auto-trait ones), `use` (re-exports of items from
//! other crates, which rustdoc does not document with `--no-deps`). Types in
//! signatures are shown by their last path segment. `{ .. }` after a struct means it
//! has private fields; `#[non_exhaustive]` is shown. Methods are those of inherent
//! impls and trait definitions.
//!
//! Lines are sorted by item path, then text, so an item's methods, fields and impls
//! follow it.

use std::collections::{BTreeSet, HashSet};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

/// The rustdoc JSON format this walker was written for.
pub(crate) const FORMAT_VERSION: u64 = 57;

/// Words that may precede the path of an item in a listing line.
const KIND_WORDS: &[&str] = &[
    "mod",
    "struct",
    "enum",
    "union",
    "variant",
    "field",
    "trait",
    "auto",
    "unsafe",
    "fn",
    "const",
    "async",
    "extern",
    "static",
    "mut",
    "type",
    "macro",
    "proc_macro",
    "derive",
    "attribute",
    "use",
    "primitive",
    "crate",
];

/// The public API listing of the crate whose rustdoc JSON is `json`: sorted lines.
pub(crate) fn public_api(json: &Value) -> Result<Vec<String>> {
    let paths = json["paths"].as_object().context("no `paths` object")?;
    let mut index = json["index"]
        .as_object()
        .context("no `index` object")?
        .clone();
    for item in index.values_mut() {
        name_unnamed_paths(item, paths);
    }
    let index = &index;
    let root_id = json.get("root").context("no `root` id")?;
    let root = index
        .get(&id_key(root_id))
        .context("the root module is not in the index")?;
    let name = root["name"]
        .as_str()
        .context("the root module has no name")?;
    if root["inner"].get("module").is_none() {
        bail!("the root item is not a module");
    }

    let mut walker = Walker {
        index,
        paths,
        lines: BTreeSet::new(),
        active: HashSet::new(),
    };
    walker.module(root, name);
    let mut lines: Vec<(String, String)> = walker.lines.into_iter().collect();
    lines.sort();
    Ok(lines.into_iter().map(|(_, line)| line).collect())
}

/// The item path a listing line is about (for `impl` lines, the implementing type),
/// used to sort lines and to pair old and new versions of an item.
pub(crate) fn line_path(line: &str) -> &str {
    if line.starts_with("impl") || line.starts_with("unsafe impl") {
        return line
            .split_once(" for ")
            .map_or("", |(_, rest)| scan_path(rest));
    }
    let mut rest = line;
    loop {
        rest = rest.trim_start();
        if rest.starts_with("#[") {
            match rest.find(']') {
                Some(end) => rest = &rest[end + 1..],
                None => return "",
            }
            continue;
        }
        if rest.starts_with("extern \"") {
            // `extern "C" fn`: skip the ABI string.
            match rest[8..].find('"') {
                Some(end) => rest = &rest[8 + end + 1..],
                None => return "",
            }
            continue;
        }
        let word_end = rest.find(' ').unwrap_or(rest.len());
        if KIND_WORDS.contains(&&rest[..word_end]) && word_end < rest.len() {
            rest = &rest[word_end..];
            continue;
        }
        return scan_path(rest);
    }
}

/// The key identifying an item across versions: everything up to the end of its path
/// (`fn asap_model::Envelope::new`), or the whole line for `impl` lines.
pub(crate) fn line_key(line: &str) -> &str {
    if line.starts_with("impl") || line.starts_with("unsafe impl") {
        return line;
    }
    let path = line_path(line);
    if path.is_empty() {
        return line;
    }
    // `line_path` returns a slice of `line`.
    let start = path.as_ptr() as usize - line.as_ptr() as usize;
    &line[..start + path.len()]
}

/// The leading `ident::ident::...` of `text`.
fn scan_path(text: &str) -> &str {
    let bytes = text.as_bytes();
    let mut end = 0;
    while end < bytes.len() {
        let b = bytes[end];
        if b.is_ascii_alphanumeric() || b == b'_' {
            end += 1;
        } else if b == b':' && bytes.get(end + 1) == Some(&b':') && end > 0 {
            end += 2;
        } else {
            break;
        }
    }
    text[..end].trim_end_matches(':')
}

/// rustdoc leaves the `path` of some references empty (the trait of `D::Error`, say);
/// fills them in from the `paths` table so they render by name.
fn name_unnamed_paths(value: &mut Value, paths: &Map<String, Value>) {
    match value {
        Value::Object(map) => {
            if map.get("path").and_then(Value::as_str) == Some("")
                && let Some(id) = map.get("id")
                && let Some(name) = paths
                    .get(&id_key(id))
                    .and_then(|summary| summary["path"].as_array()?.last()?.as_str())
            {
                map.insert("path".to_owned(), Value::String(name.to_owned()));
            }
            for child in map.values_mut() {
                name_unnamed_paths(child, paths);
            }
        }
        Value::Array(items) => {
            for item in items {
                name_unnamed_paths(item, paths);
            }
        }
        _ => {}
    }
}

fn id_key(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct Walker<'a> {
    index: &'a Map<String, Value>,
    paths: &'a Map<String, Value>,
    /// (sort path, line)
    lines: BTreeSet<(String, String)>,
    /// Modules being walked, against re-export cycles.
    active: HashSet<String>,
}

impl<'a> Walker<'a> {
    fn emit(&mut self, path: &str, line: String) {
        self.lines.insert((path.to_owned(), line));
    }

    fn item(&self, id: &Value) -> Option<&'a Value> {
        self.index.get(&id_key(id))
    }

    fn module(&mut self, module: &'a Value, path: &str) {
        let key = id_key(&module["id"]);
        if !self.active.insert(key.clone()) {
            return;
        }
        self.emit(path, format!("mod {path}"));
        self.module_items(module, path, false);
        self.active.remove(&key);
    }

    /// Lists the public items of `module` under `path`. `shallow` (for a glob
    /// re-export of a module that is being walked, like `pub use super::*`) skips
    /// modules and glob re-exports, which would lead back to where the walk is.
    fn module_items(&mut self, module: &'a Value, path: &str, shallow: bool) {
        let items = module["inner"]["module"]["items"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for id in items {
            let Some(item) = self.item(id) else {
                continue;
            };
            if !is_public(item) {
                continue;
            }
            if shallow {
                let is_module = inner_kind(item) == Some("module");
                let is_glob = item["inner"]["use"]["is_glob"].as_bool() == Some(true);
                if is_module || is_glob {
                    continue;
                }
            }
            self.named_item(item, path, None);
        }
    }

    /// An item reachable as `<parent>::<name>` (`name` overrides the item's own name
    /// for renaming re-exports).
    fn named_item(&mut self, item: &'a Value, parent: &str, name: Option<&str>) {
        let Some((kind, inner)) = inner(item) else {
            return;
        };
        if kind == "use" {
            self.reexport(inner, parent);
            return;
        }
        if kind == "impl" {
            return;
        }
        let Some(name) = name.or(item["name"].as_str()) else {
            return;
        };
        let path = format!("{parent}::{name}");
        let attrs = attrs_prefix(item);
        match kind {
            "module" => self.module(item, &path),
            "struct" => self.structure(item, inner, &path, &attrs),
            "enum" => self.enumeration(item, inner, &path, &attrs),
            "union" => {
                let generics = generics(inner.get("generics"));
                let line = format!("{attrs}union {path}{}{}", generics.params, generics.where_);
                self.emit(&path, line);
                self.fields(inner["fields"].as_array(), &path);
                self.impls(item, inner["impls"].as_array(), &path);
            }
            "trait" => self.trait_def(inner, &path, &attrs),
            "function" => {
                let line = function(inner, &path, &attrs);
                self.emit(&path, line);
            }
            "constant" => {
                let line = format!("{attrs}const {path}: {}", ty(&inner["type"]));
                self.emit(&path, line);
            }
            "static" => {
                let mutable = flag(&inner["is_mutable"], "mut ");
                let line = format!("{attrs}static {mutable}{path}: {}", ty(&inner["type"]));
                self.emit(&path, line);
            }
            "type_alias" => {
                let generics = generics(inner.get("generics"));
                let line = format!(
                    "{attrs}type {path}{}{} = {}",
                    generics.params,
                    generics.where_,
                    ty(&inner["type"])
                );
                self.emit(&path, line);
            }
            "macro" => self.emit(&path, format!("{attrs}macro {path}!")),
            "proc_macro" => {
                let kind = inner["kind"].as_str().unwrap_or("bang");
                self.emit(&path, format!("{attrs}proc_macro {kind} {path}"));
            }
            "extern_crate" => self.emit(&path, format!("extern crate {path}")),
            other => self.emit(&path, format!("{attrs}{other} {path}")),
        }
    }

    fn reexport(&mut self, inner: &'a Value, parent: &str) {
        let source = inner["source"].as_str().unwrap_or("?");
        let target_id = &inner["id"];
        let target = (!target_id.is_null())
            .then(|| self.item(target_id))
            .flatten();
        if inner["is_glob"].as_bool() == Some(true) {
            match target.and_then(|t| inner_kind(t).map(|k| (t, k))) {
                Some((module, "module")) => {
                    let key = id_key(&module["id"]);
                    if self.active.insert(key.clone()) {
                        self.module_items(module, parent, false);
                        self.active.remove(&key);
                    } else {
                        self.module_items(module, parent, true);
                    }
                }
                _ => {
                    let external = self.external_path(target_id).unwrap_or(source.to_owned());
                    self.emit(parent, format!("use {parent}::* = {external}::*"));
                }
            }
            return;
        }
        let Some(name) = inner["name"].as_str() else {
            return;
        };
        match target {
            Some(item) => self.named_item(item, parent, Some(name)),
            None => {
                let path = format!("{parent}::{name}");
                let external = self.external_path(target_id).unwrap_or(source.to_owned());
                self.emit(&path, format!("use {path} = {external}"));
            }
        }
    }

    /// The full path of an item of another crate, from the `paths` table.
    fn external_path(&self, id: &Value) -> Option<String> {
        let segments = self.paths.get(&id_key(id))?["path"].as_array()?;
        let segments: Vec<&str> = segments.iter().filter_map(Value::as_str).collect();
        (!segments.is_empty()).then(|| segments.join("::"))
    }

    fn structure(&mut self, item: &'a Value, inner: &'a Value, path: &str, attrs: &str) {
        let generics = generics(inner.get("generics"));
        let kind = &inner["kind"];
        let body = if let Some(plain) = kind.get("plain") {
            self.fields(plain["fields"].as_array(), path);
            if plain["has_stripped_fields"].as_bool() == Some(true) {
                " { .. }".to_owned()
            } else {
                String::new()
            }
        } else if let Some(fields) = kind.get("tuple").and_then(Value::as_array) {
            format!("({})", self.tuple_fields(fields))
        } else {
            String::new()
        };
        let line = format!(
            "{attrs}struct {path}{}{body}{}",
            generics.params, generics.where_
        );
        self.emit(path, line);
        self.impls(item, inner["impls"].as_array(), path);
    }

    fn enumeration(&mut self, item: &'a Value, inner: &'a Value, path: &str, attrs: &str) {
        let generics = generics(inner.get("generics"));
        let line = format!("{attrs}enum {path}{}{}", generics.params, generics.where_);
        self.emit(path, line);
        let variants = inner["variants"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for id in variants {
            let Some(variant) = self.item(id) else {
                continue;
            };
            let Some(name) = variant["name"].as_str() else {
                continue;
            };
            let vpath = format!("{path}::{name}");
            let vinner = &variant["inner"]["variant"];
            let kind = &vinner["kind"];
            let body = if let Some(fields) = kind.get("tuple").and_then(Value::as_array) {
                format!("({})", self.tuple_fields(fields))
            } else if let Some(fields) = kind.get("struct") {
                self.fields(fields["fields"].as_array(), &vpath);
                if fields["has_stripped_fields"].as_bool() == Some(true) {
                    " { .. }".to_owned()
                } else {
                    String::new()
                }
            } else {
                String::new()
            };
            let discriminant = vinner["discriminant"]["expr"]
                .as_str()
                .map(|expr| format!(" = {expr}"))
                .unwrap_or_default();
            let vattrs = attrs_prefix(variant);
            self.emit(
                &vpath,
                format!("{vattrs}variant {vpath}{body}{discriminant}"),
            );
        }
        self.impls(item, inner["impls"].as_array(), path);
    }

    /// `T, _, U` for tuple fields (`_` marks a private one).
    fn tuple_fields(&self, fields: &[Value]) -> String {
        fields
            .iter()
            .map(|id| {
                self.item(id)
                    .filter(|f| !id.is_null() && is_public_field(f))
                    .map_or_else(|| "_".to_owned(), |f| ty(&f["inner"]["struct_field"]))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn fields(&mut self, fields: Option<&'a Vec<Value>>, parent: &str) {
        for id in fields.map(Vec::as_slice).unwrap_or_default() {
            let Some(field) = self.item(id) else {
                continue;
            };
            let Some(name) = field["name"].as_str() else {
                continue;
            };
            let path = format!("{parent}::{name}");
            let line = format!(
                "{}field {path}: {}",
                attrs_prefix(field),
                ty(&field["inner"]["struct_field"])
            );
            self.emit(&path, line);
        }
    }

    fn impls(&mut self, owner: &'a Value, impls: Option<&'a Vec<Value>>, path: &str) {
        for id in impls.map(Vec::as_slice).unwrap_or_default() {
            let Some(imp) = self.item(id) else {
                continue;
            };
            let Some(("impl", inner)) = inner(imp) else {
                continue;
            };
            if inner["is_synthetic"].as_bool() == Some(true) || !inner["blanket_impl"].is_null() {
                continue;
            }
            // rustdoc also lists `impl From<Owner> for Other` under `Owner`; it belongs
            // to `Other`, where it is listed when `Other` is public.
            let implements_other_type = inner["for"]
                .get("resolved_path")
                .is_some_and(|p| p["id"] != owner["id"]);
            // Compiler-internal marker trait that comes with `#[derive(PartialEq)]`.
            let is_marker = inner["trait"]["path"]
                .as_str()
                .is_some_and(|p| p.rsplit("::").next() == Some("StructuralPartialEq"));
            if implements_other_type || is_marker {
                continue;
            }
            if inner["trait"].is_null() {
                for item_id in inner["items"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    if let Some(assoc) = self.item(item_id)
                        && is_public(assoc)
                    {
                        self.assoc_item(assoc, path);
                    }
                }
            } else {
                let line = impl_line(owner, inner, path);
                self.emit(path, line);
            }
        }
    }

    fn trait_def(&mut self, inner: &'a Value, path: &str, attrs: &str) {
        let generics = generics(inner.get("generics"));
        let bounds = bounds(inner["bounds"].as_array());
        let bounds = if bounds.is_empty() {
            String::new()
        } else {
            format!(": {bounds}")
        };
        let unsafe_ = flag(&inner["is_unsafe"], "unsafe ");
        let auto = flag(&inner["is_auto"], "auto ");
        let line = format!(
            "{attrs}{unsafe_}{auto}trait {path}{}{bounds}{}",
            generics.params, generics.where_
        );
        self.emit(path, line);
        for id in inner["items"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if let Some(item) = self.item(id) {
                self.assoc_item(item, path);
            }
        }
    }

    /// A method, associated constant or associated type of `parent`.
    fn assoc_item(&mut self, item: &'a Value, parent: &str) {
        let (Some((kind, inner)), Some(name)) = (inner(item), item["name"].as_str()) else {
            return;
        };
        let path = format!("{parent}::{name}");
        let attrs = attrs_prefix(item);
        let line = match kind {
            "function" => function(inner, &path, &attrs),
            "assoc_const" => format!("{attrs}const {path}: {}", ty(&inner["type"])),
            "assoc_type" => {
                let generics = generics(inner.get("generics"));
                let bounds = bounds(inner["bounds"].as_array());
                let mut line = format!("{attrs}type {path}{}", generics.params);
                if !bounds.is_empty() {
                    line.push_str(": ");
                    line.push_str(&bounds);
                }
                if !inner["type"].is_null() {
                    line.push_str(" = ");
                    line.push_str(&ty(&inner["type"]));
                }
                line.push_str(&generics.where_);
                line
            }
            other => format!("{attrs}{other} {path}"),
        };
        self.emit(&path, line);
    }
}

fn inner(item: &Value) -> Option<(&str, &Value)> {
    item["inner"]
        .as_object()?
        .iter()
        .next()
        .map(|(k, v)| (k.as_str(), v))
}

fn inner_kind(item: &Value) -> Option<&str> {
    inner(item).map(|(kind, _)| kind)
}

fn is_public(item: &Value) -> bool {
    item["visibility"].as_str() == Some("public")
}

/// Fields of public structs are `public`; those of variants have `default` visibility.
fn is_public_field(item: &Value) -> bool {
    matches!(item["visibility"].as_str(), Some("public" | "default"))
}

/// `#[non_exhaustive] ` when the item has that attribute, else empty.
fn attrs_prefix(item: &Value) -> String {
    let attrs = item["attrs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let non_exhaustive = attrs.iter().any(|a| match a {
        Value::String(s) => s == "non_exhaustive" || s.contains("#[non_exhaustive]"),
        _ => false,
    });
    if non_exhaustive {
        "#[non_exhaustive] ".to_owned()
    } else {
        String::new()
    }
}

/// `text` when the JSON boolean `value` is `true`, else nothing.
fn flag(value: &Value, text: &'static str) -> &'static str {
    if value.as_bool() == Some(true) {
        text
    } else {
        ""
    }
}

fn impl_line(owner: &Value, inner: &Value, path: &str) -> String {
    let generics = generics(inner.get("generics"));
    let unsafe_ = flag(&inner["is_unsafe"], "unsafe ");
    let negative = flag(&inner["is_negative"], "!");
    let trait_ = path_ref(&inner["trait"]);
    // Name the implementing type by the path being listed, keeping its generic args.
    let for_ = &inner["for"];
    let for_text = match for_.get("resolved_path") {
        Some(resolved) if resolved["id"] == owner["id"] => {
            format!("{path}{}", generic_args(&resolved["args"]))
        }
        _ => ty(for_),
    };
    format!(
        "{unsafe_}impl{} {negative}{trait_} for {for_text}{}",
        generics.params, generics.where_
    )
}

fn function(inner: &Value, path: &str, attrs: &str) -> String {
    let header = &inner["header"];
    let mut quals = String::new();
    if header["is_const"].as_bool() == Some(true) {
        quals.push_str("const ");
    }
    if header["is_async"].as_bool() == Some(true) {
        quals.push_str("async ");
    }
    if header["is_unsafe"].as_bool() == Some(true) {
        quals.push_str("unsafe ");
    }
    quals.push_str(&abi(&header["abi"]));
    let generics = generics(inner.get("generics"));
    let sig = &inner["sig"];
    let inputs: Vec<String> = sig["inputs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|pair| {
            let name = pair[0].as_str().unwrap_or("_");
            let ty_ = &pair[1];
            if name == "self" {
                self_param(ty_)
            } else {
                format!("{name}: {}", ty(ty_))
            }
        })
        .collect();
    let variadic = flag(&sig["is_c_variadic"], ", ...");
    let output = if sig["output"].is_null() {
        String::new()
    } else {
        format!(" -> {}", ty(&sig["output"]))
    };
    format!(
        "{attrs}{quals}fn {path}{}({}{variadic}){output}{}",
        generics.params,
        inputs.join(", "),
        generics.where_
    )
}

fn self_param(ty_: &Value) -> String {
    if ty_["generic"].as_str() == Some("Self") {
        return "self".to_owned();
    }
    if let Some(r) = ty_.get("borrowed_ref")
        && r["type"]["generic"].as_str() == Some("Self")
    {
        let lifetime = r["lifetime"]
            .as_str()
            .map(|l| format!("{l} "))
            .unwrap_or_default();
        let mutable = flag(&r["is_mutable"], "mut ");
        return format!("&{lifetime}{mutable}self");
    }
    format!("self: {}", ty(ty_))
}

fn abi(abi: &Value) -> String {
    match abi {
        Value::String(s) if s == "Rust" => String::new(),
        Value::String(s) => format!("extern \"{s}\" "),
        Value::Object(map) => match map.iter().next() {
            Some((name, _)) if name == "Other" => "extern \"other\" ".to_owned(),
            Some((name, _)) => format!("extern \"{name}\" "),
            None => String::new(),
        },
        _ => String::new(),
    }
}

struct Generics {
    /// `<T: Bound, 'a>` or empty.
    params: String,
    /// ` where T: Bound` or empty.
    where_: String,
}

fn generics(generics: Option<&Value>) -> Generics {
    let empty = Vec::new();
    let generics = generics.unwrap_or(&Value::Null);
    let params: Vec<String> = generics["params"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .filter(|p| p["kind"]["type"]["is_synthetic"].as_bool() != Some(true))
        .map(generic_param)
        .collect();
    let predicates: Vec<String> = generics["where_predicates"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(where_predicate)
        .collect();
    Generics {
        params: if params.is_empty() {
            String::new()
        } else {
            format!("<{}>", params.join(", "))
        },
        where_: if predicates.is_empty() {
            String::new()
        } else {
            format!(" where {}", predicates.join(", "))
        },
    }
}

fn generic_param(param: &Value) -> String {
    let name = param["name"].as_str().unwrap_or("_");
    let kind = &param["kind"];
    if let Some(lifetime) = kind.get("lifetime") {
        let outlives: Vec<&str> = lifetime["outlives"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        if outlives.is_empty() {
            name.to_owned()
        } else {
            format!("{name}: {}", outlives.join(" + "))
        }
    } else if let Some(t) = kind.get("type") {
        let mut text = name.to_owned();
        let bounds = bounds(t["bounds"].as_array());
        if !bounds.is_empty() {
            text.push_str(": ");
            text.push_str(&bounds);
        }
        if !t["default"].is_null() {
            text.push_str(" = ");
            text.push_str(&ty(&t["default"]));
        }
        text
    } else if let Some(c) = kind.get("const") {
        let mut text = format!("const {name}: {}", ty(&c["type"]));
        if let Some(default) = c["default"].as_str() {
            text.push_str(" = ");
            text.push_str(default);
        }
        text
    } else {
        name.to_owned()
    }
}

fn where_predicate(predicate: &Value) -> String {
    if let Some(p) = predicate.get("bound_predicate") {
        format!(
            "{}{}: {}",
            hrtb(p["generic_params"].as_array()),
            ty(&p["type"]),
            bounds(p["bounds"].as_array())
        )
    } else if let Some(p) = predicate.get("lifetime_predicate") {
        let outlives: Vec<&str> = p["outlives"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        format!(
            "{}: {}",
            p["lifetime"].as_str().unwrap_or("'_"),
            outlives.join(" + ")
        )
    } else if let Some(p) = predicate.get("eq_predicate") {
        format!("{} = {}", ty(&p["lhs"]), term(&p["rhs"]))
    } else {
        "?".to_owned()
    }
}

/// `for<'a> ` for higher-ranked bounds, else empty.
fn hrtb(params: Option<&Vec<Value>>) -> String {
    let params: Vec<String> = params
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(generic_param)
        .collect();
    if params.is_empty() {
        String::new()
    } else {
        format!("for<{}> ", params.join(", "))
    }
}

fn bounds(bounds: Option<&Vec<Value>>) -> String {
    bounds
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(bound)
        .collect::<Vec<_>>()
        .join(" + ")
}

fn bound(bound: &Value) -> String {
    if let Some(t) = bound.get("trait_bound") {
        let modifier = match t["modifier"].as_str() {
            Some("maybe") => "?",
            Some("maybe_const") => "~const ",
            _ => "",
        };
        format!(
            "{}{modifier}{}",
            hrtb(t["generic_params"].as_array()),
            path_ref(&t["trait"])
        )
    } else if let Some(lifetime) = bound.get("outlives").and_then(Value::as_str) {
        lifetime.to_owned()
    } else if let Some(args) = bound.get("use").and_then(Value::as_array) {
        let args: Vec<String> = args
            .iter()
            .map(|a| match a {
                Value::String(s) => s.clone(),
                Value::Object(map) => map
                    .values()
                    .next()
                    .and_then(Value::as_str)
                    .unwrap_or("_")
                    .to_owned(),
                _ => "_".to_owned(),
            })
            .collect();
        format!("use<{}>", args.join(", "))
    } else {
        "?".to_owned()
    }
}

/// A path (trait or type) by its last segment, with generic arguments.
fn path_ref(path: &Value) -> String {
    let written = path["path"].as_str().unwrap_or("");
    let name = written.rsplit("::").next().unwrap_or("");
    let name = if name.is_empty() { "?" } else { name };
    format!("{name}{}", generic_args(&path["args"]))
}

fn generic_args(args: &Value) -> String {
    if let Some(a) = args.get("angle_bracketed") {
        let mut parts: Vec<String> = a["args"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|arg| match arg {
                Value::String(s) if s == "infer" => "_".to_owned(),
                Value::Object(map) => match map.iter().next().map(|(k, v)| (k.as_str(), v)) {
                    Some(("lifetime", l)) => l.as_str().unwrap_or("'_").to_owned(),
                    Some(("type", t)) => ty(t),
                    Some(("const", c)) => c["expr"].as_str().unwrap_or("_").to_owned(),
                    _ => "_".to_owned(),
                },
                _ => "_".to_owned(),
            })
            .collect();
        for c in a["constraints"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let name = format!(
                "{}{}",
                c["name"].as_str().unwrap_or("?"),
                generic_args(&c["args"])
            );
            let binding = &c["binding"];
            if let Some(eq) = binding.get("equality") {
                parts.push(format!("{name} = {}", term(eq)));
            } else if let Some(b) = binding.get("constraint") {
                parts.push(format!("{name}: {}", bounds(b.as_array())));
            }
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("<{}>", parts.join(", "))
        }
    } else if let Some(p) = args.get("parenthesized") {
        let inputs: Vec<String> = p["inputs"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(ty)
            .collect();
        let output = if p["output"].is_null() {
            String::new()
        } else {
            format!(" -> {}", ty(&p["output"]))
        };
        format!("({}){output}", inputs.join(", "))
    } else if args.as_str() == Some("return_type_notation") {
        "(..)".to_owned()
    } else {
        String::new()
    }
}

fn term(term: &Value) -> String {
    if let Some(t) = term.get("type") {
        ty(t)
    } else if let Some(c) = term.get("constant") {
        c["expr"].as_str().unwrap_or("_").to_owned()
    } else {
        "?".to_owned()
    }
}

/// A type as written, with paths shortened to their last segment.
fn ty(ty_: &Value) -> String {
    let Some((kind, inner)) = ty_.as_object().and_then(|m| m.iter().next()) else {
        return match ty_.as_str() {
            Some("infer") => "_".to_owned(),
            _ => "?".to_owned(),
        };
    };
    match kind.as_str() {
        "resolved_path" => path_ref(inner),
        "generic" | "primitive" => inner.as_str().unwrap_or("?").to_owned(),
        "dyn_trait" => {
            let mut parts: Vec<String> = inner["traits"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|poly| {
                    format!(
                        "{}{}",
                        hrtb(poly["generic_params"].as_array()),
                        path_ref(&poly["trait"])
                    )
                })
                .collect();
            if let Some(lifetime) = inner["lifetime"].as_str() {
                parts.push(lifetime.to_owned());
            }
            format!("dyn {}", parts.join(" + "))
        }
        "function_pointer" => {
            let header = &inner["header"];
            let unsafe_ = flag(&header["is_unsafe"], "unsafe ");
            let sig = &inner["sig"];
            let inputs: Vec<String> = sig["inputs"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|pair| ty(&pair[1]))
                .collect();
            let output = if sig["output"].is_null() {
                String::new()
            } else {
                format!(" -> {}", ty(&sig["output"]))
            };
            format!(
                "{}{unsafe_}{}fn({}){output}",
                hrtb(inner["generic_params"].as_array()),
                abi(&header["abi"]),
                inputs.join(", ")
            )
        }
        "tuple" => {
            let items: Vec<String> = inner
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(ty)
                .collect();
            if items.len() == 1 {
                format!("({},)", items[0])
            } else {
                format!("({})", items.join(", "))
            }
        }
        "slice" => format!("[{}]", ty(inner)),
        "array" => format!(
            "[{}; {}]",
            ty(&inner["type"]),
            inner["len"].as_str().unwrap_or("_")
        ),
        "pat" => ty(&inner["type"]),
        "impl_trait" => format!("impl {}", bounds(inner.as_array())),
        "raw_pointer" => {
            let mutability = if inner["is_mutable"].as_bool() == Some(true) {
                "mut"
            } else {
                "const"
            };
            format!("*{mutability} {}", ty(&inner["type"]))
        }
        "borrowed_ref" => {
            let lifetime = inner["lifetime"]
                .as_str()
                .map(|l| format!("{l} "))
                .unwrap_or_default();
            let mutable = flag(&inner["is_mutable"], "mut ");
            format!("&{lifetime}{mutable}{}", ty(&inner["type"]))
        }
        "qualified_path" => {
            let name = inner["name"].as_str().unwrap_or("?");
            let args = generic_args(&inner["args"]);
            let self_type = ty(&inner["self_type"]);
            if inner["trait"].is_null() {
                format!("{self_type}::{name}{args}")
            } else {
                format!(
                    "<{self_type} as {}>::{name}{args}",
                    path_ref(&inner["trait"])
                )
            }
        }
        _ => "?".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resolved(name: &str, id: u32) -> Value {
        json!({"resolved_path": {"path": name, "id": id, "args": null}})
    }

    fn no_generics() -> Value {
        json!({"params": [], "where_predicates": []})
    }

    /// A small crate: a public module with a struct (one public, one private field,
    /// an inherent method, a Display impl, a synthetic Send impl), an enum re-exported
    /// at the root under another name, a glob re-export, a trait and an external
    /// re-export.
    fn sample() -> Value {
        let mut index = Map::new();
        let mut add = |id: &str, item: Value| {
            index.insert(id.to_owned(), item);
        };
        add(
            "0",
            json!({"id": 0, "name": "demo", "visibility": "public", "attrs": [],
                      "inner": {"module": {"is_crate": true, "items": [1, 20, 21, 22, 30], "is_stripped": false}}}),
        );
        add(
            "1",
            json!({"id": 1, "name": "shapes", "visibility": "public", "attrs": [],
                      "inner": {"module": {"is_crate": false, "items": [2, 10], "is_stripped": false}}}),
        );
        add(
            "2",
            json!({"id": 2, "name": "Point", "visibility": "public", "attrs": ["non_exhaustive"],
                      "inner": {"struct": {"kind": {"plain": {"fields": [3], "has_stripped_fields": true}},
                                           "generics": {"params": [{"name": "T", "kind": {"type": {"bounds": [
                                               {"trait_bound": {"trait": {"path": "Copy", "id": 80, "args": null}, "generic_params": [], "modifier": "none"}}],
                                               "default": null, "is_synthetic": false}}}], "where_predicates": []},
                                           "impls": [4, 6, 7]}}}),
        );
        add(
            "3",
            json!({"id": 3, "name": "x", "visibility": "public", "attrs": [],
                      "inner": {"struct_field": {"generic": "T"}}}),
        );
        add(
            "4",
            json!({"id": 4, "name": null, "visibility": "default", "attrs": [],
                      "inner": {"impl": {"is_unsafe": false, "generics": no_generics(), "trait": null,
                                         "for": resolved("Point", 2), "items": [5, 8],
                                         "is_negative": false, "is_synthetic": false, "blanket_impl": null}}}),
        );
        add(
            "5",
            json!({"id": 5, "name": "norm", "visibility": "public", "attrs": [],
                      "inner": {"function": {"sig": {"inputs": [["self", {"borrowed_ref": {"lifetime": null, "is_mutable": false, "type": {"generic": "Self"}}}],
                                                               ["scale", {"primitive": "f64"}]],
                                                    "output": {"primitive": "f64"}, "is_c_variadic": false},
                                             "generics": no_generics(),
                                             "header": {"is_const": true, "is_unsafe": false, "is_async": false, "abi": "Rust"},
                                             "has_body": true}}}),
        );
        add(
            "8",
            json!({"id": 8, "name": "secret", "visibility": "default", "attrs": [],
                      "inner": {"function": {"sig": {"inputs": [], "output": null, "is_c_variadic": false},
                                             "generics": no_generics(),
                                             "header": {"is_const": false, "is_unsafe": false, "is_async": false, "abi": "Rust"},
                                             "has_body": true}}}),
        );
        add(
            "6",
            json!({"id": 6, "name": null, "visibility": "default", "attrs": [],
                      "inner": {"impl": {"is_unsafe": false, "generics": {"params": [{"name": "T", "kind": {"type": {"bounds": [], "default": null, "is_synthetic": false}}}], "where_predicates": []},
                                         "trait": {"path": "fmt::Display", "id": 81, "args": null},
                                         "for": {"resolved_path": {"path": "Point", "id": 2, "args": {"angle_bracketed": {"args": [{"type": {"generic": "T"}}], "constraints": []}}}},
                                         "items": [], "is_negative": false, "is_synthetic": false, "blanket_impl": null}}}),
        );
        add(
            "7",
            json!({"id": 7, "name": null, "visibility": "default", "attrs": [],
                      "inner": {"impl": {"is_unsafe": false, "generics": no_generics(),
                                         "trait": {"path": "Send", "id": 82, "args": null},
                                         "for": resolved("Point", 2), "items": [],
                                         "is_negative": false, "is_synthetic": true, "blanket_impl": null}}}),
        );
        add(
            "10",
            json!({"id": 10, "name": "Shape", "visibility": "public", "attrs": [],
                       "inner": {"enum": {"generics": no_generics(), "has_stripped_variants": false,
                                          "variants": [11, 12, 13], "impls": []}}}),
        );
        add(
            "11",
            json!({"id": 11, "name": "Dot", "visibility": "default", "attrs": [],
                       "inner": {"variant": {"kind": "plain", "discriminant": null}}}),
        );
        add(
            "12",
            json!({"id": 12, "name": "Line", "visibility": "default", "attrs": [],
                       "inner": {"variant": {"kind": {"tuple": [14, null]}, "discriminant": null}}}),
        );
        add(
            "14",
            json!({"id": 14, "name": "0", "visibility": "default", "attrs": [],
                       "inner": {"struct_field": {"slice": {"primitive": "u8"}}}}),
        );
        add(
            "13",
            json!({"id": 13, "name": "Box", "visibility": "default", "attrs": [],
                       "inner": {"variant": {"kind": {"struct": {"fields": [15], "has_stripped_fields": false}}, "discriminant": null}}}),
        );
        add(
            "15",
            json!({"id": 15, "name": "w", "visibility": "default", "attrs": [],
                       "inner": {"struct_field": {"borrowed_ref": {"lifetime": "'static", "is_mutable": false, "type": {"primitive": "str"}}}}}),
        );
        add(
            "20",
            json!({"id": 20, "name": null, "visibility": "public", "attrs": [],
                       "inner": {"use": {"source": "shapes::Shape", "name": "Figure", "id": 10, "is_glob": false}}}),
        );
        add(
            "21",
            json!({"id": 21, "name": null, "visibility": "public", "attrs": [],
                       "inner": {"use": {"source": "serde_json::Value", "name": "Value", "id": 90, "is_glob": false}}}),
        );
        add(
            "22",
            json!({"id": 22, "name": null, "visibility": "public", "attrs": [],
                       "inner": {"use": {"source": "shapes", "name": "shapes", "id": 1, "is_glob": true}}}),
        );
        add(
            "30",
            json!({"id": 30, "name": "Area", "visibility": "public", "attrs": [],
                       "inner": {"trait": {"is_auto": false, "is_unsafe": false, "is_dyn_compatible": true,
                                           "items": [31, 32], "generics": no_generics(),
                                           "bounds": [{"trait_bound": {"trait": {"path": "Sized", "id": 83, "args": null}, "generic_params": [], "modifier": "none"}}],
                                           "implementations": []}}}),
        );
        add(
            "31",
            json!({"id": 31, "name": "area", "visibility": "default", "attrs": [],
                       "inner": {"function": {"sig": {"inputs": [["self", {"generic": "Self"}]],
                                                     "output": {"impl_trait": [{"trait_bound": {"trait": {"path": "Iterator", "id": 84,
                                                         "args": {"angle_bracketed": {"args": [], "constraints": [{"name": "Item", "args": null, "binding": {"equality": {"type": {"primitive": "u32"}}}}]}}},
                                                         "generic_params": [], "modifier": "none"}}]},
                                                     "is_c_variadic": false},
                                              "generics": no_generics(),
                                              "header": {"is_const": false, "is_unsafe": false, "is_async": true, "abi": "Rust"},
                                              "has_body": false}}}),
        );
        add(
            "32",
            json!({"id": 32, "name": "UNIT", "visibility": "default", "attrs": [],
                       "inner": {"assoc_const": {"type": {"tuple": []}, "value": null}}}),
        );
        json!({
            "format_version": 57,
            "root": 0,
            "paths": {"90": {"crate_id": 1, "path": ["serde_json", "Value"], "kind": "enum"}},
            "index": index,
        })
    }

    #[test]
    fn lists_items_under_every_public_path() {
        let lines = public_api(&sample()).unwrap();
        let expected = [
            "mod demo",
            "trait demo::Area: Sized",
            "const demo::Area::UNIT: ()",
            "async fn demo::Area::area(self) -> impl Iterator<Item = u32>",
            "enum demo::Figure",
            "variant demo::Figure::Box",
            "field demo::Figure::Box::w: &'static str",
            "variant demo::Figure::Dot",
            "variant demo::Figure::Line([u8], _)",
            // The glob re-export of `shapes` puts its items at the root too.
            "#[non_exhaustive] struct demo::Point<T: Copy> { .. }",
            "impl<T> Display for demo::Point<T>",
            "const fn demo::Point::norm(&self, scale: f64) -> f64",
            "field demo::Point::x: T",
            "enum demo::Shape",
            "variant demo::Shape::Box",
            "field demo::Shape::Box::w: &'static str",
            "variant demo::Shape::Dot",
            "variant demo::Shape::Line([u8], _)",
            "use demo::Value = serde_json::Value",
            "mod demo::shapes",
            "#[non_exhaustive] struct demo::shapes::Point<T: Copy> { .. }",
            "impl<T> Display for demo::shapes::Point<T>",
            "const fn demo::shapes::Point::norm(&self, scale: f64) -> f64",
            "field demo::shapes::Point::x: T",
            "enum demo::shapes::Shape",
            "variant demo::shapes::Shape::Box",
            "field demo::shapes::Shape::Box::w: &'static str",
            "variant demo::shapes::Shape::Dot",
            "variant demo::shapes::Shape::Line([u8], _)",
        ];
        assert_eq!(lines, expected, "\n{}", lines.join("\n"));
    }

    #[test]
    fn reexport_cycles_terminate() {
        let mut json = sample();
        // `pub use super::*` inside `shapes`, pointing back at the root.
        json["index"]["1"]["inner"]["module"]["items"] = json!([2, 10, 40]);
        json["index"]["40"] = json!({"id": 40, "name": null, "visibility": "public", "attrs": [],
            "inner": {"use": {"source": "super", "name": "super", "id": 0, "is_glob": true}}});
        let lines = public_api(&json).unwrap();
        assert!(lines.contains(&"mod demo::shapes".to_owned()));
        assert!(lines.contains(&"trait demo::shapes::Area: Sized".to_owned()));
    }

    #[test]
    fn line_paths_and_keys() {
        let cases = [
            ("mod demo", "demo", "mod demo"),
            (
                "#[non_exhaustive] struct demo::Point<T: Copy> { .. }",
                "demo::Point",
                "#[non_exhaustive] struct demo::Point",
            ),
            (
                "const fn demo::Point::norm(&self) -> f64",
                "demo::Point::norm",
                "const fn demo::Point::norm",
            ),
            ("field demo::P::x: T", "demo::P::x", "field demo::P::x"),
            (
                "extern \"C\" fn demo::f()",
                "demo::f",
                "extern \"C\" fn demo::f",
            ),
            ("macro demo::m!", "demo::m", "macro demo::m"),
            (
                "impl<T> From<T> for demo::Point<T>",
                "demo::Point",
                "impl<T> From<T> for demo::Point<T>",
            ),
            ("use demo::V = x::V", "demo::V", "use demo::V"),
        ];
        for (line, path, key) in cases {
            assert_eq!(line_path(line), path, "{line}");
            assert_eq!(line_key(line), key, "{line}");
        }
    }

    #[test]
    fn renders_types() {
        let cases = [
            (json!({"primitive": "u8"}), "u8"),
            (
                json!({"resolved_path": {"path": "crate::a::B", "id": 1, "args": {"angle_bracketed": {"args": [{"lifetime": "'a"}, {"type": {"generic": "T"}}, {"const": {"expr": "3", "value": null, "is_literal": true}}], "constraints": []}}}}),
                "B<'a, T, 3>",
            ),
            (json!({"tuple": [{"primitive": "u8"}]}), "(u8,)"),
            (
                json!({"array": {"type": {"primitive": "u8"}, "len": "4"}}),
                "[u8; 4]",
            ),
            (
                json!({"raw_pointer": {"is_mutable": false, "type": {"primitive": "u8"}}}),
                "*const u8",
            ),
            (
                json!({"dyn_trait": {"traits": [{"trait": {"path": "Fn", "id": 2, "args": {"parenthesized": {"inputs": [{"primitive": "u8"}], "output": null}}}, "generic_params": []}], "lifetime": "'static"}}),
                "dyn Fn(u8) + 'static",
            ),
            (
                json!({"qualified_path": {"name": "Output", "args": null, "self_type": {"generic": "S"}, "trait": {"path": "", "id": 3, "args": null}}}),
                "<S as ?>::Output",
            ),
            (
                json!({"function_pointer": {"sig": {"inputs": [["_", {"primitive": "i32"}]], "output": {"primitive": "bool"}, "is_c_variadic": false}, "generic_params": [], "header": {"is_const": false, "is_unsafe": true, "is_async": false, "abi": {"C": {"unwind": false}}}}}),
                "unsafe extern \"C\" fn(i32) -> bool",
            ),
            (json!("infer"), "_"),
        ];
        for (value, expected) in cases {
            assert_eq!(ty(&value), expected, "{value}");
        }
    }

    #[test]
    fn empty_paths_are_named_from_the_paths_table() {
        let paths =
            json!({"7": {"crate_id": 2, "path": ["serde", "de", "Deserializer"], "kind": "trait"}});
        let mut ty_ = json!({"qualified_path": {"name": "Error", "args": null,
            "self_type": {"generic": "D"}, "trait": {"path": "", "id": 7, "args": null}}});
        name_unnamed_paths(&mut ty_, paths.as_object().unwrap());
        assert_eq!(ty(&ty_), "<D as Deserializer>::Error");
    }

    #[test]
    fn impls_for_other_types_and_marker_traits_are_left_out() {
        let mut json = sample();
        let index = json["index"].as_object_mut().unwrap();
        index["2"]["inner"]["struct"]["impls"] = json!([4, 6, 7, 50, 51]);
        index.insert("50".to_owned(), json!({"id": 50, "name": null, "visibility": "default", "attrs": [],
            "inner": {"impl": {"is_unsafe": false, "generics": no_generics(),
                "trait": {"path": "From", "id": 85, "args": {"angle_bracketed": {"args": [{"type": resolved("Point", 2)}], "constraints": []}}},
                "for": resolved("Shape", 10), "items": [],
                "is_negative": false, "is_synthetic": false, "blanket_impl": null}}}));
        index.insert(
            "51".to_owned(),
            json!({"id": 51, "name": null, "visibility": "default", "attrs": [],
            "inner": {"impl": {"is_unsafe": false, "generics": no_generics(),
                "trait": {"path": "marker::StructuralPartialEq", "id": 86, "args": null},
                "for": resolved("Point", 2), "items": [],
                "is_negative": false, "is_synthetic": false, "blanket_impl": null}}}),
        );
        let lines = public_api(&json).unwrap();
        assert!(
            !lines
                .iter()
                .any(|l| l.contains("From<") || l.contains("StructuralPartialEq")),
            "{lines:#?}"
        );
    }

    #[test]
    fn rejects_json_without_index() {
        let err = public_api(&json!({"root": 0, "paths": {}}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("index"), "{err}");
    }
}
