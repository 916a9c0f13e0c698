//! A syslog receiver over TLS for tests: `tools/syslog/receive.py`, which parses every message
//! with an RFC 5424 parser that is not MHP's (`syslog-rfc5424-parser` from PyPI) under the
//! Python of `target/syslog-venv`, installed by `scripts/test.sh`. Its certificate authority
//! (made by trustme) stays in its directory, so a receiver restarted on the same port is
//! trusted alike.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// A running receiver; stopped on drop.
#[derive(Debug)]
pub struct SyslogReceiver {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Drop for SyslogReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SyslogReceiver {
    /// Starts a receiver keeping its certificates and messages in `dir`, on `port` (0: any);
    /// `None` (after a notice) when its Python environment is not installed and
    /// `MHP_TEST_REQUIRE_SYSLOG=1` is not set.
    pub fn start(dir: &Path, port: u16) -> Option<Self> {
        let python = crate::tool_python("syslog", "MHP_TEST_REQUIRE_SYSLOG", "syslog tests")?;
        let mut command = Command::new(python);
        command
            .arg(crate::repo_root().join("tools/syslog/receive.py"))
            .arg(dir)
            .arg(port.to_string());
        let (child, port) = crate::spawn_listening(command, "the syslog receiver");
        Some(Self { child, port })
    }

    /// The certificate authority to trust (written by the first receiver in `dir`).
    pub fn ca_file(dir: &Path) -> PathBuf {
        dir.join("ca.pem")
    }

    /// Every message received in `dir` so far, as the parser read it (`ok` false with the raw
    /// text when it did not parse).
    pub fn messages(dir: &Path) -> Vec<serde_json::Value> {
        crate::json_lines(&dir.join("messages.jsonl"))
    }
}
