//! Nesting depth check run before the simd-json fast path.
//!
//! Deserializing free-form values recurses once per nesting level. serde_json stops at 128
//! levels; the simd-json path has no such limit, so a few kilobytes of `[[[[…` could exhaust
//! the stack. Bodies nested deeper than [`MAX_DEPTH`] skip the fast path and get serde_json's
//! error (`-32700`).

/// Maximum nesting of arrays and objects accepted on the fast path (serde_json's limit).
pub const MAX_DEPTH: usize = 128;

/// Whether `body` nests arrays/objects at most `max` levels deep. Brackets inside strings
/// are ignored; malformed JSON is answered by the parser, not here.
pub(crate) fn within_depth(body: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::within_depth;

    #[test]
    fn counts_nesting_outside_strings() {
        assert!(within_depth(br#"{"a":[1,{"b":"[[[[["}]}"#, 3));
        assert!(!within_depth(br#"{"a":[1,{"b":[]}]}"#, 3));
        assert!(within_depth(br#"{"a":"\"[[[["}"#, 1));
        let deep = "[".repeat(10_000);
        assert!(!within_depth(deep.as_bytes(), 128));
    }
}
