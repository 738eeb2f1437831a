//! Base URL checks (PROTOCOL §11.7) and the endpoint URLs derived from it.

use http::Uri;

use crate::LOG_TARGET;
use crate::error::{ClientError, ErrorSource};

/// Path of the JSON-RPC endpoint under the base URL.
pub(crate) const RPC_PATH: &str = "/asap";

/// Path of the manifest under the base URL.
pub(crate) const MANIFEST_PATH: &str = "/.well-known/asap/manifest.json";

/// A checked base URL.
#[derive(Debug, Clone)]
pub(crate) struct BaseUrl {
    /// Without trailing `/`.
    base: String,
    /// For messages and the breaker: the password, if any, replaced by `***`.
    masked: String,
    rpc: Uri,
}

impl BaseUrl {
    /// Parses `url`: `http`/`https` only, with a host; `http` to a non-loopback host is
    /// refused when `require_https` is on.
    pub(crate) fn parse(url: &str, require_https: bool) -> Result<Self, ClientError> {
        let base = url.trim().trim_end_matches('/').to_owned();
        let uri = parse_secure_uri(&base, require_https)?;
        let masked = mask_credentials(&base);
        if uri.query().is_some() {
            return Err(ClientError::invalid_url(
                masked,
                "the base URL must not have a query",
            ));
        }
        if require_https && uri.scheme_str() == Some("http") {
            tracing::warn!(
                target: LOG_TARGET,
                url = %masked,
                "using plain HTTP to a localhost address; use HTTPS in production"
            );
        }
        let rpc = join(&base, RPC_PATH)?;
        Ok(Self { base, masked, rpc })
    }

    /// `<base>/asap`.
    pub(crate) fn rpc(&self) -> &Uri {
        &self.rpc
    }

    /// The base URL with credentials masked.
    pub(crate) fn masked(&self) -> &str {
        &self.masked
    }

    /// `<base>/.well-known/asap/manifest.json`.
    pub(crate) fn manifest_url(&self) -> String {
        format!("{}{MANIFEST_PATH}", self.base)
    }
}

fn join(base: &str, path: &str) -> Result<Uri, ClientError> {
    let joined = format!("{base}{path}");
    joined.parse::<Uri>().map_err(|e| {
        ClientError::invalid_url(mask_credentials(&joined), e.to_string())
            .caused_by(ErrorSource::new(e))
    })
}

/// [`parse_http_uri`], then the transport security rule (PROTOCOL §11.7): with
/// `require_https`, plain `http` only to a loopback host. Without the `rustls` feature,
/// `https` is refused.
pub(crate) fn parse_secure_uri(url: &str, require_https: bool) -> Result<Uri, ClientError> {
    let uri = parse_http_uri(url)?;
    if require_https
        && uri.scheme_str() == Some("http")
        && !is_loopback(uri.host().unwrap_or_default())
    {
        return Err(ClientError::InsecureUrl {
            url: mask_credentials(url),
        });
    }
    #[cfg(not(feature = "rustls"))]
    if uri.scheme_str() == Some("https") {
        return Err(ClientError::invalid_url(
            mask_credentials(url),
            "https needs the `rustls` feature of asap-transport-client",
        ));
    }
    Ok(uri)
}

/// Parses an absolute `http`/`https` URL with a host.
pub(crate) fn parse_http_uri(url: &str) -> Result<Uri, ClientError> {
    let invalid = |reason: &str| ClientError::invalid_url(mask_credentials(url), reason);
    let uri: Uri = url.parse().map_err(|e: http::uri::InvalidUri| {
        invalid(&e.to_string()).caused_by(ErrorSource::new(e))
    })?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        Some(_) => return Err(invalid("only http and https URLs are supported")),
        None => return Err(invalid("the URL must be absolute (http:// or https://)")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("the URL has no host"));
    }
    Ok(uri)
}

/// `localhost`, `127.0.0.1` or `::1` (the hosts the reference allows over plain HTTP).
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1" || host == "::1"
}

/// `scheme://user:***@host…` when the URL carries a password.
pub(crate) fn mask_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "LOCALHOST", "127.0.0.1", "::1", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["127.0.0.2", "example.com", "0.0.0.0", "localhost.example"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn base_urls() {
        let b = BaseUrl::parse("http://127.0.0.1:8000/", true).unwrap();
        assert_eq!(b.rpc().to_string(), "http://127.0.0.1:8000/asap");
        assert_eq!(
            b.manifest_url(),
            "http://127.0.0.1:8000/.well-known/asap/manifest.json"
        );
        let b = BaseUrl::parse("http://[::1]:9/prefix", true).unwrap();
        assert_eq!(b.rpc().to_string(), "http://[::1]:9/prefix/asap");
        assert!(matches!(
            BaseUrl::parse("http://agent.example", true),
            Err(ClientError::InsecureUrl { .. })
        ));
        assert!(BaseUrl::parse("http://agent.example", false).is_ok());
        for bad in ["ftp://x", "agent.example", "http://", "not a url"] {
            assert!(
                matches!(
                    BaseUrl::parse(bad, false),
                    Err(ClientError::InvalidUrl { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn masks_passwords() {
        assert_eq!(
            mask_credentials("https://u:secret@h.example/x"),
            "https://u:***@h.example/x"
        );
        assert_eq!(mask_credentials("https://h.example"), "https://h.example");
    }
}
