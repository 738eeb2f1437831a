//! `GET /.well-known/asap/manifest.json` with `ETag`, `Cache-Control` and `If-None-Match`.

use asap_model::Manifest;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use crate::response::{self, Body};

/// `Cache-Control` of the manifest: clients may cache it for the manifest cache TTL.
pub const MANIFEST_CACHE_CONTROL: &str = "public, max-age=300";

/// The serialized manifest and its entity tag, computed once.
#[derive(Debug, Clone)]
pub struct ManifestRoute {
    body: Bytes,
    etag: HeaderValue,
}

impl ManifestRoute {
    /// Serializes `manifest` (all fields, nulls included) and derives a strong `ETag` from
    /// the bytes (64-bit FNV-1a, hex).
    pub fn new(manifest: &Manifest) -> Self {
        let body = Bytes::from(serde_json::to_vec(manifest).unwrap_or_default());
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in body.iter() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        let etag = HeaderValue::from_str(&format!("\"{hash:016x}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
        Self { body, etag }
    }

    /// The entity tag, quoted.
    pub fn etag(&self) -> &HeaderValue {
        &self.etag
    }

    /// The manifest JSON.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// 200 with the manifest, or 304 when `If-None-Match` matches the tag, the tag of a
    /// compressed representation (see `etag`), or is `*`.
    pub fn respond(&self, headers: &HeaderMap, head: bool) -> Response<Body> {
        let matches = crate::etag::if_none_match(headers, &self.etag);
        let mut response = if matches {
            let mut r = Response::new(Body::default());
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            r
        } else if head {
            let mut r = response::json(StatusCode::OK, Bytes::new());
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(self.body.len()));
            r
        } else {
            response::json(StatusCode::OK, self.body.clone())
        };
        let h = response.headers_mut();
        h.insert(header::ETAG, self.etag.clone());
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(MANIFEST_CACHE_CONTROL),
        );
        response
    }
}
