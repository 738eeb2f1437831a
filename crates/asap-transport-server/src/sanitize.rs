//! Log sanitization helpers (logs only; responses are never altered).

/// Shows a secret (token, nonce) as its first 8 characters followed by `...`; secrets of at
/// most 8 characters are shown whole.
///
pub(crate) fn truncate_secret(secret: &str) -> String {
    match secret.char_indices().nth(8) {
        Some((cut, _)) => format!("{}...", &secret[..cut]),
        None => secret.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::truncate_secret;

    #[test]
    fn secrets_are_cut_after_eight_characters() {
        assert_eq!(truncate_secret("abcdefghijkl"), "abcdefgh...");
        assert_eq!(truncate_secret("abcdefgh"), "abcdefgh");
        assert_eq!(truncate_secret("short"), "short");
        assert_eq!(truncate_secret("ééééééééé"), "éééééééé...");
    }
}
