//! Entity tags of compressed representations: the one owner of the rule.
//!
//! A strong `ETag` names one representation (RFC 9110 §8.8.3), so response compression
//! appends the coding to it (`"abc"` → `"abc-br"`), and a conditional request carrying the
//! tag of any coding of the same resource matches it. Both halves live here, and the
//! codings come from [`response_encodings`], so a coding added there is tagged and matched
//! alike.

use asap_codec::compression::Encoding;
use http::{HeaderMap, HeaderValue, header};

use crate::layers::compression::response_encodings;

/// Appends `-<coding>` inside the quotes of a strong `ETag` in `headers`; weak or malformed
/// tags are left alone.
pub(crate) fn tag_encoded(headers: &mut HeaderMap, encoding: Encoding) {
    let tagged = headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .and_then(|etag| etag.strip_prefix('"')?.strip_suffix('"'))
        .and_then(|inner| {
            HeaderValue::from_str(&format!("\"{inner}-{}\"", encoding.as_str())).ok()
        });
    if let Some(tagged) = tagged {
        headers.insert(header::ETAG, tagged);
    }
}

/// The tag of the identity representation: `"abc-br"` → `"abc"` for every offered coding,
/// anything else unchanged. Takes and returns the quoted form.
fn identity_tag(tag: &str) -> std::borrow::Cow<'_, str> {
    if let Some(unquoted) = tag.strip_suffix('"') {
        for encoding in response_encodings() {
            if let Some(base) = unquoted
                .strip_suffix(encoding.as_str())
                .and_then(|rest| rest.strip_suffix('-'))
            {
                return std::borrow::Cow::Owned(format!("{base}\""));
            }
        }
    }
    std::borrow::Cow::Borrowed(tag)
}

/// Whether the request's `If-None-Match` matches `etag` (the identity tag): `*`, the tag
/// itself, or the tag of any of its codings; weak comparison, as RFC 9110 §13.1.2 requires.
pub(crate) fn if_none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || identity_tag(t).as_bytes() == etag.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_tags_match_their_identity_tag() {
        let etag = HeaderValue::from_static("\"0123abcd\"");
        for encoding in response_encodings() {
            let mut headers = HeaderMap::new();
            headers.insert(header::ETAG, etag.clone());
            tag_encoded(&mut headers, *encoding);
            let tagged = headers[header::ETAG].clone();
            assert_ne!(tagged, etag);
            let mut request = HeaderMap::new();
            request.insert(header::IF_NONE_MATCH, tagged);
            assert!(if_none_match(&request, &etag), "{encoding:?}");
        }
        let mut request = HeaderMap::new();
        request.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("W/\"other\", \"0123abcd-xz\""),
        );
        assert!(!if_none_match(&request, &etag));
        request.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(if_none_match(&request, &etag));
        let mut weak = HeaderMap::new();
        weak.insert(header::ETAG, HeaderValue::from_static("W/\"x\""));
        tag_encoded(&mut weak, Encoding::Identity);
        assert_eq!(weak[header::ETAG], "W/\"x\"");
    }
}
