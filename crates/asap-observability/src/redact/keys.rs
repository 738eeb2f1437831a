//! Which names (object keys, query parameters, header names) are sensitive.

/// Words whose presence anywhere in a name, ignoring ASCII case, makes it sensitive.
///
/// `key` alone catches `api_key`, `apikey`, `x-api-key`, `private_key`, and also names that
/// are not secrets; see [`ALLOWED`] for the few exempted on purpose.
const WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "key",
    "authorization",
    "credential",
    "cookie",
];

/// Names matched by [`WORDS`] that are not secrets and that logs need to correlate requests
/// (an idempotency key, the id of a signing key) or to read them (a public key, a token
/// type such as `Bearer`, an LLM's `max_tokens`). Compared after lower-casing and removing
/// `_`, `-`, `.` and spaces, so `Idempotency-Key`, `idempotencyKey` and `key_id` all match.
/// `kid` needs no entry: it contains none of the words.
pub(crate) const ALLOWED: &[&str] = &[
    "idempotencykey",
    "keyid",
    "publickey",
    "tokentype",
    "maxtokens",
];

/// Whether a value under this name must not be logged.
///
/// Sensitive: the name contains one of the words above (ASCII case-insensitive), or one of
/// its segments is `auth` (`auth`, `basic_auth`, `basicAuth`, `x-auth`), unless the whole
/// name is on the allow-list. `auth` counts only as a segment so that `author` and
/// `authenticated` (a §14.2 log field) stay readable.
pub(crate) fn is_sensitive_name(name: &str) -> bool {
    if is_allowed(name) {
        return false;
    }
    WORDS
        .iter()
        .any(|word| contains_ignore_ascii_case(name, word))
        || has_auth_segment(name)
}

fn is_allowed(name: &str) -> bool {
    let squeezed = name
        .bytes()
        .filter(|b| !matches!(b, b'_' | b'-' | b'.' | b' '))
        .map(|b| b.to_ascii_lowercase());
    ALLOWED
        .iter()
        .any(|allowed| squeezed.clone().eq(allowed.bytes()))
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Splits at non-alphanumeric characters and at lower-to-upper case changes (`basicAuth` →
/// `basic`, `Auth`) and looks for a segment equal to `auth`.
fn has_auth_segment(name: &str) -> bool {
    let bytes = name.as_bytes();
    let mut start = 0;
    for i in 0..=bytes.len() {
        let boundary = i == bytes.len()
            || !bytes[i].is_ascii_alphanumeric()
            || (i > start && bytes[i - 1].is_ascii_lowercase() && bytes[i].is_ascii_uppercase());
        if boundary {
            if bytes[start..i].eq_ignore_ascii_case(b"auth") {
                return true;
            }
            start = if i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i
            } else {
                i + 1
            };
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::is_sensitive_name;

    #[test]
    fn words_match_anywhere_and_in_any_case() {
        for name in [
            "password",
            "DB_PASSWORD",
            "access_token",
            "refreshToken",
            "client_secret",
            "api_key",
            "apikey",
            "X-Api-Key",
            "Authorization",
            "credentials",
            "set-cookie",
            "private_key",
        ] {
            assert!(is_sensitive_name(name), "{name}");
        }
    }

    #[test]
    fn auth_is_a_segment_not_a_substring() {
        for name in ["auth", "basic_auth", "basicAuth", "x-auth", "AUTH"] {
            assert!(is_sensitive_name(name), "{name}");
        }
        for name in ["author", "authenticated", "Authentic", "oauthor"] {
            assert!(!is_sensitive_name(name), "{name}");
        }
    }

    #[test]
    fn allow_list_in_any_spelling() {
        for name in [
            "idempotency_key",
            "Idempotency-Key",
            "idempotencyKey",
            "key_id",
            "keyId",
            "kid",
            "public_key",
            "token_type",
            "max_tokens",
        ] {
            assert!(!is_sensitive_name(name), "{name}");
        }
        assert!(is_sensitive_name("idempotency_key_secret"));
        assert!(is_sensitive_name("key"));
    }

    #[test]
    fn ordinary_names_pass() {
        for name in [
            "",
            "envelope_id",
            "trace_id",
            "payload_type",
            "sender",
            "text",
            "é",
        ] {
            assert!(!is_sensitive_name(name), "{name}");
        }
    }
}
