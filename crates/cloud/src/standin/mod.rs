//! STAND-INS for AWS and Vault, for tests only.
//!
//! AWS and Vault cannot run on the build machine (no container runtime, no network beyond
//! package registries), so the clients are tested against small in-process axum servers on
//! `127.0.0.1` that speak the same HTTP protocols, shaped after the services' API
//! documentation:
//!
//! - [`AwsStandIn`]: verifies the Signature Version 4 signature of
//!   every request, then answers KMS `Encrypt`/`Decrypt`/`GenerateDataKey`, Secrets Manager
//!   `GetSecretValue` and SSM `GetParameter` from in-memory state that tests change.
//! - [`VaultStandIn`]: checks the token, then answers Transit
//!   `encrypt`/`decrypt`/`rewrap` with key versions and KV version 2 reads.
//!
//! Their cipher is a stand-in too (HMAC-SHA256 in counter mode, encrypt-then-MAC, nonces from
//! a counter): it binds contexts and detects tampering as the real services do, but it is not
//! reviewed cryptography and must never protect real data. What the stand-ins cannot show is
//! that the real services accept these requests; that needs a run against AWS and Vault.
//!
//! Each stand-in stops when dropped.

mod cipher;

mod aws;
mod vault;

pub use aws::AwsStandIn;
pub use vault::VaultStandIn;

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

/// A running stand-in server; stopped when dropped.
#[derive(Debug)]
struct Server {
    url: url::Url,
    task: JoinHandle<()>,
}

impl Server {
    /// Binds an ephemeral port on 127.0.0.1. It accepts connections from then on, so nobody
    /// needs to wait for readiness once [`Server::serve`] runs.
    async fn bind() -> std::io::Result<(tokio::net::TcpListener, url::Url)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr: SocketAddr = listener.local_addr()?;
        let url = url::Url::parse(&format!("http://{addr}/"))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        Ok((listener, url))
    }

    /// Serves `router` on a listener from [`Server::bind`].
    fn serve(listener: tokio::net::TcpListener, url: url::Url, router: Router) -> Self {
        let task = tokio::spawn(async move {
            // The server runs until the stand-in is dropped; an accept error ends it, and the
            // test then sees connection failures.
            let _ = axum::serve(listener, router).await;
        });
        Self { url, task }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Locks state, ignoring poisoning: a panicking test must not hide the next one's failure.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A JSON answer with `status` and `content_type`.
fn json_response(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The one value of header `name`, when present and text.
fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
