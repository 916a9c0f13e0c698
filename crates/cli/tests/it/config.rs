use crate::{mhp, stderr, stdout};

#[test]
fn config_check_prints_the_effective_configuration_with_secrets_redacted() {
    let out = mhp(
        &["config", "check", "--data-dir", "/srv/mhp"],
        &[
            (
                "DATABASE_URL",
                "postgres://mhp:hunter2-secret@db.internal/mhp",
            ),
            ("MHP_LISTEN", "0.0.0.0:9000"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("data_dir = \"/srv/mhp\""), "{text}");
    assert!(text.contains("listen = \"0.0.0.0:9000\""), "{text}");
    assert!(
        text.contains("postgres://mhp:***@db.internal/mhp"),
        "{text}"
    );
    assert!(
        text.contains("master_key_file = \"/srv/mhp/master.key\""),
        "{text}"
    );
    assert!(!text.contains("hunter2") && !stderr(&out).contains("hunter2"));
}

#[test]
fn invalid_configuration_exits_2_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mhp.toml");
    let cases: &[(&str, &str)] = &[
        (
            "[database]\nmax_connections = 0\n",
            "database.max_connections",
        ),
        ("[http]\nbody_limit = 5\n", "http"),
        ("listen = \"nowhere\"\n", "listen"),
        ("[database\n", "line 1"),
        (
            "[index]\nbackend = \"opensearch\"\nopensearch_url = \"https://s\"\nopensearch_auth = \"iam\"\n",
            "index.opensearch_auth",
        ),
        (
            "[index]\nopensearch_auth = \"aws-sigv4\"\nopensearch_username = \"mhp\"\n",
            "index.opensearch_auth",
        ),
        (
            "[index]\nopensearch_auth = \"basic\"\nopensearch_username = \"mhp\"\n",
            "index.opensearch_auth",
        ),
        (
            "[telemetry]\nsample_ratio = 2.0\n",
            "telemetry.sample_ratio",
        ),
        (
            "[telemetry]\notlp_endpoint = \"collector:4318\"\n",
            "telemetry.otlp_endpoint",
        ),
        ("[mail]\nsmtp_tls = \"sometimes\"\n", "mail.smtp_tls"),
        ("[mail]\nsmtp_host = \"smtp.example.org\"\n", "mail.from"),
        (
            "[mail]\nsmtp_host = \"smtp.example.org\"\nfrom = \"a@example.org\"\nsmtp_username = \"u\"\n",
            "mail.smtp_password",
        ),
        (
            "environment = \"production\"\n[mail]\nsmtp_host = \"relay\"\nfrom = \"a@example.org\"\nsmtp_tls = \"none\"\n",
            "mail.smtp_tls",
        ),
        ("[mail]\ntransport = \"pigeon\"\n", "mail"),
        ("[mail]\ntransport = \"ses\"\n", "mail.from"),
        (
            "[mail]\ntransport = \"smtp\"\nfrom = \"a@example.org\"\n",
            "mail.smtp_host",
        ),
        (
            "[mail]\ntransport = \"ses\"\nfrom = \"a@example.org\"\nsmtp_host = \"relay\"\n",
            "mail.smtp_host",
        ),
        (
            "[mail]\ntransport = \"outbox\"\nsmtp_host = \"relay\"\nfrom = \"a@example.org\"\n",
            "mail.smtp_host",
        ),
        (
            "[mail]\nses_configuration_set = \"mhp\"\n",
            "mail.ses_configuration_set",
        ),
        (
            "[mail]\ntransport = \"ses\"\nfrom = \"a@example.org\"\nses_configuration_set = \"a/b\"\n",
            "mail.ses_configuration_set",
        ),
    ];
    for (text, key) in cases {
        std::fs::write(&file, text).unwrap();
        let out = mhp(
            &["config", "check", "--config", file.to_str().unwrap()],
            &[],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
        assert!(err.contains(key), "{err} should name {key}");
        assert!(stdout(&out).is_empty());
    }
    let out = mhp(
        &["config", "check"],
        &[("MHP_HTTP_DRAIN_DELAY_MS", "soon")],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("MHP_HTTP_DRAIN_DELAY_MS"));

    // The same configuration stops `serve` before anything is created.
    let data = dir.path().join("data");
    let out = mhp(
        &["serve", "--data-dir", data.to_str().unwrap()],
        &[("MHP_DATABASE_MAX_CONNECTIONS", "0")],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!data.exists());
}

/// What an operator reads: the command list, the effective configuration of a default
/// installation and the one-line errors. A change shows up as a diff to review
/// (`UPDATE_EXPECT=1 cargo test -p mhp-cli --test it snapshot` accepts it).
#[test]
fn command_line_output_matches_its_snapshot() {
    let help = mhp(&["--help"], &[], None);
    assert_eq!(help.status.code(), Some(0));
    expect_test::expect_file!["../snapshots/help.txt"].assert_eq(&unwrapped(&stdout(&help)));

    let check = mhp(&["config", "check", "--data-dir", "/srv/mhp"], &[], None);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    expect_test::expect_file!["../snapshots/config-check.txt"].assert_eq(&stdout(&check));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mhp.toml");
    let mut errors = String::new();
    for text in [
        "[database]\nmax_connections = 0\n",
        "listen = \"nowhere\"\n",
        "[egress]\nallow_cidrs = [\"10.0.0.0/33\"]\n",
        "[database\n",
    ] {
        std::fs::write(&file, text).unwrap();
        let out = mhp(
            &["config", "check", "--config", file.to_str().unwrap()],
            &[],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{text}");
        errors.push_str(&stderr(&out).replace(file.to_str().unwrap(), "<file>"));
    }
    expect_test::expect_file!["../snapshots/config-errors.txt"].assert_eq(&errors);
}

/// Help text with clap's line wrapping undone: whether it wraps depends on a clap feature that
/// another crate's dev-dependency may switch on for the whole build.
fn unwrapped(help: &str) -> String {
    let mut out = String::new();
    for line in help.lines() {
        if line.starts_with("        ") && !out.is_empty() {
            out.pop();
            out.push(' ');
            out.push_str(line.trim_start());
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// `--strict` is what a deployment check runs: a misspelt or invented variable and a production
/// setting left unset fail it, naming each; the same settings pass without it (warnings only).
#[test]
fn strict_config_check_refuses_unknown_variables_and_production_gaps() {
    let production = [
        ("MHP_ENVIRONMENT", "production"),
        ("MHP_KEYS_PROVIDER", "aws-kms"),
        ("MHP_KEYS_KMS_KEY_ID", "alias/mhp"),
        ("MHP_AWS_REGION", "eu-west-1"),
        ("MHP_KEYS_STORE_URL", "postgres://keys.internal/keys"),
        ("DATABASE_URL", "postgres://db.internal/mhp"),
        ("MHP_OBJECT_STORE_BACKEND", "s3"),
        ("MHP_OBJECT_STORE_BUCKET", "mhp-data"),
        ("MHP_BACKUP_TO", "s3://mhp-backups/mhp"),
        ("MHP_BACKUP_KEYS_TO", "s3://mhp-key-backups/mhp"),
    ];
    let mut wrong = production.to_vec();
    wrong.push(("MHP_SEARCH_OPENSEARCH_URL", "https://search.internal"));
    let lax = mhp(&["config", "check", "--data-dir", "/data"], &wrong, None);
    assert_eq!(lax.status.code(), Some(0), "{}", stderr(&lax));
    assert!(stderr(&lax).contains("unknown environment variable MHP_SEARCH_OPENSEARCH_URL"));

    let strict = mhp(
        &["config", "check", "--strict", "--data-dir", "/data"],
        &wrong,
        None,
    );
    assert_eq!(strict.status.code(), Some(2));
    let err = stderr(&strict);
    assert!(
        err.contains("MHP_SEARCH_OPENSEARCH_URL is not a variable MHP reads"),
        "{err}"
    );
    assert!(err.contains("http.public_url is not set"), "{err}");

    let mut complete = production.to_vec();
    complete.push(("MHP_HTTP_PUBLIC_URL", "https://mhp.example.org"));
    let ok = mhp(
        &["config", "check", "--strict", "--data-dir", "/data"],
        &complete,
        None,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
}

#[test]
fn config_vars_lists_every_variable_with_its_setting() {
    let out = mhp(&["config", "vars"], &[("MHP_LISTEN", "nowhere")], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "needs no valid settings: {}",
        stderr(&out)
    );
    let text = stdout(&out);
    let vars: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once('\t')).collect();
    assert_eq!(
        vars.len(),
        text.lines().count(),
        "VAR<TAB>key lines: {text}"
    );
    for (var, key) in [
        ("MHP_HTTP_PUBLIC_URL", "http.public_url"),
        ("DATABASE_URL", "database.url"),
        ("MHP_KEYS_STORE_URL", "keys.store_url"),
        ("MHP_CONFIG", "(the settings file)"),
    ] {
        assert!(vars.contains(&(var, key)), "{var} in {text}");
    }
}
