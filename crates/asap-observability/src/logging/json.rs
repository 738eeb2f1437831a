//! The JSON lines format of PROTOCOL §14.2.
//!
//! tracing-subscriber's own JSON format nests the event's fields under `"fields"`, names the
//! level in upper case and has no place for a constant such as `service`; tooling that reads
//! §14.2 logs (`asap trace`, log pipelines written for the reference implementation) expects
//! the fields at the top level, hence this small formatter.

use std::fmt;

use serde_json::{Map, Number, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{FormatEvent, JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The members every line starts with; an event or span field of the same name is written as
/// `fields.<name>` instead.
const RESERVED: [&str; 5] = ["event", "level", "logger", "timestamp", "service"];

/// Formats each event as one JSON object per line (see [`super::LogFormat::Json`]).
#[derive(Debug, Clone)]
pub(crate) struct JsonLines {
    pub(crate) service: String,
}

impl<S> FormatEvent<S, JsonFields> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();

        // Fields of the spans in scope (JsonFields stored them as JSON text), outermost first
        // so that inner spans, then the event itself, override.
        let mut fields = Map::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                if let Some(stored) = extensions.get::<FormattedFields<JsonFields>>()
                    && let Ok(Value::Object(span_fields)) = serde_json::from_str(&stored.fields)
                {
                    // `otel.name`, `otel.kind`…: instructions to tracing-opentelemetry, not data.
                    fields.extend(
                        span_fields
                            .into_iter()
                            .filter(|(k, _)| !k.starts_with("otel.")),
                    );
                }
            }
        }
        let mut own = Map::new();
        event.record(&mut JsonVisitor(&mut own));

        // `event = "asap.request.received"` names the event; without it the message does.
        // shift_remove keeps the other fields in the order they were given.
        let name = match own.shift_remove("event") {
            Some(Value::String(name)) => name,
            Some(other) => other.to_string(),
            None => match own.shift_remove("message") {
                Some(Value::String(message)) => message,
                Some(other) => other.to_string(),
                None => metadata.name().to_owned(),
            },
        };
        fields.extend(own);

        let mut line = Map::with_capacity(RESERVED.len() + fields.len());
        line.insert("event".into(), Value::String(name));
        line.insert("level".into(), Value::from(level_name(*metadata.level())));
        line.insert("logger".into(), Value::from(metadata.target()));
        line.insert("timestamp".into(), Value::String(timestamp()));
        line.insert("service".into(), Value::String(self.service.clone()));
        for (key, value) in fields {
            if RESERVED.contains(&key.as_str()) {
                line.insert(format!("fields.{key}"), value);
            } else {
                line.insert(key, value);
            }
        }
        let text = serde_json::to_string(&Value::Object(line)).map_err(|_| fmt::Error)?;
        writer.write_str(&text)?;
        writer.write_char('\n')
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// Now, in UTC, ISO 8601 with microseconds and `Z`: `2026-12-04T06:27:23.454820Z`.
fn timestamp() -> String {
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Records an event's fields as JSON values: numbers and booleans as such, errors by their
/// `Display`, anything else by its `Debug` text (for the message, the formatted text).
struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl JsonVisitor<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.insert(field.name().to_owned(), value);
    }
}

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        // NaN and infinities have no JSON number.
        let value =
            Number::from_f64(value).map_or_else(|| Value::String(value.to_string()), Value::Number);
        self.put(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let value =
            i64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from);
        self.put(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let value =
            u64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from);
        self.put(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}
