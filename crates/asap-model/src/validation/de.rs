//! Helpers to raise typed errors from inside `Deserialize` implementations.
//!
//! serde errors carry only a message, so a typed error is encoded into the message with a
//! private separator and decoded again by [`super::classify`].

use std::fmt::Display;

/// Separator between the error kind and the message.
pub(crate) const MARK: char = '\u{1f}';

/// Builds a serde error of the given pydantic-style `kind`.
pub(crate) fn error<E: serde::de::Error>(kind: &str, msg: impl Display) -> E {
    E::custom(format_args!("{MARK}{kind}{MARK}{msg}"))
}

/// Builds a `value_error`.
pub(crate) fn value_error<E: serde::de::Error>(msg: impl Display) -> E {
    error("value_error", msg)
}

/// Re-raises an already located [`super::ValidationError`] through serde, keeping its location.
pub(crate) fn located<E: serde::de::Error>(err: &super::ValidationError) -> E {
    let loc = serde_json::to_string(&err.loc).unwrap_or_default();
    E::custom(format_args!(
        "{MARK}{}{MARK}{}{MARK}{loc}",
        err.kind, err.msg
    ))
}

/// A typed error encoded as a plain message, for `TryFrom` conversions used by serde.
pub(crate) fn encode(kind: &str, msg: impl Display) -> String {
    format!("{MARK}{kind}{MARK}{msg}")
}
