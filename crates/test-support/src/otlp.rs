//! A real OTLP/HTTP trace receiver for tests: `tools/otlp/receive.py`, which decodes exports
//! with OpenTelemetry's own protobuf messages (`opentelemetry-proto` from PyPI) under the Python
//! of `target/otlp-venv` (or `MHP_TEST_OTLP_PYTHON`), and hands back the spans it received.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command};

/// A running receiver; stopped on drop.
#[derive(Debug)]
pub struct OtlpReceiver {
    child: Child,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OtlpReceiver {
    /// Starts the receiver, or returns `None` (after a notice) when its Python environment is
    /// not installed and `MHP_TEST_REQUIRE_OTLP=1` is not set.
    pub fn start() -> Option<Self> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let python = std::env::var_os("MHP_TEST_OTLP_PYTHON")
            .map_or_else(|| root.join("target/otlp-venv/bin/python"), PathBuf::from);
        if !python.exists() {
            let msg = "the OTLP receiver is not installed: run `python3 -m venv target/otlp-venv \
                       && target/otlp-venv/bin/pip install -r tools/otlp/requirements.txt`";
            if std::env::var("MHP_TEST_REQUIRE_OTLP").as_deref() == Ok("1") {
                panic!("{msg} (MHP_TEST_REQUIRE_OTLP=1)");
            }
            let _ = writeln!(std::io::stderr(), "SKIPPED (trace tests): {msg}");
            return None;
        }
        let mut command = Command::new(python);
        command.arg(root.join("tools/otlp/receive.py"));
        let (child, port) = crate::spawn_listening(command, "the OTLP receiver");
        Some(Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    /// The URL to export traces to.
    pub fn traces_url(&self) -> String {
        format!("{}/v1/traces", self.base)
    }

    /// Every span received so far (see `tools/otlp/receive.py` for the fields).
    pub async fn spans(&self) -> Vec<serde_json::Value> {
        let text = reqwest::get(format!("{}/spans", self.base))
            .await
            .expect("the receiver answers")
            .text()
            .await
            .expect("its answer");
        serde_json::from_str(&text).expect("spans as JSON")
    }
}
