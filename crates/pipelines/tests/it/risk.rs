//! The injury-risk pipelines over a seeded demo organisation: the trained model against the
//! true hazard, lineage, the promotion gate, approval and rollback, batch and single scoring.

use std::collections::HashMap;
use std::time::Duration;

use mhp_app::artifacts;
use mhp_demo::{DemoOrg, DemoSpec, iso_date, plan};
use mhp_domain::pipeline::{RISK_MODEL, SCORE_ALL, SCORE_SUBJECT, TRAIN};
use mhp_domain::{RunId, Timestamp};
use mhp_ml::Predictions;
use mhp_pipelines::risk::DatasetFile;
use mhp_storage::repo::models::{self, Stage};
use mhp_storage::repo::pipelines::{self as queue, RunStatus};
use mhp_storage::repo::risk;
use mhp_storage::{Access, ObjectKey};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::support::{output as support_output, run_ok};
use crate::{Backend, Env, env, seed};

struct Demo {
    env: Env,
    org: DemoOrg,
    ids: Vec<mhp_domain::SubjectId>,
    end_day: i64,
    stop: watch::Sender<bool>,
}

async fn demo(backend: Backend, spec: DemoSpec) -> Option<Demo> {
    demo_with(backend, spec, false).await
}

/// `weekly_loads`: one load entry per subject-week (`seed::store_weekly_loads`).
async fn demo_with(backend: Backend, spec: DemoSpec, weekly_loads: bool) -> Option<Demo> {
    let org = plan(&spec).unwrap();
    let end_day = spec.start_day + 7 * spec.weeks as i64;
    let env = env(
        backend,
        Timestamp::from_millis(end_day * 86_400_000 + 3_600_000),
    )
    .await?;
    let ids = if weekly_loads {
        seed::store_weekly_loads(&env, &org).await
    } else {
        seed::store(&env, &org).await
    };
    let (stop, stopped) = watch::channel(false);
    let config = mhp_pipelines::WorkerConfig {
        poll: Duration::from_millis(50),
        ..mhp_pipelines::WorkerConfig::new("risk-test")
    };
    let registry = std::sync::Arc::new(mhp_pipelines::catalogue().unwrap());
    mhp_pipelines::start(&env.state.app, registry, 2, &config, &stopped);
    Some(Demo {
        env,
        org,
        ids,
        end_day,
        stop,
    })
}

async fn run(d: &Demo, name: &str, params: Value) -> (RunId, RunStatus) {
    (run_ok(&d.env, name, params).await, RunStatus::Succeeded)
}

async fn output(d: &Demo, run: RunId, step: &str) -> Value {
    support_output(&d.env, run, step).await
}

fn params(d: &Demo, model: Value) -> Value {
    // A small organisation: the gate compares on however few injuries its test weeks hold.
    json!({ "as_of": iso_date(d.end_day), "model": model, "gate_min_positives": 1 })
}

/// The measure: on the demo organisation, the trained model's test AUC is within 0.03
/// of the true hazard's AUC on the same test rows. 1,200 subjects over 36 weeks (about 900
/// injuries), so that noise does not decide it. SQLite only: the comparison is about the
/// model, and the storage paths are exercised on both backends below.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trained_model_comes_within_003_auc_of_the_true_hazard() {
    let spec = DemoSpec {
        teams: 8,
        subjects_per_team: 150,
        weeks: 36,
        ..DemoSpec::default()
    };
    let started = std::time::Instant::now();
    let d = demo_with(Backend::Sqlite, spec.clone(), true)
        .await
        .unwrap();
    eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    let started = std::time::Instant::now();
    let (id, _) = run(
        &d,
        TRAIN,
        json!({ "as_of": iso_date(d.end_day), "season_start": iso_date(spec.start_day) }),
    )
    .await;
    eprintln!("trained in {:.1} s", started.elapsed().as_secs_f64());
    let ds = output(&d, id, "dataset").await;
    let tr = output(&d, id, "train").await;
    let ev = output(&d, id, "evaluate").await;
    let reg = output(&d, id, "register").await;

    // The dataset's rows are the demo's subject-weeks at risk, with their labels.
    let key = ObjectKey::parse(ds["artifact"].as_str().unwrap()).unwrap();
    let bytes = artifacts::get(
        d.env.state.app.phi.keys(),
        &d.env.state.app.objects,
        d.env.scope.org(),
        &key,
    )
    .await
    .unwrap();
    let file: DatasetFile = serde_json::from_slice(&bytes).unwrap();
    let org = d.env.scope.org();
    let truth: HashMap<(String, i64), (f64, bool)> = d
        .org
        .weekly_truth
        .iter()
        .map(|t| {
            let p = d.env.state.app.pseudonyms.of(org, d.ids[t.subject]);
            (
                (p, spec.start_day + 7 * t.week as i64),
                (t.hazard, t.injured),
            )
        })
        .collect();
    assert_eq!(
        file.rows.len(),
        truth.len(),
        "one row per subject-week at risk"
    );
    let cutoff = tr["cutoff_day"].as_i64().unwrap();
    let (mut hazards, mut labels) = (Vec::new(), Vec::new());
    for r in file.rows.iter().filter(|r| r.day >= cutoff) {
        let (h, injured) = truth[&(r.subject.clone(), r.day)];
        assert_eq!(r.label, injured, "labels are the demo's injuries");
        hazards.push(h);
        labels.push(injured);
    }
    let truth_auc = Predictions::new(labels, hazards)
        .unwrap()
        .metrics()
        .roc_auc
        .unwrap();
    let overall = &ev["evaluation"]["overall"];
    let model_auc = overall["roc_auc"].as_f64().unwrap();
    let search = &tr["search"];
    for c in search["candidates"].as_array().unwrap() {
        eprintln!(
            "{} {} {} validation AUC {}",
            c["stage"], c["config"]["model"], c["groups"], c["auc"]
        );
    }
    eprintln!("trained in {} ms", tr["training_ms"]);
    // The search ran over the platform's groups: the metrics the seeded assessments lack were
    // left out for want of data, the chosen groups include the hazard's terms.
    let groups: Vec<&str> = search["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    for g in ["load", "injury_history", "jump_height_impulse_m:change"] {
        assert!(groups.contains(&g), "{groups:?}");
    }
    assert!(
        search["no_data"]
            .as_array()
            .unwrap()
            .contains(&json!("rsi_modified:level"))
    );
    assert_eq!(search["folds"].as_array().unwrap().len(), 4);
    assert!(search["calibration"]["slope"].as_f64().unwrap() > 0.0);
    // The interval by athlete holds the figure; calibration error is reported and small.
    let interval = &ev["roc_auc_interval"];
    let (low, high) = (
        interval["low"].as_f64().unwrap(),
        interval["high"].as_f64().unwrap(),
    );
    eprintln!(
        "95 % interval {low:.3}–{high:.3}, calibration error {}",
        ev["evaluation"]["overall"]["calibration_error"]
    );
    assert!(low < overall["roc_auc"].as_f64().unwrap() && high > low + 0.01);
    assert!(
        ev["evaluation"]["overall"]["calibration_error"]
            .as_f64()
            .unwrap()
            < 0.01
    );
    assert_eq!(ev["warnings"], json!([]), "290 injuries are enough");
    // Bands from the calibrated model, relative to the base rate, rise on the test rows.
    let bands = &ev["bands"];
    eprintln!("bands {bands}");
    assert_eq!(bands["rising"], true, "{bands}");
    eprintln!(
        "test rows {}, injuries {}: model AUC {model_auc:.3}, true hazard {truth_auc:.3}",
        overall["rows"], overall["positives"]
    );
    assert!(
        (truth_auc - model_auc).abs() <= 0.03,
        "model {model_auc:.3} vs truth {truth_auc:.3}"
    );
    // Per group: sex and sport, so a model that fails a group shows it.
    let groups = ev["evaluation"]["groups"].as_array().unwrap();
    for (key, value) in [("sex", "female"), ("sex", "male"), ("sport", "rugby")] {
        assert!(
            groups
                .iter()
                .any(|g| g["key"] == key && g["value"] == value),
            "{key}={value} missing"
        );
    }
    assert!(overall["brier"].as_f64().unwrap() < 0.05);
    assert_eq!(overall["calibration"].as_array().unwrap().len(), 10);

    // Registered with its lineage, and in production (the first model).
    assert_eq!(reg["promoted"], true);
    let mut tx = d
        .env
        .state
        .app
        .db
        .tenant(&d.env.scope, Access::Read)
        .await
        .unwrap();
    let v = models::production(&mut tx, RISK_MODEL)
        .await
        .unwrap()
        .unwrap();
    let lineage: Value = serde_json::from_str(&v.lineage_json).unwrap();
    assert_eq!(lineage["dataset_fingerprint"], ds["fingerprint"]);
    assert_eq!(lineage["training_run"], id.to_string());
    assert_eq!(lineage["features"], ds["features"]);
    assert_eq!(lineage["parameters"], tr["config"]);
    assert_eq!(lineage["search"], tr["search"]);
    assert_eq!(lineage["model_features"], search["features"]);
    // A model in production brings the nightly batch with it.
    let schedules = queue::schedules(&mut tx).await.unwrap();
    assert_eq!(schedules.len(), 1);
    assert_eq!(
        (schedules[0].pipeline.as_str(), schedules[0].cron.as_str()),
        (SCORE_ALL, "0 3 * * *")
    );
    let _ = d.stop.send(true);
}

async fn the_gate_promotes_or_waits_and_scores_follow_production(backend: Backend) {
    let spec = DemoSpec {
        teams: 2,
        subjects_per_team: 40,
        weeks: 20,
        ..DemoSpec::default()
    };
    let Some(d) = demo(backend, spec).await else {
        return;
    };
    let logistic = json!({ "model": "logistic", "l2": 1.0, "max_iter": 100, "tol": 1e-8 });
    let (first, _) = run(&d, TRAIN, params(&d, logistic.clone())).await;
    assert_eq!(output(&d, first, "register").await["promoted"], true);
    // A small organisation's test weeks hold few injuries: the evaluation says what that means.
    let ev = output(&d, first, "evaluate").await;
    let warning = ev["warnings"][0].as_str().unwrap();
    assert!(warning.contains("rough guide"), "{warning}");
    assert!(ev["roc_auc_interval"]["low"].as_f64().is_some());
    // Entering production enqueued a score of everyone at once.
    let scored_now = production_scoring(&d.env, 1).await;
    let mut tx = d.env.tx(Access::Read).await;
    let v1 = models::production(&mut tx, RISK_MODEL)
        .await
        .unwrap()
        .unwrap();
    let latest = risk::latest(&mut tx).await.unwrap();
    drop(tx);
    assert!(latest.len() > d.ids.len() / 2, "{scored_now:?}");
    assert!(
        latest
            .iter()
            .all(|s| s.model_version == v1.id && s.run == Some(scored_now[0]))
    );
    // The same model again: as good on the same rows, promoted without a person.
    let (second, _) = run(&d, TRAIN, params(&d, logistic)).await;
    let reg = output(&d, second, "register").await;
    assert_eq!(reg["promoted"], true, "{reg}");
    production_scoring(&d.env, 2).await;
    let ev = output(&d, second, "evaluate").await;
    assert_eq!(ev["production"]["version"], 1);
    // A stump is worse than production on the same rows: it waits for a person.
    let stump = json!({
        "model": "gradient_boosting", "n_trees": 1, "learning_rate": 0.1, "max_depth": 1,
        "min_samples_leaf": 20, "subsample": 1.0, "n_bins": 16, "seed": 0, "l2": 1.0
    });
    let (third, _) = run(&d, TRAIN, params(&d, stump)).await;
    let ev = output(&d, third, "evaluate").await;
    let reg = output(&d, third, "register").await;
    assert_eq!(reg["promoted"], false, "{ev} {reg}");
    // A candidate that waits for a person scores no one.
    production_scoring(&d.env, 2).await;
    assert!(
        reg["decision"]
            .as_str()
            .unwrap()
            .starts_with("awaiting approval")
    );

    let env = &d.env;
    let mut tx = env.tx(Access::Write).await;
    let versions = models::versions(&mut tx, RISK_MODEL).await.unwrap();
    let stages: Vec<(i64, Stage)> = versions.iter().map(|v| (v.version, v.stage)).collect();
    assert_eq!(
        stages,
        [
            (3, Stage::Candidate),
            (2, Stage::Production),
            (1, Stage::Archived)
        ]
    );
    tx.commit().await.unwrap();

    // Batch scoring: every active subject at risk today, with production's version.
    // Every latest score's band is turned over first, so that the batch changes bands for
    // certain: each change must be told once, and nothing else.
    let mut tx = env.tx(Access::Write).await;
    let mut before: HashMap<String, String> = HashMap::new();
    for mut s in risk::latest(&mut tx).await.unwrap() {
        s.band = if s.band == "high" { "low" } else { "high" }.to_owned();
        risk::put(&mut tx, &s).await.unwrap();
        before.insert(s.subject.to_string(), s.band);
    }
    tx.commit().await.unwrap();
    let band_changes = mhp_storage::repo::audit::Filter {
        action: Some("risk.band_change".into()),
        ..Default::default()
    };
    let mut tx = env.tx(Access::Read).await;
    let seen = mhp_storage::repo::audit::search(&mut tx, &band_changes, None, 1000)
        .await
        .unwrap()
        .last()
        .map(|e| e.seq);
    drop(tx);
    let (batch, _) = run(&d, SCORE_ALL, json!({ "as_of": iso_date(d.end_day) })).await;
    let out = output(&d, batch, "score").await;
    let scored = out["scored"].as_u64().unwrap() as usize;
    assert_eq!(
        scored + out["skipped"].as_u64().unwrap() as usize,
        d.ids.len()
    );
    assert!(scored > d.ids.len() / 2, "{out}");
    let mut tx = env.tx(Access::Read).await;
    let latest = risk::latest(&mut tx).await.unwrap();
    assert_eq!(latest.len(), scored);
    let production = models::production(&mut tx, RISK_MODEL)
        .await
        .unwrap()
        .unwrap();
    // Bands are the production version's, set at its promotion from the base rate.
    let bands = &serde_json::from_str::<Value>(&production.lineage_json).unwrap()["bands"];
    let t = risk::Thresholds {
        moderate: bands["moderate"].as_f64().unwrap(),
        high: bands["high"].as_f64().unwrap(),
    };
    assert_ne!(t, risk::thresholds(&mut tx).await.unwrap());
    // Each band that changed is an audit event (webhooks tell of it), and only those.
    let changes = mhp_storage::repo::audit::search(&mut tx, &band_changes, seen, 1000)
        .await
        .unwrap();
    let expected: Vec<(String, String)> = latest
        .iter()
        .filter_map(|s| {
            let was = before.get(&s.subject.to_string())?;
            (was != &s.band).then(|| {
                (
                    s.subject.to_string(),
                    format!("from={was} to={} model_version={}", s.band, s.model_version),
                )
            })
        })
        .collect();
    assert!(
        expected.len() > latest.len() / 2,
        "{} of {}",
        expected.len(),
        latest.len()
    );
    let mut told: Vec<(String, String)> = changes
        .iter()
        .map(|e| {
            let detail = e.detail.clone().unwrap();
            let (head, _) = detail.split_once(" as_of=").unwrap();
            (e.resource_id.clone().unwrap(), head.to_owned())
        })
        .collect();
    let mut expected = expected;
    told.sort();
    expected.sort();
    assert_eq!(told, expected);
    for s in &latest {
        assert_eq!(s.model_version, production.id);
        assert_eq!(s.band, t.band(s.probability));
        assert_eq!(s.as_of, iso_date(d.end_day));
        let top: Vec<Value> = serde_json::from_str(&s.contributions_json).unwrap();
        assert_eq!(top.len(), 3);
        // Reasons by group, in words, beside the earlier fields.
        assert!(
            top.iter()
                .all(|c| c["group"].is_string() && c["reason"].is_string())
        );
        let features: Vec<String> = serde_json::from_str(&production.features_json).unwrap();
        assert!(
            top.iter()
                .all(|c| features.contains(&c["feature"].as_str().unwrap().to_owned()))
        );
    }
    drop(tx);

    // Approval moves the candidate in; rollback brings the previous version back.
    let mut tx = env.tx(Access::Write).await;
    let candidate = versions[0].id;
    models::set_stage(
        &mut tx,
        candidate,
        Stage::Production,
        env.state.app.clock.now(),
    )
    .await
    .unwrap();
    let (restored, _) = models::rollback(&mut tx, RISK_MODEL, env.state.app.clock.now())
        .await
        .unwrap();
    assert_eq!(restored.version, 2);
    tx.commit().await.unwrap();

    // Real-time scoring of one subject (the event an upload enqueues).
    let subject = latest[0].subject;
    let (one, _) = run(
        &d,
        SCORE_SUBJECT,
        json!({ "subject": subject.to_string(), "as_of": iso_date(d.end_day + 1) }),
    )
    .await;
    assert_eq!(output(&d, one, "score").await["scored"], 1);
    let mut tx = env.tx(Access::Read).await;
    let history = risk::history(&mut tx, subject, 10).await.unwrap();
    // Yesterday's scores of versions 1 and 2 (at their promotion; the batch rewrote version
    // 2's) and today's.
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(history[0].as_of, iso_date(d.end_day + 1));
    assert_eq!(history[0].run, Some(one));
    let _ = d.stop.send(true);
}

crate::on_both_backends!(the_gate_promotes_or_waits_and_scores_follow_production);

/// The `score-all` runs that models entering production enqueued: `expected` of them, each
/// waited for until it succeeded, oldest first.
async fn production_scoring(env: &Env, expected: usize) -> Vec<RunId> {
    let mut tx = env.tx(Access::Read).await;
    let runs = queue::list(
        &mut tx,
        Some(SCORE_ALL),
        mhp_storage::repo::Page::first(100),
    )
    .await
    .unwrap();
    drop(tx);
    let mut ids: Vec<RunId> = runs
        .iter()
        .filter(|r| r.requested_by == "event:model-production")
        .map(|r| r.id)
        .collect();
    assert_eq!(ids.len(), expected, "{runs:?}");
    ids.reverse();
    for id in &ids {
        crate::support::wait_for(env, *id, RunStatus::Succeeded).await;
    }
    ids
}

async fn lineage(env: &Env) -> Value {
    let mut tx = env.tx(Access::Read).await;
    let v = models::production(&mut tx, RISK_MODEL)
        .await
        .unwrap()
        .unwrap();
    serde_json::from_str(&v.lineage_json).unwrap()
}

async fn scores(env: &Env) -> HashMap<mhp_domain::SubjectId, f64> {
    let mut tx = env.tx(Access::Read).await;
    risk::latest(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.subject, s.probability))
        .collect()
}

async fn stages(env: &Env) -> Vec<(i64, Stage)> {
    let mut tx = env.tx(Access::Read).await;
    models::versions(&mut tx, RISK_MODEL)
        .await
        .unwrap()
        .iter()
        .map(|v| (v.version, v.stage))
        .collect()
}

/// The test period chosen by date, and a gate that compares production and candidate only on
/// rows neither trained on: production trained up to week 14, the candidate up to week 8, so
/// they are compared from week 14 on, and the rows used are recorded. With too few injuries
/// left the comparison is refused and a person decides.
async fn the_gate_compares_only_on_rows_neither_model_trained_on(backend: Backend) {
    let spec = DemoSpec {
        teams: 2,
        subjects_per_team: 40,
        weeks: 20,
        ..DemoSpec::default()
    };
    let Some(d) = demo(backend, spec.clone()).await else {
        return;
    };
    let week = |w: i64| spec.start_day + 7 * w;
    let logistic = json!({ "model": "logistic", "l2": 1.0, "max_iter": 100, "tol": 1e-8 });
    let with = |test_from: i64, extra: Value| {
        let mut p = json!({
            "as_of": iso_date(d.end_day), "season_start": iso_date(spec.start_day),
            "model": logistic, "test_from": iso_date(test_from),
        });
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };

    // Production: trained on the weeks before week 14 (split by date).
    let (prod, _) = run(&d, TRAIN, with(week(14), json!({}))).await;
    let tr = output(&d, prod, "train").await;
    assert_eq!(tr["cutoff_day"], week(14));
    assert_eq!(tr["split"]["test_from"], iso_date(week(14)));
    assert_eq!(output(&d, prod, "register").await["promoted"], true);

    // A candidate trained before week 8: judged against production from week 14 on only.
    let (cand, _) = run(&d, TRAIN, with(week(8), json!({ "gate_min_positives": 1 }))).await;
    let ds = output(&d, cand, "dataset").await;
    let ev = output(&d, cand, "evaluate").await;
    let c = &ev["comparison"];
    assert!(c["refused"].is_null(), "{c}");
    assert_eq!(c["from_day"], iso_date(week(14)));
    assert_eq!(c["candidate_cutoff_day"], iso_date(week(8)));
    assert_eq!(c["production_cutoff_day"], iso_date(week(14)));
    let key = ObjectKey::parse(ds["artifact"].as_str().unwrap()).unwrap();
    let bytes = artifacts::get(
        d.env.state.app.phi.keys(),
        &d.env.state.app.objects,
        d.env.scope.org(),
        &key,
    )
    .await
    .unwrap();
    let file: DatasetFile = serde_json::from_slice(&bytes).unwrap();
    let after: Vec<_> = file.rows.iter().filter(|r| r.day >= week(14)).collect();
    assert_eq!(c["rows"], after.len());
    assert_eq!(c["positives"], after.iter().filter(|r| r.label).count());
    assert!(c["first_day"].as_str().unwrap() >= iso_date(week(14)).as_str());
    // The candidate's own evaluation still covers its whole test period (from week 8).
    assert!(ev["evaluation"]["overall"]["rows"].as_u64().unwrap() > after.len() as u64);
    assert!(c["candidate_roc_auc"].as_f64().is_some());
    assert!(c["production_roc_auc"].as_f64().is_some());
    // The rows used are in the registered version's lineage.
    let mut tx = d.env.tx(Access::Read).await;
    let versions = models::versions(&mut tx, RISK_MODEL).await.unwrap();
    drop(tx);
    let lineage: Value = serde_json::from_str(&versions[0].lineage_json).unwrap();
    assert_eq!(lineage["gate"]["comparison"]["rows"], after.len());
    assert_eq!(
        lineage["gate"]["comparison"]["from_day"],
        iso_date(week(14))
    );
    assert_eq!(lineage["split"]["test_from"], iso_date(week(8)));

    // Too few injuries after both cut-offs: refused with the reason, a person decides.
    let before = stages(&d.env).await;
    let production_before = before
        .iter()
        .find(|(_, s)| *s == Stage::Production)
        .copied();
    let (refused, _) = run(
        &d,
        TRAIN,
        with(week(8), json!({ "gate_min_positives": 100000 })),
    )
    .await;
    let ev = output(&d, refused, "evaluate").await;
    let reason = ev["comparison"]["refused"].as_str().unwrap();
    assert!(reason.contains("at least 100000 injuries"), "{reason}");
    let reg = output(&d, refused, "register").await;
    assert_eq!(reg["promoted"], false, "{reg}");
    assert!(
        reg["decision"]
            .as_str()
            .unwrap()
            .starts_with("awaiting approval: not compared:"),
        "{reg}"
    );
    let after_stages = stages(&d.env).await;
    assert_eq!(
        after_stages
            .iter()
            .find(|(_, s)| *s == Stage::Production)
            .copied(),
        production_before
    );

    // test_from and train_fraction together are refused by the step.
    let def = mhp_domain::pipeline::pipeline(TRAIN).unwrap();
    let both = crate::support::enqueue(
        &d.env,
        def,
        &with(week(8), json!({ "train_fraction": 0.5 })),
    )
    .await;
    let r = crate::support::wait_for(&d.env, both, RunStatus::Failed).await;
    assert!(
        r.error.as_deref().unwrap_or_default().contains("not both"),
        "{:?}",
        r.error
    );
    let _ = d.stop.send(true);
}

crate::on_both_backends!(the_gate_compares_only_on_rows_neither_model_trained_on);

/// Reproducible training: one cohort loaded into two organisations (different pseudonym keys,
/// so different pseudonyms and a different order of subjects) gives the same dataset rows,
/// the same model (byte for byte), the same figures and the same scores, with the default
/// model (boosting, which subsamples rows at random) and a given seed, recorded in the lineage.
async fn one_cohort_in_two_organisations_gives_the_same_model(backend: Backend) {
    let spec = DemoSpec {
        teams: 2,
        subjects_per_team: 30,
        weeks: 16,
        ..DemoSpec::default()
    };
    let Some(a) = demo(backend, spec.clone()).await else {
        return;
    };
    let b_env = a.env.another_org("Second org").await;
    let b_ids = seed::store(&b_env, &a.org).await;
    let params = json!({
        "as_of": iso_date(a.end_day), "season_start": iso_date(spec.start_day), "seed": 7,
        "gate_min_positives": 1,
    });
    let run_a = run_ok(&a.env, TRAIN, params.clone()).await;
    let run_b = run_ok(&b_env, TRAIN, params).await;
    let (tr_a, tr_b) = (
        support_output(&a.env, run_a, "train").await,
        support_output(&b_env, run_b, "train").await,
    );
    assert_eq!(tr_a["seed"], 7);
    // Every boosting candidate of the search drew its subsamples with the run's seed.
    let boosting: Vec<&Value> = tr_a["search"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["config"]["model"] == "gradient_boosting")
        .collect();
    assert!(!boosting.is_empty());
    assert!(boosting.iter().all(|c| c["config"]["seed"] == 7));
    assert_eq!(tr_a["search"], tr_b["search"], "the same search");
    assert_eq!(tr_a["train_rows"], tr_b["train_rows"]);
    assert_eq!(
        tr_a["sha256"], tr_b["sha256"],
        "the same model, byte for byte"
    );
    let (ev_a, ev_b) = (
        support_output(&a.env, run_a, "evaluate").await,
        support_output(&b_env, run_b, "evaluate").await,
    );
    assert_eq!(ev_a["evaluation"], ev_b["evaluation"]);
    // The gate decides alike in both; on so small a cohort it may wait for a person (its risk
    // bands), who approves as one would.
    let (reg_a, reg_b) = (
        support_output(&a.env, run_a, "register").await,
        support_output(&b_env, run_b, "register").await,
    );
    assert_eq!(reg_a["decision"], reg_b["decision"]);
    for (env, reg) in [(&a.env, &reg_a), (&b_env, &reg_b)] {
        if reg["promoted"] != true {
            let id = reg["version_id"].as_str().unwrap().parse().unwrap();
            let mut tx = env.tx(Access::Write).await;
            models::set_stage(&mut tx, id, Stage::Production, env.state.app.clock.now())
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    }
    assert_eq!(lineage(&a.env).await["seed"], 7);
    assert_eq!(lineage(&b_env).await["seed"], 7);

    // The same scores for the same subjects.
    let as_of = json!({ "as_of": iso_date(a.end_day) });
    run_ok(&a.env, SCORE_ALL, as_of.clone()).await;
    run_ok(&b_env, SCORE_ALL, as_of).await;
    let (sa, sb) = (scores(&a.env).await, scores(&b_env).await);
    assert!(sa.len() > 30, "{}", sa.len());
    assert_eq!(sa.len(), sb.len());
    for (i, id) in a.ids.iter().enumerate() {
        assert_eq!(sa.get(id), sb.get(&b_ids[i]), "subject {i}");
    }
    let _ = a.stop.send(true);
}

crate::on_both_backends!(one_cohort_in_two_organisations_gives_the_same_model);
