//! FilePart rules and the subtask depth bound apply to values embedded in payloads.

use asap_testing::{TestAgent, TestClient, fixtures};
use serde_json::json;

#[tokio::test]
async fn traversal_uri_in_input_parts_is_invalid_params() {
    let agent = TestAgent::echo().await;
    let client = TestClient::new();
    let envelope = fixtures::task_request(
        "urn:asap:agent:client",
        "urn:asap:agent:default-server",
        json!({"parts": [{"type": "file", "uri": "asap://files/../../etc/passwd", "mime_type": "text/plain"}]}),
    );
    let reply = client.send_envelope(&agent.base_url(), &envelope).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["error"]["code"], -32602);
    let error = &reply.json["error"]["data"]["validation_errors"][0];
    assert_eq!(error["loc"], json!(["payload", "input", "parts", 0, "uri"]));
    assert!(
        error["msg"]
            .as_str()
            .unwrap_or_default()
            .starts_with("URI must not contain path traversal")
    );

    let fine = fixtures::task_request(
        "urn:asap:agent:client",
        "urn:asap:agent:default-server",
        json!({"parts": [{"type": "file", "uri": "https://example.com/a.pdf", "mime_type": "application/pdf"}]}),
    );
    let reply = client.send_envelope(&agent.base_url(), &fine).await;
    assert!(
        reply.json["result"]["envelope"].is_object(),
        "{}",
        reply.json
    );
    agent.shutdown().await;
}

#[tokio::test]
async fn depth_beyond_the_maximum_is_invalid_params() {
    let agent = TestAgent::echo().await;
    let client = TestClient::new();
    for (depth, ok) in [(10, true), (11, false)] {
        let mut envelope = fixtures::task_request(
            "urn:asap:agent:client",
            "urn:asap:agent:default-server",
            json!({}),
        );
        envelope["payload"]["config"] = json!({"depth": depth});
        let reply = client.send_envelope(&agent.base_url(), &envelope).await;
        if ok {
            assert!(reply.json["result"].is_object(), "{}", reply.json);
        } else {
            assert_eq!(reply.json["error"]["code"], -32602);
            assert_eq!(
                reply.json["error"]["data"]["validation_errors"][0]["loc"],
                json!(["payload", "config", "depth"])
            );
        }
    }
    agent.shutdown().await;
}
