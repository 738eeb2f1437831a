//! `Content-Encoding` parsing (spec §10.2) and `Accept-Encoding` negotiation (RFC 9110).
#![cfg(all(feature = "gzip", feature = "br"))]

use asap_codec::compression::{
    AcceptEncoding, Encoding, UnsupportedEncoding, accept_encoding_header, negotiate,
    supported_encodings,
};

#[test]
fn as_str_and_display_are_the_http_tokens() {
    assert_eq!(Encoding::Identity.as_str(), "identity");
    assert_eq!(Encoding::Gzip.as_str(), "gzip");
    assert_eq!(Encoding::Brotli.as_str(), "br");
    assert_eq!(Encoding::Brotli.to_string(), "br");
    assert_eq!(Encoding::default(), Encoding::Identity);
}

#[test]
fn supported_content_encodings_are_trimmed_and_lowercased() {
    let cases = [
        ("", Encoding::Identity),
        ("   ", Encoding::Identity),
        ("identity", Encoding::Identity),
        (" IDENTITY ", Encoding::Identity),
        ("gzip", Encoding::Gzip),
        ("GZip", Encoding::Gzip),
        ("\tgzip\r\n", Encoding::Gzip),
        ("br", Encoding::Brotli),
        (" BR ", Encoding::Brotli),
    ];
    for (header, expected) in cases {
        assert_eq!(
            Encoding::from_content_encoding(header),
            Ok(expected),
            "{header:?}"
        );
        assert_eq!(header.parse::<Encoding>(), Ok(expected), "{header:?}");
    }
}

#[test]
fn unsupported_content_encodings_are_rejected_with_the_415_detail() {
    let cases = [
        ("deflate", "deflate"),
        (" Deflate ", "deflate"),
        ("x-gzip", "x-gzip"),
        ("gzip, br", "gzip, br"),
        (" GZIP,BR ", "gzip,br"),
        ("gzip;q=1", "gzip;q=1"),
        ("compress", "compress"),
        ("zstd", "zstd"),
        ("brotli", "brotli"),
        ("*", "*"),
    ];
    for (header, normalized) in cases {
        let err = Encoding::from_content_encoding(header).unwrap_err();
        assert_eq!(err.encoding(), normalized);
        assert_eq!(
            err.to_string(),
            format!("Unsupported Content-Encoding: {normalized}. Supported: br, gzip")
        );
        assert_eq!(err, UnsupportedEncoding::new(normalized));
    }
}

#[test]
fn supported_encodings_prefer_brotli() {
    assert_eq!(supported_encodings(), &[Encoding::Brotli, Encoding::Gzip]);
    assert!(Encoding::Identity.is_supported());
    assert!(Encoding::Gzip.is_supported());
    assert!(Encoding::Brotli.is_supported());
    // `asap-zstd-v1` goes first only with the `zstd` feature (asap-rs peers only).
    let expected = if cfg!(feature = "zstd") {
        "asap-zstd-v1, br, gzip, identity"
    } else {
        "br, gzip, identity"
    };
    assert_eq!(accept_encoding_header(), expected);
}

#[test]
fn negotiate_picks_the_highest_weight() {
    let all = supported_encodings();
    let cases = [
        ("br;q=0.8, gzip", Encoding::Gzip),
        ("gzip;q=0.5, br;q=0.6", Encoding::Brotli),
        ("gzip;q=0.5, identity", Encoding::Identity),
        ("br;q=0.1, identity;q=0.2", Encoding::Identity),
        ("br, gzip, identity", Encoding::Brotli),
        ("gzip", Encoding::Gzip),
        ("br", Encoding::Brotli),
        ("identity", Encoding::Identity),
        ("deflate, compress", Encoding::Identity),
        ("zstd;q=1, gzip;q=0.1", Encoding::Gzip),
    ];
    for (header, expected) in cases {
        assert_eq!(negotiate(header, all), expected, "{header:?}");
    }
}

#[test]
fn negotiate_breaks_ties_br_then_gzip_then_identity() {
    let all = supported_encodings();
    assert_eq!(negotiate("gzip, br", all), Encoding::Brotli);
    assert_eq!(negotiate("identity, gzip", all), Encoding::Gzip);
    assert_eq!(negotiate("identity;q=0.5, gzip;q=0.5", all), Encoding::Gzip);
    assert_eq!(negotiate("*", all), Encoding::Brotli);
    // An explicitly listed coding beats the implicit identity even at the lowest weight.
    assert_eq!(negotiate("gzip;q=0.001", all), Encoding::Gzip);
}

#[test]
fn negotiate_never_picks_q_zero() {
    let all = supported_encodings();
    assert_eq!(negotiate("br;q=0, gzip", all), Encoding::Gzip);
    assert_eq!(negotiate("br;q=0, gzip;q=0", all), Encoding::Identity);
    assert_eq!(negotiate("*;q=0, gzip", all), Encoding::Gzip);
    assert_eq!(negotiate("*, br;q=0", all), Encoding::Gzip);
    assert_eq!(negotiate("*, br;q=0.000", all), Encoding::Gzip);

    // Nothing acceptable: `preferred` says so, `negotiate` falls back to identity.
    for header in ["identity;q=0", "*;q=0", "br;q=0, gzip;q=0, identity;q=0"] {
        assert_eq!(
            AcceptEncoding::parse(header).preferred(all),
            None,
            "{header:?}"
        );
        assert_eq!(negotiate(header, all), Encoding::Identity, "{header:?}");
    }
    // A `*;q=0` does not exclude an explicitly listed identity.
    assert_eq!(
        AcceptEncoding::parse("*;q=0, identity").preferred(all),
        Some(Encoding::Identity)
    );
}

#[test]
fn negotiate_is_case_insensitive_and_whitespace_tolerant() {
    let all = supported_encodings();
    assert_eq!(negotiate("  GZIP ;  Q=0.9 ,BR;q=0.8", all), Encoding::Gzip);
    assert_eq!(
        negotiate("Br\t;\tq = 0.7 , gZip ; q=0.6", all),
        Encoding::Brotli
    );
    assert_eq!(negotiate(",, ,gzip,,", all), Encoding::Gzip);
    assert_eq!(negotiate("x-gzip", all), Encoding::Gzip);
}

#[test]
fn negotiate_respects_the_supported_list() {
    assert_eq!(negotiate("br, gzip", &[Encoding::Gzip]), Encoding::Gzip);
    assert_eq!(negotiate("br", &[Encoding::Gzip]), Encoding::Identity);
    assert_eq!(negotiate("br, gzip", &[]), Encoding::Identity);
    assert_eq!(negotiate("*", &[Encoding::Gzip]), Encoding::Gzip);
}

#[test]
fn empty_or_absent_accept_encoding_means_identity() {
    let all = supported_encodings();
    assert_eq!(negotiate("", all), Encoding::Identity);
    assert_eq!(negotiate("   ", all), Encoding::Identity);
    let accept = AcceptEncoding::parse("");
    assert!(accept.is_acceptable(Encoding::Identity));
    assert!(!accept.is_acceptable(Encoding::Gzip));
    assert!(!accept.is_acceptable(Encoding::Brotli));
}

#[test]
fn malformed_weights_ignore_the_element() {
    let all = supported_encodings();
    for bad in [
        "abc", "1.5", "2", ".5", "0.1234", "", "-0", "0.5x", "1.001", "\"0.5\"",
    ] {
        let header = format!("br;q={bad}, gzip;q=0.2");
        assert_eq!(negotiate(&header, all), Encoding::Gzip, "{header:?}");
        let accept = AcceptEncoding::parse(&header);
        assert_eq!(accept.quality(Encoding::Brotli), 0, "{header:?}");
    }
    // A malformed weight cannot disable a coding either.
    assert_eq!(negotiate("gzip, gzip;q=nope", all), Encoding::Gzip);
    assert_eq!(negotiate("identity;q=bogus", all), Encoding::Identity);
}

#[test]
fn weights_are_parsed_in_thousandths() {
    let accept = AcceptEncoding::parse("br;q=0.125, gzip;q=1.000, identity;q=0.");
    assert_eq!(accept.quality(Encoding::Brotli), 125);
    assert_eq!(accept.quality(Encoding::Gzip), 1000);
    assert_eq!(accept.quality(Encoding::Identity), 0);

    let accept = AcceptEncoding::parse("gzip;q=0.5;level=9, br;foo=bar;q=0.3");
    assert_eq!(accept.quality(Encoding::Gzip), 500);
    assert_eq!(accept.quality(Encoding::Brotli), 300);

    // Repeated codings keep their highest weight.
    let accept = AcceptEncoding::parse("gzip;q=0.2, gzip;q=0.7, gzip;q=0.4");
    assert_eq!(accept.quality(Encoding::Gzip), 700);

    // `*` applies to codings not listed, identity included.
    let accept = AcceptEncoding::parse("*;q=0.3, br");
    assert_eq!(accept.quality(Encoding::Brotli), 1000);
    assert_eq!(accept.quality(Encoding::Gzip), 300);
    assert_eq!(accept.quality(Encoding::Identity), 300);

    // Without `*`, identity is implicitly acceptable with the lowest weight.
    assert_eq!(AcceptEncoding::parse("gzip").quality(Encoding::Identity), 1);
}
