//! What the AWS and Vault clients share: the HTTP client, the rule for endpoints, bounded
//! reading of answers and the mapping of transport errors.

use std::time::Duration;

use url::{Host, Url};
use zeroize::Zeroizing;

use crate::CloudError;

/// Time-out of one request, connection included.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Time-out of establishing a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer read. KMS, Secrets Manager (secrets up to 64 KiB), SSM and Vault answers are
/// far smaller; a larger one is a misdirected endpoint.
const MAX_BODY: usize = 1 << 20;

/// An HTTP client that never follows redirects: a redirect would carry a Vault token or a
/// signed request to a host nobody configured.
pub(crate) fn client() -> Result<reqwest::Client, CloudError> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|_| CloudError::Config("the HTTP client could not be built"))
}

/// Accepts an endpoint when it is https, or plain http to a loopback address (tests, a local
/// agent), and carries no user name or password.
pub(crate) fn check_endpoint(url: &Url) -> Result<(), CloudError> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(CloudError::Config(
            "the endpoint URL must not carry credentials",
        ));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        _ => Err(CloudError::Config(
            "the endpoint must be https (plain http only to a loopback address)",
        )),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Reads an answer's body, refusing one larger than [`MAX_BODY`]. The buffer is wiped when
/// dropped, since answers carry plaintexts and secret values.
pub(crate) async fn read_body(
    response: reqwest::Response,
    service: &str,
) -> Result<Zeroizing<Vec<u8>>, CloudError> {
    read_limited(response, service, MAX_BODY).await
}

/// Reads an answer that carries no secret (an object, a listing) of at most `limit` bytes.
pub(crate) async fn read_body_up_to(
    response: reqwest::Response,
    service: &str,
    limit: usize,
) -> Result<Vec<u8>, CloudError> {
    let mut body = read_limited(response, service, limit).await?;
    Ok(std::mem::take(&mut *body))
}

async fn read_limited(
    mut response: reqwest::Response,
    service: &str,
    limit: usize,
) -> Result<Zeroizing<Vec<u8>>, CloudError> {
    let expected = response
        .content_length()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    if expected > limit {
        return Err(too_large(service));
    }
    // Reserving up front keeps the secret in one allocation when the length is announced.
    let mut body = Zeroizing::new(Vec::with_capacity(expected));
    while let Some(chunk) = response.chunk().await.map_err(|e| transport(service, e))? {
        if body.len() + chunk.len() > limit {
            return Err(too_large(service));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large(service: &str) -> CloudError {
    CloudError::Malformed {
        service: service.to_owned(),
        what: "the answer is larger than allowed",
    }
}

/// Maps an error of the HTTP client, dropping the URL it may carry.
pub(crate) fn transport(service: &str, error: reqwest::Error) -> CloudError {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else {
        "request"
    };
    CloudError::Transport {
        service: service.to_owned(),
        kind,
        source: Box::new(error.without_url()),
    }
}

/// A header value for a credential: refused when it cannot travel in a header, and marked
/// sensitive so the HTTP stack never prints it.
pub(crate) fn secret_header(
    value: &str,
    what: &'static str,
) -> Result<reqwest::header::HeaderValue, CloudError> {
    let mut header =
        reqwest::header::HeaderValue::from_str(value).map_err(|_| CloudError::Config(what))?;
    header.set_sensitive(true);
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_or_loopback_http() {
        let ok = |s: &str| check_endpoint(&Url::parse(s).unwrap()).is_ok();
        assert!(ok("https://kms.eu-west-1.amazonaws.com"));
        assert!(ok("https://vault.internal:8200"));
        assert!(ok("http://127.0.0.1:8200"));
        assert!(ok("http://[::1]:8200"));
        assert!(ok("http://localhost:8200"));
        assert!(!ok("http://vault.internal:8200"));
        assert!(!ok("http://10.0.0.1:8200"));
        assert!(!ok("ftp://127.0.0.1"));
        assert!(!ok("https://user:pass@vault.internal"));
    }
}
