//! AWS for tests: moto's server (`moto[server]`, an independent implementation of the AWS APIs)
//! under the Python of `target/aws-venv` (or `MHP_TEST_AWS_PYTHON`), installed by
//! `scripts/test.sh` from `tools/aws/requirements.txt`. Keys are made with boto3, AWS's own SDK,
//! so MHP's signer and clients meet implementations that are not MHP's.

use std::io::Write as _;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The credentials moto is called with (it accepts any).
pub const ACCESS_KEY_ID: &str = "AKIDMOTOTEST";
/// The secret key moto is called with.
pub const SECRET_ACCESS_KEY: &str = "moto-test-secret-access-key";
/// The region the tests use.
pub const REGION: &str = "eu-west-1";

/// A running moto server; stopped on drop.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    python: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python of the AWS test environment (moto, boto3, botocore), or `None` (after a notice)
/// when it is not installed and `MHP_TEST_REQUIRE_AWS=1` is not set.
pub fn python() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var_os("MHP_TEST_AWS_PYTHON")
        .map_or_else(|| root.join("target/aws-venv/bin/python"), PathBuf::from);
    if !python.exists() {
        let msg = "moto is not installed: run `python3 -m venv target/aws-venv && \
                   target/aws-venv/bin/pip install -r tools/aws/requirements.txt`";
        if std::env::var("MHP_TEST_REQUIRE_AWS").as_deref() == Ok("1") {
            panic!("{msg} (MHP_TEST_REQUIRE_AWS=1)");
        }
        let _ = writeln!(std::io::stderr(), "SKIPPED (AWS tests): {msg}");
        return None;
    }
    Some(python)
}

impl Moto {
    /// Starts moto, or returns `None` (after a notice) when its Python environment is not
    /// installed and `MHP_TEST_REQUIRE_AWS=1` is not set.
    pub fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    /// Starts moto with its server's environment extended by `vars`: with
    /// `INITIAL_NO_AUTH_ACTION_COUNT=n`, the first `n` requests go unchecked and every later
    /// one must be signed, correctly, by credentials moto's IAM knows and allows.
    pub fn start_with(vars: &[(&str, &str)]) -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Self::start_on(port, vars)
    }

    /// Starts moto on `port` (again, after a test stopped the one there: its state is gone).
    pub fn start_on(port: u16, vars: &[(&str, &str)]) -> Option<Self> {
        let python = python()?;
        let child = Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run moto");
        let mut moto = Self {
            child,
            python,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto exited at start: {status}");
            }
            assert!(Instant::now() < deadline, "moto did not start in 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.endpoint
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("moto's endpoint has a port")
    }

    /// The environment that points MHP's AWS clients at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_owned()),
            ("MHP_AWS_REGION", REGION.to_owned()),
            ("MHP_AWS_ENDPOINT", self.endpoint.clone()),
        ]
    }

    /// Runs a boto3 snippet against this server (`aws(service)` makes a client) and returns
    /// what it prints.
    pub fn boto3(&self, code: &str) -> String {
        self.boto3_as(ACCESS_KEY_ID, SECRET_ACCESS_KEY, code)
    }

    /// Runs a boto3 snippet as the access key pair given (moto's IAM checks it when started
    /// with `INITIAL_NO_AUTH_ACTION_COUNT`).
    pub fn boto3_as(&self, access_key_id: &str, secret_access_key: &str, code: &str) -> String {
        let script = format!(
            "import boto3\n\
             def aws(service):\n    return boto3.client(service, endpoint_url={endpoint:?}, \
             region_name={REGION:?}, aws_access_key_id={access_key_id:?}, \
             aws_secret_access_key={secret_access_key:?})\n{code}\n",
            endpoint = self.endpoint,
        );
        let out = Command::new(&self.python)
            .args(["-c", &script])
            .output()
            .expect("run boto3");
        assert!(
            out.status.success(),
            "boto3 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Every key in `bucket` (boto3's paginator), and the distinct server-side encryptions
    /// the objects carry (`aws:kms`, `AES256`).
    pub fn bucket_contents(&self, bucket: &str) -> (Vec<String>, Vec<String>) {
        let out = self.boto3(&format!(
            "import json\n\
             s3 = aws('s3')\n\
             keys = [o['Key'] for p in s3.get_paginator('list_objects_v2').paginate(\
             Bucket={bucket:?}) for o in p.get('Contents', [])]\n\
             sse = sorted({{str(s3.head_object(Bucket={bucket:?}, Key=k).get(\
             'ServerSideEncryption')) for k in keys}})\n\
             print(json.dumps([keys, sse]))"
        ));
        serde_json::from_str(&out).expect("boto3's listing")
    }

    /// A new symmetric KMS key; returns its id.
    pub fn create_kms_key(&self) -> String {
        self.boto3("print(aws('kms').create_key(Description='mhp test')['KeyMetadata']['KeyId'])")
    }
}
