//! Protocol version constants and PEP 440 version checks for manifests.

/// `asap_version` written into every envelope and capability by default.
///
/// The reference library 1.0.0 still speaks protocol `"0.1"`; any string is accepted on input.
pub const ASAP_PROTOCOL_VERSION: &str = "0.1";

/// Version of the reference implementation this crate is wire-compatible with.
pub const REFERENCE_VERSION: &str = "1.0.0";

/// MCP protocol version spoken by the MCP integration.
pub const MCP_PROTOCOL_VERSION: &str = "2025-11-25";

/// Checks that `version` is a valid PEP 440 version (`1.0.0`, `v1.2`, `1.0.0-rc1`,
/// `1.0.0+build.5`, `2024.01`, `1!2.0.post1.dev3`), as the reference requires of
/// `Manifest.version`. Returns the reason on failure.
///
/// ```
/// use asap_model::version::check_pep440;
///
/// assert!(check_pep440("1.0.0-dev").is_ok());
/// assert!(check_pep440("latest").is_err());
/// assert!(check_pep440("1.0.0-SNAPSHOT").is_err());
/// ```
pub fn check_pep440(version: &str) -> Result<(), String> {
    let lowered = version.trim().to_ascii_lowercase();
    let mut p = Parser {
        s: lowered.as_bytes(),
        i: 0,
    };
    if p.parse() && p.i == p.s.len() {
        Ok(())
    } else {
        Err(format!("Invalid version: '{version}'"))
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, words: &[&str]) -> bool {
        for w in words {
            if self.s[self.i..].starts_with(w.as_bytes()) {
                self.i += w.len();
                return true;
            }
        }
        false
    }

    fn number(&mut self) -> bool {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i > start
    }

    fn separator(&mut self) {
        if matches!(self.peek(), Some(b'-' | b'_' | b'.')) {
            self.i += 1;
        }
    }

    /// `[-_.]? word [-_.]? N?` where the leading separator is rolled back on failure.
    fn labelled(&mut self, words: &[&str], number_required: bool) -> bool {
        let start = self.i;
        self.separator();
        if !self.eat_word(words) {
            self.i = start;
            return false;
        }
        let before_num = self.i;
        self.separator();
        if !self.number() {
            if number_required {
                self.i = start;
                return false;
            }
            self.i = before_num;
        }
        true
    }

    fn parse(&mut self) -> bool {
        self.eat(b'v');
        // epoch or first release segment
        if !self.number() {
            return false;
        }
        if self.eat(b'!') && !self.number() {
            return false;
        }
        loop {
            let mark = self.i;
            if self.eat(b'.') && self.number() {
                continue;
            }
            self.i = mark;
            break;
        }
        self.labelled(
            &["alpha", "beta", "preview", "pre", "rc", "a", "b", "c"],
            false,
        );
        let mark = self.i;
        if !(self.eat(b'-') && self.number()) {
            self.i = mark;
            self.labelled(&["post", "rev", "r"], false);
        }
        self.labelled(&["dev"], false);
        if self.eat(b'+') {
            return self.local();
        }
        true
    }

    fn local(&mut self) -> bool {
        loop {
            let start = self.i;
            while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                self.i += 1;
            }
            if self.i == start {
                return false;
            }
            if !matches!(self.peek(), Some(b'-' | b'_' | b'.')) {
                return true;
            }
            self.i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_pep440;

    #[test]
    fn pep440_accepts_and_rejects() {
        for ok in [
            "1.0.0",
            "1.0",
            "1",
            "v1.2.3",
            "1.0.0-dev",
            "1.0.0-rc1",
            "1.0.0+build.5",
            "2024.01",
            "1!2.0",
            "1.0a1",
            "1.0.post1",
            "1.0-1",
            "1.0.dev0",
            "1.0rc1.post2.dev3+local-1",
            " 1.0 ",
            "1.0.0-alpha",
            "1.0.0.beta2",
        ] {
            assert!(check_pep440(ok).is_ok(), "{ok}");
        }
        for bad in [
            "abc",
            "latest",
            "1.0.0-SNAPSHOT",
            "",
            "v",
            "1.",
            "1.0+",
            "1..0",
            "1.0.0-rc1-x",
            "1.0 beta",
        ] {
            assert!(check_pep440(bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_pep440("latest").unwrap_err(),
            "Invalid version: 'latest'"
        );
    }
}
