//! Test support: a fresh database per test on SQLite and PostgreSQL, and helpers to run the
//! real `mhp` binary.
//!
//! PostgreSQL tests need `MHP_TEST_PG_URL` (set by `scripts/with-postgres.sh`): the URL of a
//! role allowed to create databases. Without it they fail when `MHP_TEST_REQUIRE_PG` is set (as
//! the test script does) and are reported as skipped otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod clock;
pub mod compliance;
pub mod dns;
pub mod fhir;
pub mod moto;
pub mod oauth;
pub mod oidc;
pub mod otlp;
pub mod smtp;
pub mod syslog;
pub mod webhooks;

use std::path::PathBuf;

use sqlx::Connection as _;

/// Decodes RFC 4648 base32 without padding (an authenticator secret as MHP shows it).
pub fn base32_decode(s: &str) -> Vec<u8> {
    const A: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let v = A.iter().position(|a| *a == c).unwrap() as u64;
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

/// A fresh SQLite database in a temporary directory, removed when dropped.
#[derive(Debug)]
pub struct SqliteDb {
    /// The directory holding the file.
    pub dir: tempfile::TempDir,
    /// Its URL (creates the file on first connect).
    pub url: String,
}

/// A fresh SQLite database.
pub fn fresh_sqlite() -> SqliteDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path: PathBuf = dir.path().join("mhp.sqlite");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    SqliteDb { dir, url }
}

/// The admin URL of the test cluster, or `None` (after saying so) when there is none and none is
/// required.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("MHP_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("MHP_TEST_REQUIRE_PG").is_some() => {
            panic!("MHP_TEST_PG_URL is not set: run the tests through scripts/test.sh")
        }
        _ => {
            eprintln!("skipped: no PostgreSQL (MHP_TEST_PG_URL unset; scripts/test.sh sets it)");
            None
        }
    }
}

/// Creates a fresh, empty PostgreSQL database owned by the test role and returns its URL.
/// The cluster is thrown away after the run, so databases are not dropped one by one.
pub async fn fresh_postgres() -> Option<String> {
    let admin = postgres_admin_url()?;
    let name = format!("mhp_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL cluster");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    let _ = conn.close().await;
    Some(replace_database(&admin, &name))
}

/// The same URL with another database name.
pub fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let cut = base.rfind('/').map_or(base.len(), |i| i);
    let mut out = format!("{}/{}", &base[..cut], database);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A running `mhp` process whose standard error (the log) is collected line by line.
#[derive(Debug)]
pub struct MhpProcess {
    child: std::process::Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// `http://ADDR` once the process logged that it listens.
    pub base: String,
}

impl MhpProcess {
    /// Starts `binary serve --listen 127.0.0.1:0` with the given arguments and environment
    /// (the test's own `MHP_*` and `DATABASE_URL` variables are removed first) and waits up to
    /// 60 s for its "listening" log line.
    pub fn serve(binary: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        use std::io::BufRead as _;
        let mut cmd = std::process::Command::new(binary);
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .args(args);
        clean_env(&mut cmd);
        cmd.envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("start mhp");
        let stderr = child.stderr.take().expect("stderr");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                sink.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains("\"message\":\"listening\"") => {
                    let addr = line
                        .split("\"addr\":\"")
                        .nth(1)
                        .and_then(|rest| rest.split('"').next())
                        .expect("addr in the listening line")
                        .to_owned();
                    return Self {
                        child,
                        lines,
                        base: format!("http://{addr}"),
                    };
                }
                Ok(_) => {}
                Err(_) => {
                    let _ = child.kill();
                    let out = child.wait_with_output().ok();
                    panic!(
                        "mhp did not start listening; log:\n{}\nstdout: {:?}",
                        lines.lock().unwrap().join("\n"),
                        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                    );
                }
            }
        }
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Sends SIGKILL (no goodbye: nothing is flushed, no lease released) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit (at most `limit`) and returns its exit code.
    pub fn wait(&mut self, limit: std::time::Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("mhp did not exit within {limit:?}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Every log line so far.
    pub fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits (at most `limit`) until a log line contains every one of `needles` and returns it;
    /// panics with the whole log otherwise. The process writes its log in order and the lines
    /// are collected in order, so once a line is here every line written before it is too: wait
    /// for the line that marks a step as done before asserting what the log does not hold.
    pub async fn wait_for_log(&self, needles: &[&str], limit: std::time::Duration) -> String {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(line) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| needles.iter().all(|n| l.contains(n)))
            {
                return line.clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no log line with {needles:?} within {limit:?}; log:\n{}",
                self.log().join("\n")
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

impl Drop for MhpProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Removes the caller's MHP settings from a command's environment, so a developer's shell
/// cannot change what a test runs against.
pub fn clean_env(cmd: &mut std::process::Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if (k.starts_with("MHP_") && !k.starts_with("MHP_TEST_")) || k == "DATABASE_URL" {
            cmd.env_remove(k.as_ref());
        }
    }
}

/// The repository's root.
pub(crate) fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python of `target/<tool>-venv`, which `scripts/test.sh` installs from
/// `tools/<tool>/requirements.txt`; when it is missing, a panic if `require` (an
/// `MHP_TEST_REQUIRE_*` variable) is `1`, else `None` after a notice naming `what` is skipped.
pub(crate) fn tool_python(tool: &str, require: &str, what: &str) -> Option<std::path::PathBuf> {
    use std::io::Write as _;
    let python = repo_root().join(format!("target/{tool}-venv/bin/python"));
    if python.exists() {
        return Some(python);
    }
    let msg = format!(
        "target/{tool}-venv is not installed: run `python3 -m venv target/{tool}-venv && \
         target/{tool}-venv/bin/pip install -r tools/{tool}/requirements.txt`"
    );
    if std::env::var(require).as_deref() == Ok("1") {
        panic!("{msg} ({require}=1)");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED ({what}): {msg}");
    None
}

/// The JSON values of a file of JSON lines (a tool's record of what it received); none when
/// the file is not there yet, and lines that do not parse are skipped.
pub(crate) fn json_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Starts `command` (a tool's server that prints `listening PORT` on standard output once it
/// answers) and returns it with that port; panics naming `what` when it does not start in 30 s.
pub(crate) fn spawn_listening(
    mut command: std::process::Command,
    what: &str,
) -> (std::process::Child, u16) {
    use std::io::BufRead as _;
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("run {what}: {e}"));
    let stdout = child.stdout.take().expect("its standard output");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(port) = line.strip_prefix("listening ") {
                let _ = tx.send(port.trim().parse::<u16>());
            }
        }
    });
    let Ok(Ok(port)) = rx.recv_timeout(std::time::Duration::from_secs(30)) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{what} did not start");
    };
    (child, port)
}
