//! JSON-RPC request ids.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JSON-RPC request id: a string or an integer, echoed with the same JSON type.
///
/// Like the reference, `true`/`false` are read as `1`/`0` and integral floats (`7.0`) as
/// integers; `null` is not an id (notifications are not supported).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Id {
    /// A string id such as `"req-1"`.
    Str(String),
    /// An integer id.
    Num(i64),
}

impl Id {
    /// Reads an id from a JSON value with the coercions of the reference, or `None`.
    pub fn from_value(value: &serde_json::Value) -> Option<Id> {
        use serde_json::Value;
        match value {
            Value::String(s) => Some(Id::Str(s.clone())),
            Value::Bool(b) => Some(Id::Num(i64::from(*b))),
            Value::Number(n) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                        .map(|f| f as i64)
                })
                .map(Id::Num),
            _ => None,
        }
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Str(s) => f.write_str(s),
            Id::Num(n) => write!(f, "{n}"),
        }
    }
}

impl From<&str> for Id {
    fn from(s: &str) -> Self {
        Id::Str(s.to_owned())
    }
}

impl From<String> for Id {
    fn from(s: String) -> Self {
        Id::Str(s)
    }
}

impl From<i64> for Id {
    fn from(n: i64) -> Self {
        Id::Num(n)
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Id::Str(s) => serializer.serialize_str(s),
            Id::Num(n) => serializer.serialize_i64(*n),
        }
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IdVisitor)
    }
}

struct IdVisitor;

impl Visitor<'_> for IdVisitor {
    type Value = Id;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or integer id")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
        Ok(Id::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Id, E> {
        Ok(Id::Str(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
        Ok(Id::Num(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
        i64::try_from(v)
            .map(Id::Num)
            .map_err(|_| E::custom("id out of range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id, E> {
        Id::from_value(&serde_json::Value::from(v))
            .ok_or_else(|| E::custom("id must be an integer"))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Id, E> {
        Ok(Id::Num(i64::from(v)))
    }
}
