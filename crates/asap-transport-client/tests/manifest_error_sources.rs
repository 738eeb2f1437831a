//! A failed manifest fetch keeps its underlying error through the cache: the connect error
//! behind a refused fetch (so `is_connect` holds), the JSON error behind an unreadable
//! manifest.

mod common;

use std::error::Error;
use std::io;

use asap_cache::FetchError;
use asap_transport_client::{AsapClient, ClientError};
use common::{Reply, ScriptedServer};
use tokio::net::TcpListener;

/// The error's sources, in order.
fn chain(error: &ClientError) -> Vec<&(dyn Error + 'static)> {
    std::iter::successors(error.source(), |&e| e.source()).collect()
}

#[tokio::test]
async fn a_refused_manifest_fetch_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = AsapClient::builder(&url).build().unwrap();

    let error = client.get_manifest().await.unwrap_err();

    assert!(error.is_connect(), "{error:?}");
    let sources = chain(&error);
    assert!(
        sources[0]
            .downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(hyper_util::client::legacy::Error::is_connect),
        "{sources:?}"
    );
    let refused = sources
        .iter()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::ConnectionRefused);
    assert!(refused, "an io::Error ConnectionRefused in {sources:?}");
    assert_eq!(client.manifest_cache().stats().fetch_errors, 1);
}

#[tokio::test]
async fn an_unreadable_manifest_keeps_the_json_error() {
    let server = ScriptedServer::start(vec![Reply::status(200, "{\"id\": ")]).await;
    let client = AsapClient::builder(server.url()).build().unwrap();

    let error = client.get_manifest().await.unwrap_err();

    assert!(matches!(error, ClientError::Manifest { .. }), "{error:?}");
    assert!(!error.is_connect());
    let sources = chain(&error);
    let fetch = sources[0]
        .downcast_ref::<FetchError>()
        .expect("the cache's error is the first source");
    assert!(
        matches!(fetch, FetchError::InvalidManifest { .. }),
        "{fetch:?}"
    );
    let json = sources
        .iter()
        .find_map(|e| e.downcast_ref::<serde_json::Error>())
        .expect("the JSON error further down");
    assert!(json.is_eof());
}

#[tokio::test]
async fn an_invalid_manifest_keeps_the_validation_error() {
    let server = ScriptedServer::start(vec![Reply::json(
        200,
        serde_json::json!({
            "id": "not-a-urn", "name": "X", "version": "1.0.0", "description": "d",
            "capabilities": {}, "endpoints": {"asap": "http://127.0.0.1:1/asap"}
        }),
    )])
    .await;
    let client = AsapClient::builder(server.url()).build().unwrap();

    let error = client.get_manifest().await.unwrap_err();

    let sources = chain(&error);
    assert!(
        matches!(
            sources[0].downcast_ref::<FetchError>(),
            Some(FetchError::InvalidManifest {
                source: Some(_),
                ..
            })
        ),
        "{sources:?}"
    );
    assert!(
        sources.len() >= 2,
        "the parse or validation error: {sources:?}"
    );
}
