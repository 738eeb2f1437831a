//! Agent URNs: `urn:asap:agent:<name>[:<sub>]`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::validation::de;

/// The URN syntax as a regular expression (informative; [`AgentUrn::parse`] implements it
/// without a regex engine). Note that `$` does not match before a trailing newline.
pub const AGENT_URN_PATTERN: &str = r"^urn:asap:agent:[a-z0-9-]+(?::[a-z0-9-]+)?$";

/// Maximum length of an agent URN in characters, checked before the syntax.
pub const MAX_URN_LENGTH: usize = 256;

const PREFIX: &str = "urn:asap:agent:";

/// Why a string is not an agent URN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrnError {
    /// Longer than [`MAX_URN_LENGTH`] characters.
    #[error("Agent URN must be at most {MAX_URN_LENGTH} characters, got {0}")]
    TooLong(usize),
    /// Does not match [`AGENT_URN_PATTERN`].
    #[error("Agent ID must follow URN format 'urn:asap:agent:{{name}}', got: {0}")]
    Format(String),
}

/// A validated agent URN such as `urn:asap:agent:research:v2`.
///
/// Used for `Envelope.sender`, `Envelope.recipient`, `Manifest.id` and `Agent.id`.
///
/// ```
/// use asap_model::AgentUrn;
///
/// let urn: AgentUrn = "urn:asap:agent:research:v2".parse().unwrap();
/// assert_eq!(urn.name(), "research");
/// assert_eq!(urn.sub_segment(), Some("v2"));
/// assert!("urn:asap:agent:Research".parse::<AgentUrn>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentUrn(String);

impl AgentUrn {
    /// Validates `value` (length first, then syntax) and wraps it.
    pub fn parse(value: impl Into<String>) -> Result<Self, UrnError> {
        let value = value.into();
        validate(&value)?;
        Ok(Self(value))
    }

    /// A URN from a string literal known to be valid, like `http::HeaderValue::from_static`.
    ///
    /// # Panics
    ///
    /// When `value` is not a valid URN; use [`AgentUrn::parse`] for input that is not a literal.
    ///
    /// ```
    /// use asap_model::AgentUrn;
    ///
    /// let urn = AgentUrn::from_static("urn:asap:agent:echo");
    /// assert_eq!(urn.name(), "echo");
    /// ```
    pub fn from_static(value: &'static str) -> Self {
        match validate(value) {
            Ok(()) => Self(value.to_owned()),
            Err(e) => panic!("invalid agent URN literal {value:?}: {e}"),
        }
    }

    /// Builds `urn:asap:agent:<name>`, validating the result.
    pub fn from_name(name: &str) -> Result<Self, UrnError> {
        Self::parse(format!("{PREFIX}{name}"))
    }

    /// The URN text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The agent name (first segment after `urn:asap:agent:`).
    pub fn name(&self) -> &str {
        let rest = &self.0[PREFIX.len()..];
        rest.split(':').next().unwrap_or(rest)
    }

    /// The optional sub-segment (`v2` in `urn:asap:agent:research:v2`).
    pub fn sub_segment(&self) -> Option<&str> {
        self.0[PREFIX.len()..].split_once(':').map(|(_, s)| s)
    }

    /// Consumes the URN, returning its text.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Checks `value` against the URN rules without allocating.
pub fn validate(value: &str) -> Result<(), UrnError> {
    let chars = value.chars().count();
    if chars > MAX_URN_LENGTH {
        return Err(UrnError::TooLong(chars));
    }
    let ok = value.strip_prefix(PREFIX).is_some_and(|rest| {
        let mut segments = rest.splitn(2, ':');
        let name_ok = segments.next().is_some_and(is_segment);
        name_ok && segments.next().is_none_or(is_segment)
    });
    if ok {
        Ok(())
    } else {
        Err(UrnError::Format(value.to_owned()))
    }
}

fn is_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl FromStr for AgentUrn {
    type Err = UrnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for AgentUrn {
    type Error = UrnError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl fmt::Display for AgentUrn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for AgentUrn {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for AgentUrn {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for AgentUrn {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Serialize for AgentUrn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AgentUrn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        AgentUrn::parse(value).map_err(de::value_error)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for AgentUrn {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AgentUrn".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string"})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects_like_the_spec() {
        for ok in [
            "urn:asap:agent:a",
            "urn:asap:agent:research-v1",
            "urn:asap:agent:research:v2",
        ] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in [
            "urn:asap:agent:",
            "urn:asap:agent:Foo",
            "urn:asap:agent:a:b:c",
            "urn:asap:agent:a_b",
            "urn:asap:agent:a.b",
            "urn:asap:agent:abc\n",
            "urn:asap:agent:a:",
            "urn:asap:agents:a",
        ] {
            assert!(matches!(validate(bad), Err(UrnError::Format(_))), "{bad:?}");
        }
        let long = format!("urn:asap:agent:{}", "a".repeat(242));
        assert_eq!(validate(&long), Err(UrnError::TooLong(257)));
        assert_eq!(
            UrnError::TooLong(257).to_string(),
            "Agent URN must be at most 256 characters, got 257"
        );
        assert_eq!(
            UrnError::Format("x".into()).to_string(),
            "Agent ID must follow URN format 'urn:asap:agent:{name}', got: x"
        );
    }
}
