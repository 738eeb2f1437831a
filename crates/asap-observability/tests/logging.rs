//! The log formats, read back through an in-memory writer.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use asap_observability::logging::{ConfigError, InitError, LogConfig, LogFormat, event};
use serde_json::{Value, json};
use tracing_subscriber::prelude::*;

/// Everything written, shared between the test and the layer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
        .expect("UTF-8 logs")
    }
}

/// What `emit` logs under `config`, written through the layer.
fn capture(config: &LogConfig, emit: impl FnOnce()) -> String {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let layer = config
        .layer_with_writer(move || writer.clone())
        .expect("a valid configuration");
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
    buffer.text()
}

fn json_lines(config: &LogConfig, emit: impl FnOnce()) -> Vec<serde_json::Map<String, Value>> {
    let text = capture(config, emit);
    assert!(text.is_empty() || text.ends_with('\n'), "{text:?}");
    text.lines()
        .map(|line| match serde_json::from_str(line) {
            Ok(Value::Object(members)) => members,
            other => panic!("not a JSON object: {line:?} ({other:?})"),
        })
        .collect()
}

fn json_config() -> LogConfig {
    LogConfig::default().with_format(LogFormat::Json)
}

fn is_timestamp(text: &str) -> bool {
    // 2026-12-04T06:27:23.454820Z
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    b.len() == 27
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..26)
        && b[26] == b'Z'
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

#[test]
fn json_line_has_the_protocol_shape() {
    let lines = json_lines(&json_config().with_service_name("echo-agent"), || {
        tracing::info!(
            target: "asap_transport_server",
            event = event::RECEIVED,
            envelope_id = "01JENV",
            trace_id = "t-1",
            payload_type = "task.request",
            authenticated = true,
            duration_ms = 1.25,
            attempt = 3u64,
            offset = -2i64,
        );
    });
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    let keys: Vec<&str> = line.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "event",
            "level",
            "logger",
            "timestamp",
            "service",
            "envelope_id",
            "trace_id",
            "payload_type",
            "authenticated",
            "duration_ms",
            "attempt",
            "offset"
        ]
    );
    assert_eq!(line["event"], "asap.request.received");
    assert_eq!(line["level"], "info");
    assert_eq!(line["logger"], "asap_transport_server");
    let timestamp = line["timestamp"].as_str().expect("a string timestamp");
    assert!(is_timestamp(timestamp), "{timestamp}");
    assert_eq!(line["service"], "echo-agent");
    assert_eq!(line["envelope_id"], "01JENV");
    assert_eq!(line["trace_id"], "t-1");
    assert_eq!(line["authenticated"], true);
    assert_eq!(line["duration_ms"], 1.25);
    assert_eq!(line["attempt"], 3);
    assert_eq!(line["offset"], -2);
}

#[test]
fn the_message_names_the_event_when_there_is_no_event_field() {
    let lines = json_lines(&json_config(), || {
        tracing::warn!(peer = "p", "connection {} closed", 7);
        tracing::error!(event = event::ERROR, error = "boom", "handler failed");
    });
    assert_eq!(lines[0]["event"], "connection 7 closed");
    assert_eq!(lines[0]["level"], "warn");
    assert_eq!(lines[0]["logger"], "logging");
    assert!(!lines[0].contains_key("message"));
    assert_eq!(lines[0]["service"], "asap-protocol");
    assert_eq!(lines[1]["event"], "asap.request.error");
    assert_eq!(lines[1]["message"], "handler failed");
    assert_eq!(lines[1]["level"], "error");
}

#[test]
fn strings_are_escaped() {
    let nasty = "quote \" backslash \\ newline \n tab \t escape \u{1b}[31m nul \0 é";
    let text = capture(&json_config(), || {
        tracing::info!(detail = nasty, "line \"one\"\nline two")
    });
    assert_eq!(
        text.matches('\n').count(),
        1,
        "one event, one line: {text:?}"
    );
    let line: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(line["detail"], nasty);
    assert_eq!(line["event"], "line \"one\"\nline two");
}

#[test]
fn span_fields_are_flattened_and_the_event_wins() {
    let lines = json_lines(&json_config(), || {
        let outer =
            tracing::info_span!("request", trace_id = "t-outer", sender = "urn:asap:agent:a");
        let _outer = outer.enter();
        let inner = tracing::info_span!("handler", trace_id = "t-inner", note = "quote \" here");
        let _inner = inner.enter();
        tracing::info!(sender = "urn:asap:agent:b", "handled");
    });
    let line = &lines[0];
    assert_eq!(line["trace_id"], "t-inner");
    assert_eq!(line["sender"], "urn:asap:agent:b");
    assert_eq!(line["note"], "quote \" here");
    assert!(!line.contains_key("fields"));
    assert!(!line.contains_key("spans"));
}

#[test]
fn reserved_names_are_not_overwritten() {
    let lines = json_lines(&json_config(), || {
        tracing::info!(level = "custom", service = 5, timestamp = "yesterday", "x");
    });
    let line = &lines[0];
    assert_eq!(line["level"], "info");
    assert_eq!(line["service"], "asap-protocol");
    assert!(is_timestamp(line["timestamp"].as_str().expect("a string")));
    assert_eq!(line["fields.level"], "custom");
    assert_eq!(line["fields.service"], 5);
    assert_eq!(line["fields.timestamp"], "yesterday");
}

#[test]
fn values_without_a_json_number_become_strings() {
    let lines = json_lines(&json_config(), || {
        tracing::info!(nan = f64::NAN, big = u128::MAX, small = 5u128, debug = ?Some(1), "x");
    });
    assert_eq!(lines[0]["nan"], "NaN");
    assert_eq!(lines[0]["big"], u128::MAX.to_string());
    assert_eq!(lines[0]["small"], 5);
    assert_eq!(lines[0]["debug"], "Some(1)");
}

#[test]
fn errors_are_written_by_their_display() {
    let error = io::Error::other("disk full");
    let lines = json_lines(&json_config(), || {
        tracing::error!(
            error = &error as &(dyn std::error::Error + 'static),
            "write failed"
        );
    });
    assert_eq!(lines[0]["error"], "disk full");
}

#[test]
fn levels_filter() {
    let emit = || {
        tracing::trace!("t");
        tracing::debug!("d");
        tracing::info!("i");
        tracing::warn!("w");
        tracing::error!("e");
    };
    let events = |level: &str| -> Vec<Value> {
        json_lines(&json_config().with_level(level), emit)
            .into_iter()
            .map(|l| l["event"].clone())
            .collect()
    };
    assert_eq!(events("info"), [json!("i"), json!("w"), json!("e")]);
    assert_eq!(events("WARN"), [json!("w"), json!("e")]);
    assert_eq!(events("trace").len(), 5);
    assert_eq!(events("off"), Vec::<Value>::new());
    assert_eq!(events("info,logging=error"), [json!("e")]);
    assert_eq!(events(""), [json!("i"), json!("w"), json!("e")]);
}

#[test]
fn an_invalid_level_is_an_error() {
    let error = LogConfig::default()
        .with_level("info,x=loud")
        .layer_with_writer::<tracing_subscriber::Registry, _>(io::sink)
        .err()
        .expect("an invalid directive is refused");
    assert!(
        matches!(error, InitError::Level { ref directive, .. } if directive == "info,x=loud"),
        "{error}"
    );
}

#[test]
fn console_is_text_without_colors() {
    let text = capture(&LogConfig::default(), || {
        tracing::info!(envelope_id = "01JENV", "request received");
        tracing::debug!("hidden");
    });
    assert_eq!(text.lines().count(), 1, "{text:?}");
    assert!(text.contains("INFO"), "{text:?}");
    assert!(text.contains("request received"), "{text:?}");
    assert!(text.contains("envelope_id=\"01JENV\""), "{text:?}");
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(serde_json::from_str::<Value>(&text).is_err());
}

fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    }
}

#[test]
fn from_env_defaults() {
    assert_eq!(
        LogConfig::from_lookup(lookup(&[])),
        Ok(LogConfig::default())
    );
    let config = LogConfig::default();
    assert_eq!(
        (
            config.format,
            config.level.as_str(),
            config.service_name.as_str()
        ),
        (LogFormat::Console, "info", "asap-protocol")
    );
    // Empty counts as unset.
    let empty = [
        ("ASAP_LOG_FORMAT", ""),
        ("ASAP_LOG_LEVEL", " "),
        ("ASAP_SERVICE_NAME", ""),
        ("RUST_LOG", ""),
    ];
    assert_eq!(
        LogConfig::from_lookup(lookup(&empty)),
        Ok(LogConfig::default())
    );
}

#[test]
fn from_env_reads_every_variable() {
    let vars = [
        ("ASAP_LOG_FORMAT", " Json "),
        ("ASAP_LOG_LEVEL", "debug"),
        ("ASAP_SERVICE_NAME", "billing"),
    ];
    let config = LogConfig::from_lookup(lookup(&vars)).expect("valid");
    assert_eq!(config.format, LogFormat::Json);
    assert_eq!(config.level, "debug");
    assert_eq!(config.service_name, "billing");

    let with_rust_log = [
        ("ASAP_LOG_LEVEL", "debug"),
        ("RUST_LOG", "warn,asap_codec=trace"),
    ];
    assert_eq!(
        LogConfig::from_lookup(lookup(&with_rust_log))
            .expect("valid")
            .level,
        "warn,asap_codec=trace"
    );

    for (given, expected) in [("WARNING", "warn"), ("critical", "error"), ("INFO", "INFO")] {
        let config = LogConfig::from_lookup(lookup(&[("ASAP_LOG_LEVEL", given)])).expect("valid");
        assert_eq!(config.level, expected);
    }
}

#[test]
fn from_env_refuses_an_unknown_format() {
    let error =
        LogConfig::from_lookup(lookup(&[("ASAP_LOG_FORMAT", "xml")])).expect_err("xml is refused");
    assert_eq!(
        error,
        ConfigError::Format {
            value: "xml".into()
        }
    );
    let message = error.to_string();
    assert!(
        message.contains("xml") && message.contains("console") && message.contains("json"),
        "{message}"
    );
    assert_eq!("console".parse::<LogFormat>(), Ok(LogFormat::Console));
    assert_eq!(LogFormat::Json.to_string(), "json");
}

#[test]
fn init_installs_once() {
    // The only test in this binary that touches the global subscriber.
    let config = json_config();
    assert!(config.clone().init().is_ok());
    assert!(matches!(config.init(), Err(InitError::AlreadyInstalled(_))));
}
