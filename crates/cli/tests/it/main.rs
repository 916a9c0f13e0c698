//! The real `mhp` binary, run as a user would run it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod analyze;
mod api;
mod config;
mod demo;
mod layers;
mod main_path;
mod serve;
mod sso;

use std::process::{Command, Output, Stdio};

pub const MHP: &str = env!("CARGO_BIN_EXE_mhp");

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
