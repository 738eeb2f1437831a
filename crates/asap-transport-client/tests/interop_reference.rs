//! Our client against the Python reference servers of every version (PROTOCOL §18): task
//! request/response, compressed requests (≥ 1 KiB) including servers that cannot decompress,
//! manifest fetch, and the reference's error codes mapped to remote errors.

use asap_model::payload::{TaskRequest, TaskResponse};
use asap_model::{AgentUrn, Envelope, JsonObject, TaskStatus};
use asap_testing::reference::ReferenceServer;
use asap_transport_client::{AsapClient, ClientError};
use serde_json::json;

fn request(input: serde_json::Value, payload_type: &str) -> Envelope {
    let input: JsonObject = input.as_object().cloned().unwrap_or_default();
    let mut envelope = Envelope::new(
        AgentUrn::from_static("urn:asap:agent:rust-client"),
        AgentUrn::from_static("urn:asap:agent:echo-agent"),
        TaskRequest {
            conversation_id: "conv_interop".into(),
            parent_task_id: None,
            skill_id: "echo".into(),
            input,
            config: None,
        },
    );
    envelope.payload_type = payload_type.to_owned();
    envelope
}

fn client(server: &ReferenceServer) -> AsapClient {
    AsapClient::builder(server.base_url())
        .max_retries(1)
        .build()
        .expect("client")
}

async fn check_version(version: &str) {
    let Some(server) = ReferenceServer::start(version).await else {
        return;
    };
    let client = client(&server);

    // Plain task request/response.
    let sent = request(json!({"text": "hello"}), "task.request");
    let response = client
        .send(sent.clone())
        .await
        .unwrap_or_else(|e| panic!("{version}: {e}"));
    let task: TaskResponse = response.payload_as().expect("task.response");
    assert_eq!(task.status, TaskStatus::Completed, "{version}");
    assert_eq!(
        task.result.expect("result")["echoed"],
        json!({"text": "hello"}),
        "{version}"
    );
    assert_eq!(
        response.correlation_id.as_deref(),
        Some(sent.id.as_str()),
        "{version}"
    );

    // A body of several KiB: compressed for 1.0.0, plain after the automatic fallback for
    // servers that cannot decompress (0.1.0, 0.5.0 answer -32700 to compressed bodies).
    let text = "interoperability ".repeat(300);
    let response = client
        .send(request(json!({"text": text}), "task.request"))
        .await
        .unwrap_or_else(|e| panic!("{version} large: {e}"));
    let task: TaskResponse = response.payload_as().expect("task.response");
    assert_eq!(
        task.result.expect("result")["echoed"]["text"],
        json!(text),
        "{version}"
    );
    assert_eq!(
        client.compression_enabled(),
        version == "1.0.0",
        "{version}"
    );

    // Manifest through the cache.
    let manifest = client
        .get_manifest()
        .await
        .unwrap_or_else(|e| panic!("{version}: {e}"));
    assert_eq!(manifest.id, "urn:asap:agent:echo-agent");
    assert_eq!(manifest.name, "Echo Agent");

    // Unknown payload type → the reference's -32601 as a remote error.
    match client.send(request(json!({}), "no.such.type")).await {
        Err(ClientError::Remote { code, data, .. }) => {
            assert_eq!(code, -32601, "{version}");
            let data = data.expect("data");
            assert_eq!(data["payload_type"], "no.such.type", "{version}");
        }
        other => panic!("{version}: expected a remote -32601, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_1_0_0() {
    check_version("1.0.0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_0_5_0() {
    check_version("0.5.0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_0_1_0() {
    check_version("0.1.0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_against_the_reference() {
    let Some(server) = ReferenceServer::start("1.0.0").await else {
        return;
    };
    let client = client(&server);
    let envelopes: Vec<Envelope> = (0..20)
        .map(|i| request(json!({"i": i}), "task.request"))
        .collect();
    let results = client
        .send_batch(envelopes, asap_transport_client::BatchMode::CollectAll)
        .await
        .expect("batch");
    for (i, result) in results.into_iter().enumerate() {
        let response = result.expect("send");
        let task: TaskResponse = response.payload_as().expect("task.response");
        assert_eq!(task.result.expect("result")["echoed"]["i"], json!(i));
    }
}
