//! Date-time values in the exact wire format of the reference.
//!
//! Parsing is lenient like the reference: RFC 3339 with `Z` or `±hh:mm`, a space instead of
//! `T`, naive values without offset, date-only `YYYY-MM-DD`, and Unix time as a number or
//! numeric string (values above 2×10¹⁰ are milliseconds). Serialization is exact:
//!
//! | value | written as |
//! |---|---|
//! | UTC, whole second | `2026-01-01T12:00:00Z` |
//! | UTC, fractional | `2026-11-24T00:19:55.250329Z` (always 6 digits) |
//! | other offset (kept) | `2026-01-01T02:00:00.500000+02:00` |
//! | naive | `2026-01-01T00:00:00` |

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::validation::de as verr;

/// How a timestamp's offset was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Offset {
    /// UTC (`Z` or `+00:00`).
    Utc,
    /// A fixed non-zero offset in seconds east of UTC, kept as received.
    Fixed(i32),
    /// No offset given; treated as UTC when compared with the clock.
    Naive,
}

/// A date-time with microsecond precision that remembers how its offset was written.
///
/// ```
/// use asap_model::Timestamp;
///
/// let t: Timestamp = "2026-01-01 14:00:00.5+02:00".parse().unwrap();
/// assert_eq!(t.to_string(), "2026-01-01T14:00:00.500000+02:00");
/// assert_eq!(t.to_utc().to_string(), "2026-01-01T12:00:00.500000Z");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// Microseconds since the Unix epoch of the instant (naive values read as UTC).
    micros: i64,
    offset: Offset,
}

/// Why a string is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Input should be a valid datetime or date, {0}")]
pub struct TimestampError(&'static str);

const MILLIS_THRESHOLD: f64 = 2e10;

impl Timestamp {
    /// The current time, UTC, microsecond precision.
    pub fn now() -> Self {
        let micros = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
        };
        Self::from_unix_micros(micros)
    }

    /// A UTC timestamp from microseconds since the Unix epoch.
    pub const fn from_unix_micros(micros: i64) -> Self {
        Self {
            micros,
            offset: Offset::Utc,
        }
    }

    /// Microseconds since the Unix epoch of this instant (naive values read as UTC).
    pub const fn unix_micros(&self) -> i64 {
        self.micros
    }

    /// Seconds since the Unix epoch, fractional.
    pub fn unix_seconds_f64(&self) -> f64 {
        self.micros as f64 / 1e6
    }

    /// How the offset was given.
    pub const fn offset(&self) -> Offset {
        self.offset
    }

    /// The same instant, written in UTC.
    #[must_use]
    pub const fn to_utc(self) -> Self {
        Self::from_unix_micros(self.micros)
    }

    /// Seconds from `self` to `later` (negative when `later` is earlier).
    pub fn seconds_until(&self, later: &Timestamp) -> f64 {
        (later.micros - self.micros) as f64 / 1e6
    }

    /// Parses any accepted form (see the module documentation).
    pub fn parse(input: &str) -> Result<Self, TimestampError> {
        parse_str(input)
    }

    /// Unix time in seconds (or milliseconds above 2×10¹⁰), as the reference reads numbers.
    pub fn from_unix_number(value: f64) -> Result<Self, TimestampError> {
        if !value.is_finite() {
            return Err(TimestampError("invalid number"));
        }
        let seconds = if value.abs() > MILLIS_THRESHOLD {
            value / 1000.0
        } else {
            value
        };
        let micros = (seconds * 1e6).round();
        if micros.abs() > 2.5e17 {
            return Err(TimestampError("value is out of range"));
        }
        Ok(Self::from_unix_micros(micros as i64))
    }

    fn local(&self) -> NaiveDateTime {
        let shift = match self.offset {
            Offset::Fixed(secs) => i64::from(secs) * 1_000_000,
            _ => 0,
        };
        DateTime::from_timestamp_micros(self.micros + shift)
            .map(|d| d.naive_utc())
            .unwrap_or_default()
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_str(s)
    }
}

fn parse_str(input: &str) -> Result<Timestamp, TimestampError> {
    let unsigned = input.strip_prefix(['-', '+']).unwrap_or(input);
    let numeric = !unsigned.is_empty()
        && unsigned.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && unsigned.bytes().filter(|b| *b == b'.').count() <= 1;
    if numeric {
        let value: f64 = input
            .parse()
            .map_err(|_| TimestampError("invalid number"))?;
        return Timestamp::from_unix_number(value);
    }
    let bytes = input.as_bytes();
    if bytes.len() < 10 {
        return Err(TimestampError("input is too short"));
    }
    let date = parse_date(&bytes[..10]).ok_or(TimestampError("invalid date separator"))?;
    if bytes.len() == 10 {
        return Ok(naive(date.and_time(NaiveTime::MIN)));
    }
    if !matches!(bytes[10], b'T' | b't' | b' ' | b'_') {
        return Err(TimestampError("invalid character in date-time separator"));
    }
    let rest = &bytes[11..];
    let (time, used) = parse_time(rest).ok_or(TimestampError("invalid time"))?;
    let datetime = date.and_time(time);
    let tail = &rest[used..];
    let offset = match tail {
        [] => return Ok(naive(datetime)),
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let hours = two_digits(*h1, *h2).ok_or(TimestampError("invalid timezone"))?;
            let minutes = two_digits(*m1, *m2).ok_or(TimestampError("invalid timezone"))?;
            if hours > 23 || minutes > 59 {
                return Err(TimestampError("timezone offset is out of range"));
            }
            let secs = (hours * 3600 + minutes * 60) as i32;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => {
            return Err(TimestampError(
                "unexpected extra characters at the end of the input",
            ));
        }
    };
    let utc = datetime.and_utc().timestamp_micros() - i64::from(offset) * 1_000_000;
    Ok(Timestamp {
        micros: utc,
        offset: if offset == 0 {
            Offset::Utc
        } else {
            Offset::Fixed(offset)
        },
    })
}

fn naive(datetime: NaiveDateTime) -> Timestamp {
    Timestamp {
        micros: datetime.and_utc().timestamp_micros(),
        offset: Offset::Naive,
    }
}

fn two_digits(a: u8, b: u8) -> Option<u32> {
    (a.is_ascii_digit() && b.is_ascii_digit())
        .then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
}

fn parse_date(b: &[u8]) -> Option<NaiveDate> {
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = two_digits(b[0], b[1])? * 100 + two_digits(b[2], b[3])?;
    let month = two_digits(b[5], b[6])?;
    let day = two_digits(b[8], b[9])?;
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

/// Parses `HH:MM[:SS[.ffffff…]]`, returning the time and the bytes used.
fn parse_time(b: &[u8]) -> Option<(NaiveTime, usize)> {
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let hour = two_digits(b[0], b[1])?;
    let minute = two_digits(b[3], b[4])?;
    let mut used = 5;
    let mut second = 0;
    let mut micros = 0u32;
    if b.len() >= 8 && b[5] == b':' {
        second = two_digits(b[6], b[7])?;
        used = 8;
        if b.len() > 8 && matches!(b[8], b'.' | b',') {
            let digits = b[9..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            for (i, d) in b[9..9 + digits].iter().enumerate() {
                if i < 6 {
                    micros = micros * 10 + u32::from(d - b'0');
                }
            }
            for _ in digits..6 {
                micros *= 10;
            }
            used = 9 + digits;
        }
    }
    NaiveTime::from_hms_micro_opt(hour, minute, second, micros).map(|t| (t, used))
}

/// Longest wire form: `YYYY-MM-DDTHH:MM:SS.ffffff+hh:mm`.
const WIRE_MAX: usize = 32;

fn put2(buf: &mut [u8], at: usize, value: u32) {
    buf[at] = b'0' + (value / 10 % 10) as u8;
    buf[at + 1] = b'0' + (value % 10) as u8;
}

impl Timestamp {
    /// Writes the wire form into `buf` without `core::fmt` (this is on every response), or
    /// `None` for years outside 0‥=9999, which take the formatting path.
    fn write_wire(&self, buf: &mut [u8; WIRE_MAX]) -> Option<usize> {
        let local = self.local();
        let year = u32::try_from(local.year()).ok().filter(|y| *y <= 9999)?;
        put2(buf, 0, year / 100);
        put2(buf, 2, year % 100);
        buf[4] = b'-';
        put2(buf, 5, local.month());
        buf[7] = b'-';
        put2(buf, 8, local.day());
        buf[10] = b'T';
        put2(buf, 11, local.hour());
        buf[13] = b':';
        put2(buf, 14, local.minute());
        buf[16] = b':';
        put2(buf, 17, local.second());
        let mut len = 19;
        let micros = local.nanosecond() / 1000 % 1_000_000;
        if micros != 0 {
            buf[19] = b'.';
            put2(buf, 20, micros / 10_000);
            put2(buf, 22, micros / 100 % 100);
            put2(buf, 24, micros % 100);
            len = 26;
        }
        match self.offset {
            Offset::Utc => {
                buf[len] = b'Z';
                len += 1;
            }
            Offset::Naive => {}
            Offset::Fixed(secs) => {
                buf[len] = if secs < 0 { b'-' } else { b'+' };
                let secs = secs.unsigned_abs();
                put2(buf, len + 1, secs / 3600);
                buf[len + 3] = b':';
                put2(buf, len + 4, (secs % 3600) / 60);
                len += 6;
            }
        }
        Some(len)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; WIRE_MAX];
        if let Some(len) = self.write_wire(&mut buf) {
            // Only ASCII digits and separators were written.
            return f.write_str(std::str::from_utf8(&buf[..len]).map_err(|_| fmt::Error)?);
        }
        let local = self.local();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            local.year(),
            local.month(),
            local.day(),
            local.hour(),
            local.minute(),
            local.second()
        )?;
        let micros = local.nanosecond() / 1000;
        if micros != 0 {
            write!(f, ".{micros:06}")?;
        }
        match self.offset {
            Offset::Utc => f.write_str("Z"),
            Offset::Naive => Ok(()),
            Offset::Fixed(secs) => {
                let sign = if secs < 0 { '-' } else { '+' };
                let secs = secs.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", secs / 3600, (secs % 3600) / 60)
            }
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; WIRE_MAX];
        match self.write_wire(&mut buf) {
            Some(len) => match std::str::from_utf8(&buf[..len]) {
                Ok(text) => serializer.serialize_str(text),
                Err(_) => serializer.collect_str(self),
            },
            None => serializer.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimestampVisitor)
    }
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date-time string or Unix time")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
        let kind = if v.len() <= 10 {
            "datetime_from_date_parsing"
        } else {
            "datetime_parsing"
        };
        parse_str(v).map_err(|e| verr::error(kind, e))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
        Timestamp::from_unix_number(v as f64).map_err(|e| verr::error("datetime_parsing", e))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
        Timestamp::from_unix_number(v as f64).map_err(|e| verr::error("datetime_parsing", e))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
        Timestamp::from_unix_number(v).map_err(|e| verr::error("datetime_parsing", e))
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "date-time"})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(s: &str) -> String {
        s.parse::<Timestamp>().expect(s).to_string()
    }

    #[test]
    fn serializes_like_the_reference() {
        assert_eq!(round("2026-01-01T12:00:00Z"), "2026-01-01T12:00:00Z");
        assert_eq!(round("2026-01-01T12:00:00+00:00"), "2026-01-01T12:00:00Z");
        assert_eq!(
            round("2026-11-24T00:19:55.250329Z"),
            "2026-11-24T00:19:55.250329Z"
        );
        assert_eq!(
            round("2026-01-01T02:00:00.5+02:00"),
            "2026-01-01T02:00:00.500000+02:00"
        );
        assert_eq!(
            round("2026-01-01T02:00:00-05:30"),
            "2026-01-01T02:00:00-05:30"
        );
        assert_eq!(round("2026-01-01 00:00:00"), "2026-01-01T00:00:00");
        assert_eq!(round("2026-01-01"), "2026-01-01T00:00:00");
        assert_eq!(
            round("2026-01-01T12:00:00.1234567Z"),
            "2026-01-01T12:00:00.123456Z"
        );
        assert_eq!(round("1767268800"), "2026-01-01T12:00:00Z");
        assert_eq!(round("1767268800000"), "2026-01-01T12:00:00Z");
    }

    #[test]
    fn fast_wire_form_matches_the_formatting_path() {
        for text in [
            "2026-01-01T12:00:00Z",
            "2026-11-24T00:19:55.250329Z",
            "2026-01-01T02:00:00.000001-05:30",
            "0999-12-31T23:59:59.999999+14:00",
            "2026-01-01T00:00:00",
            "1970-01-01T00:00:00.5Z",
        ] {
            let t: Timestamp = text.parse().expect(text);
            let json = serde_json::to_string(&t).expect("json");
            assert_eq!(json, format!("\"{t}\""));
            let local = t.local();
            let slow = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                local.year(),
                local.month(),
                local.day(),
                local.hour(),
                local.minute(),
                local.second()
            );
            assert!(t.to_string().starts_with(&slow), "{text}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "yesterday",
            "",
            "2026-13-01",
            "2026-01-01T25:00:00Z",
            "2026-01-01T12:00:00+2",
            "2026-01-01X",
        ] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad}");
        }
    }

    #[test]
    fn instants_compare_across_offsets() {
        let a: Timestamp = "2026-01-01T14:00:00+02:00".parse().expect("a");
        let b: Timestamp = "2026-01-01T12:00:00Z".parse().expect("b");
        assert_eq!(a.unix_micros(), b.unix_micros());
        assert_eq!(a.to_utc(), b);
    }
}
