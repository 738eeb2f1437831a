//! The structural rules of a dashboard model that every dashboard must follow: its
//! members, its variables, its panels on the grid, and the targets of each panel.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::model::{Dashboard, datasource_ref};
use super::promql;

/// Panel types the dashboards use.
const PANEL_TYPES: [&str; 5] = ["row", "timeseries", "stat", "table", "bargauge"];

/// Grafana's grid is 24 columns wide.
const COLUMNS: u64 = 24;

/// What is wrong across dashboards: uids and titles must be unique.
pub(crate) fn problems_across(dashboards: &[Dashboard]) -> Vec<String> {
    let mut problems = Vec::new();
    for member in ["uid", "title"] {
        let mut seen = BTreeSet::new();
        for dashboard in dashboards {
            let value = dashboard.json[member].to_string();
            if !seen.insert(value.clone()) {
                problems.push(format!(
                    "{}: {member} {value} is not unique",
                    dashboard.file
                ));
            }
        }
    }
    problems
}

/// What is wrong with `dashboard`, one line each.
pub(crate) fn problems(dashboard: &Dashboard) -> Vec<String> {
    let mut check = Check {
        dashboard,
        variables: BTreeSet::new(),
        problems: Vec::new(),
    };
    check.members();
    check.variables();
    check.panels();
    check.problems
}

struct Check<'a> {
    dashboard: &'a Dashboard,
    /// The names of the variables seen so far.
    variables: BTreeSet<String>,
    problems: Vec<String>,
}

impl Check<'_> {
    fn fail(&mut self, what: String) {
        self.problems
            .push(format!("{}: {what}", self.dashboard.file));
    }

    /// The members Grafana needs, with their types.
    fn members(&mut self) {
        let d = &self.dashboard.json;
        let stem = self.dashboard.file.trim_end_matches(".json");
        let uid = d["uid"].as_str().unwrap_or_default();
        let uid_ok = (1..=40).contains(&uid.len())
            && uid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !uid_ok || uid != stem {
            self.fail(format!(
                "uid {} must be the file name, {stem:?} (at most 40 of [A-Za-z0-9_-])",
                d["uid"]
            ));
        }
        if d["schemaVersion"].as_u64().is_none_or(|v| v < 36) {
            self.fail(format!(
                "schemaVersion {} (36 or later expected)",
                d["schemaVersion"]
            ));
        }
        if !d["id"].is_null() {
            self.fail("`id` must be null or absent: Grafana assigns it on import".into());
        }
        let members = [
            ("title", d["title"].as_str().is_some_and(|t| !t.is_empty())),
            (
                "panels",
                d["panels"].as_array().is_some_and(|p| !p.is_empty()),
            ),
            ("templating.list", d["templating"]["list"].is_array()),
            ("annotations.list", d["annotations"]["list"].is_array()),
            ("time.from", d["time"]["from"].is_string()),
            ("time.to", d["time"]["to"].is_string()),
            ("editable", d["editable"].is_boolean()),
            ("refresh", d["refresh"].is_string()),
            (
                "tags (with \"asap\")",
                d["tags"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!("asap"))),
            ),
        ];
        for (member, ok) in members {
            if !ok {
                self.fail(format!("{member} missing, empty or of the wrong type"));
            }
        }
    }

    /// Unique names, the `datasource` variable, `label_values` queries through it that
    /// only use the variables before them.
    fn variables(&mut self) {
        for variable in self.dashboard.variables() {
            let name = variable["name"].as_str().unwrap_or_default().to_owned();
            if variable["type"] == "query" {
                self.query_variable(&name, variable);
            }
            if name.is_empty() || !self.variables.insert(name) {
                self.fail(format!(
                    "variable name {} empty or not unique",
                    variable["name"]
                ));
            }
        }
        let datasource = self
            .dashboard
            .variables()
            .into_iter()
            .find(|v| v["name"] == "datasource");
        if !datasource.is_some_and(|v| v["type"] == "datasource" && v["query"] == "prometheus") {
            self.fail("no `datasource` variable of type datasource for prometheus".into());
        }
    }

    fn query_variable(&mut self, name: &str, variable: &Value) {
        if variable["datasource"] != datasource_ref() {
            self.fail(format!(
                "variable {name}: datasource must be {}",
                datasource_ref()
            ));
        }
        match Dashboard::variable_query(variable) {
            Some(query) if promql::label_values(query).is_some() => {
                for used in promql::variables(query) {
                    if !self.variables.contains(&used) {
                        self.fail(format!(
                            "variable {name}: ${used} is not a variable defined before it"
                        ));
                    }
                }
            }
            other => self.fail(format!(
                "variable {name}: query {other:?} is not label_values(…)"
            )),
        }
        if variable["includeAll"] == true && variable["allValue"] != ".*" {
            self.fail(format!(
                "variable {name}: allValue must be \".*\" for =~ matchers"
            ));
        }
    }

    /// Unique ids, known types, titles, places on the grid that do not overlap, and the
    /// data source and targets of every panel but rows.
    fn panels(&mut self) {
        let mut ids = BTreeSet::new();
        let mut placed: Vec<([u64; 4], String)> = Vec::new();
        for panel in self.dashboard.panels() {
            let title = panel["title"].as_str().unwrap_or_default();
            let at = format!("panel {} {title:?}", panel["id"]);
            if !panel["id"].as_u64().is_some_and(|id| ids.insert(id)) {
                self.fail(format!("{at}: id missing or not unique"));
            }
            let kind = panel["type"].as_str().unwrap_or_default();
            if !PANEL_TYPES.contains(&kind) {
                self.fail(format!("{at}: type {kind:?} is not one of {PANEL_TYPES:?}"));
            }
            if title.is_empty() {
                self.fail(format!("{at}: no title"));
            }
            let grid = &panel["gridPos"];
            let place = ["x", "y", "w", "h"].map(|member| grid[member].as_u64());
            match place {
                [Some(x), Some(y), Some(w), Some(h)] if w >= 1 && h >= 1 && x + w <= COLUMNS => {
                    for ([ox, oy, ow, oh], other) in &placed {
                        if x < ox + ow && *ox < x + w && y < oy + oh && *oy < y + h {
                            self.fail(format!("{at} overlaps {other}"));
                        }
                    }
                    placed.push(([x, y, w, h], at.clone()));
                }
                _ => self.fail(format!(
                    "{at}: gridPos {grid} is not within the {COLUMNS} columns"
                )),
            }
            if kind == "row" {
                continue;
            }
            if panel["datasource"] != datasource_ref() {
                self.fail(format!("{at}: datasource must be {}", datasource_ref()));
            }
            let targets = panel["targets"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            if targets.is_empty() {
                self.fail(format!("{at}: no targets"));
            }
            let mut ref_ids = BTreeSet::new();
            for target in targets {
                let ref_id = target["refId"].as_str().unwrap_or_default();
                if ref_id.is_empty() || !ref_ids.insert(ref_id) {
                    self.fail(format!(
                        "{at}: refId {} empty or not unique",
                        target["refId"]
                    ));
                }
                self.target(&format!("{at} target {ref_id}"), kind, target);
            }
        }
    }

    /// A PromQL target: its data source, an expression with balanced brackets, the kind of
    /// query its panel needs, and only the dashboard's variables, as regex matchers.
    fn target(&mut self, at: &str, kind: &str, target: &Value) {
        if !target["datasource"].is_null() && target["datasource"] != datasource_ref() {
            self.fail(format!("{at}: datasource must be {}", datasource_ref()));
        }
        let expr = target["expr"].as_str().unwrap_or_default();
        if expr.trim().is_empty() {
            self.fail(format!("{at}: no expr"));
            return;
        }
        if !balanced(expr) {
            self.fail(format!("{at}: unbalanced brackets in {expr}"));
        }
        let instant = target["instant"] == true && target["range"] != true;
        if expr.contains("$__range") && !instant {
            self.fail(format!(
                "{at}: a figure over $__range must be an instant query"
            ));
        }
        if kind == "timeseries" && instant {
            self.fail(format!("{at}: a time series needs a range query"));
        }
        for name in promql::variables(expr) {
            if promql::is_built_in(&name) {
                continue;
            }
            // Every use, `$name` or `${name…}`, must be a regex matcher `=~"$name"`: the
            // query checks put `.*` there.
            let uses = expr.matches(&format!("${name}")).count()
                + expr.matches(&format!("${{{name}")).count();
            let as_regex = expr.matches(&format!("=~\"${name}\"")).count();
            if !self.variables.contains(&name) || name == "datasource" {
                self.fail(format!("{at}: ${name} is not a variable of the dashboard"));
            } else if uses != as_regex {
                self.fail(format!("{at}: ${name} must only appear as =~\"${name}\""));
            }
        }
    }
}

/// Whether `expr` opens and closes its brackets in order (outside string literals).
fn balanced(expr: &str) -> bool {
    let mut open = Vec::new();
    let mut quote = None;
    let mut escaped = false;
    for c in expr.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '{' | '[' => open.push(c),
            ')' | '}' | ']' => {
                let expected = match c {
                    ')' => '(',
                    '}' => '{',
                    _ => '[',
                };
                if open.pop() != Some(expected) {
                    return false;
                }
            }
            _ => {}
        }
    }
    open.is_empty() && quote.is_none()
}

#[test]
fn brackets_are_checked_outside_strings() {
    assert!(balanced(r#"sum(rate(a{b=~"(x"}[5s]))"#));
    assert!(!balanced("sum(rate(a[5s])"));
    assert!(!balanced("sum(a})"));
}
