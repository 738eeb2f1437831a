//! The [`Encoding`] enum and `Content-Encoding` header parsing (spec §10.2).

use std::fmt;
use std::str::FromStr;

/// A content coding used for ASAP HTTP bodies.
///
/// Only the codings the protocol knows are listed. Whether [`Gzip`](Encoding::Gzip) and
/// [`Brotli`](Encoding::Brotli) can actually be encoded or decoded depends on the crate features
/// `gzip` and `br` (both on by default); see [`Encoding::is_supported`].
///
/// # Example
///
/// ```
/// use asap_codec::compression::Encoding;
///
/// # #[cfg(feature = "gzip")]
/// assert_eq!(Encoding::from_content_encoding(" GZIP ").unwrap(), Encoding::Gzip);
/// assert_eq!(Encoding::Brotli.as_str(), "br");
/// assert_eq!("identity".parse::<Encoding>().unwrap(), Encoding::Identity);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// No content coding (`identity`, or an empty / absent header).
    #[default]
    Identity,
    /// `gzip` (RFC 1952). Needs the `gzip` feature.
    Gzip,
    /// `br`, Brotli (RFC 7932). Needs the `br` feature.
    Brotli,
    /// `asap-zstd-v1`: one zstd frame (RFC 8878) made with the ASAP envelope dictionary shipped
    /// in this crate (`asap_zstd_dictionary()`, id
    /// `ASAP_ZSTD_DICTIONARY_ID`). Needs the `zstd` feature.
    ///
    /// A private coding of asap-rs peers, used only when both sides say so: a client lists it
    /// in the `Accept-Encoding` of its requests ([`accept_encoding_header`]), a server lists
    /// it in the `Accept-Encoding` of its responses to such requests (RFC 9110 §12.5.3), and
    /// each side uses it only after the other has. It is not part of
    /// [`supported_encodings`] (the codings every peer may use, and the `Supported:` list of
    /// the 415 message), and `*` in `Accept-Encoding` does not select it.
    ///
    /// [`accept_encoding_header`]: super::accept_encoding_header
    AsapZstd,
}

/// The compressed encodings compiled into this build, in order of preference (brotli first).
const SUPPORTED: &[Encoding] = &[
    #[cfg(feature = "br")]
    Encoding::Brotli,
    #[cfg(feature = "gzip")]
    Encoding::Gzip,
];

/// The compressed encodings between asap-rs peers: `asap-zstd-v1` (with the `zstd` feature)
/// first, then [`SUPPORTED`].
const PEER: &[Encoding] = &[
    #[cfg(feature = "zstd")]
    Encoding::AsapZstd,
    #[cfg(feature = "br")]
    Encoding::Brotli,
    #[cfg(feature = "gzip")]
    Encoding::Gzip,
];

/// The compressed encodings this build offers every peer, most preferred first.
///
/// With the default features this is `[Brotli, Gzip]`. [`Encoding::Identity`] is always
/// supported and is not part of the list, which is the order of the `Supported:` list in the
/// 415 message of [`UnsupportedEncoding`].
///
/// ```
/// use asap_codec::compression::{supported_encodings, Encoding};
///
/// # #[cfg(all(feature = "gzip", feature = "br"))]
/// assert_eq!(supported_encodings(), &[Encoding::Brotli, Encoding::Gzip]);
/// ```
pub fn supported_encodings() -> &'static [Encoding] {
    SUPPORTED
}

/// [`supported_encodings`] plus the codings private to asap-rs peers
/// ([`Encoding::AsapZstd`] with the `zstd` feature), most preferred first: what a server
/// passes to [`negotiate`](super::negotiate) to choose a response coding.
///
/// ```
/// use asap_codec::compression::{peer_encodings, Encoding};
///
/// # #[cfg(all(feature = "gzip", feature = "br", feature = "zstd"))]
/// assert_eq!(peer_encodings(), &[Encoding::AsapZstd, Encoding::Brotli, Encoding::Gzip]);
/// # #[cfg(all(feature = "gzip", feature = "br", not(feature = "zstd")))]
/// assert_eq!(peer_encodings(), &[Encoding::Brotli, Encoding::Gzip]);
/// ```
pub fn peer_encodings() -> &'static [Encoding] {
    PEER
}

impl Encoding {
    /// The HTTP token of this coding: `"identity"`, `"gzip"`, `"br"` or `"asap-zstd-v1"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Gzip => "gzip",
            Self::Brotli => "br",
            Self::AsapZstd => "asap-zstd-v1",
        }
    }

    /// Whether this is [`Encoding::Identity`] (no compression).
    pub const fn is_identity(self) -> bool {
        matches!(self, Self::Identity)
    }

    /// Whether this build can encode and decode this coding.
    ///
    /// `Identity` is always supported; `Gzip` needs the `gzip` feature, `Brotli` the `br`
    /// feature and `AsapZstd` the `zstd` feature.
    pub const fn is_supported(self) -> bool {
        match self {
            Self::Identity => true,
            Self::Gzip => cfg!(feature = "gzip"),
            Self::Brotli => cfg!(feature = "br"),
            Self::AsapZstd => cfg!(feature = "zstd"),
        }
    }

    /// Parses a request `Content-Encoding` header value the way the reference server does
    /// (spec §10.2, §9.4 step 3).
    ///
    /// The value is trimmed and lower-cased, then:
    ///
    /// * `""` and `"identity"` give [`Encoding::Identity`] (an absent header should be treated
    ///   as `""`);
    /// * `"gzip"` gives [`Encoding::Gzip`], `"br"` gives [`Encoding::Brotli`] and
    ///   `"asap-zstd-v1"` gives [`Encoding::AsapZstd`], when the matching crate feature is
    ///   enabled;
    /// * anything else — `deflate`, `x-gzip`, lists such as `gzip, br`, or a coding whose
    ///   feature is disabled — is an [`UnsupportedEncoding`] error, which the server answers
    ///   with HTTP 415.
    ///
    /// ```
    /// use asap_codec::compression::Encoding;
    ///
    /// assert_eq!(Encoding::from_content_encoding("").unwrap(), Encoding::Identity);
    /// # #[cfg(all(feature = "gzip", feature = "br"))]
    /// # {
    /// assert_eq!(Encoding::from_content_encoding("Br").unwrap(), Encoding::Brotli);
    ///
    /// let err = Encoding::from_content_encoding(" Deflate ").unwrap_err();
    /// assert_eq!(err.encoding(), "deflate");
    /// assert_eq!(
    ///     err.to_string(),
    ///     "Unsupported Content-Encoding: deflate. Supported: br, gzip"
    /// );
    /// # }
    /// ```
    pub fn from_content_encoding(header: &str) -> Result<Self, UnsupportedEncoding> {
        let normalized = header.trim().to_lowercase();
        let encoding = match normalized.as_str() {
            "" | "identity" => Self::Identity,
            "gzip" => Self::Gzip,
            "br" => Self::Brotli,
            "asap-zstd-v1" => Self::AsapZstd,
            _ => return Err(UnsupportedEncoding::new(normalized)),
        };
        if encoding.is_supported() {
            Ok(encoding)
        } else {
            Err(UnsupportedEncoding::new(normalized))
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Encoding {
    type Err = UnsupportedEncoding;

    /// Same as [`Encoding::from_content_encoding`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_content_encoding(s)
    }
}

/// A `Content-Encoding` this build does not accept (HTTP 415, spec §10.3).
///
/// Its `Display` is the exact `detail` of the reference 415 body:
/// `Unsupported Content-Encoding: <enc>. Supported: br, gzip`, where `<enc>` is the trimmed,
/// lower-cased header value and the `Supported:` list is [`supported_encodings`] (so it reads
/// `gzip` alone when the `br` feature is off, like the reference without the brotli package,
/// and `none` if both features are off). The list never names `asap-zstd-v1`, which only
/// asap-rs peers use ([`Encoding::AsapZstd`]), so other peers see the reference message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedEncoding {
    encoding: String,
}

impl UnsupportedEncoding {
    /// Creates the error for an (already normalised) encoding name.
    pub fn new(encoding: impl Into<String>) -> Self {
        Self {
            encoding: encoding.into(),
        }
    }

    /// The rejected encoding, trimmed and lower-cased.
    pub fn encoding(&self) -> &str {
        &self.encoding
    }
}

impl fmt::Display for UnsupportedEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Unsupported Content-Encoding: {}. Supported: ",
            self.encoding
        )?;
        if SUPPORTED.is_empty() {
            return f.write_str("none");
        }
        for (i, encoding) in SUPPORTED.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(encoding.as_str())?;
        }
        Ok(())
    }
}

impl std::error::Error for UnsupportedEncoding {}
