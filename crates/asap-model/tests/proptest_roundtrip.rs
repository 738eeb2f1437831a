//! Property tests: encode → decode is the identity for every wire type; URN validation agrees
//! with the specification's regular expression; timestamps survive `Display` → parse; the
//! task state machine accepts exactly the transitions of the protocol (PROTOCOL §8).
#![cfg(feature = "proptest")]

use std::fmt::Debug;

use asap_model::arbitrary;
use asap_model::payload::PayloadModel;
use asap_model::timestamp::Offset;
use asap_model::urn::{self, AGENT_URN_PATTERN, MAX_URN_LENGTH, UrnError};
use asap_model::validation::from_value;
use asap_model::{AgentUrn, Envelope, Payload, Task, TaskStatus, Timestamp, ValidationError};
use chrono::NaiveDate;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Encodes `value`, decodes it with both decoders and checks both give `value` back; also
/// checks the text encoding is stable under a second round.
fn roundtrip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = serde_json::to_value(value).expect("encode");
    if json.is_object() {
        let located: T = from_value(json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&located, value);
    }
    let text = serde_json::to_string(value).expect("encode");
    let plain: T = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&plain, value);
    prop_assert_eq!(serde_json::to_string(&plain).expect("encode"), text);
    Ok(())
}

/// A payload model round-trips on its own and through `Payload::Raw` → `into_typed`.
fn payload_roundtrip<P>(value: P) -> Result<(), TestCaseError>
where
    P: PayloadModel + PartialEq + Debug + Clone,
{
    roundtrip(&value)?;
    let object = match serde_json::to_value(&value).expect("encode") {
        serde_json::Value::Object(object) => object,
        other => return Err(TestCaseError::fail(format!("not an object: {other}"))),
    };
    let typed = Payload::Raw(object)
        .into_typed(P::KIND)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(P::from_payload(typed), Some(value));
    Ok(())
}

/// Whether `envelope.payload_as::<P>()` gives back `expected`.
fn typed_view_equals<P>(envelope: &Envelope, expected: &P) -> Result<bool, ValidationError>
where
    P: PayloadModel + PartialEq,
{
    envelope.payload_as::<P>().map(|p| p == *expected)
}

macro_rules! payload_props {
    ($($test:ident => $strategy:ident;)*) => {
        proptest! {
            $(
                #[test]
                fn $test(value in arbitrary::$strategy()) {
                    payload_roundtrip(value)?;
                }
            )*
        }
    };
}

payload_props! {
    task_request_roundtrips => task_request;
    task_response_roundtrips => task_response;
    task_update_roundtrips => task_update;
    task_cancel_roundtrips => task_cancel;
    message_send_roundtrips => message_send;
    state_query_roundtrips => state_query;
    state_restore_roundtrips => state_restore;
    artifact_notify_roundtrips => artifact_notify;
    mcp_tool_call_roundtrips => mcp_tool_call;
    mcp_tool_result_roundtrips => mcp_tool_result;
    mcp_resource_fetch_roundtrips => mcp_resource_fetch;
    mcp_resource_data_roundtrips => mcp_resource_data;
}

macro_rules! entity_props {
    ($($test:ident => $strategy:ident;)*) => {
        proptest! {
            $(
                #[test]
                fn $test(value in arbitrary::$strategy()) {
                    roundtrip(&value)?;
                }
            )*
        }
    };
}

entity_props! {
    agent_roundtrips => agent;
    artifact_roundtrips => artifact;
    conversation_roundtrips => conversation;
    manifest_roundtrips => manifest;
    message_roundtrips => message;
    state_snapshot_roundtrips => state_snapshot;
    task_roundtrips => task;
    part_roundtrips => part;
    agent_urn_roundtrips => agent_urn;
    timestamp_roundtrips => timestamp;
}

proptest! {
    #[test]
    fn manifests_stay_valid(manifest in arbitrary::manifest()) {
        prop_assert!(manifest.validate().is_ok());
    }

    #[test]
    fn any_typed_payload_roundtrips_through_raw(payload in arbitrary::payload()) {
        let kind = payload.kind().expect("typed");
        let object = payload.to_object();
        let back = Payload::Raw(object).into_typed(kind)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, payload);
    }

    #[test]
    fn envelopes_roundtrip(envelope in arbitrary::envelope()) {
        let text = serde_json::to_string(&envelope).expect("encode");
        let back: Envelope = serde_json::from_str(&text)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let located: Envelope = asap_model::validation::from_slice(text.as_bytes())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&located, &back);

        // The wire is free-form: a decoded payload is raw until a typed view is asked for.
        prop_assert!(matches!(back.payload, Payload::Raw(_)));
        let kind = envelope.payload.kind().expect("typed payload");
        prop_assert_eq!(back.payload_kind(), Some(kind));
        prop_assert_eq!(&back.payload.clone().into_typed(kind).expect("typed"), &envelope.payload);
        prop_assert!(back.validate_strict().is_ok());
        let typed_view = match &envelope.payload {
            Payload::TaskRequest(p) => typed_view_equals(&back, p),
            Payload::TaskResponse(p) => typed_view_equals(&back, p),
            Payload::TaskUpdate(p) => typed_view_equals(&back, p),
            Payload::TaskCancel(p) => typed_view_equals(&back, p),
            Payload::MessageSend(p) => typed_view_equals(&back, p),
            Payload::StateQuery(p) => typed_view_equals(&back, p),
            Payload::StateRestore(p) => typed_view_equals(&back, p),
            Payload::ArtifactNotify(p) => typed_view_equals(&back, p),
            Payload::McpToolCall(p) => typed_view_equals(&back, p),
            Payload::McpToolResult(p) => typed_view_equals(&back, p),
            Payload::McpResourceFetch(p) => typed_view_equals(&back, p),
            Payload::McpResourceData(p) => typed_view_equals(&back, p),
            other => return Err(TestCaseError::fail(format!("untyped {other:?}"))),
        };
        prop_assert_eq!(typed_view, Ok(true));

        prop_assert_eq!(&back.id, &envelope.id);
        prop_assert_eq!(&back.asap_version, &envelope.asap_version);
        prop_assert_eq!(back.timestamp, envelope.timestamp);
        prop_assert_eq!(&back.sender, &envelope.sender);
        prop_assert_eq!(&back.recipient, &envelope.recipient);
        prop_assert_eq!(&back.payload_type, &envelope.payload_type);
        prop_assert_eq!(&back.correlation_id, &envelope.correlation_id);
        prop_assert_eq!(&back.trace_id, &envelope.trace_id);
        prop_assert_eq!(&back.extensions, &envelope.extensions);

        // A raw payload encodes exactly like the typed one it came from.
        prop_assert_eq!(serde_json::to_string(&back).expect("encode"), text);
    }
}

// ---------------------------------------------------------------------------------------
// Agent URNs against the specification's regular expression.

const URN_PREFIX: &str = "urn:asap:agent:";

/// Every character of the test alphabet `[a-zA-Z0-9:_.\n-]`.
fn alphabet() -> Vec<char> {
    ('a'..='z')
        .chain('A'..='Z')
        .chain('0'..='9')
        .chain([':', '_', '.', '\n', '-'])
        .collect()
}

/// Strings around the URN rules: with the prefix half the time, total lengths short or close
/// to the 256-character limit. A tail of valid segment characters gets a few characters
/// replaced by any of the alphabet (`:` favoured), so valid URNs, malformed ones and
/// over-long ones all occur.
fn urn_candidate() -> impl Strategy<Value = String> {
    let len = prop_oneof![0usize..24, 225usize..=270];
    let segment_chars: Vec<char> = "abcdefghijklmnopqrstuvwxyz0123456789-".chars().collect();
    let mutation = (
        any::<prop::sample::Index>(),
        prop_oneof![2 => select(alphabet()), 1 => Just(':')],
    );
    (any::<bool>(), len)
        .prop_flat_map(move |(prefixed, len)| {
            let tail_len = if prefixed {
                len.saturating_sub(URN_PREFIX.len())
            } else {
                len
            };
            (
                Just(prefixed),
                vec(select(segment_chars.clone()), tail_len),
                vec(mutation.clone(), 0..3),
            )
        })
        .prop_map(|(prefixed, mut tail, mutations)| {
            if !tail.is_empty() {
                for (index, c) in mutations {
                    let i = index.index(tail.len());
                    tail[i] = c;
                }
            }
            let tail: String = tail.into_iter().collect();
            if prefixed {
                format!("{URN_PREFIX}{tail}")
            } else {
                tail
            }
        })
}

fn urn_regex() -> regex::Regex {
    regex::Regex::new(AGENT_URN_PATTERN).expect("URN pattern compiles")
}

fn check_urn(candidate: &str, re: &regex::Regex) -> Result<bool, TestCaseError> {
    let len = candidate.chars().count();
    let expected = len <= MAX_URN_LENGTH && re.is_match(candidate);
    let parsed = AgentUrn::parse(candidate);
    prop_assert_eq!(parsed.is_ok(), expected, "{:?}", candidate);
    prop_assert_eq!(
        urn::validate(candidate).is_ok(),
        expected,
        "{:?}",
        candidate
    );
    match parsed {
        Ok(urn) => {
            prop_assert_eq!(urn.as_str(), candidate);
            let rest = &candidate[URN_PREFIX.len()..];
            let rebuilt = match urn.sub_segment() {
                Some(sub) => format!("{}:{sub}", urn.name()),
                None => urn.name().to_owned(),
            };
            prop_assert_eq!(rebuilt, rest);
        }
        Err(UrnError::TooLong(n)) => {
            prop_assert!(len > MAX_URN_LENGTH);
            prop_assert_eq!(n, len);
        }
        Err(UrnError::Format(got)) => {
            prop_assert!(len <= MAX_URN_LENGTH, "length is checked first");
            prop_assert_eq!(got, candidate);
        }
        Err(other) => return Err(TestCaseError::fail(format!("unexpected {other:?}"))),
    }
    // Decoding through serde applies the same rule.
    let decoded = serde_json::from_value::<AgentUrn>(serde_json::Value::from(candidate));
    prop_assert_eq!(decoded.is_ok(), expected);
    Ok(expected)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn urn_validation_agrees_with_the_regex(candidate in urn_candidate()) {
        check_urn(&candidate, &urn_regex())?;
    }
}

/// The generator is not vacuous: near the length limit it produces valid URNs and each kind
/// of rejection, and the deterministic edge cases behave.
#[test]
fn urn_candidates_cover_both_outcomes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let re = urn_regex();
    let mut runner = TestRunner::deterministic();
    let strategy = urn_candidate();
    let (mut valid, mut too_long, mut format, mut long_valid) = (0, 0, 0, 0);
    for _ in 0..4000 {
        let candidate = strategy.new_tree(&mut runner).expect("generate").current();
        let len = candidate.chars().count();
        match check_urn(&candidate, &re) {
            Ok(true) => {
                valid += 1;
                if len > 240 {
                    long_valid += 1;
                }
            }
            Ok(false) if len > MAX_URN_LENGTH => too_long += 1,
            Ok(false) => format += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(valid > 100, "valid URNs generated: {valid}");
    assert!(long_valid > 10, "valid URNs near the limit: {long_valid}");
    assert!(too_long > 100, "too-long strings generated: {too_long}");
    assert!(format > 100, "malformed strings generated: {format}");

    let at_limit = format!(
        "{URN_PREFIX}{}",
        "a".repeat(MAX_URN_LENGTH - URN_PREFIX.len())
    );
    let over = format!("{at_limit}a");
    let over_and_malformed = format!("{at_limit}A");
    for (candidate, ok) in [
        (at_limit.as_str(), true),
        (over.as_str(), false),
        (over_and_malformed.as_str(), false),
        ("urn:asap:agent:abc\n", false),
        ("urn:asap:agent:a:b", true),
        ("urn:asap:agent:a:b:c", false),
        ("urn:asap:agent:", false),
    ] {
        assert_eq!(
            check_urn(candidate, &re).expect(candidate),
            ok,
            "{candidate:?}"
        );
    }
    assert_eq!(
        urn::validate(&over_and_malformed),
        Err(UrnError::TooLong(257))
    );
}

// ---------------------------------------------------------------------------------------
// Timestamps: Display → parse is the identity, for UTC, fixed offsets and naive values.

#[derive(Debug, Clone, Copy)]
enum OffsetSpec {
    Utc,
    Fixed {
        east: bool,
        hours: u32,
        minutes: u32,
    },
    Naive,
}

fn offset_spec() -> impl Strategy<Value = OffsetSpec> {
    prop_oneof![
        Just(OffsetSpec::Utc),
        (any::<bool>(), 0u32..24, 0u32..60)
            .prop_filter("non-zero offset", |(_, h, m)| h + m > 0)
            .prop_map(|(east, hours, minutes)| OffsetSpec::Fixed {
                east,
                hours,
                minutes
            }),
        Just(OffsetSpec::Naive),
    ]
}

/// A date-time written in one of the accepted spellings, with its expected instant.
fn timestamp_text() -> impl Strategy<Value = (String, i64, OffsetSpec)> {
    (
        (1970i32..2100, 1u32..=12, 1u32..=31),
        (0u32..24, 0u32..60, 0u32..60),
        prop_oneof![Just(0u32), 0u32..1_000_000],
        offset_spec(),
        any::<bool>(),
    )
        .prop_filter_map(
            "valid calendar date",
            |((y, mo, d), (h, mi, s), micros, offset, space)| {
                let date = NaiveDate::from_ymd_opt(y, mo, d)?;
                let local = date.and_hms_micro_opt(h, mi, s, micros)?;
                let sep = if space { ' ' } else { 'T' };
                let mut text = format!(
                    "{}{sep}{}",
                    date.format("%Y-%m-%d"),
                    local.format("%H:%M:%S")
                );
                if micros != 0 {
                    text.push_str(&format!(".{micros:06}"));
                }
                let shift = match offset {
                    OffsetSpec::Utc => {
                        text.push('Z');
                        0
                    }
                    OffsetSpec::Naive => 0,
                    OffsetSpec::Fixed {
                        east,
                        hours,
                        minutes,
                    } => {
                        let sign = if east { '+' } else { '-' };
                        text.push_str(&format!("{sign}{hours:02}:{minutes:02}"));
                        let secs = i64::from(hours * 3600 + minutes * 60);
                        if east { secs } else { -secs }
                    }
                };
                let instant = local.and_utc().timestamp_micros() - shift * 1_000_000;
                Some((text, instant, offset))
            },
        )
}

proptest! {
    #[test]
    fn timestamps_display_then_parse((text, instant, spec) in timestamp_text()) {
        let parsed: Timestamp = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(parsed.unix_micros(), instant, "{}", text);
        let expected_offset = match spec {
            OffsetSpec::Utc => Offset::Utc,
            OffsetSpec::Naive => Offset::Naive,
            OffsetSpec::Fixed { east, hours, minutes } => {
                let secs = (hours * 3600 + minutes * 60) as i32;
                Offset::Fixed(if east { secs } else { -secs })
            }
        };
        prop_assert_eq!(parsed.offset(), expected_offset);

        let shown = parsed.to_string();
        let reparsed: Timestamp = shown.parse().map_err(|e| TestCaseError::fail(format!("{shown}: {e}")))?;
        prop_assert_eq!(reparsed, parsed, "{} -> {}", text, shown);
        prop_assert_eq!(reparsed.to_string(), shown.clone());

        // The canonical spelling: `T`, 0 or 6 fractional digits, `Z` / `±hh:mm` / nothing.
        let canonical = text.replacen(' ', "T", 1);
        prop_assert_eq!(&shown, &canonical);

        // Through serde as well, and as UTC.
        let json = serde_json::to_value(parsed).expect("encode");
        prop_assert_eq!(json.as_str(), Some(shown.as_str()));
        let back: Timestamp = serde_json::from_value(json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, parsed);
        let utc = parsed.to_utc();
        prop_assert_eq!(utc.unix_micros(), instant);
        prop_assert!(utc.to_string().ends_with('Z'));
        prop_assert_eq!(utc.to_string().parse::<Timestamp>().ok(), Some(utc));
    }

    #[test]
    fn utc_timestamps_display_then_parse(t in arbitrary::timestamp()) {
        let shown = t.to_string();
        prop_assert_eq!(shown.parse::<Timestamp>().ok(), Some(t));
        prop_assert!(shown.ends_with('Z'));
        let fraction = shown.split_once('.').map(|(_, f)| f.trim_end_matches('Z').len());
        let expected_fraction = if t.unix_micros() % 1_000_000 == 0 { None } else { Some(6) };
        prop_assert_eq!(fraction, expected_fraction);
    }
}

// ---------------------------------------------------------------------------------------
// Task state machine.

/// The protocol's transitions (PROTOCOL §8), written out independently of the implementation.
fn spec_allows(from: TaskStatus, to: TaskStatus) -> bool {
    use TaskStatus::*;
    matches!(
        (from, to),
        (Submitted, Working)
            | (Submitted, Cancelled)
            | (Working, Completed)
            | (Working, Failed)
            | (Working, Cancelled)
            | (Working, InputRequired)
            | (InputRequired, Working)
            | (InputRequired, Cancelled)
    )
}

proptest! {
    #[test]
    fn transitions_follow_the_state_machine(
        start in arbitrary::task(),
        targets in vec(arbitrary::task_status(), 0..24),
    ) {
        let mut task: Task = start;
        for to in targets {
            let from = task.status;
            let allowed = from.can_transition(to);
            prop_assert_eq!(allowed, spec_allows(from, to), "{} -> {}", from, to);
            if from.is_terminal() || from == to {
                prop_assert!(!allowed, "{} -> {}", from, to);
            }
            let before = Timestamp::now();
            match task.transition(to) {
                Ok(next) => {
                    prop_assert!(allowed, "{} -> {} accepted", from, to);
                    prop_assert_eq!(next.status, to);
                    prop_assert!(next.updated_at.unix_micros() >= before.unix_micros());
                    // Everything but status and updated_at is unchanged.
                    let mut same = next.clone();
                    same.status = task.status;
                    same.updated_at = task.updated_at;
                    prop_assert_eq!(&same, &task);
                    prop_assert_eq!(next.is_terminal(), to.is_terminal());
                    task = next;
                }
                Err(e) => {
                    prop_assert!(!allowed, "{} -> {} refused", from, to);
                    prop_assert_eq!(e.from, from);
                    prop_assert_eq!(e.to, to);
                    prop_assert_eq!(e.task_id.as_deref(), Some(task.id.as_str()));
                    prop_assert_eq!(
                        e.to_string(),
                        format!("Invalid transition from '{from}' to '{to}'")
                    );
                    prop_assert_eq!(from.transition(to).err().map(|e| (e.from, e.to)), Some((from, to)));
                }
            }
        }
    }

    #[test]
    fn terminal_tasks_never_transition(
        task in arbitrary::task(),
        terminal in select(vec![TaskStatus::Completed, TaskStatus::Failed, TaskStatus::Cancelled]),
        to in arbitrary::task_status(),
    ) {
        let mut task = task;
        task.status = terminal;
        prop_assert!(task.is_terminal());
        prop_assert!(task.status.allowed_targets().is_empty());
        prop_assert!(task.transition(to).is_err());
        prop_assert!(!terminal.can_transition(to));
    }
}
