//! The real `mhp` binary, run as a user would run it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod analyze;
mod api;
mod backup;
mod changes;
mod clients;
#[cfg(all(feature = "aws", feature = "vault"))]
mod cloud;
mod completions;
mod compliance;
mod config;
mod demo;
mod edges;
mod erasure;
mod fhir_bulk;
mod imports;
mod layers;
mod mail;
mod main_path;
mod org_move;
mod pipelines;
mod root;
mod serve;
mod siem;
mod sso;
#[cfg(feature = "otel")]
mod traces;
mod uploads;
mod webhooks;

use std::process::{Command, Output, Stdio};

pub const MHP: &str = env!("CARGO_BIN_EXE_mhp");

/// The JSON body of `res`, which must have answered `want` (the body is shown when not).
pub async fn json_of(res: reqwest::Response, want: reqwest::StatusCode) -> serde_json::Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, want, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Runs `mhp ARGS` with a clean environment plus `env`, feeding `stdin`.
pub fn mhp(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    use std::io::Write as _;
    let mut cmd = Command::new(MHP);
    cmd.args(args);
    mhp_test_support::clean_env(&mut cmd);
    cmd.envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The id in parentheses on the line of a command's output that starts with `prefix`
/// (`organisation: Alpha (0192…)`); the command must have succeeded.
pub fn printed_id(out: &Output, prefix: &str) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    let text = stdout(out);
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {text}"));
    line.rsplit_once('(')
        .and_then(|(_, rest)| rest.split(')').next())
        .unwrap()
        .to_owned()
}

/// The API key token `mhp admin api-key create` printed once.
pub fn printed_token(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    stdout(out)
        .lines()
        .find_map(|l| l.strip_prefix("token (shown once): "))
        .expect("token printed")
        .to_owned()
}

/// An organisation `mhp demo` made: its id, the administrator key it printed once, and all it
/// printed (the people's addresses and passwords).
#[derive(Debug)]
pub struct DemoOrg {
    /// The organisation's id.
    pub org: String,
    /// The org-admin API key.
    pub admin: String,
    /// What the command printed.
    pub printed: String,
}

/// Runs `mhp demo` in `data` with `teams` teams of `per_team` athletes over `weeks` weeks.
pub fn demo_org(
    data: &str,
    env: &[(&str, &str)],
    teams: u32,
    per_team: u32,
    weeks: u32,
) -> DemoOrg {
    let (teams, per_team, weeks) = (teams.to_string(), per_team.to_string(), weeks.to_string());
    let out = mhp(
        &[
            "demo",
            "--data-dir",
            data,
            "--teams",
            &teams,
            "--subjects-per-team",
            &per_team,
            "--weeks",
            &weeks,
        ],
        env,
        None,
    );
    let org = printed_id(&out, "organisation:");
    let printed = stdout(&out);
    let admin = printed
        .lines()
        .find_map(|l| {
            l.split_once("(shown once, expires in 30 days): ")
                .map(|(_, k)| k.to_owned())
        })
        .expect("the administrator key printed");
    DemoOrg {
        org,
        admin,
        printed,
    }
}

/// The password `bootstrap_org` gives its operator.
pub const OPS_PASSWORD: &str = "correct horse battery staple";

/// A bootstrapped installation in `DIR/data`: an organisation whose operator
/// (`ops@example.org`, [`OPS_PASSWORD`]) is its admin, and an org-admin API key.
#[derive(Debug)]
pub struct BootstrappedOrg {
    /// The data directory.
    pub data: String,
    /// The organisation's id.
    pub org: String,
    /// An org-admin API key.
    pub admin: String,
}

/// Bootstraps an organisation named `name` under `dir` with `env` (e.g. a `DATABASE_URL`).
pub fn bootstrap_org(dir: &std::path::Path, name: &str, env: &[(&str, &str)]) -> BootstrappedOrg {
    let data = dir.join("data").display().to_string();
    let boot = mhp(
        &[
            "admin",
            "bootstrap",
            "--org",
            name,
            "--email",
            "ops@example.org",
            "--password-stdin",
            "--data-dir",
            &data,
        ],
        env,
        Some(&format!("{OPS_PASSWORD}\n")),
    );
    let org = printed_id(&boot, "organisation:");
    let key = mhp(
        &[
            "admin",
            "api-key",
            "create",
            "--org",
            &org,
            "--role",
            "org_admin",
            "--name",
            "it",
            "--data-dir",
            &data,
        ],
        env,
        None,
    );
    BootstrappedOrg {
        data,
        org,
        admin: printed_token(&key),
    }
}

/// The first subject of the organisation at `api` (`…/api/v1/orgs/{org}`), as `key` sees it.
pub async fn first_subject(c: &reqwest::Client, api: &str, key: &str) -> String {
    let subjects: serde_json::Value = c
        .get(format!("{api}/subjects?limit=1"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    subjects["items"][0]["id"].as_str().unwrap().to_owned()
}

/// A countermovement-jump recording as a force plate's CSV (the demo's first).
pub fn cmj_csv() -> String {
    let spec = mhp_demo::DemoSpec {
        teams: 1,
        subjects_per_team: 1,
        weeks: 1,
        ..mhp_demo::DemoSpec::default()
    };
    mhp_demo::recording_csv(&mhp_demo::plan(&spec).unwrap(), 0).unwrap()
}

/// A cookie-authenticated POST with the session's CSRF token.
pub async fn post(
    base: &str,
    path: &str,
    cookie: &str,
    csrf: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The session cookie a response sets (`name=value`).
pub fn cookie_of(res: &reqwest::Response) -> String {
    res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}
