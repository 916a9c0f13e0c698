//! A real OpenID provider for tests: runs `tools/oidc-provider/server.mjs` (panva's
//! oidc-provider under Node) and plays the browser against it with plain HTTP and a cookie jar.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

/// The client id the provider registers.
pub const CLIENT_ID: &str = "mhp";

/// A running provider; stopped on drop.
#[derive(Debug)]
pub struct OidcProvider {
    child: Child,
    pub issuer: String,
    pub port: u16,
}

impl OidcProvider {
    /// Starts the provider on `port` (0: any free port) signing ID tokens with `alg`, or returns
    /// `None` (after a notice) when its node packages are not installed and
    /// `MHP_TEST_REQUIRE_OIDC=1` is not set.
    pub fn start(port: u16, alg: &str, client_secret: &str, redirect_uri: &str) -> Option<Self> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/oidc-provider");
        if !dir.join("node_modules/oidc-provider").is_dir() {
            let msg = "the test OpenID provider is not installed: run `npm ci --prefix tools/oidc-provider`";
            if std::env::var("MHP_TEST_REQUIRE_OIDC").as_deref() == Ok("1") {
                panic!("{msg} (MHP_TEST_REQUIRE_OIDC=1)");
            }
            // Straight to stderr: the test harness captures `eprintln!` of passing tests.
            let _ = writeln!(std::io::stderr(), "SKIPPED (OpenID provider tests): {msg}");
            return None;
        }
        let mut child = Command::new("node")
            .arg(dir.join("server.mjs"))
            .arg(port.to_string())
            .env("OIDC_REDIRECT_URI", redirect_uri)
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", client_secret)
            .env("OIDC_ALG", alg)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run node (is Node.js 20.19+ installed?)");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(issuer) = line.strip_prefix("listening ") {
                    let _ = tx.send(issuer.to_owned());
                }
            }
        });
        let Ok(issuer) = rx.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the OpenID provider did not start:\n{}",
                stderr.lock().unwrap()
            );
        };
        let port = issuer.rsplit(':').next().unwrap().parse().unwrap();
        Some(Self {
            child,
            issuer,
            port,
        })
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub use crate::clock::TestClock;

/// What the provider put on the redirect URI.
#[derive(Debug)]
pub struct Callback {
    pub code: String,
    pub state: String,
    pub query: HashMap<String, String>,
}

/// Plays the browser: follows the provider's redirects from `authorization_url` (with
/// `login_hint` naming the test user) until it points at `redirect_uri`.
pub async fn authorize(authorization_url: &str, login_hint: &str, redirect_uri: &str) -> Callback {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut url = reqwest::Url::parse(authorization_url).unwrap();
    url.query_pairs_mut().append_pair("login_hint", login_hint);
    let mut jar: HashMap<String, String> = HashMap::new();
    for _ in 0..10 {
        let cookies = jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = http.get(url.clone());
        if !cookies.is_empty() {
            request = request.header(COOKIE, cookies);
        }
        let response = request.send().await.unwrap();
        for set in response.headers().get_all(SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status();
        let Some(location) = response.headers().get(LOCATION) else {
            let body = response.text().await.unwrap_or_default();
            panic!("provider answered {status} without a redirect: {body}");
        };
        url = url.join(location.to_str().unwrap()).unwrap();
        if url.as_str().starts_with(redirect_uri) {
            let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
            if let Some(error) = query.get("error") {
                panic!("provider refused the authorization request: {error}");
            }
            return Callback {
                code: query["code"].clone(),
                state: query["state"].clone(),
                query,
            };
        }
    }
    panic!("too many redirects");
}

/// Verifies `token` as a service beside MHP would, with panva's jose under Node
/// (`tools/oidc-provider/verify-token.mjs`): from the discovery document at `discovery_url`
/// alone, at `at_s` (seconds since the epoch). The verified claims (with the header's `alg`);
/// `None` (after a notice) when the node packages are not installed and
/// `MHP_TEST_REQUIRE_OIDC=1` is not set. Panics when the token does not verify.
pub async fn verify_with_jose(
    discovery_url: &str,
    token: &str,
    at_s: i64,
) -> Option<serde_json::Value> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/oidc-provider");
    if !dir.join("node_modules/jose").is_dir() {
        let msg = "jose is not installed: run `npm ci --prefix tools/oidc-provider`";
        if std::env::var("MHP_TEST_REQUIRE_OIDC").as_deref() == Ok("1") {
            panic!("{msg} (MHP_TEST_REQUIRE_OIDC=1)");
        }
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED (token verification by jose): {msg}"
        );
        return None;
    }
    let (url, token) = (discovery_url.to_owned(), token.to_owned());
    // On a blocking thread: the server that answers the script may run on this test's runtime.
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(dir.join("verify-token.mjs"))
            .arg(url)
            .arg(token)
            .arg(at_s.to_string())
            .output()
    })
    .await
    .expect("the verifying thread")
    .expect("run node (is Node.js 20.19+ installed?)");
    assert!(
        out.status.success(),
        "jose did not verify the token: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("the claims as JSON"))
}
