//! `Accept-Encoding` parsing and response-coding negotiation (RFC 9110 §12.5.3).
//!
//! The reference server never compresses responses (spec §10.2); this is for servers that
//! choose to, and for clients deciding what to advertise.

use super::encoding::Encoding;

/// The largest weight, `q=1`, in thousandths.
const Q_MAX: u16 = 1000;

/// The weight given to `identity` when the header neither lists it nor has a `*` entry: it is
/// acceptable (RFC 9110 §12.5.3) but loses to every explicitly listed coding.
const Q_IMPLICIT_IDENTITY: u16 = 1;

/// A parsed `Accept-Encoding` header value.
///
/// Parsing is lenient and never fails:
///
/// * coding names and the `q` parameter name are case-insensitive; whitespace around `,`, `;`
///   and `=` is ignored; empty list elements (`gzip,,br`) are skipped;
/// * only `br`, `gzip` (and its alias `x-gzip`), `asap-zstd-v1`, `identity` and `*` are
///   recorded; other codings are ignored;
/// * a weight must match the RFC grammar (`0`, `0.5`, `0.125`, `1`, `1.000`, …). An element
///   with a **malformed weight** (`q=abc`, `q=1.5`, `q=.5`, `q=0.1234`, `q=`) is **ignored as a
///   whole**, so a typo can neither enable nor disable a coding; parameters other than `q` are
///   ignored;
/// * if a coding is listed more than once, its highest weight wins.
///
/// Weights are kept in thousandths (`q=0.8` is `800`); `q=0` means "not acceptable".
///
/// # Example
///
/// ```
/// use asap_codec::compression::{AcceptEncoding, Encoding};
///
/// let accept = AcceptEncoding::parse("gzip;q=0.8, br;q=0.9, identity;q=0");
/// assert_eq!(accept.quality(Encoding::Brotli), 900);
/// assert_eq!(accept.quality(Encoding::Gzip), 800);
/// assert!(!accept.is_acceptable(Encoding::Identity));
/// # #[cfg(all(feature = "gzip", feature = "br"))]
/// assert_eq!(accept.preferred(&[Encoding::Gzip]), Some(Encoding::Gzip));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AcceptEncoding {
    asap_zstd: Option<u16>,
    br: Option<u16>,
    gzip: Option<u16>,
    identity: Option<u16>,
    any: Option<u16>,
}

impl AcceptEncoding {
    /// Parses a header value; see the type documentation for the leniency rules.
    ///
    /// An empty value (or one with no usable element) accepts only `identity`.
    pub fn parse(header: &str) -> Self {
        let mut parsed = Self::default();
        for element in header.split(',') {
            let mut parts = element.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            if coding.is_empty() {
                continue;
            }
            let mut weight = Some(Q_MAX);
            for param in parts {
                let (name, value) = param.split_once('=').unwrap_or((param, ""));
                if name.trim().eq_ignore_ascii_case("q") {
                    weight = parse_qvalue(value.trim());
                    break;
                }
            }
            let Some(weight) = weight else {
                continue;
            };
            let slot = if coding.eq_ignore_ascii_case(Encoding::AsapZstd.as_str()) {
                &mut parsed.asap_zstd
            } else if coding.eq_ignore_ascii_case("br") {
                &mut parsed.br
            } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                &mut parsed.gzip
            } else if coding.eq_ignore_ascii_case("identity") {
                &mut parsed.identity
            } else if coding == "*" {
                &mut parsed.any
            } else {
                continue;
            };
            *slot = Some(slot.map_or(weight, |old| old.max(weight)));
        }
        parsed
    }

    /// The weight of `encoding`, in thousandths (`0..=1000`).
    ///
    /// An explicit entry wins; otherwise a `*` entry applies. Without either, `br` and `gzip`
    /// get `0` (not acceptable) and `identity` gets `1` — acceptable, but below any coding the
    /// client listed. `asap-zstd-v1` counts only when listed by name: `*` does not cover it.
    pub fn quality(&self, encoding: Encoding) -> u16 {
        let explicit = match encoding {
            Encoding::Identity => self.identity,
            Encoding::Gzip => self.gzip,
            Encoding::Brotli => self.br,
            Encoding::AsapZstd => return self.asap_zstd.unwrap_or(0),
        };
        match (explicit.or(self.any), encoding) {
            (Some(q), _) => q,
            (None, Encoding::Identity) => Q_IMPLICIT_IDENTITY,
            (None, _) => 0,
        }
    }

    /// Whether `encoding` has a non-zero weight.
    pub fn is_acceptable(&self, encoding: Encoding) -> bool {
        self.quality(encoding) > 0
    }

    /// The acceptable coding with the highest weight among `supported` (compressed codings the
    /// caller is willing to produce) plus `identity`, or `None` when even `identity` is
    /// excluded (`identity;q=0`, or `*;q=0` without an `identity` entry).
    ///
    /// Ties go to `asap-zstd-v1`, then `br`, then `gzip`, then `identity`. Codings in
    /// `supported` that this build cannot produce ([`Encoding::is_supported`]) are skipped;
    /// `identity` is always a candidate whether or not it is in `supported`.
    pub fn preferred(&self, supported: &[Encoding]) -> Option<Encoding> {
        let mut best: Option<(Encoding, u16)> = None;
        for candidate in [
            Encoding::AsapZstd,
            Encoding::Brotli,
            Encoding::Gzip,
            Encoding::Identity,
        ] {
            let available = candidate.is_identity()
                || (candidate.is_supported() && supported.contains(&candidate));
            let q = self.quality(candidate);
            if available && q > 0 && best.is_none_or(|(_, best_q)| q > best_q) {
                best = Some((candidate, q));
            }
        }
        best.map(|(encoding, _)| encoding)
    }
}

/// Parses an RFC 9110 `qvalue` into thousandths; `None` when malformed.
fn parse_qvalue(value: &str) -> Option<u16> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = frac
        .bytes()
        .zip([100, 10, 1])
        .map(|(digit, scale)| u16::from(digit - b'0') * scale)
        .sum::<u16>();
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(Q_MAX),
        _ => None,
    }
}

/// Chooses the coding of a response from the request's `Accept-Encoding` value.
///
/// `supported` lists the compressed codings the server is willing to use (for example
/// [`supported_encodings()`](super::supported_encodings)). The result is the
/// [`AcceptEncoding::preferred`] coding — highest weight, ties to `br` > `gzip` > `identity`,
/// `q=0` never chosen — falling back to [`Encoding::Identity`] when nothing is acceptable
/// (RFC 9110 lets a server send an unencoded response rather than 406). Use
/// [`AcceptEncoding::preferred`] directly to detect that case.
///
/// For an absent header, pass `""` (this yields `identity`; RFC 9110 would allow any coding,
/// but not compressing is the conservative reading).
///
/// # Example
///
/// ```
/// use asap_codec::compression::{negotiate, supported_encodings, Encoding};
///
/// # #[cfg(all(feature = "gzip", feature = "br"))]
/// # {
/// let all = supported_encodings();
/// assert_eq!(negotiate("br;q=0.8, gzip", all), Encoding::Gzip);
/// assert_eq!(negotiate("gzip, br", all), Encoding::Brotli); // tie: br wins
/// assert_eq!(negotiate("*", all), Encoding::Brotli);
/// assert_eq!(negotiate("br;q=0, gzip;q=0", all), Encoding::Identity);
/// assert_eq!(negotiate("", all), Encoding::Identity);
/// # }
/// ```
pub fn negotiate(accept_encoding: &str, supported: &[Encoding]) -> Encoding {
    AcceptEncoding::parse(accept_encoding)
        .preferred(supported)
        .unwrap_or(Encoding::Identity)
}

/// The `Accept-Encoding` a server puts on a response to say which request codings it
/// decodes (RFC 7694 §3), given the request's own `Accept-Encoding`; `None` for no header.
///
/// This is how an asap-rs client learns that it may send `asap-zstd-v1` request bodies. The
/// advertisement is [`accept_encoding_header`] and is made only when the build has the `zstd`
/// feature and the request named `asap-zstd-v1` with a non-zero weight (`*` does not count):
/// every other peer — the reference client, curl, browsers — gets responses exactly as from
/// a build without the feature, and never learns the private token.
///
/// ```
/// use asap_codec::compression::advertised_request_encodings;
///
/// // The reference client's header: no advertisement.
/// assert_eq!(advertised_request_encodings(Some("br, gzip, identity")), None);
/// assert_eq!(advertised_request_encodings(Some("*")), None);
/// assert_eq!(advertised_request_encodings(None), None);
/// # #[cfg(all(feature = "zstd", feature = "br", feature = "gzip"))]
/// assert_eq!(
///     advertised_request_encodings(Some("asap-zstd-v1, br, gzip, identity")),
///     Some("asap-zstd-v1, br, gzip, identity")
/// );
/// assert_eq!(advertised_request_encodings(Some("asap-zstd-v1;q=0, br")), None);
/// ```
pub fn advertised_request_encodings(request_accept_encoding: Option<&str>) -> Option<&'static str> {
    let accept = AcceptEncoding::parse(request_accept_encoding?);
    (Encoding::AsapZstd.is_supported() && accept.quality(Encoding::AsapZstd) > 0)
        .then_some(accept_encoding_header())
}

/// The `Accept-Encoding` value of this build: every coding it decodes, which is what a
/// client sends (spec §9.1, §12.4) and what a server advertises for request bodies to
/// asap-rs peers. `br, gzip, identity` with the default features, `gzip, identity` without
/// `br`; the `zstd` feature puts `asap-zstd-v1` first.
///
/// ```
/// # #[cfg(all(feature = "gzip", feature = "br", not(feature = "zstd")))]
/// assert_eq!(asap_codec::compression::accept_encoding_header(), "br, gzip, identity");
/// # #[cfg(all(feature = "gzip", feature = "br", feature = "zstd"))]
/// assert_eq!(
///     asap_codec::compression::accept_encoding_header(),
///     "asap-zstd-v1, br, gzip, identity"
/// );
/// ```
pub const fn accept_encoding_header() -> &'static str {
    match (
        cfg!(feature = "zstd"),
        cfg!(feature = "br"),
        cfg!(feature = "gzip"),
    ) {
        (false, true, true) => "br, gzip, identity",
        (false, true, false) => "br, identity",
        (false, false, true) => "gzip, identity",
        (false, false, false) => "identity",
        (true, true, true) => "asap-zstd-v1, br, gzip, identity",
        (true, true, false) => "asap-zstd-v1, br, identity",
        (true, false, true) => "asap-zstd-v1, gzip, identity",
        (true, false, false) => "asap-zstd-v1, identity",
    }
}
