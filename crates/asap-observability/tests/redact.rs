//! Redaction: examples of each rule and properties over generated documents.

use std::borrow::Cow;

use asap_observability::redact::{
    MAX_DEPTH, REDACTED, is_sensitive_key, sanitize_for_logging, sanitize_headers, sanitize_str,
    sanitize_url,
};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use serde_json::{Value, json};

#[test]
fn sensitive_keys_are_redacted_whatever_the_value() {
    let input = json!({
        "Password": 1234,
        "access_token": null,
        "client_secret": true,
        "credentials": {"user": "ada", "pass": "x"},
        "private_keys": ["a", "b"],
        "AUTHORIZATION": "Bearer x",
        "nested": [{"refresh_token": "r"}, {"auth": "a", "author": "Ada"}],
    });
    assert_eq!(
        sanitize_for_logging(&input),
        json!({
            "Password": REDACTED,
            "access_token": REDACTED,
            "client_secret": REDACTED,
            "credentials": REDACTED,
            "private_keys": REDACTED,
            "AUTHORIZATION": REDACTED,
            "nested": [{"refresh_token": REDACTED}, {"auth": REDACTED, "author": "Ada"}],
        })
    );
}

#[test]
fn allow_listed_keys_are_kept_but_their_strings_are_still_sanitized() {
    let input = json!({
        "idempotency_key": "req-1",
        "Idempotency-Key": "req-2",
        "key_id": "k1",
        "kid": "k2",
        "public_key": "MCow",
        "token_type": "Bearer",
        "max_tokens": 256,
        "keyId": "Bearer leaked",
    });
    let mut expected = input.clone();
    expected["keyId"] = json!("Bearer ***REDACTED***");
    assert_eq!(sanitize_for_logging(&input), expected);
}

#[test]
fn strings_under_ordinary_keys_are_sanitized() {
    let input = json!({
        "header": "Authorization: BEARER abc.def-ghi",
        "basic": "basic dXNlcjpwYXNz",
        "url": "amqp://guest:guest@rabbit:5672/vhost",
        "query": "/cb?token=abc&x=1#frag",
        "list": ["https://u:p@h", 3, null, false],
    });
    assert_eq!(
        sanitize_for_logging(&input),
        json!({
            "header": "Authorization: BEARER ***REDACTED***",
            "basic": "basic ***REDACTED***",
            "url": "amqp://guest:***REDACTED***@rabbit:5672/vhost",
            "query": "/cb?token=***REDACTED***&x=1#frag",
            "list": ["https://u:***REDACTED***@h", 3, null, false],
        })
    );
}

#[test]
fn object_keys_are_sanitized_too() {
    let input = json!({"https://u:pw@host/x": 1});
    assert_eq!(
        sanitize_for_logging(&input),
        json!({"https://u:***REDACTED***@host/x": 1})
    );
}

#[test]
fn scalars_and_arrays_pass_through() {
    for value in [
        json!(null),
        json!(1.5),
        json!(-3),
        json!(true),
        json!([1, [2, [3]]]),
        json!("plain"),
    ] {
        assert_eq!(sanitize_for_logging(&value), value);
    }
}

#[test]
fn string_rules_leave_lookalikes_alone() {
    for text in [
        "bearers of news",
        "xBearer abc",
        "Bearer",
        "https://user@host/path",
        "https://host/path?x=1&y=2",
        "mailto:ada@example.com",
        "tokenless text",
        "a:b@c without scheme",
        "",
        "é ü 日本",
    ] {
        assert!(
            matches!(sanitize_str(text), Cow::Borrowed(_)),
            "{text:?} became {:?}",
            sanitize_str(text)
        );
    }
    // `tokens` contains `token`: a parameter with that name is redacted.
    assert_eq!(sanitize_str("tokens=3"), "tokens=***REDACTED***");
}

#[test]
fn string_rules_in_context() {
    let cases = [
        ("Bearer\ttok rest", "Bearer\t***REDACTED*** rest"),
        ("\"Bearer tok\"", "\"Bearer ***REDACTED***\""),
        ("(Basic abc=) then", "(Basic ***REDACTED*** then"),
        (
            "https://u:p@ss@host:8443/x",
            "https://u:***REDACTED***@host:8443/x",
        ),
        (
            "see http://a:b@c and http://d:e@f",
            "see http://a:***REDACTED***@c and http://d:***REDACTED***@f",
        ),
        (
            "?api_key=1&apikey=2&key=3&ok=4",
            "?api_key=***REDACTED***&apikey=***REDACTED***&key=***REDACTED***&ok=4",
        ),
        (
            "session=1; auth_token=abc; theme=dark",
            "session=1; auth_token=***REDACTED***; theme=dark",
        ),
        ("password=é日本 next", "password=***REDACTED*** next"),
        ("?idempotency_key=req-1", "?idempotency_key=req-1"),
    ];
    for (input, expected) in cases {
        assert_eq!(sanitize_str(input), expected, "{input:?}");
    }
}

#[test]
fn sanitize_url_keeps_scheme_words() {
    assert_eq!(sanitize_url("https://h/bearer x"), "https://h/bearer x");
    assert_eq!(
        sanitize_url("redis://:pw@cache:6379/0?secret=s"),
        "redis://:***REDACTED***@cache:6379/0?secret=***REDACTED***"
    );
    assert!(matches!(sanitize_url("https://h/?a=b"), Cow::Borrowed(_)));
}

#[test]
fn headers() {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("authorization", "Basic abc"),
        ("proxy-authorization", "Basic def"),
        ("cookie", "a=b"),
        ("set-cookie", "c=d"),
        ("set-cookie", "e=f"),
        ("x-api-key", "k"),
        ("x-auth-token", "t"),
        ("x-upstream", "https://u:pw@up"),
        ("accept", "*/*"),
    ] {
        headers.append(name, HeaderValue::from_static(value));
    }
    headers.append(
        "x-raw",
        HeaderValue::from_bytes(b"caf\xe9").expect("a valid header value"),
    );
    let pairs = sanitize_headers(&headers);
    let got: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("authorization", REDACTED),
            ("proxy-authorization", REDACTED),
            ("cookie", REDACTED),
            ("set-cookie", REDACTED),
            ("set-cookie", REDACTED),
            ("x-api-key", REDACTED),
            ("x-auth-token", REDACTED),
            ("x-upstream", "https://u:***REDACTED***@up"),
            ("accept", "*/*"),
            ("x-raw", "caf\u{fffd}"),
        ]
    );
}

/// `depth` containers around `leaf`, arrays at even levels counted from the outside.
fn nest(depth: usize, leaf: Value) -> Value {
    (0..depth).rev().fold(leaf, |inner, level| {
        if level % 2 == 0 {
            json!([inner])
        } else {
            json!({"a": inner})
        }
    })
}

fn depth_of(value: &Value) -> usize {
    // Iterative, so that it works on the deep inputs as well.
    let mut deepest = 0;
    let mut stack = vec![(value, 0)];
    while let Some((value, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
            Value::Object(members) => stack.extend(members.values().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    deepest
}

#[test]
fn nesting_is_walked_up_to_the_bound_and_cut_below() {
    let shallow = nest(MAX_DEPTH, json!("Bearer x"));
    let out = sanitize_for_logging(&shallow);
    assert_eq!(out, nest(MAX_DEPTH, json!("Bearer ***REDACTED***")));

    let deep = nest(MAX_DEPTH + 1, json!("x"));
    assert_eq!(
        sanitize_for_logging(&deep),
        nest(MAX_DEPTH, json!(REDACTED))
    );

    // Far deeper than any stack would allow if the walk followed it.
    let mut hostile = json!(0);
    for _ in 0..200_000 {
        hostile = Value::Array(vec![hostile]);
    }
    let out = sanitize_for_logging(&hostile);
    assert_eq!(depth_of(&out), MAX_DEPTH);
    // serde_json drops nested values recursively; unwind the input by hand.
    let mut next = Some(hostile);
    while let Some(Value::Array(mut items)) = next {
        next = items.pop();
    }
}

/// Text built from the pieces the rules react to, so that generated strings exercise them.
fn tricky_text() -> BoxedStrategy<String> {
    let pieces = prop::sample::select(vec![
        "Bearer ",
        "basic ",
        "bearer\t",
        "token",
        "Key",
        "auth",
        "author",
        "=",
        "&",
        "?",
        ";",
        "#",
        "://",
        "http",
        "u",
        ":",
        "@",
        "/",
        " ",
        "\"",
        "x",
        "é",
        "***REDACTED***",
        "*",
        "idempotency_key",
        "password",
        "\n",
    ]);
    prop_oneof![
        prop::collection::vec(pieces, 0..16).prop_map(|parts| parts.concat()),
        any::<String>(),
    ]
    .boxed()
}

fn tricky_key() -> BoxedStrategy<String> {
    prop_oneof![
        prop::sample::select(vec![
            "password",
            "api_key",
            "Token",
            "auth",
            "author",
            "idempotency_key",
            "name",
            "a",
            "b",
        ])
        .prop_map(str::to_owned),
        tricky_text(),
    ]
    .boxed()
}

fn json_with(
    key: BoxedStrategy<String>,
    text: BoxedStrategy<String>,
) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        text.prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Keys and text with none of the letters that sensitive words, schemes or URLs need.
fn plain_text() -> BoxedStrategy<String> {
    "[bcdfghijlmnqvwxzBCDFGHIJ0-9 .,!_-]{0,12}".boxed()
}

proptest! {
    #[test]
    fn sanitizing_twice_equals_sanitizing_once(value in json_with(tricky_key(), tricky_text())) {
        let once = sanitize_for_logging(&value);
        prop_assert_eq!(sanitize_for_logging(&once), once);
    }

    #[test]
    fn strings_are_idempotent(text in tricky_text()) {
        let once = sanitize_str(&text).into_owned();
        prop_assert_eq!(sanitize_str(&once), once.as_str());
        let once = sanitize_url(&text).into_owned();
        prop_assert_eq!(sanitize_url(&once), once.as_str());
    }

    #[test]
    fn values_under_sensitive_keys_never_appear(
        value in json_with(plain_text(), plain_text()),
        secrets in prop::collection::vec(("(password|api_key|accessToken|auth|X-Secret)", "[0-9]{6}"), 1..4),
    ) {
        let mut value = value;
        let mut markers = Vec::new();
        for (i, (key, digits)) in secrets.into_iter().enumerate() {
            let marker = format!("MARKER{i}Q{digits}");
            markers.push(marker.clone());
            let secret = json!({"inner": marker, "list": [marker]});
            value = json!({"wrapper": [value], key: secret});
        }
        let logged = serde_json::to_string(&sanitize_for_logging(&value)).expect("a JSON value serializes");
        for marker in markers {
            prop_assert!(!logged.contains(&marker), "{} in {}", marker, logged);
        }
    }

    #[test]
    fn non_sensitive_structures_are_unchanged(value in json_with(plain_text(), plain_text())) {
        prop_assert_eq!(sanitize_for_logging(&value), value);
    }

    #[test]
    fn arbitrary_names_never_panic(name in any::<String>()) {
        let _ = is_sensitive_key(&name);
    }
}
