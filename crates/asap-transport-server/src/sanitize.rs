//! Log sanitization helpers (logs only; responses are never altered).

/// Shows a secret (token, nonce) as its first 8 characters followed by `...`; secrets of at
/// most 8 characters are shown whole.
///
/// ```
/// use asap_transport_server::sanitize::truncate_secret;
///
/// assert_eq!(truncate_secret("abcdefghijkl"), "abcdefgh...");
/// assert_eq!(truncate_secret("short"), "short");
/// ```
pub fn truncate_secret(secret: &str) -> String {
    match secret.char_indices().nth(8) {
        Some((cut, _)) => format!("{}...", &secret[..cut]),
        None => secret.to_owned(),
    }
}
