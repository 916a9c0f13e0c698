//! An OAuth 2.0 machine client for tests: `tools/oauth/client_credentials.py` (oauthlib and
//! requests-oauthlib, not MHP's code) under the Python of `target/oauth-venv`, installed by
//! `scripts/test.sh`.

use std::process::Command;

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// HTTP Basic (`client_secret_basic`).
    Basic,
    /// In the form body (`client_secret_post`).
    Post,
}

/// Finds the token endpoint in `base`'s discovery document, gets a token for `client_id` and
/// `secret` with the client credentials grant, then GETs `base` + `path` with it. Returns the
/// tool's JSON: `{"token": {...}, "status", "body"}` or `{"error", "status_code"}`. `None`
/// (after a notice) when its Python environment is not installed and `MHP_TEST_REQUIRE_OAUTH=1`
/// is not set.
pub fn client_credentials(
    base: &str,
    client_id: &str,
    secret: &str,
    path: &str,
    auth: ClientAuth,
) -> Option<serde_json::Value> {
    let python = crate::tool_python("oauth", "MHP_TEST_REQUIRE_OAUTH", "OAuth client tests")?;
    let out = Command::new(python)
        .arg(crate::repo_root().join("tools/oauth/client_credentials.py"))
        .args([base, client_id, secret, path])
        .arg(match auth {
            ClientAuth::Basic => "basic",
            ClientAuth::Post => "post",
        })
        // The test server speaks plain HTTP on the loopback address; oauthlib refuses that
        // unless told.
        .env("OAUTHLIB_INSECURE_TRANSPORT", "1")
        .output()
        .expect("the OAuth client runs");
    assert!(
        out.status.success(),
        "the OAuth client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("the OAuth client prints JSON"))
}
