//! A real Prometheus server for tests: started on 127.0.0.1 in a temporary directory,
//! scraping agents' `/asap/metrics` every second, queried over its HTTP API.
//!
//! ```no_run
//! # async fn run(agent: std::net::SocketAddr) {
//! use asap_testing::prometheus::Prometheus;
//!
//! let Some(binary) = asap_testing::services::require_tool("prometheus") else {
//!     return; // skipped locally, a failure under CI=true
//! };
//! let prometheus = Prometheus::start(&binary, &[agent]);
//! prometheus.wait_for_scrapes(1, 2).await;
//! let series = prometheus.query("asap_requests_total").await.unwrap();
//! # let _ = series;
//! # }
//! ```

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use serde_json::Value;

use crate::TestClient;

/// The scrape job of every target.
pub const JOB: &str = "asap";

/// A running Prometheus, killed when dropped.
#[derive(Debug)]
pub struct Prometheus {
    child: tokio::process::Child,
    dir: tempfile::TempDir,
    base: String,
    http: TestClient,
}

impl Prometheus {
    /// Starts `binary` scraping `/asap/metrics` of `targets` (job [`JOB`]) every second.
    ///
    /// # Panics
    ///
    /// When the temporary directory or the process cannot be made (a test helper).
    pub fn start(binary: &Path, targets: &[SocketAddr]) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = dir.path().join("prometheus.yml");
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
                 scrape_configs:\n  - job_name: {JOB}\n    metrics_path: /asap/metrics\n\
                 \x20   static_configs:\n      - targets: [{}]\n",
                targets.join(", ")
            ),
        )
        .expect("write prometheus.yml");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let child = tokio::process::Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(log)
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
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// `GET path` of the API: the `data` of a `success` answer, or why there is none.
    pub async fn api(&self, path: &str) -> Result<Value, String> {
        let request = http::Request::get(format!("{}{path}", self.base))
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let mut reply = self.http.try_request(request).await?;
        if reply.json["status"] == "success" {
            Ok(reply.json["data"].take())
        } else {
            Err(format!("HTTP {}: {}", reply.status, reply.text()))
        }
    }

    /// The result of the instant query `expr` at the current time: the series of a vector
    /// or matrix, or the one value of a scalar or string.
    pub async fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let data = self
            .api(&format!("/api/v1/query?query={}", percent_encode(expr)))
            .await?;
        match data["resultType"].as_str() {
            Some("vector" | "matrix") => Ok(data["result"].as_array().cloned().unwrap_or_default()),
            Some(_) => Ok(vec![data["result"].clone()]),
            None => Err(format!("no resultType in {data}")),
        }
    }

    /// The values of `label` among the series `selector` selects.
    pub async fn label_values(&self, selector: &str, label: &str) -> Result<Vec<Value>, String> {
        let data = self
            .api(&format!(
                "/api/v1/label/{label}/values?match[]={}",
                percent_encode(selector)
            ))
            .await?;
        Ok(data.as_array().cloned().unwrap_or_default())
    }

    /// The scrape targets as Prometheus sees them (`activeTargets` of `/api/v1/targets`).
    pub async fn targets(&self) -> Result<Vec<Value>, String> {
        let data = self.api("/api/v1/targets").await?;
        Ok(data["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// Waits (at most 60 s) until `targets` agents were each scraped `scrapes` times within
    /// the last minute.
    ///
    /// # Panics
    ///
    /// When they were not, with Prometheus's log.
    pub async fn wait_for_scrapes(&self, targets: usize, scrapes: usize) {
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

    /// Stops the server.
    pub async fn stop(mut self) {
        self.child.kill().await.ok();
    }
}

/// `text` with every byte but the unreserved ones of RFC 3986 percent-encoded.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The value of the first sample line of an exposition (Prometheus text or OpenMetrics)
/// that starts with `series`, the metric name and its labels exactly as encoded
/// (`asap_requests_total{payload_type="other",status="error"}`); `None` when no line has
/// that series or its value is not a number. A timestamp or exemplar after the value is
/// ignored.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.split(' ').next()?.parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_encoding_keeps_only_unreserved_bytes() {
        assert_eq!(
            super::percent_encode(r#"a{b="c d"}"#),
            "a%7Bb%3D%22c%20d%22%7D"
        );
    }
}
