//! Encoding responses and requests, and decoding them back as a client does.

use asap_codec::rpc::{
    ErrorResponse, Id, Response, RpcError, decode_request, decode_response, encode_error,
    encode_request, encode_success,
};
use asap_model::payload::TaskRequest;
use asap_model::{Envelope, JsonObject};
use serde_json::Value;

fn envelope() -> Envelope {
    Envelope::new(
        "urn:asap:agent:client".parse().expect("urn"),
        "urn:asap:agent:echo".parse().expect("urn"),
        TaskRequest {
            conversation_id: "conv_1".into(),
            parent_task_id: None,
            skill_id: "echo".into(),
            input: JsonObject::new(),
            config: None,
        },
    )
}

#[test]
fn success_round_trips() {
    let env = envelope();
    for id in [Id::from("req-1"), Id::Num(42)] {
        let body = encode_success(&id, &env);
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(
            v.as_object().expect("obj").keys().collect::<Vec<_>>(),
            ["jsonrpc", "result", "id"]
        );
        match decode_response(&body).expect("decode") {
            Response::Success { id: got, envelope } => {
                assert_eq!(got, Some(id));
                assert_eq!(envelope.id, env.id);
                assert_eq!(
                    envelope
                        .payload_as::<TaskRequest>()
                        .expect("typed")
                        .skill_id,
                    "echo"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn error_round_trips_with_null_id() {
    let response = ErrorResponse::new(
        RpcError::parse_error("Expecting value: line 1 column 1 (char 0)"),
        None,
    );
    let body = encode_error(&response);
    let v: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(v["id"], Value::Null);
    assert_eq!(v["error"]["message"], "Parse error");
    match decode_response(&body).expect("decode") {
        Response::Error(e) => assert_eq!(e, response),
        other => panic!("{other:?}"),
    }
}

#[test]
fn request_is_what_the_reference_client_sends() {
    let env = envelope();
    let body = encode_request(&Id::from("req-1"), &env, Some("01KEY"));
    let v: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(v["method"], "asap.send");
    assert_eq!(v["params"]["idempotency_key"], "01KEY");
    assert_eq!(v["params"]["envelope"].as_object().expect("env").len(), 10);
    let call = decode_request(&body).expect("decodes");
    assert_eq!(call.envelope.expect("envelope"), env);
}

#[test]
fn malformed_responses_are_errors() {
    for body in [&b"nope"[..], b"{}", br#"{"result":{"envelope":{}},"id":1}"#] {
        assert!(
            decode_response(body).is_err(),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn deeply_nested_responses_are_errors_not_crashes() {
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let body = format!(r#"{{"jsonrpc":"2.0","result":{{"envelope":{{"deep":{nested}}}}},"id":1}}"#);
    // A 2 MiB stack, the default of spawned threads: unbounded recursion would abort.
    let outcome = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || decode_response(body.as_bytes()).is_err())
        .expect("thread")
        .join()
        .expect("no stack overflow");
    assert!(outcome);
}
