//! `asap-zstd-v1` request bodies, only for a server that said it decodes them
//! (`docs/adr/0003-zstd-dictionary-coding.md`).
//!
//! The client lists `asap-zstd-v1` in its `Accept-Encoding` whenever asap-codec has the
//! `zstd` feature. An asap-rs server of such a build answers with an `Accept-Encoding`
//! response header (RFC 7694 §3) naming the codings it decodes. Until a reply of the RPC
//! endpoint has named `asap-zstd-v1`, request bodies use the standard policy (brotli, else
//! gzip); afterwards they use the dictionary coding. Every reply updates what is known, so a
//! server that stops advertising it (restarted from another build, a proxy in front) gets
//! standard bodies again from the next request on. Other servers — the reference, anything
//! that does not send the header — never receive a zstd body.

use std::sync::atomic::{AtomicBool, Ordering};

use asap_codec::compression::{AcceptEncoding, Compression, Encoding};
use http::HeaderMap;
use http::header::ACCEPT_ENCODING;

/// What the server of one client said about `asap-zstd-v1` request bodies.
#[derive(Debug, Default)]
pub(crate) struct PeerCoding {
    /// The latest reply of the RPC endpoint advertised `asap-zstd-v1`.
    zstd: AtomicBool,
}

impl PeerCoding {
    /// Records what a reply of the RPC endpoint says: the server decodes `asap-zstd-v1`
    /// when its `Accept-Encoding` names it with a non-zero weight. A reply without the
    /// header (an error from a layer in front, another server) clears it.
    pub(crate) fn learn(&self, headers: &HeaderMap) {
        let accepts = Encoding::AsapZstd.is_supported()
            && headers.get_all(ACCEPT_ENCODING).iter().any(|value| {
                value
                    .to_str()
                    .is_ok_and(|v| AcceptEncoding::parse(v).quality(Encoding::AsapZstd) > 0)
            });
        self.zstd.store(accepts, Ordering::Relaxed);
    }

    /// Forgets the advertisement: the server refused an `asap-zstd-v1` body.
    pub(crate) fn forget(&self) {
        self.zstd.store(false, Ordering::Relaxed);
    }

    /// The policy for the next request body: `standard` with its encoding replaced by
    /// `asap-zstd-v1` once the server advertised it, unless `standard` does not compress.
    pub(crate) fn policy(&self, standard: Compression) -> Compression {
        if self.zstd.load(Ordering::Relaxed) && !standard.encoding().is_identity() {
            standard.with_encoding(Encoding::AsapZstd)
        } else {
            standard
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(ACCEPT_ENCODING, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn standard_until_the_server_advertises_it() {
        let peer = PeerCoding::default();
        let standard = Compression::new();
        assert_eq!(peer.policy(standard), standard);

        peer.learn(&headers(&["asap-zstd-v1, br, gzip, identity"]));
        let expected = if Encoding::AsapZstd.is_supported() && !standard.encoding().is_identity() {
            Encoding::AsapZstd
        } else {
            standard.encoding()
        };
        assert_eq!(peer.policy(standard).encoding(), expected);
        assert_eq!(peer.policy(standard).threshold(), standard.threshold());
        // Compression switched off stays off.
        assert_eq!(
            peer.policy(Compression::disabled()),
            Compression::disabled()
        );

        peer.forget();
        assert_eq!(peer.policy(standard), standard);
    }

    #[test]
    fn every_reply_updates_it() {
        let peer = PeerCoding::default();
        let standard = Compression::new();
        let zstd = || peer.policy(standard).encoding() == Encoding::AsapZstd;
        peer.learn(&headers(&["br", "asap-zstd-v1"]));
        assert_eq!(zstd(), Encoding::AsapZstd.is_supported());
        for refusal in [
            &[][..],
            &["br, gzip, identity"],
            &["asap-zstd-v1;q=0, br"],
            &["*"],
            &["asap-zstd-v1;q=2"],
        ] {
            peer.learn(&headers(&["asap-zstd-v1"]));
            peer.learn(&headers(refusal));
            assert!(!zstd(), "{refusal:?}");
        }
    }
}
