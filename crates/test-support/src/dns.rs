//! A real DNS server for tests: `tools/dns/serve.py` (dnslib, an independent implementation
//! of DNS) under the Python of `target/dns-venv` (or `MHP_TEST_DNS_PYTHON`), answering TXT
//! queries from records a test publishes while it runs.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command};

/// A running DNS server; stopped on drop.
#[derive(Debug)]
pub struct DnsServer {
    child: Child,
    dir: tempfile::TempDir,
    records: BTreeMap<String, Vec<String>>,
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
}

impl DnsServer {
    /// Starts the server, or returns `None` (after a notice) when its Python environment is not
    /// installed and `MHP_TEST_REQUIRE_DNS=1` is not set.
    pub fn start() -> Option<Self> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let python = std::env::var_os("MHP_TEST_DNS_PYTHON")
            .map_or_else(|| root.join("target/dns-venv/bin/python"), PathBuf::from);
        if !python.exists() {
            let msg = "the test DNS server is not installed: run `python3 -m venv target/dns-venv \
                       && target/dns-venv/bin/pip install -r tools/dns/requirements.txt`";
            if std::env::var("MHP_TEST_REQUIRE_DNS").as_deref() == Ok("1") {
                panic!("{msg} (MHP_TEST_REQUIRE_DNS=1)");
            }
            let _ = writeln!(std::io::stderr(), "SKIPPED (DNS tests): {msg}");
            return None;
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("records.json");
        std::fs::write(&file, "{}").expect("the records file");
        let mut command = Command::new(python);
        command.arg(root.join("tools/dns/serve.py")).arg(&file);
        let (child, port) = crate::spawn_listening(command, "the test DNS server");
        Some(Self {
            child,
            dir,
            records: BTreeMap::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        })
    }

    /// Publishes `values` as the TXT records of `name` (replacing any): answered from the next
    /// query on.
    pub fn set_txt(&mut self, name: &str, values: &[&str]) {
        self.records.insert(
            name.to_owned(),
            values.iter().map(|v| (*v).to_owned()).collect(),
        );
        let json = serde_json::to_string(&self.records).expect("records as JSON");
        // Written beside, then renamed: a query never reads half a file.
        let next = self.dir.path().join("records.next");
        std::fs::write(&next, json).expect("the records file");
        std::fs::rename(&next, self.dir.path().join("records.json")).expect("the records file");
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
