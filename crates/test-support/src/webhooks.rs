//! A webhook receiver for tests: `tools/webhooks/receive.py`, which verifies every delivery
//! with the Standard Webhooks reference library (`standardwebhooks` from PyPI, not MHP's code)
//! under the Python of `target/webhooks-venv`, installed by `scripts/test.sh`.

use std::process::{Child, Command};

/// A running receiver; stopped on drop.
#[derive(Debug)]
pub struct WebhookReceiver {
    child: Child,
    dir: tempfile::TempDir,
    /// Where to post, `http://127.0.0.1:PORT/hook`.
    pub url: String,
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl WebhookReceiver {
    /// Starts a receiver that verifies with `secret` (`whsec_…`, several separated by commas,
    /// or `@FILE` to read them from a file at every request) and answers 503 to its first
    /// `refuse_first` attempts; `None` (after a notice) when its Python environment is not
    /// installed and `MHP_TEST_REQUIRE_WEBHOOKS=1` is not set.
    pub fn start(secret: &str, refuse_first: u32) -> Option<Self> {
        let python = crate::tool_python("webhooks", "MHP_TEST_REQUIRE_WEBHOOKS", "webhook tests")?;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut command = Command::new(python);
        command
            .arg(crate::repo_root().join("tools/webhooks/receive.py"))
            .arg(secret)
            .arg(dir.path().join("attempts.jsonl"))
            .arg("--refuse-first")
            .arg(refuse_first.to_string());
        let (child, port) = crate::spawn_listening(command, "the webhook receiver");
        Some(Self {
            child,
            dir,
            url: format!("http://127.0.0.1:{port}/hook"),
        })
    }

    /// Every attempt so far: `{"id", "verified" (true when a secret verifies it, else the
    /// library's refusal), "verified_by" (one boolean per secret), "signatures" (how many the
    /// message carried), "refused", "body"}`.
    pub fn attempts(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("attempts.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}
