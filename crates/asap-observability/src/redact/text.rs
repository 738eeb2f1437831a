//! The rules applied to every string: credentials after an HTTP authentication scheme,
//! passwords in URLs, values of sensitive `name=value` parameters.
//!
//! Each rule scans the bytes once and returns the ranges to replace; all the patterns are
//! ASCII, so every range starts and ends on a UTF-8 character boundary.

use std::borrow::Cow;
use std::ops::Range;

use super::REDACTED;
use super::keys::is_sensitive_name;

/// Bytes that end a credential in free text: whitespace, quotes and angle brackets, which
/// surround values in messages and markup.
fn ends_credential(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>')
}

/// Replaces `ranges` (sorted, disjoint) of `s` by [`REDACTED`]; `None` when there is none,
/// so that nothing is allocated for a clean string.
fn replace(s: &str, ranges: &[Range<usize>]) -> Option<String> {
    if ranges.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(s.len() + ranges.len() * REDACTED.len());
    let mut at = 0;
    for range in ranges {
        out.push_str(&s[at..range.start]);
        out.push_str(REDACTED);
        at = range.end;
    }
    out.push_str(&s[at..]);
    Some(out)
}

/// Keeps `range` if it is not already exactly the marker (so that a second pass changes
/// nothing and allocates nothing).
fn push_unless_redacted(ranges: &mut Vec<Range<usize>>, s: &str, range: Range<usize>) {
    if !range.is_empty() && &s[range.clone()] != REDACTED {
        ranges.push(range);
    }
}

/// `Bearer <token>` and `Basic <credentials>`, scheme in any case, as a whole word, followed
/// by spaces or tabs; the credential runs to the next whitespace or quote.
fn auth_scheme_credentials(s: &str) -> Vec<Range<usize>> {
    let bytes = s.as_bytes();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let word_start = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let scheme_len = [&b"bearer"[..], b"basic"].into_iter().find_map(|scheme| {
            let candidate = bytes.get(i..i + scheme.len())?;
            candidate
                .eq_ignore_ascii_case(scheme)
                .then_some(scheme.len())
        });
        let (true, Some(len)) = (word_start, scheme_len) else {
            i += 1;
            continue;
        };
        let mut start = i + len;
        while bytes.get(start).is_some_and(|b| matches!(b, b' ' | b'\t')) {
            start += 1;
        }
        if start == i + len {
            i += len;
            continue;
        }
        let mut end = start;
        while bytes.get(end).is_some_and(|&b| !ends_credential(b)) {
            end += 1;
        }
        push_unless_redacted(&mut ranges, s, start..end);
        i = end.max(i + len);
    }
    ranges
}

/// The password of `scheme://user:password@host`: the authority runs from `://` to the next
/// `/`, `?`, `#`, whitespace or quote; its userinfo ends at the authority's last `@` and the
/// password starts after the userinfo's first `:`.
fn url_passwords(s: &str) -> Vec<Range<usize>> {
    let bytes = s.as_bytes();
    let mut ranges = Vec::new();
    let mut from = 0;
    while let Some(found) = s[from..].find("://") {
        let sep = from + found;
        let has_scheme = sep > 0
            && (bytes[sep - 1].is_ascii_alphanumeric()
                || matches!(bytes[sep - 1], b'+' | b'-' | b'.'));
        let authority_start = sep + 3;
        let mut authority_end = authority_start;
        while bytes
            .get(authority_end)
            .is_some_and(|&b| !ends_credential(b) && !matches!(b, b'/' | b'?' | b'#'))
        {
            authority_end += 1;
        }
        if has_scheme {
            let authority = &s[authority_start..authority_end];
            if let Some(at) = authority.rfind('@')
                && let Some(colon) = authority[..at].find(':')
            {
                push_unless_redacted(
                    &mut ranges,
                    s,
                    authority_start + colon + 1..authority_start + at,
                );
            }
        }
        from = authority_end.max(sep + 3);
    }
    ranges
}

/// Values of `name=value` pairs with a sensitive name, where the pair starts the string or
/// follows `?`, `&`, `;` or whitespace (query strings, form bodies, `key=value` messages and
/// cookie lists). The value runs to the next `&`, `;`, `#`, whitespace or quote.
fn sensitive_parameters(s: &str) -> Vec<Range<usize>> {
    let bytes = s.as_bytes();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let pair_start = i == 0
            || matches!(bytes[i - 1], b'?' | b'&' | b';')
            || bytes[i - 1].is_ascii_whitespace();
        if !pair_start {
            i += 1;
            continue;
        }
        let mut eq = i;
        while bytes
            .get(eq)
            .is_some_and(|&b| !ends_credential(b) && !matches!(b, b'=' | b'&' | b'?' | b'#' | b';'))
        {
            eq += 1;
        }
        if bytes.get(eq) != Some(&b'=') || !is_sensitive_name(&s[i..eq]) {
            i = eq.max(i + 1);
            continue;
        }
        let start = eq + 1;
        let mut end = start;
        while bytes
            .get(end)
            .is_some_and(|&b| !ends_credential(b) && !matches!(b, b'&' | b'#' | b';'))
        {
            end += 1;
        }
        push_unless_redacted(&mut ranges, s, start..end);
        i = end.max(i + 1);
    }
    ranges
}

/// Applies `rule` to the current text, keeping it borrowed when the rule finds nothing.
fn apply<'a>(text: Cow<'a, str>, rule: fn(&str) -> Vec<Range<usize>>) -> Cow<'a, str> {
    match replace(&text, &rule(&text)) {
        Some(redacted) => Cow::Owned(redacted),
        None => text,
    }
}

pub(crate) fn sanitize_str(s: &str) -> Cow<'_, str> {
    let text = apply(Cow::Borrowed(s), auth_scheme_credentials);
    let text = apply(text, url_passwords);
    apply(text, sensitive_parameters)
}

pub(crate) fn sanitize_url(url: &str) -> Cow<'_, str> {
    apply(
        apply(Cow::Borrowed(url), url_passwords),
        sensitive_parameters,
    )
}
