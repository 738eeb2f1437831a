//! A real Prometheus server scrapes `asap serve` (the binary, on its default state store)
//! and its query API returns the agent's counts and its target as up.

mod durable_support;

use std::net::SocketAddr;

use asap_testing::prometheus::Prometheus;
use durable_support::{Serve, post};
use serde_json::json;

fn request(n: u64) -> serde_json::Value {
    json!({
        "jsonrpc": "2.0",
        "method": "asap.send",
        "id": n,
        "params": {"envelope": {
            "asap_version": "0.1",
            "sender": "urn:asap:agent:client",
            "recipient": "urn:asap:agent:default-server",
            "payload_type": "task.request",
            "payload": {"conversation_id": "conv_prom", "skill_id": "echo", "input": {"n": n}},
        }},
    })
}

#[test]
fn prometheus_scrapes_asap_serve() {
    let Some(binary) = asap_testing::services::require_tool("prometheus") else {
        return;
    };
    let data = tempfile::tempdir().expect("data dir");
    let server = Serve::start(data.path());
    for n in 0..4 {
        let reply = post(&server.addr, &request(n));
        assert!(reply["result"].is_object(), "{reply}");
    }
    let addr: SocketAddr = server.addr.parse().expect("address");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let prometheus = Prometheus::start(&binary, &[addr]);
        prometheus.wait_for_scrapes(1, 2).await;
        let series = prometheus
            .query(r#"sum(asap_requests_total{payload_type="task.request",status="success"})"#)
            .await
            .unwrap_or_else(|e| panic!("{e}\nprometheus log:\n{}", prometheus.log()));
        assert_eq!(series.len(), 1, "{series:?}");
        assert_eq!(series[0]["value"][1], "4", "{series:?}");
        let up = prometheus.query(r#"up{job="asap"}"#).await.expect("up");
        assert_eq!(up[0]["value"][1], "1", "{up:?}");
        let targets = prometheus.targets().await.expect("targets");
        assert_eq!(targets[0]["health"], "up", "{targets:?}");
        assert_eq!(
            targets[0]["scrapeUrl"],
            format!("http://{addr}/asap/metrics")
        );
        prometheus.stop().await;
    });
    server.kill();
}
