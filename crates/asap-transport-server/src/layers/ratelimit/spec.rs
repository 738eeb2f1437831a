//! Parsing the rate limit syntax of the reference (`ASAP_RATE_LIMIT`, PROTOCOL §11.4, §17).

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

/// The default rate limit of the reference: `10/second;100/minute`.
pub const DEFAULT_RATE_LIMIT: &str = "10/second;100/minute";

/// The time unit of a [`RateLimitItem`].
///
/// A month is 30 days and a year 365 days, as in the reference's `limits` library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// One second.
    Second,
    /// 60 seconds.
    Minute,
    /// 3600 seconds.
    Hour,
    /// 86 400 seconds.
    Day,
    /// 30 days.
    Month,
    /// 365 days.
    Year,
}

impl TimeUnit {
    const ALL: [TimeUnit; 6] = [
        TimeUnit::Second,
        TimeUnit::Minute,
        TimeUnit::Hour,
        TimeUnit::Day,
        TimeUnit::Month,
        TimeUnit::Year,
    ];

    /// The singular lowercase name: `second`, `minute`, …
    pub const fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Second => "second",
            TimeUnit::Minute => "minute",
            TimeUnit::Hour => "hour",
            TimeUnit::Day => "day",
            TimeUnit::Month => "month",
            TimeUnit::Year => "year",
        }
    }

    /// The length of one unit in seconds.
    pub const fn seconds(self) -> u64 {
        const DAY: u64 = 24 * 60 * 60;
        match self {
            TimeUnit::Second => 1,
            TimeUnit::Minute => 60,
            TimeUnit::Hour => 60 * 60,
            TimeUnit::Day => DAY,
            TimeUnit::Month => 30 * DAY,
            TimeUnit::Year => 365 * DAY,
        }
    }

    /// Matches a full unit name, singular or plural, ignoring ASCII case.
    /// Abbreviations (`sec`, `min`, `hr`) are not units (I-22).
    fn from_word(word: &str) -> Option<Self> {
        TimeUnit::ALL.into_iter().find(|unit| {
            let name = unit.as_str();
            word.eq_ignore_ascii_case(name)
                || (word.len() == name.len() + 1
                    && word
                        .get(..name.len())
                        .is_some_and(|w| w.eq_ignore_ascii_case(name))
                    && word.ends_with(['s', 'S']))
        })
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a rate limit string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimitSpecError {
    /// The string holds no limit at all.
    #[error("empty rate limit: expected items such as `10/second;100/minute`")]
    Empty,
    /// Two separators follow each other, or the string starts or ends with one.
    #[error("empty rate limit item at position {position} (items are separated by `;` or `,`)")]
    EmptyItem {
        /// Zero-based index of the empty item.
        position: usize,
    },
    /// The item is not of the form `N/unit`, `N per unit`, `N/k units` or `N per k units`.
    #[error(
        "invalid rate limit item {item:?}: expected `N/unit`, `N per unit`, `N/k units` or `N per k units`"
    )]
    Syntax {
        /// The offending item.
        item: String,
    },
    /// The unit is not one of the accepted names.
    #[error(
        "unknown time unit {unit:?} in rate limit item {item:?}: expected second, minute, hour, day, month or year (abbreviations such as sec, min, hr are not accepted)"
    )]
    UnknownUnit {
        /// The offending item.
        item: String,
        /// The word found where the unit was expected.
        unit: String,
    },
    /// The request count `N` is 0.
    #[error("rate limit item {item:?} allows no request: the count must be at least 1")]
    ZeroCount {
        /// The offending item.
        item: String,
    },
    /// The unit multiplier `k` is 0.
    #[error("rate limit item {item:?} has an empty period: the multiplier must be at least 1")]
    ZeroMultiple {
        /// The offending item.
        item: String,
    },
    /// A number does not fit in 32 bits.
    #[error("number too large in rate limit item {item:?} (at most {max})", max = u32::MAX)]
    NumberTooLarge {
        /// The offending item.
        item: String,
    },
    /// More than one request per nanosecond: such a limit cannot be enforced.
    #[error("rate limit item {item:?} allows more than one request per nanosecond")]
    TooFrequent {
        /// The offending item.
        item: String,
    },
}

/// One limit: at most `count` requests per `multiple` × `unit`.
///
/// Displays as `<count> per <multiple> <unit>` (for example `10 per 1 second`), the text of
/// `data.limit` in 429 responses (PROTOCOL §11.4, REC). The text parses back to the same item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimitItem {
    count: NonZeroU32,
    multiple: NonZeroU32,
    unit: TimeUnit,
}

impl RateLimitItem {
    /// At most `count` requests per `multiple` × `unit`.
    ///
    /// Fails when `count` or `multiple` is 0, or when the limit allows more than one request
    /// per nanosecond.
    pub fn new(count: u32, multiple: u32, unit: TimeUnit) -> Result<Self, RateLimitSpecError> {
        let text = || format!("{count} per {multiple} {unit}");
        let count =
            NonZeroU32::new(count).ok_or_else(|| RateLimitSpecError::ZeroCount { item: text() })?;
        let multiple = NonZeroU32::new(multiple)
            .ok_or_else(|| RateLimitSpecError::ZeroMultiple { item: text() })?;
        let item = Self {
            count,
            multiple,
            unit,
        };
        if item.interval().is_zero() {
            return Err(RateLimitSpecError::TooFrequent { item: text() });
        }
        Ok(item)
    }

    /// The number of requests allowed per period.
    pub fn count(&self) -> NonZeroU32 {
        self.count
    }

    /// How many units make the period (the `k` of `N/k units`; 1 when absent).
    pub fn multiple(&self) -> NonZeroU32 {
        self.multiple
    }

    /// The period's unit.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// The period: `multiple` × `unit`.
    pub fn period(&self) -> Duration {
        // At most u32::MAX × 365 days ≈ 1.4e17 s: fits in a u64 of seconds.
        Duration::from_secs(u64::from(self.multiple.get()) * self.unit.seconds())
    }

    /// The time in which one request's worth of allowance is regained: `period / count`.
    pub fn interval(&self) -> Duration {
        self.period() / self.count.get()
    }

    fn parse(item: &str) -> Result<Self, RateLimitSpecError> {
        let syntax = || RateLimitSpecError::Syntax {
            item: item.to_owned(),
        };
        let too_large = || RateLimitSpecError::NumberTooLarge {
            item: item.to_owned(),
        };

        let (count, rest) = split_number(item.trim()).ok_or_else(syntax)?;
        let rest = rest.trim_start();
        let rest = if let Some(rest) = rest.strip_prefix('/') {
            rest
        } else if rest.get(..3).is_some_and(|w| w.eq_ignore_ascii_case("per")) {
            &rest[3..]
        } else {
            return Err(syntax());
        };
        let rest = rest.trim_start();
        let (multiple, rest) = match split_number(rest) {
            Some((multiple, rest)) => (Some(multiple), rest.trim_start()),
            None => (None, rest),
        };
        let word = rest.trim_end();
        if word.is_empty() || !word.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(syntax());
        }
        let unit = TimeUnit::from_word(word).ok_or_else(|| RateLimitSpecError::UnknownUnit {
            item: item.to_owned(),
            unit: word.to_owned(),
        })?;

        let count: u32 = count.parse().map_err(|_| too_large())?;
        let multiple: u32 = multiple
            .map_or(Ok(1), str::parse)
            .map_err(|_| too_large())?;
        // Re-label construction errors with the item as written.
        Self::new(count, multiple, unit).map_err(|error| match error {
            RateLimitSpecError::ZeroCount { .. } => RateLimitSpecError::ZeroCount {
                item: item.to_owned(),
            },
            RateLimitSpecError::ZeroMultiple { .. } => RateLimitSpecError::ZeroMultiple {
                item: item.to_owned(),
            },
            RateLimitSpecError::TooFrequent { .. } => RateLimitSpecError::TooFrequent {
                item: item.to_owned(),
            },
            other => other,
        })
    }
}

/// Splits a leading run of ASCII digits (no sign) from `s`.
fn split_number(s: &str) -> Option<(&str, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    (end > 0).then(|| s.split_at(end))
}

impl fmt::Display for RateLimitItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} per {} {}", self.count, self.multiple, self.unit)
    }
}

impl FromStr for RateLimitItem {
    type Err = RateLimitSpecError;

    /// Parses one item; see [`RateLimitSpec`] for the syntax.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err(RateLimitSpecError::Empty);
        }
        Self::parse(s)
    }
}

/// A rate limit: one or more [`RateLimitItem`]s, all of which must pass.
///
/// The syntax is the reference's (the Python `limits` library, PROTOCOL §11.4): items separated
/// by `;` or `,`, each `N/unit`, `N per unit`, `N/k units` or `N per k units`, with units
/// `second`, `minute`, `hour`, `day`, `month` (30 days) and `year` (365 days), singular or
/// plural, in any case, with any whitespace around the parts. Abbreviations such as `sec`,
/// `min` or `hr` are refused (I-22), as are a count or multiplier of 0 and empty items.
///
/// [`Display`](fmt::Display) writes the compact form, `N/unit` or `N/k units` joined by `;`,
/// which parses back to the same limit; the [default](Default), [`DEFAULT_RATE_LIMIT`],
/// displays as itself. Each item displays as `N per k unit` (the `data.limit` text).
///
/// ```
/// use asap_transport_server::layers::ratelimit::{RateLimitSpec, RateLimitSpecError};
///
/// let spec: RateLimitSpec = "10/second; 100 per minute, 5 per 2 Hours".parse().unwrap();
/// let limits: Vec<String> = spec.items().iter().map(ToString::to_string).collect();
/// assert_eq!(limits, ["10 per 1 second", "100 per 1 minute", "5 per 2 hour"]);
/// assert_eq!(spec.to_string(), "10/second;100/minute;5/2 hours");
/// assert_eq!(spec.to_string().parse::<RateLimitSpec>().unwrap(), spec);
///
/// assert_eq!(RateLimitSpec::default().to_string(), "10/second;100/minute");
/// assert!(matches!(
///     "10/sec".parse::<RateLimitSpec>(),
///     Err(RateLimitSpecError::UnknownUnit { .. })
/// ));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateLimitSpec {
    items: Vec<RateLimitItem>,
}

impl RateLimitSpec {
    /// A limit made of `items`; `None` when `items` is empty.
    pub fn new(items: Vec<RateLimitItem>) -> Option<Self> {
        (!items.is_empty()).then_some(Self { items })
    }

    /// The items, in the order given (never empty).
    pub fn items(&self) -> &[RateLimitItem] {
        &self.items
    }
}

impl Default for RateLimitSpec {
    fn default() -> Self {
        DEFAULT_RATE_LIMIT
            .parse()
            .expect("DEFAULT_RATE_LIMIT is a valid rate limit")
    }
}

impl FromStr for RateLimitSpec {
    type Err = RateLimitSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err(RateLimitSpecError::Empty);
        }
        let items = s
            .split([';', ','])
            .enumerate()
            .map(|(position, item)| {
                if item.trim().is_empty() {
                    Err(RateLimitSpecError::EmptyItem { position })
                } else {
                    RateLimitItem::parse(item)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { items })
    }
}

impl fmt::Display for RateLimitSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            match item.multiple.get() {
                1 => write!(f, "{}/{}", item.count, item.unit)?,
                k => write!(f, "{}/{k} {}s", item.count, item.unit)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(s: &str) -> RateLimitItem {
        s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn spec(s: &str) -> RateLimitSpec {
        s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn err(s: &str) -> RateLimitSpecError {
        match s.parse::<RateLimitSpec>() {
            Ok(spec) => panic!("{s:?} parsed as {spec}"),
            Err(e) => e,
        }
    }

    #[test]
    fn default_is_ten_per_second_and_hundred_per_minute() {
        let spec = RateLimitSpec::default();
        assert_eq!(spec, self::spec(DEFAULT_RATE_LIMIT));
        assert_eq!(spec.items().len(), 2);
        assert_eq!(spec.items()[0].count().get(), 10);
        assert_eq!(spec.items()[0].period(), Duration::from_secs(1));
        assert_eq!(spec.items()[1].count().get(), 100);
        assert_eq!(spec.items()[1].period(), Duration::from_secs(60));
        assert_eq!(spec.to_string(), DEFAULT_RATE_LIMIT);
    }

    #[test]
    fn all_item_forms() {
        for s in [
            "10/second",
            "10 / second",
            "10 per second",
            "10per second",
            "10 PER Second",
            "10/seconds",
            "10/1 second",
            "10 per 1 seconds",
            "  10  /  1  SECONDS  ",
            "10/1second",
            "010/second",
        ] {
            assert_eq!(item(s).to_string(), "10 per 1 second", "{s:?}");
        }
        assert_eq!(item("5 per 2 minutes").to_string(), "5 per 2 minute");
        assert_eq!(item("5/2minute").period(), Duration::from_secs(120));
    }

    #[test]
    fn every_unit() {
        for (s, secs) in [
            ("1/second", 1),
            ("1/minute", 60),
            ("1/hour", 3_600),
            ("1/day", 86_400),
            ("1/month", 30 * 86_400),
            ("1/year", 365 * 86_400),
            ("1/Hours", 3_600),
            ("1/DAYS", 86_400),
            ("1/months", 30 * 86_400),
            ("1/years", 365 * 86_400),
            ("1/3 days", 3 * 86_400),
        ] {
            assert_eq!(item(s).period(), Duration::from_secs(secs), "{s:?}");
        }
    }

    #[test]
    fn separators_and_display() {
        let spec = spec("10/second;100/minute, 1000 per 2 hours ; 5/day");
        let texts: Vec<String> = spec.items().iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "10 per 1 second",
                "100 per 1 minute",
                "1000 per 2 hour",
                "5 per 1 day"
            ]
        );
        assert_eq!(spec.to_string(), "10/second;100/minute;1000/2 hours;5/day");
        // Display parses back.
        assert_eq!(self::spec(&spec.to_string()), spec);
        for item in spec.items() {
            assert_eq!(self::item(&item.to_string()), *item);
        }
    }

    #[test]
    fn abbreviations_are_rejected() {
        for (s, unit) in [
            ("10/sec", "sec"),
            ("10/min", "min"),
            ("10/hr", "hr"),
            ("10 per secs", "secs"),
            ("10/mins", "mins"),
            ("10/s", "s"),
            ("10/weeks", "weeks"),
            ("10/secondss", "secondss"),
        ] {
            assert_eq!(
                err(s),
                RateLimitSpecError::UnknownUnit {
                    item: s.into(),
                    unit: unit.into()
                },
                "{s:?}"
            );
        }
        // The error message says why.
        assert!(err("10/sec").to_string().contains("abbreviations"));
    }

    #[test]
    fn malformed_items_are_rejected() {
        for s in [
            "10",
            "second",
            "/second",
            "per second",
            "ten/second",
            "10 second",
            "10 / ",
            "10 by second",
            "10//second",
            "-1/second",
            "+1/second",
            "1.5/second",
            "10/second extra",
            "10/2 3 seconds",
            "10 per p second",
            "10/second/2",
        ] {
            assert!(
                matches!(err(s), RateLimitSpecError::Syntax { .. }),
                "{s:?}: {:?}",
                err(s)
            );
        }
    }

    #[test]
    fn empty_and_zero_and_overflow_are_rejected() {
        assert_eq!(err(""), RateLimitSpecError::Empty);
        assert_eq!(err("   "), RateLimitSpecError::Empty);
        assert_eq!(
            err("10/second;"),
            RateLimitSpecError::EmptyItem { position: 1 }
        );
        assert_eq!(
            err(";10/second"),
            RateLimitSpecError::EmptyItem { position: 0 }
        );
        assert_eq!(
            err("10/second;, 5/minute"),
            RateLimitSpecError::EmptyItem { position: 1 }
        );
        assert!(matches!(
            err("0/second"),
            RateLimitSpecError::ZeroCount { .. }
        ));
        assert!(matches!(
            err("10/0 seconds"),
            RateLimitSpecError::ZeroMultiple { .. }
        ));
        assert!(matches!(
            err("4294967296/second"),
            RateLimitSpecError::NumberTooLarge { .. }
        ));
        assert!(matches!(
            err("1/4294967296 seconds"),
            RateLimitSpecError::NumberTooLarge { .. }
        ));
        assert!(matches!(
            err("2000000000/second"),
            RateLimitSpecError::TooFrequent { .. }
        ));
        // The first bad item is reported, with its text.
        assert_eq!(
            err("10/second; 0 per minute"),
            RateLimitSpecError::ZeroCount {
                item: " 0 per minute".into()
            }
        );
        // Largest values are fine.
        let big = item("4294967295 per 4294967295 years");
        assert_eq!(big.count().get(), u32::MAX);
        assert_eq!(
            big.period(),
            Duration::from_secs(u64::from(u32::MAX) * 365 * 86_400)
        );
    }

    #[test]
    fn constructor_validates() {
        assert_eq!(
            RateLimitItem::new(10, 1, TimeUnit::Second)
                .unwrap()
                .to_string(),
            "10 per 1 second"
        );
        assert!(RateLimitItem::new(0, 1, TimeUnit::Second).is_err());
        assert!(RateLimitItem::new(1, 0, TimeUnit::Second).is_err());
        assert!(RateLimitSpec::new(Vec::new()).is_none());
        assert_eq!("".parse::<RateLimitItem>(), Err(RateLimitSpecError::Empty));
    }
}
