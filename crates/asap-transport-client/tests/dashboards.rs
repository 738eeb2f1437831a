//! The Grafana dashboards of deploy/grafana and the Prometheus example of
//! deploy/observability, checked offline:
//!
//! - each dashboard follows the structural rules of a dashboard model (members, unique
//!   panel ids and uids, the 24-column grid, targets with `expr` and `refId`, the
//!   `datasource` variable everywhere);
//! - every metric name their PromQL reads is a series the agents really export, with every
//!   family given data (server, client, breaker, pool, idempotency and task transitions);
//! - every expression and variable query answers, non-empty, on a real Prometheus server
//!   scraping two agents;
//! - `promtool check config` accepts deploy/observability/prometheus.yml.
#![cfg(feature = "metrics")]

#[path = "dashboards/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use asap_testing::prometheus::Prometheus;
use support::agents::Agents;
use support::exposition::Exposition;
use support::model::{self, Dashboard};
use support::{promql, rules};

fn dashboards() -> Vec<Dashboard> {
    model::load()
}

#[test]
fn dashboards_follow_the_model() {
    let dashboards = dashboards();
    let mut problems = rules::problems_across(&dashboards);
    for dashboard in &dashboards {
        problems.extend(rules::problems(dashboard));
    }
    let readme = std::fs::read_to_string(model::dir().join("README.md")).expect("README.md");
    for dashboard in &dashboards {
        if !readme.contains(&dashboard.file) {
            problems.push(format!(
                "deploy/grafana/README.md does not name {}",
                dashboard.file
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_the_dashboards_read_is_exported() {
    let agents = Agents::start().await;
    agents.traffic().await;
    let exposition = Exposition::parse(&agents.exposition());

    let mut missing = Vec::new();
    let mut read = BTreeSet::new();
    let mut checked = 0;
    for dashboard in dashboards() {
        let variables = dashboard
            .variable_queries()
            .into_iter()
            .map(|(place, selector, _)| (place, selector));
        let targets = dashboard.queries().into_iter().map(|q| (q.place, q.expr));
        for (place, expr) in variables.chain(targets) {
            checked += 1;
            let names = promql::metric_names(&expr);
            if names.is_empty() {
                missing.push(format!("{place}: reads no metric: {expr}"));
            }
            for name in names {
                match exposition.family_of(&name) {
                    Some(family) => {
                        read.insert(family.to_owned());
                    }
                    None => missing.push(format!("{place}: {name} is not exported")),
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{}\n\nexposition:\n{}",
        missing.join("\n"),
        agents.exposition()
    );
    let unread: Vec<&str> = exposition
        .families()
        .into_iter()
        .filter(|family| !read.contains(*family))
        .collect();
    eprintln!(
        "{checked} expressions read {} families; not on a dashboard: {unread:?}",
        read.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_query_answers_on_prometheus() {
    let Some(binary) = asap_testing::services::require_tool("prometheus") else {
        return;
    };
    let agents = Arc::new(Agents::start().await);
    agents.traffic().await;
    // Steady traffic while Prometheus scrapes, so that rates are not all zero; bounded:
    // 1 200 rounds 100 ms apart, stopped at the end of the test.
    let load = tokio::spawn({
        let agents = agents.clone();
        async move {
            for n in 0..1200 {
                agents.steady(n).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    let prometheus = Prometheus::start(&binary, &agents.targets());
    prometheus.wait_for_scrapes(2, 6).await;

    let mut failures = Vec::new();
    let mut checked = 0;
    for dashboard in dashboards() {
        for (place, selector, label) in dashboard.variable_queries() {
            checked += 1;
            let selector = promql::substitute(&selector);
            match prometheus.label_values(&selector, &label).await {
                Ok(values) if !values.is_empty() => {}
                other => failures.push(format!(
                    "{place}: label_values({selector}, {label}) gave {other:?}"
                )),
            }
        }
        for query in dashboard.queries() {
            checked += 1;
            let expr = promql::substitute(&query.expr);
            // An empty answer is asked again (at most 10 times, 500 ms apart) in case a
            // window had not filled yet; an error is final.
            let mut answer = prometheus.query(&expr).await;
            for _ in 0..10 {
                if !answer.as_ref().is_ok_and(Vec::is_empty) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                answer = prometheus.query(&expr).await;
            }
            match answer {
                Ok(result) if !result.is_empty() => {}
                Ok(_) => failures.push(format!("{}: empty result for\n  {expr}", query.place)),
                Err(error) => failures.push(format!("{}: {error}\n  {expr}", query.place)),
            }
        }
    }
    load.abort();
    let log = prometheus.log();
    prometheus.stop().await;
    assert!(
        failures.is_empty(),
        "{} of {checked} queries failed:\n{}\n\nprometheus log:\n{log}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{checked} queries answered on Prometheus");
}

#[test]
fn the_prometheus_example_passes_promtool() {
    let Some(promtool) = asap_testing::services::require_tool("promtool") else {
        return;
    };
    let config = model::dir().join("../observability/prometheus.yml");
    let text = std::fs::read_to_string(&config).expect("deploy/observability/prometheus.yml");
    for expected in [
        "metrics_path: /asap/metrics",
        "127.0.0.1:8000",
        "scrape_interval: 15s",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
    let output = std::process::Command::new(promtool)
        .args(["check", "config"])
        .arg(&config)
        .output()
        .expect("run promtool");
    assert!(
        output.status.success(),
        "promtool check config:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
