//! A failed fetch keeps the error that caused it as its `source()`, through the cache and to
//! every caller that waited on the same fetch.

mod common;

use std::error::Error;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use asap_cache::{FetchError, ManifestCache};
use common::{ScriptedFetcher, url};

/// The first cause in `error`'s source chain that is a `T`.
fn find_cause<'a, T: Error + 'static>(error: &'a (dyn Error + 'static)) -> Option<&'a T> {
    std::iter::successors(error.source(), |&e| e.source()).find_map(|e| e.downcast_ref::<T>())
}

#[tokio::test]
async fn connection_error_keeps_the_io_error() {
    let cache = ManifestCache::default();
    let fetcher = ScriptedFetcher::new(|_, _, _| {
        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused");
        Err(FetchError::connection("tcp connect error").with_source(refused))
    });

    let err = cache.get(&url(0), &fetcher).await.unwrap_err();

    assert!(matches!(err, FetchError::Connection { .. }), "{err:?}");
    assert_eq!(
        find_cause::<io::Error>(&err).map(io::Error::kind),
        Some(io::ErrorKind::ConnectionRefused)
    );
    assert_eq!(
        err.to_string(),
        "connection error fetching manifest: tcp connect error"
    );
    assert_eq!(cache.stats().fetch_errors, 1);
}

#[tokio::test]
async fn invalid_manifest_keeps_the_json_error() {
    let cache = ManifestCache::default();
    let fetcher = ScriptedFetcher::new(|_, _, _| {
        let json = serde_json::from_str::<serde_json::Value>("{\"id\":").unwrap_err();
        Err(FetchError::invalid_manifest(json.to_string()).with_source(json))
    });

    let err = cache.get(&url(0), &fetcher).await.unwrap_err();

    let json = find_cause::<serde_json::Error>(&err).expect("the JSON error is the source");
    assert_eq!((json.line(), json.column()), (1, 6));
    assert!(json.is_eof());
}

#[tokio::test]
async fn a_shared_source_keeps_its_identity() {
    let shared: Arc<dyn Error + Send + Sync> =
        Arc::new(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"));
    let given = Arc::clone(&shared);
    let cache = ManifestCache::default();
    let fetcher = ScriptedFetcher::new(move |_, _, _| {
        Err(FetchError::new("gave up").with_shared_source(Arc::clone(&given)))
    });

    let err = cache.get(&url(0), &fetcher).await.unwrap_err();

    let kept = err.fetch_source().expect("a source");
    assert!(Arc::ptr_eq(kept.shared(), &shared));
    assert_eq!(
        find_cause::<io::Error>(&err).map(io::Error::kind),
        Some(io::ErrorKind::TimedOut)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_waiter_of_one_failed_fetch_gets_the_same_source() {
    let cache = ManifestCache::default();
    let fetcher = Arc::new(
        ScriptedFetcher::new(|_, _, _| {
            let reset = io::Error::new(io::ErrorKind::ConnectionReset, "reset by peer");
            Err(FetchError::connection("read error").with_source(reset))
        })
        .with_delay(Duration::from_millis(50)),
    );

    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (cache, fetcher) = (cache.clone(), Arc::clone(&fetcher));
            tokio::spawn(async move { cache.get(&url(0), &*fetcher).await })
        })
        .collect();
    let mut errors = Vec::new();
    for task in tasks {
        errors.push(task.await.expect("task").unwrap_err());
    }

    assert_eq!(fetcher.calls(), 1, "one fetch for all waiters");
    let first = errors[0].fetch_source().expect("a source").clone();
    for err in &errors {
        // Equal sources are the same shared error, not copies with equal text.
        assert_eq!(err.fetch_source(), Some(&first));
        assert_eq!(
            find_cause::<io::Error>(err).map(io::Error::kind),
            Some(io::ErrorKind::ConnectionReset)
        );
    }
}

#[tokio::test]
async fn errors_without_a_cause_have_no_source() {
    let cache = ManifestCache::default();
    let fetcher = ScriptedFetcher::new(|_, _, index| match index {
        0 => Err(FetchError::status(503, "Service Unavailable")),
        _ => Err(FetchError::timeout(Duration::from_secs(10))),
    });

    let status = cache.get(&url(0), &fetcher).await.unwrap_err();
    let timeout = cache.get(&url(0), &fetcher).await.unwrap_err();

    assert!(status.source().is_none() && timeout.source().is_none());
    assert!(FetchError::new("no cause").source().is_none());
}
