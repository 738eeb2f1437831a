//! The reference servers of every supported version start and answer an echo request.

use asap_testing::reference::ReferenceServer;
use asap_testing::{TestClient, assert_envelope_valid, assert_task_completed, fixtures};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_servers_answer_echo_requests() {
    for version in ["1.0.0", "0.5.0", "0.1.0"] {
        let Some(server) = ReferenceServer::start(version).await else {
            continue;
        };
        let envelope = fixtures::task_request(
            "urn:asap:agent:client",
            "urn:asap:agent:echo-agent",
            json!({"text": "hi"}),
        );
        let reply = TestClient::new()
            .send_envelope(&server.base_url(), &envelope)
            .await;
        assert_eq!(reply.status, 200, "{version}: {}", reply.json);
        let response = assert_envelope_valid(&reply.json["result"]["envelope"]);
        let task = assert_task_completed(&response, None);
        assert_eq!(
            task.result.expect("result")["echoed"],
            json!({"text": "hi"}),
            "{version}"
        );
    }
}
