//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use asap_cache::{BoxFuture, FetchError, Fetched, ManifestFetcher};
use asap_model::Manifest;
use serde_json::json;

/// A valid manifest whose `name` is `name`.
pub(crate) fn manifest(name: &str) -> Manifest {
    serde_json::from_value(json!({
        "id": "urn:asap:agent:x",
        "name": name,
        "version": "1.0.0",
        "description": "d",
        "capabilities": {},
        "endpoints": {"asap": "http://127.0.0.1:1/asap"}
    }))
    .expect("valid manifest")
}

/// `Ok(Fetched::Modified { .. })`.
pub(crate) fn modified(name: &str, etag: Option<&str>) -> Result<Fetched, FetchError> {
    Ok(Fetched::Modified {
        manifest: manifest(name),
        etag: etag.map(str::to_owned),
    })
}

type Respond = dyn Fn(&str, Option<&str>, usize) -> Result<Fetched, FetchError> + Send + Sync;

/// A fetcher that counts calls, records `If-None-Match` and answers through a closure
/// `(url, if_none_match, call_index) -> result`, after an optional delay.
pub(crate) struct ScriptedFetcher {
    calls: AtomicUsize,
    seen: Mutex<Vec<(String, Option<String>)>>,
    delay: Duration,
    respond: Box<Respond>,
}

impl ScriptedFetcher {
    pub(crate) fn new(
        respond: impl Fn(&str, Option<&str>, usize) -> Result<Fetched, FetchError>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Self {
            calls: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
            delay: Duration::ZERO,
            respond: Box::new(respond),
        }
    }

    /// Always answers a manifest named `name`, without ETag.
    pub(crate) fn always(name: &'static str) -> Self {
        Self::new(move |_, _, _| modified(name, None))
    }

    pub(crate) fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The `If-None-Match` value of every call, in order.
    pub(crate) fn if_none_match(&self) -> Vec<Option<String>> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, inm)| inm.clone())
            .collect()
    }
}

impl ManifestFetcher for ScriptedFetcher {
    fn fetch<'a>(
        &'a self,
        url: &'a str,
        if_none_match: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            let index = self.calls.fetch_add(1, Ordering::SeqCst);
            self.seen
                .lock()
                .unwrap()
                .push((url.to_owned(), if_none_match.map(str::to_owned)));
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            (self.respond)(url, if_none_match, index)
        })
    }
}

/// The `i`-th test URL.
pub(crate) fn url(i: usize) -> String {
    format!("http://agent-{i}.test/.well-known/asap/manifest.json")
}
