//! Manifest retrieval through the client's [`ManifestCache`] (PROTOCOL §12.5).

use std::sync::Arc;
use std::time::Duration;

use asap_cache::{BoxFuture, FetchError, Fetched, ManifestCache, ManifestFetcher};
use asap_model::Manifest;
use http::StatusCode;
use http::header::ETAG;

use crate::client::AsapClient;
use crate::error::{ClientError, ErrorSource};
use crate::transport::AttemptError;
use crate::url::parse_secure_uri;

/// Fetches manifests over the client's connection pool: `GET` with `If-None-Match` when the
/// cache offers an entity tag, `304` → [`Fetched::NotModified`], `200` → the parsed
/// manifest and its `ETag`. No retries and no circuit breaker; the timeout is
/// `min(timeout, manifest_timeout)` (10 s by default).
///
/// [`AsapClient::get_manifest`] uses one with the client's own cache; get one from
/// [`AsapClient::manifest_fetcher`] to drive another [`ManifestCache`].
#[derive(Debug, Clone)]
pub struct HttpManifestFetcher {
    client: AsapClient,
}

impl HttpManifestFetcher {
    fn timeout(&self) -> Duration {
        let config = self.client.config();
        config.timeout.min(config.manifest_timeout)
    }

    async fn fetch_once(
        &self,
        url: &str,
        if_none_match: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        let inner = &*self.client.inner;
        let uri = parse_secure_uri(url, inner.config.require_https)
            .map_err(|e| FetchError::new(e.to_string()).with_source(e))?;
        let request = inner.transport.get(&uri, if_none_match);
        let reply = inner
            .transport
            .execute(request, self.timeout())
            .await
            .map_err(|error| match error {
                AttemptError::Connect(message, source) => {
                    FetchError::connection(message).with_shared_source(source.shared())
                }
                AttemptError::Timeout(after) => FetchError::timeout(after),
                AttemptError::Invalid(message, source) => {
                    let error = FetchError::invalid_manifest(message);
                    match source {
                        Some(source) => error.with_shared_source(source.shared()),
                        None => error,
                    }
                }
                AttemptError::Pool(error) => FetchError::new(error.to_string()).with_source(error),
            })?;
        if reply.status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !reply.status.is_success() {
            let text = String::from_utf8_lossy(&reply.body);
            let excerpt: String = text.chars().take(200).collect();
            return Err(FetchError::status(reply.status.as_u16(), excerpt));
        }
        let manifest: Manifest = serde_json::from_slice(&reply.body)
            .map_err(|e| FetchError::invalid_manifest(e.to_string()).with_source(e))?;
        manifest
            .validate()
            .map_err(|e| FetchError::invalid_manifest(e.to_string()).with_source(e))?;
        let etag = reply
            .headers
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Fetched::Modified { manifest, etag })
    }
}

impl ManifestFetcher for HttpManifestFetcher {
    fn fetch<'a>(
        &'a self,
        url: &'a str,
        if_none_match: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(self.fetch_once(url, if_none_match))
    }
}

impl AsapClient {
    /// The agent's manifest, `<base_url>/.well-known/asap/manifest.json`, through the
    /// client's cache (TTL 300 s, 1000 entries by default; an expired entry with an `ETag`
    /// is revalidated with `If-None-Match`). Any failure invalidates the cached entry.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), asap_transport_client::ClientError> {
    /// let client = asap_transport_client::AsapClient::builder("https://agent.example").build()?;
    /// let manifest = client.get_manifest().await?;
    /// println!("{} {}", manifest.name, manifest.version);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_manifest(&self) -> Result<Arc<Manifest>, ClientError> {
        let url = self.inner.base.manifest_url();
        self.get_manifest_at(&url).await
    }

    /// The manifest at `url` (any agent), through the client's cache.
    ///
    /// The URL follows the same rules as the base URL (`http`/`https`, `require_https`).
    pub async fn get_manifest_at(&self, url: &str) -> Result<Arc<Manifest>, ClientError> {
        parse_secure_uri(url, self.inner.config.require_https)?;
        let fetcher = self.manifest_fetcher();
        self.inner
            .manifests
            .get(url, &fetcher)
            .await
            .map_err(|error| fetch_error(url, error))
    }

    /// The client's manifest cache (statistics, invalidation).
    pub fn manifest_cache(&self) -> &ManifestCache {
        &self.inner.manifests
    }

    /// A [`ManifestFetcher`] over this client's connection pool.
    pub fn manifest_fetcher(&self) -> HttpManifestFetcher {
        HttpManifestFetcher {
            client: self.clone(),
        }
    }
}

/// Connection failures and timeouts keep their kind (and a connection failure its
/// underlying error, so `is_connect` holds); everything else is [`ClientError::Manifest`]
/// with the [`FetchError`] as its source.
fn fetch_error(url: &str, error: FetchError) -> ClientError {
    match error {
        FetchError::Connection {
            message,
            source: Some(source),
            ..
        } => ClientError::connection(message)
            .caused_by(ErrorSource::from_shared(source.shared().clone())),
        FetchError::Connection { message, .. } => ClientError::connection(message),
        FetchError::Timeout { after } => ClientError::Timeout { after },
        FetchError::Status { status, message } => ClientError::Connection {
            message: format!("HTTP error {status}: {message}"),
            status: Some(status),
            retry_after: None,
            source: None,
        },
        other => ClientError::manifest(crate::url::mask_credentials(url), other.to_string())
            .caused_by(ErrorSource::new(other)),
    }
}
