//! The `-o ascii` rendering of PROTOCOL §14.4.

use serde_json::Number;

use super::tree::{Shape, render_tree};
use super::{Hop, Trace};

/// The text after the last `:` of a URN (`urn:asap:agent:echo` → `echo`); the whole text
/// when it has no `:`.
pub fn short(urn: &str) -> &str {
    urn.rsplit_once(':').map_or(urn, |(_, tail)| tail)
}

/// A duration as `asap trace` prints it: rounded to a whole number of milliseconds, halves
/// to even (15.4 → `15`, 22.5 → `22`, 23.5 → `24`), integers as logged.
pub fn format_ms(duration: &Number) -> String {
    if duration.is_f64() {
        let rounded = duration.as_f64().unwrap_or(0.0).round_ties_even();
        // `+ 0.0` turns -0 into 0: the reference prints the integer `round()` returns.
        format!("{:.0}", rounded + 0.0)
    } else {
        duration.to_string()
    }
}

/// `recipient (<ms>ms)`, or `recipient (?)` when the duration is unknown.
pub(super) fn label(hop: &Hop) -> String {
    match &hop.duration_ms {
        Some(ms) => format!("{} ({}ms)", short(&hop.recipient), format_ms(ms)),
        None => format!("{} (?)", short(&hop.recipient)),
    }
}

/// The ascii rendering, ending with a newline; empty when the trace has no hop.
///
/// A chain ([`Shape::Chain`]) is the reference's line
/// `<first sender> -> <recipient> (<ms>ms) -> …`, names shortened by [`short`] and
/// durations by [`format_ms`], `(?)` where unknown. A tree ([`Shape::Tree`]) is printed
/// indented, one hop a line (see [`Shape`] for the rule).
pub fn render_ascii(trace: &Trace) -> String {
    let Some(first) = trace.hops.first() else {
        return String::new();
    };
    match Shape::of(&trace.hops) {
        Shape::Chain => {
            let mut line = short(&first.sender).to_owned();
            for hop in &trace.hops {
                line.push_str(" -> ");
                line.push_str(&label(hop));
            }
            line.push('\n');
            line
        }
        Shape::Tree => render_tree(&trace.hops),
    }
}
