//! Pipelines with the real binary on PostgreSQL: `mhp worker` processes share the queue; one is
//! killed (SIGKILL) in the middle of training and another takes the step over when its lease
//! expires, with nothing done twice. Then `mhp serve` (embedded workers) scores a new upload
//! in real time.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mhp_test_support::MhpProcess;
use serde_json::{Value, json};
use sqlx::{Connection as _, PgConnection, Row as _};

use crate::{MHP, mhp, printed_id, stdout};

/// A worker process, killed when dropped (a failing test leaves none behind).
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker(data: &str, env: &[(&str, &str)]) -> Worker {
    let mut cmd = Command::new(MHP);
    cmd.args(["worker", "--workers", "1", "--data-dir", data]);
    mhp_test_support::clean_env(&mut cmd);
    cmd.envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Worker(cmd.spawn().unwrap())
}

/// A connection that sees the queue (operator) and the organisation's registry (tenant).
async fn observer(url: &str, org: &str) -> PgConnection {
    let mut conn = PgConnection::connect(url).await.unwrap();
    sqlx::query(
        "SELECT set_config('mhp.operator', 'on', false), set_config('mhp.org_id', $1, false)",
    )
    .bind(org)
    .execute(&mut conn)
    .await
    .unwrap();
    conn
}

/// `(status, attempts, lease owner)` of a run's step.
async fn job(conn: &mut PgConnection, run: &str, step: &str) -> (String, i64, Option<String>) {
    let row = sqlx::query(
        "SELECT status, attempts, lease_owner FROM pipeline_jobs WHERE run_id = $1 AND step = $2",
    )
    .bind(run)
    .bind(step)
    .fetch_one(conn)
    .await
    .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_is_taken_over_and_serve_scores_uploads_in_real_time() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("MHP_PIPELINES_LEASE_S", "3"),
        ("MHP_PIPELINES_POLL_MS", "100"),
    ];
    let demo = crate::demo_org(&data, &env, 2, 15, 12);
    let (org, key) = (demo.org.clone(), demo.admin.clone());

    // Training long enough to be caught in the act: many small trees.
    let mut a = worker(&data, &env);
    let model = json!({"model": "gradient_boosting", "n_trees": 30000, "learning_rate": 0.001,
        "max_depth": 3, "min_samples_leaf": 5, "subsample": 0.8, "n_bins": 32, "seed": 0,
        "l2": 1.0});
    let out = mhp(
        &[
            "pipeline",
            "run",
            "train-injury-risk",
            "--org",
            &org,
            "--data-dir",
            &data,
            "--param",
            "season_start=2025-09-01",
            "--param",
            &format!("model={model}"),
        ],
        &env,
        None,
    );
    let run = stdout(&out)
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("{}", crate::stderr(&out)))
        .to_owned();
    let mut conn = observer(&url, &org).await;
    let started = Instant::now();
    let owner = loop {
        let (status, _, owner) = job(&mut conn, &run, "train").await;
        if status == "running" {
            break owner.unwrap();
        }
        assert!(
            status != "succeeded",
            "training ended before the kill: make it longer"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "train never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    a.0.kill().unwrap(); // SIGKILL: no goodbye, the lease stays until it expires
    a.0.wait().unwrap();

    let b = worker(&data, &env);
    let started = Instant::now();
    loop {
        let status: String = sqlx::query_scalar("SELECT status FROM pipeline_runs WHERE id = $1")
            .bind(&run)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if status == "succeeded" {
            break;
        }
        assert!(status != "failed", "the run failed");
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "the run never ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, attempts, _) = job(&mut conn, &run, "train").await;
    assert_eq!(attempts, 2, "the killed attempt and the takeover");
    let (_, attempts, _) = job(&mut conn, &run, "dataset").await;
    assert_eq!(attempts, 1, "finished steps are not repeated");
    let logs: Vec<String> = sqlx::query_scalar(
        "SELECT message FROM pipeline_logs WHERE run_id = $1 AND step = 'train' ORDER BY at_ms",
    )
    .bind(&run)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(logs.iter().any(|l| l.starts_with("trained on")), "{logs:?}");
    // Registered once, audited once.
    let versions: Vec<String> =
        sqlx::query_scalar("SELECT id FROM model_versions WHERE training_run_id = $1")
            .bind(&run)
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(versions.len(), 1);
    let registered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'model.register' AND resource_id = $1",
    )
    .bind(&versions[0])
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(registered, 1);
    assert!(!owner.is_empty());
    drop(b);

    // The data scientist's view at a terminal: the version, its stage and its evaluation.
    let listed = mhp(
        &["model", "list", "--org", &org, "--data-dir", &data],
        &env,
        None,
    );
    assert_eq!(listed.status.code(), Some(0), "{}", crate::stderr(&listed));
    let line = stdout(&listed)
        .lines()
        .find(|l| l.starts_with(&versions[0]))
        .unwrap_or_else(|| panic!("{}", stdout(&listed)))
        .to_owned();
    assert!(
        line.contains("injury-risk") && line.contains("candidate"),
        "{line}"
    );
    let stored: String =
        sqlx::query_scalar("SELECT metrics_json FROM model_versions WHERE id = $1")
            .bind(&versions[0])
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let stored: Value = serde_json::from_str(&stored).unwrap();
    let auc = stored["overall"]["roc_auc"].as_f64().unwrap();
    assert!(line.contains(&format!("{auc:.3}")), "{line} lacks {auc:.3}");
    let interval = &stored["roc_auc_interval"];
    assert!(
        interval["low"].as_f64().unwrap() <= auc && auc <= interval["high"].as_f64().unwrap(),
        "{stored}"
    );
    let shown = mhp(
        &[
            "model",
            "show",
            &versions[0],
            "--org",
            &org,
            "--data-dir",
            &data,
        ],
        &env,
        None,
    );
    assert_eq!(shown.status.code(), Some(0), "{}", crate::stderr(&shown));
    let text = stdout(&shown);
    for part in [
        "model injury-risk version 1",
        &format!("training run: {run}"),
        "seed: ",
        "95 % interval by athlete",
        "calibration (predicted → observed, rows):",
        "by group:",
        "risk bands: moderate from",
        "features (",
    ] {
        assert!(text.contains(part), "{part} missing from:\n{text}");
    }
    let unknown = mhp(
        &[
            "model",
            "show",
            &mhp_domain::ModelVersionId::new().to_string(),
            "--org",
            &org,
            "--data-dir",
            &data,
        ],
        &env,
        None,
    );
    assert_eq!(unknown.status.code(), Some(2), "{}", stdout(&unknown));
    assert!(crate::stderr(&unknown).contains("no model version"));

    // `mhp serve` with its embedded workers: approve the model, upload a jump test, and the
    // subject's score follows without anyone asking.
    let p = MhpProcess::serve(MHP, &["--data-dir", &data], &env);
    let c = reqwest::Client::new();
    let api = format!("{}/api/v1/orgs/{org}", p.base);
    let res = c
        .post(format!("{api}/model-versions/{}/stage", versions[0]))
        .bearer_auth(&key)
        .json(&json!({"stage": "production"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The evaluation's per-row predictions, de-identified: one line per test row, pseudonyms
    // and weeks as the dataset CSV has them, probabilities and bands as evaluated.
    let predictions = c
        .get(format!("{api}/datasets/{run}/predictions.csv"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(predictions.status(), 200);
    assert_eq!(
        predictions.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let predictions = predictions.text().await.unwrap();
    let dataset = c
        .get(format!("{api}/datasets/{run}/csv"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut lines = predictions.lines();
    assert_eq!(lines.next(), Some("subject,time,label,probability,band"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows.len() as u64,
        stored["overall"]["rows"].as_u64().unwrap()
    );
    let positives = rows.iter().filter(|r| r[2] == "1").count() as u64;
    assert_eq!(positives, stored["overall"]["positives"].as_u64().unwrap());
    let in_dataset: std::collections::HashSet<(String, String, String)> = dataset
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_owned(), f[1].to_owned(), f[4].to_owned())
        })
        .collect();
    for r in &rows {
        let p: f64 = r[3].parse().unwrap();
        assert!((0.0..=1.0).contains(&p), "{r:?}");
        assert!(["low", "moderate", "high"].contains(&r[4]), "{r:?}");
        assert!(
            in_dataset.contains(&(r[0].to_owned(), r[1].to_owned(), r[2].to_owned())),
            "a prediction row that is not a dataset row: {r:?}"
        );
    }
    let subject = crate::first_subject(&c, &api, &key).await;
    assert!(!predictions.contains(&subject), "pseudonyms only");
    // The command line writes the same file.
    let exported = mhp(
        &["pipeline", "export-predictions", &run, "--data-dir", &data],
        &env,
        None,
    );
    assert_eq!(
        exported.status.code(),
        Some(0),
        "{}",
        crate::stderr(&exported)
    );
    assert_eq!(stdout(&exported), predictions);
    let csv = crate::cmj_csv();
    let uploaded = Instant::now();
    let res = c
        .post(format!("{api}/subjects/{subject}/assessments"))
        .bearer_auth(&key)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let scores = loop {
        let scores: Value = c
            .get(format!("{api}/subjects/{subject}/risk"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !scores.as_array().unwrap().is_empty() {
            break scores;
        }
        assert!(
            uploaded.elapsed() < Duration::from_secs(30),
            "no real-time score"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!("upload to score: {} ms", uploaded.elapsed().as_millis());
    assert_eq!(scores[0]["model_version_id"], versions[0].as_str());
    assert!(["low", "moderate", "high"].contains(&scores[0]["band"].as_str().unwrap()));
    assert_eq!(scores[0]["contributions"].as_array().unwrap().len(), 3);
    let runs: Value = c
        .get(format!("{api}/pipeline-runs?pipeline=score-subject"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs[0]["trigger"], "event");
    // Queue figures for an autoscaler. The score is visible as soon as the step stores it; the
    // worker counts the step once it has recorded the result, a moment later: wait for that.
    let counted = "mhp_pipeline_step_duration_seconds_count{pipeline=\"score-subject\"";
    let started = Instant::now();
    let metrics = loop {
        let text = reqwest::get(format!("{}/metrics", p.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains(counted) {
            break text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the scoring step was never counted:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(metrics.contains("mhp_pipeline_jobs{pipeline=\"train-injury-risk\",state=\"due\"}"));
    assert!(metrics.contains("mhp_pipeline_oldest_due_seconds{pipeline=\"score-subject\"}"));
    // The work done: the scoring step's duration, the run counted as finished, and the time
    // from the upload's commit to its score.
    let value = |series: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
    };
    assert!(
        value(
            "mhp_pipeline_step_duration_seconds_count{pipeline=\"score-subject\",step=\"score\",outcome=\"succeeded\"}"
        ) >= 1.0
    );
    assert!(
        value("mhp_pipeline_runs_finished_total{pipeline=\"score-subject\",status=\"succeeded\"}")
            >= 1.0
    );
    assert!(value("mhp_scoring_latency_seconds_count") >= 1.0);
    p.terminate();
}

/// A run that fails for good (an organisation without data cannot be trained on) ends failed
/// with its step's error, `mhp pipeline run --wait` exits 1 saying so, and the worker raises
/// the alert that monitoring pages on.
#[tokio::test]
async fn a_run_that_fails_for_good_is_reported_and_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let boot = mhp(
        &[
            "admin",
            "bootstrap",
            "--org",
            "Empty",
            "--email",
            "ops@example.org",
            "--data-dir",
            &data,
        ],
        &[],
        None,
    );
    let org = printed_id(&boot, "organisation:");
    let env = [("MHP_PIPELINES_POLL_MS", "50")];
    let p = MhpProcess::serve(MHP, &["--data-dir", &data], &env);
    let out = mhp(
        &[
            "pipeline",
            "run",
            "train-injury-risk",
            "--org",
            &org,
            "--wait",
            "--timeout-s",
            "60",
            "--data-dir",
            &data,
        ],
        &env,
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", crate::stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("failed"), "{text}");
    assert!(
        text.contains("error: step dataset: the dataset has 0 rows and 0 injuries"),
        "{text}"
    );
    // The steps are shown as they move, before the run's verdict.
    let step = text
        .lines()
        .position(|l| l.starts_with("  dataset: failed (attempt "))
        .unwrap_or_else(|| panic!("the dataset step's line in {text}"));
    let verdict = text
        .lines()
        .position(|l| l.ends_with(" failed") && l.starts_with("run "));
    assert!(verdict.is_some_and(|v| v > step), "{text}");
    let started = Instant::now();
    while !p
        .log()
        .iter()
        .any(|l| l.contains("\"alert\":\"pipeline_run_failed\""))
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no alert in the log"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    p.terminate();
}

/// Every pipeline's parameters are listed with their types and ranges, and `--param` with an
/// unknown name or a malformed value is refused (exit 2) naming the accepted parameters,
/// before anything is queued.
#[test]
fn pipeline_parameters_are_listed_and_checked() {
    let data = tempfile::tempdir().unwrap();
    let data = data.path().to_str().unwrap();
    let out = mhp(&["pipeline", "list", "--data-dir", data], &[], None);
    assert!(out.status.success(), "{}", crate::stderr(&out));
    let text = stdout(&out);
    for line in [
        "test_from: a date YYYY-MM-DD;",
        "train_fraction: a number in (0, 1);",
        "seed: a whole number from 0 to",
        "subject (required): a subject id;",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    let org = "0190b4a4-8b5e-7000-8000-000000000000";
    for (param, says) in [
        ("test_form=2026-01-05", "unknown parameter test_form"),
        (
            "train_fraction=1.5",
            "train_fraction must be a number in (0, 1)",
        ),
        (
            "model={\"model\":\"forest\"}",
            "model must be a model configuration",
        ),
    ] {
        let out = mhp(
            &[
                "pipeline",
                "run",
                "train-injury-risk",
                "--org",
                org,
                "--param",
                param,
                "--data-dir",
                data,
            ],
            &[],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{param}");
        let err = crate::stderr(&out);
        assert!(err.contains(says), "{param}: {err}");
        assert!(
            err.contains("accepts: as_of (a date YYYY-MM-DD), season_start"),
            "{err}"
        );
    }
}

/// `mhp worker` serves `/metrics` (its queues, pool and process) and nothing of the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_serves_its_metrics_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let org = crate::bootstrap_org(dir.path(), "Worker Metrics", &[]);
    let log = dir.path().join("worker.log");
    let mut cmd = Command::new(MHP);
    cmd.args(["worker", "--workers", "1", "--data-dir", &org.data]);
    mhp_test_support::clean_env(&mut cmd);
    let file = std::fs::File::create(&log).unwrap();
    cmd.env("MHP_PIPELINES_METRICS_LISTEN", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file);
    let _w = Worker(cmd.spawn().unwrap());
    let started = Instant::now();
    let addr = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let found = text.lines().find_map(|l| {
            let v: Value = serde_json::from_str(l).ok()?;
            (v["message"] == "metrics listening").then(|| v["addr"].as_str().map(str::to_owned))?
        });
        if let Some(addr) = found {
            break addr;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the worker did not serve /metrics:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        "mhp_pipeline_jobs{pipeline=\"train-injury-risk\",state=\"due\"}",
        "mhp_db_pool_max_connections",
        "process_resident_memory_bytes",
        "process_open_fds",
        "mhp_build_info",
    ] {
        assert!(text.contains(series), "{series} in\n{text}");
    }
    let api = reqwest::get(format!("http://{addr}/api/v1/me"))
        .await
        .unwrap();
    assert_eq!(api.status(), reqwest::StatusCode::NOT_FOUND);
}
