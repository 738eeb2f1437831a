//! A Prometheus server on 127.0.0.1 in a temporary directory, scraping agents every second,
//! and its HTTP query API.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use asap_testing::TestClient;
use bytes::Bytes;
use http_body_util::Full;
use serde_json::Value;

use super::promql::percent_encode;

/// A running Prometheus, killed when dropped.
pub(crate) struct Prometheus {
    child: tokio::process::Child,
    dir: tempfile::TempDir,
    base: String,
    http: TestClient,
}

impl Prometheus {
    /// Starts `binary` scraping `/asap/metrics` of `targets` (job `asap`) every second.
    pub(crate) fn start(binary: &Path, targets: &[SocketAddr]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
                 scrape_configs:\n  - job_name: asap\n    metrics_path: /asap/metrics\n\
                 \x20   static_configs:\n      - targets: [{}]\n",
                targets.join(", ")
            ),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = tokio::process::Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("prometheus.log")).unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("start prometheus");
        Self {
            child,
            dir,
            base: format!("http://127.0.0.1:{port}"),
            http: TestClient::new().with_timeout(Duration::from_secs(10)),
        }
    }

    /// What Prometheus logged so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// `GET path` of the API: the `data` of a `success` answer, or why there is none.
    async fn api(&self, path: &str) -> Result<Value, String> {
        let request = http::Request::get(format!("{}{path}", self.base))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let mut reply = self.http.try_request(request).await?;
        if reply.json["status"] == "success" {
            Ok(reply.json["data"].take())
        } else {
            Err(format!("HTTP {}: {}", reply.status, reply.text()))
        }
    }

    /// The result of the instant query `expr` at the current time.
    pub(crate) async fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let data = self
            .api(&format!("/api/v1/query?query={}", percent_encode(expr)))
            .await?;
        match data["resultType"].as_str() {
            Some("vector" | "matrix") => Ok(data["result"].as_array().cloned().unwrap_or_default()),
            // A scalar or a string is one value.
            Some(_) => Ok(vec![data["result"].clone()]),
            None => Err(format!("no resultType in {data}")),
        }
    }

    /// The values of `label` among the series `selector` selects.
    pub(crate) async fn label_values(
        &self,
        selector: &str,
        label: &str,
    ) -> Result<Vec<Value>, String> {
        let data = self
            .api(&format!(
                "/api/v1/label/{label}/values?match[]={}",
                percent_encode(selector)
            ))
            .await?;
        Ok(data.as_array().cloned().unwrap_or_default())
    }

    /// Waits (at most 60 s) until each of `targets` agents was scraped `scrapes` times
    /// within the last minute.
    pub(crate) async fn wait_for_scrapes(&self, targets: usize, scrapes: usize) {
        let expr = format!("count_over_time(asap_process_uptime_seconds[1m]) >= {scrapes}");
        let mut last = Err(String::from("not asked yet"));
        for _ in 0..120 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            last = self.query(&expr).await;
            if last.as_ref().is_ok_and(|series| series.len() >= targets) {
                return;
            }
        }
        panic!(
            "Prometheus did not scrape {targets} agents {scrapes} times within 60 s: {last:?}\n\
             log:\n{}",
            self.log()
        );
    }

    pub(crate) async fn stop(mut self) {
        self.child.kill().await.ok();
    }
}
