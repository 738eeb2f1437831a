//! The fetch abstraction: how the cache obtains a manifest it does not hold.

use asap_model::Manifest;
use futures_util::future::BoxFuture;

use crate::FetchError;

/// Result of one successful fetch.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
// Built once per network fetch and moved straight into an `Arc`: the size does not matter,
// and an unboxed `Manifest` keeps the type easy to construct.
#[allow(clippy::large_enum_variant)]
pub enum Fetched {
    /// A (new) manifest body, with the response's `ETag` header if any.
    Modified {
        /// The parsed manifest.
        manifest: Manifest,
        /// The response's `ETag`, verbatim (quotes and `W/` prefix included).
        etag: Option<String>,
    },
    /// `304 Not Modified`: the entry offered through `If-None-Match` is still current.
    NotModified,
}

/// Retrieves manifests for [`ManifestCache`](crate::ManifestCache).
///
/// The cache does not speak HTTP itself: the client crate implements this trait (GET with
/// an optional `If-None-Match` header). Tests implement it with scripted responses.
///
/// The trait is object safe; [`ManifestCache::get`](crate::ManifestCache::get) takes a
/// `&dyn ManifestFetcher`.
///
/// # Contract
///
/// - `if_none_match` is `Some(etag)` only when the cache holds an expired entry with that
///   ETag. Answer [`Fetched::NotModified`] only in that case (otherwise the cache reports
///   [`FetchError::UnexpectedNotModified`]).
/// - Every failure (HTTP ≥ 400, invalid JSON, invalid manifest, timeout, connect error) is
///   an `Err`; the cache then invalidates the URL's entry (PROTOCOL §12.5).
///
/// # Examples
///
/// ```
/// use asap_cache::{BoxFuture, FetchError, Fetched, ManifestFetcher};
///
/// /// Always fails: for a client that is offline.
/// struct Offline;
///
/// impl ManifestFetcher for Offline {
///     fn fetch<'a>(
///         &'a self,
///         url: &'a str,
///         _if_none_match: Option<&'a str>,
///     ) -> BoxFuture<'a, Result<Fetched, FetchError>> {
///         Box::pin(async move { Err(FetchError::connection(format!("offline: {url}"))) })
///     }
/// }
/// ```
pub trait ManifestFetcher: Send + Sync {
    /// Fetches the manifest at `url`, conditionally when `if_none_match` is given.
    fn fetch<'a>(
        &'a self,
        url: &'a str,
        if_none_match: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Fetched, FetchError>>;
}
