//! An SMTP server for tests: `tools/smtp/receive.py` (aiosmtpd, STARTTLS required, a
//! certificate of a trustme authority) under the Python of `target/smtp-venv`, installed by
//! `scripts/test.sh`. Python's own e-mail parser reads every message it receives.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// A running server; stopped on drop.
#[derive(Debug)]
pub struct SmtpReceiver {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Drop for SmtpReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpReceiver {
    /// Starts a server keeping its certificate authority and messages in `dir`; `None` (after
    /// a notice) when its Python environment is not installed and `MHP_TEST_REQUIRE_SMTP=1` is
    /// not set.
    pub fn start(dir: &Path) -> Option<Self> {
        let python = crate::tool_python("smtp", "MHP_TEST_REQUIRE_SMTP", "SMTP tests")?;
        let mut command = Command::new(python);
        command
            .arg(crate::repo_root().join("tools/smtp/receive.py"))
            .arg(dir);
        let (child, port) = crate::spawn_listening(command, "the SMTP server");
        Some(Self { child, port })
    }

    /// The certificate authority of its certificate.
    pub fn ca_file(dir: &Path) -> PathBuf {
        dir.join("ca.pem")
    }

    /// Every message received in `dir` so far, as Python's parser read it.
    pub fn messages(dir: &Path) -> Vec<serde_json::Value> {
        crate::json_lines(&dir.join("messages.jsonl"))
    }
}
