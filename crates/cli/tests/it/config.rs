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
