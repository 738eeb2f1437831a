//! The dashboards of deploy/grafana as JSON, and the queries they hold.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::promql;

/// The dashboards deploy/grafana must hold.
pub(crate) const FILES: [&str; 4] = [
    "asap-red.json",
    "asap-topology.json",
    "asap-tasks.json",
    "asap-client-health.json",
];

/// deploy/grafana of the repository.
pub(crate) fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/grafana")
}

/// The datasource reference of every panel, target and query variable: the `datasource`
/// variable, so that the dashboards work with any Prometheus data source.
pub(crate) fn datasource_ref() -> Value {
    json!({"type": "prometheus", "uid": "${datasource}"})
}

/// One dashboard file.
pub(crate) struct Dashboard {
    pub(crate) file: String,
    pub(crate) json: Value,
}

/// A PromQL expression of a dashboard and where it is.
pub(crate) struct Query {
    pub(crate) place: String,
    pub(crate) expr: String,
}

/// Every `*.json` of deploy/grafana (at least [`FILES`]), sorted by name.
pub(crate) fn load() -> Vec<Dashboard> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("deploy/grafana")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let dashboards: Vec<Dashboard> = files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("readable");
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            Dashboard { file, json }
        })
        .collect();
    for file in FILES {
        assert!(
            dashboards.iter().any(|d| d.file == file),
            "deploy/grafana/{file} is missing"
        );
    }
    dashboards
}

impl Dashboard {
    /// Every panel, those inside rows included.
    pub(crate) fn panels(&self) -> Vec<&Value> {
        let mut all = Vec::new();
        for panel in self.json["panels"].as_array().into_iter().flatten() {
            all.push(panel);
            all.extend(panel["panels"].as_array().into_iter().flatten());
        }
        all
    }

    pub(crate) fn variables(&self) -> Vec<&Value> {
        self.json["templating"]["list"]
            .as_array()
            .into_iter()
            .flatten()
            .collect()
    }

    /// The query of a query variable (a string, or `{"query": …}`).
    pub(crate) fn variable_query(variable: &Value) -> Option<&str> {
        variable["query"]
            .as_str()
            .or_else(|| variable["query"]["query"].as_str())
    }

    /// The `label_values(…)` queries of the query variables, as `(place, selector, label)`.
    pub(crate) fn variable_queries(&self) -> Vec<(String, String, String)> {
        self.variables()
            .into_iter()
            .filter(|v| v["type"] == "query")
            .filter_map(|v| {
                let query = Self::variable_query(v)?;
                let (selector, label) = promql::label_values(query)?;
                let place = format!("{}: variable ${}", self.file, v["name"].as_str()?);
                Some((place, selector.to_owned(), label.to_owned()))
            })
            .collect()
    }

    /// The expression of every panel target.
    pub(crate) fn queries(&self) -> Vec<Query> {
        let mut queries = Vec::new();
        for panel in self.panels() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = target["expr"].as_str() {
                    queries.push(Query {
                        place: format!(
                            "{}: panel {} {} target {}",
                            self.file, panel["id"], panel["title"], target["refId"]
                        ),
                        expr: expr.to_owned(),
                    });
                }
            }
        }
        queries
    }
}
