//! Transport security (PROTOCOL §11.7): plain HTTP only to loopback hosts unless opted out.

use asap_transport_client::{AsapClient, ClientError};

#[test]
fn plain_http_to_remote_hosts_is_refused_by_default() {
    for url in [
        "http://agent.example",
        "http://10.0.0.1:8000",
        "http://127.0.0.2",
    ] {
        let error = AsapClient::builder(url).build().unwrap_err();
        assert!(
            matches!(error, ClientError::InsecureUrl { .. }),
            "{url}: {error:?}"
        );
        assert!(error.to_string().contains("HTTPS is required"), "{error}");
    }
}

#[test]
fn loopback_hosts_are_allowed_over_http() {
    for url in [
        "http://localhost:8000",
        "http://LOCALHOST",
        "http://127.0.0.1:1/",
        "http://[::1]:8000",
    ] {
        AsapClient::builder(url)
            .build()
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

#[test]
fn opting_out_allows_plain_http() {
    let client = AsapClient::builder("http://agent.example/")
        .require_https(false)
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "http://agent.example");
}

#[cfg(feature = "rustls")]
#[test]
fn https_is_always_accepted() {
    AsapClient::builder("https://agent.example")
        .build()
        .unwrap();
}

#[test]
fn only_http_and_https_urls() {
    for url in [
        "ftp://agent.example",
        "agent.example",
        "",
        "http://",
        "https://h/?q=1",
    ] {
        let error = AsapClient::builder(url)
            .require_https(false)
            .build()
            .unwrap_err();
        assert!(
            matches!(error, ClientError::InvalidUrl { .. }),
            "{url:?}: {error:?}"
        );
    }
}

#[test]
fn credentials_are_masked_in_errors() {
    let error = AsapClient::builder("http://user:hunter2@agent.example")
        .build()
        .unwrap_err();
    assert!(!error.to_string().contains("hunter2"), "{error}");
    assert!(
        error.to_string().contains("user:***@agent.example"),
        "{error}"
    );
}

#[tokio::test]
async fn manifest_urls_follow_the_same_rule() {
    let client = AsapClient::builder("http://127.0.0.1:1").build().unwrap();
    let error = client
        .get_manifest_at("http://agent.example/.well-known/asap/manifest.json")
        .await
        .unwrap_err();
    assert!(
        matches!(error, ClientError::InsecureUrl { .. }),
        "{error:?}"
    );
}
