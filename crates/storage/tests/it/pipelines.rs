//! The pipeline queue, the model registry and risk scores, on both backends.

use mhp_domain::pipeline::{PipelineDef, StepDef, Trigger};
use mhp_domain::{ModelVersionId, OrgScope, SubjectId, Timestamp};
use mhp_storage::repo::Page;
use mhp_storage::repo::models::{self, NewVersion, Stage};
use mhp_storage::repo::pipelines::{self as q, Beat, NewRun, Outcome, RunStatus, Schedule};
use mhp_storage::repo::risk::{self, Score, Thresholds};
use mhp_storage::repo::subjects;
use mhp_storage::{Access, Db, StorageError};

use crate::{NOW, new_org};

const LEASE: i64 = 30_000;

/// a → (b, c) → d: a diamond.
const DIAMOND: PipelineDef = PipelineDef {
    name: "diamond",
    description: "test",
    steps: &[
        StepDef {
            name: "a",
            needs: &[],
            timeout_s: 60,
            max_attempts: 2,
        },
        StepDef {
            name: "b",
            needs: &["a"],
            timeout_s: 60,
            max_attempts: 2,
        },
        StepDef {
            name: "c",
            needs: &["a"],
            timeout_s: 60,
            max_attempts: 2,
        },
        StepDef {
            name: "d",
            needs: &["b", "c"],
            timeout_s: 60,
            max_attempts: 2,
        },
    ],
    priority: 0,
    max_concurrent: 10,
    params: &[],
};

const ONE: PipelineDef = PipelineDef {
    name: "one",
    description: "test",
    steps: &[StepDef {
        name: "only",
        needs: &[],
        timeout_s: 60,
        max_attempts: 3,
    }],
    priority: 5,
    max_concurrent: 1,
    params: &[],
};

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(NOW.as_millis() + ms)
}

async fn enqueue(db: &Db, org: &OrgScope, def: &PipelineDef) -> mhp_domain::RunId {
    let mut tx = db.tenant(org, Access::Write).await.unwrap();
    let id = q::enqueue(
        &mut tx,
        &NewRun {
            pipeline: def,
            trigger: Trigger::Api,
            requested_by: "user:test",
            params_json: "{}",
            not_before: NOW,
        },
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn claim(db: &Db, worker: &str, now: Timestamp) -> Option<q::Claimed> {
    let mut tx = db.operator(Access::Write).await.unwrap();
    let c = q::claim(&mut tx, worker, now, LEASE).await.unwrap();
    tx.commit().await.unwrap();
    c
}

async fn complete(db: &Db, job: &str, worker: &str, now: Timestamp) -> Outcome {
    let mut tx = db.operator(Access::Write).await.unwrap();
    let o = q::complete(&mut tx, job, worker, now, "{\"ok\":true}", &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    o
}

async fn fail(db: &Db, job: &str, worker: &str, now: Timestamp, retry: Option<i64>) -> Outcome {
    let mut tx = db.operator(Access::Write).await.unwrap();
    let o = q::fail(&mut tx, job, worker, now, "boom", retry, &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    o
}

async fn run_status(db: &Db, org: &OrgScope, run: mhp_domain::RunId) -> q::Run {
    let mut tx = db.tenant(org, Access::Read).await.unwrap();
    q::get(&mut tx, run).await.unwrap()
}

async fn a_graph_runs_in_dependency_order(db: Db, _: String) {
    let org = new_org(&db, "Alpha").await;
    let run = enqueue(&db, &org, &DIAMOND).await;
    assert_eq!(run_status(&db, &org, run).await.status, RunStatus::Queued);

    let a = claim(&db, "w1", NOW).await.expect("a is due");
    assert_eq!((a.step.as_str(), a.attempt, a.org), ("a", 1, org.org()));
    assert!(claim(&db, "w2", NOW).await.is_none(), "b and c wait for a");
    assert_eq!(run_status(&db, &org, run).await.status, RunStatus::Running);
    assert_eq!(
        complete(&db, &a.job_id, "w1", at(10)).await,
        Outcome::Done(RunStatus::Running)
    );
    let b = claim(&db, "w1", at(20)).await.unwrap();
    let c = claim(&db, "w2", at(20)).await.unwrap();
    let mut both = [b.step.clone(), c.step.clone()];
    both.sort();
    assert_eq!(both, ["b", "c"]);
    assert!(
        claim(&db, "w3", at(20)).await.is_none(),
        "d waits for b and c"
    );
    complete(&db, &b.job_id, "w1", at(30)).await;
    assert!(
        claim(&db, "w3", at(30)).await.is_none(),
        "d still waits for c"
    );
    complete(&db, &c.job_id, "w2", at(40)).await;
    let d = claim(&db, "w3", at(50)).await.unwrap();
    assert_eq!(d.step, "d");
    // The output of a step is there for the steps after it.
    let mut tx = db.operator(Access::Read).await.unwrap();
    assert_eq!(
        q::step_output(&mut tx, run, "a").await.unwrap().as_deref(),
        Some("{\"ok\":true}")
    );
    drop(tx);
    assert_eq!(
        complete(&db, &d.job_id, "w3", at(60)).await,
        Outcome::Done(RunStatus::Succeeded)
    );
    let done = run_status(&db, &org, run).await;
    assert_eq!(done.status, RunStatus::Succeeded);
    assert_eq!(done.started_at, Some(NOW));
    assert_eq!(done.finished_at, Some(at(60)));
    let mut tx = db.tenant(&org, Access::Read).await.unwrap();
    let jobs = q::jobs(&mut tx, run).await.unwrap();
    assert!(
        jobs.iter()
            .all(|j| j.status == "succeeded" && j.attempts == 1)
    );
}

async fn an_expired_lease_is_taken_over_and_the_old_worker_is_refused(db: Db, _: String) {
    let org = new_org(&db, "Alpha").await;
    let run = enqueue(&db, &org, &ONE).await;
    let first = claim(&db, "dead", NOW).await.unwrap();
    // Within the lease nobody else gets it; a heartbeat renews it.
    assert!(claim(&db, "alive", at(LEASE - 1)).await.is_none());
    let mut tx = db.operator(Access::Write).await.unwrap();
    let beat = q::heartbeat(&mut tx, &first.job_id, "dead", at(LEASE - 1), LEASE, &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(beat, Beat::Held);
    assert!(claim(&db, "alive", at(LEASE + 10)).await.is_none());
    // Then the worker stops beating: after the lease another worker takes over.
    let second = claim(&db, "alive", at(2 * LEASE)).await.unwrap();
    assert_eq!(second.job_id, first.job_id);
    assert_eq!(second.attempt, 2);
    // The first worker wakes up: its heartbeat, success and failure are all refused.
    let mut tx = db.operator(Access::Write).await.unwrap();
    assert_eq!(
        q::heartbeat(&mut tx, &first.job_id, "dead", at(2 * LEASE), LEASE, &[])
            .await
            .unwrap(),
        Beat::Lost
    );
    tx.commit().await.unwrap();
    assert_eq!(
        complete(&db, &first.job_id, "dead", at(2 * LEASE + 1)).await,
        Outcome::LeaseLost
    );
    assert_eq!(
        fail(&db, &first.job_id, "dead", at(2 * LEASE + 1), Some(10)).await,
        Outcome::LeaseLost
    );
    assert_eq!(
        complete(&db, &second.job_id, "alive", at(2 * LEASE + 2)).await,
        Outcome::Done(RunStatus::Succeeded)
    );
    assert_eq!(
        run_status(&db, &org, run).await.status,
        RunStatus::Succeeded
    );
}

async fn a_lease_lost_on_the_last_attempt_fails_the_run(db: Db, _: String) {
    let org = new_org(&db, "Alpha").await;
    let run = enqueue(&db, &org, &ONE).await;
    let mut t = 0;
    for attempt in 1..=3 {
        let c = claim(&db, "w", at(t)).await.unwrap();
        assert_eq!(c.attempt, attempt);
        t += LEASE + 1;
    }
    assert!(claim(&db, "w", at(t)).await.is_none());
    let r = run_status(&db, &org, run).await;
    assert_eq!(r.status, RunStatus::Failed);
    assert!(r.error.unwrap().contains("lease expired"));
}

async fn failures_back_off_then_fail_the_run_and_cancel_what_follows(db: Db, _: String) {
    let org = new_org(&db, "Alpha").await;
    let run = enqueue(&db, &org, &DIAMOND).await;
    let a = claim(&db, "w", NOW).await.unwrap();
    assert_eq!(
        fail(&db, &a.job_id, "w", at(0), Some(5_000)).await,
        Outcome::Retrying(at(5_000))
    );
    assert!(claim(&db, "w", at(4_999)).await.is_none(), "backing off");
    let again = claim(&db, "w", at(5_000)).await.unwrap();
    assert_eq!((again.step.as_str(), again.attempt), ("a", 2));
    // Out of attempts (2): the retry is refused, the run fails with the step's error.
    assert_eq!(
        fail(&db, &again.job_id, "w", at(6_000), Some(5_000)).await,
        Outcome::Done(RunStatus::Failed)
    );
    let r = run_status(&db, &org, run).await;
    assert_eq!(r.status, RunStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("step a: boom"));
    assert_eq!(r.finished_at, Some(at(6_000)));
    let mut tx = db.tenant(&org, Access::Read).await.unwrap();
    let statuses: Vec<String> = q::jobs(&mut tx, run)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.status)
        .collect();
    assert_eq!(statuses, ["failed", "cancelled", "cancelled", "cancelled"]);
    drop(tx);
    assert!(claim(&db, "w", at(100_000)).await.is_none());
}

async fn priority_and_concurrency_limits_decide_what_is_claimed(db: Db, _: String) {
    let org = new_org(&db, "Alpha").await;
    let low = enqueue(&db, &org, &DIAMOND).await;
    let high1 = enqueue(&db, &org, &ONE).await;
    let _high2 = enqueue(&db, &org, &ONE).await;
    let first = claim(&db, "w1", NOW).await.unwrap();
    assert_eq!(first.run_id, high1, "priority 5 before 0, oldest first");
    // `one` allows one job at a time: the next claim takes the low-priority diamond.
    let second = claim(&db, "w2", NOW).await.unwrap();
    assert_eq!(second.run_id, low);
    assert!(claim(&db, "w3", NOW).await.is_none());
    complete(&db, &first.job_id, "w1", at(1)).await;
    let third = claim(&db, "w3", at(2)).await.unwrap();
    assert_eq!(third.pipeline, "one");
    // Queue figures: per pipeline, no organisation.
    let mut tx = db.operator(Access::Read).await.unwrap();
    let stats = q::queue_stats(&mut tx, at(1_002)).await.unwrap();
    let diamond = stats.iter().find(|s| s.pipeline == "diamond").unwrap();
    assert_eq!((diamond.due, diamond.pending, diamond.running), (0, 3, 1));
    let one = stats.iter().find(|s| s.pipeline == "one").unwrap();
    assert_eq!((one.due, one.running), (0, 1));
}

async fn many_claimers_never_take_the_same_job(db: Db, _: String) {
    let org = new_org(&db, "Alpha").await;
    const WIDE: PipelineDef = PipelineDef {
        max_concurrent: 100,
        params: &[],
        name: "wide",
        ..ONE
    };
    for _ in 0..24 {
        enqueue(&db, &org, &WIDE).await;
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let c = db
                    .retry(|| {
                        let db = db.clone();
                        async move {
                            let mut tx = db.operator(Access::Write).await?;
                            let c = q::claim(&mut tx, &format!("w{w}"), NOW, LEASE).await?;
                            tx.commit().await?;
                            Ok::<_, StorageError>(c)
                        }
                    })
                    .await
                    .unwrap();
                match c {
                    Some(c) => got.push(c.job_id),
                    None => break,
                }
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!((n, all.len()), (24, 24), "each job claimed exactly once");
}

async fn cancelling_stops_a_run_at_once_or_at_the_next_heartbeat(db: Db, _: String) {
    let org = new_org(&db, "Alpha").await;
    let queued = enqueue(&db, &org, &DIAMOND).await;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    assert_eq!(
        q::cancel(&mut tx, queued, at(1)).await.unwrap(),
        RunStatus::Cancelled
    );
    tx.commit().await.unwrap();
    assert!(claim(&db, "w", at(2)).await.is_none());

    let running = enqueue(&db, &org, &ONE).await;
    let job = claim(&db, "w", at(3)).await.unwrap();
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    assert_eq!(
        q::cancel(&mut tx, running, at(4)).await.unwrap(),
        RunStatus::Running
    );
    tx.commit().await.unwrap();
    let mut tx = db.operator(Access::Write).await.unwrap();
    assert_eq!(
        q::heartbeat(&mut tx, &job.job_id, "w", at(5), LEASE, &[])
            .await
            .unwrap(),
        Beat::Cancelled
    );
    assert_eq!(
        q::acknowledge_cancel(&mut tx, &job.job_id, "w", at(6), &[])
            .await
            .unwrap(),
        Outcome::Done(RunStatus::Cancelled)
    );
    tx.commit().await.unwrap();
    assert_eq!(
        run_status(&db, &org, running).await.status,
        RunStatus::Cancelled
    );
    // Cancelling an ended run changes nothing.
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    assert_eq!(
        q::cancel(&mut tx, running, at(7)).await.unwrap(),
        RunStatus::Cancelled
    );
}

async fn runs_and_logs_belong_to_their_organisation(db: Db, _: String) {
    let a = new_org(&db, "Alpha").await;
    let b = new_org(&db, "Bravo").await;
    let run = enqueue(&db, &a, &ONE).await;
    let job = claim(&db, "w", NOW).await.unwrap();
    let line = q::LogLine {
        at: at(1),
        level: "info",
        message: "built 12 rows".into(),
    };
    let mut tx = db.operator(Access::Write).await.unwrap();
    q::complete(&mut tx, &job.job_id, "w", at(2), "{}", &[line])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.tenant(&a, Access::Read).await.unwrap();
    let logs = q::logs(&mut tx, run, 100).await.unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(
        (
            logs[0].step.as_str(),
            logs[0].attempt,
            logs[0].message.as_str()
        ),
        ("only", 1, "built 12 rows")
    );
    assert_eq!(
        q::list(&mut tx, None, Page::first(10)).await.unwrap().len(),
        1
    );
    drop(tx);
    let mut tx = db.tenant(&b, Access::Read).await.unwrap();
    assert!(matches!(
        q::get(&mut tx, run).await,
        Err(StorageError::NotFound { .. })
    ));
    assert!(q::logs(&mut tx, run, 100).await.unwrap().is_empty());
    assert!(q::jobs(&mut tx, run).await.unwrap().is_empty());
    assert!(
        q::list(&mut tx, None, Page::first(10))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_schedule_fires_each_slot_once(db: Db, _: String) {
    let org = new_org(&db, "Alpha").await;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    let s = q::put_schedule(
        &mut tx,
        &Schedule {
            id: uuid::Uuid::now_v7().to_string(),
            org: org.org(),
            pipeline: "one".into(),
            cron: "0 3 * * *".into(),
            timezone: "Europe/Oslo".into(),
            params_json: "{}".into(),
            enabled: true,
            next_fire: at(1_000),
            last_fire: None,
            last_run: None,
        },
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.operator(Access::Write).await.unwrap();
    assert!(
        q::due_schedules(&mut tx, at(999), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = q::due_schedules(&mut tx, at(1_000), 10).await.unwrap();
    assert_eq!(due, vec![s.clone()]);
    let run = NewRun {
        pipeline: &ONE,
        trigger: Trigger::Schedule,
        requested_by: "schedule",
        params_json: "{}",
        not_before: at(1_000),
    };
    let id = q::fire_schedule(
        &mut tx,
        &due[0],
        Some(&run),
        Some(at(86_400_000)),
        at(1_000),
    )
    .await
    .unwrap()
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.operator(Access::Write).await.unwrap();
    assert!(
        q::due_schedules(&mut tx, at(2_000), 10)
            .await
            .unwrap()
            .is_empty()
    );
    drop(tx);
    let r = run_status(&db, &org, id).await;
    assert_eq!(r.trigger, Trigger::Schedule);
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    let listed = q::schedules(&mut tx).await.unwrap();
    assert_eq!(listed[0].last_run.as_deref(), Some(id.to_string().as_str()));
    assert_eq!(listed[0].next_fire, at(86_400_000));
    q::delete_schedule(&mut tx, "one").await.unwrap();
    assert!(matches!(
        q::delete_schedule(&mut tx, "one").await,
        Err(StorageError::NotFound { .. })
    ));
}

fn version<'a>(id: ModelVersionId, run: Option<mhp_domain::RunId>) -> NewVersion<'a> {
    NewVersion {
        id,
        model: "injury-risk",
        kind: "native",
        artifact_key: "models/x",
        artifact_sha256: "00",
        features_json: "[\"a\"]",
        lineage_json: "{}",
        metrics_json: "{\"roc_auc\":0.7}",
        training_run: run,
        created_by: "pipeline",
    }
}

async fn the_registry_promotes_one_version_and_rolls_back(db: Db, _: String) {
    let org = new_org(&db, "Alpha").await;
    let other = new_org(&db, "Bravo").await;
    let run = enqueue(&db, &org, &ONE).await;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    let v1 = models::register(&mut tx, &version(ModelVersionId::new(), Some(run)), NOW)
        .await
        .unwrap();
    assert_eq!((v1.version, v1.stage), (1, Stage::Candidate));
    // Registering again from the same run is the same version.
    let again = models::register(&mut tx, &version(ModelVersionId::new(), Some(run)), NOW)
        .await
        .unwrap();
    assert_eq!(again.id, v1.id);
    let v2 = models::register(&mut tx, &version(ModelVersionId::new(), None), NOW)
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    assert!(
        models::production(&mut tx, "injury-risk")
            .await
            .unwrap()
            .is_none()
    );

    let (p1, displaced) = models::set_stage(&mut tx, v1.id, Stage::Production, at(1))
        .await
        .unwrap();
    assert_eq!((p1.stage, displaced), (Stage::Production, None));
    let (p2, displaced) = models::set_stage(&mut tx, v2.id, Stage::Production, at(2))
        .await
        .unwrap();
    assert_eq!(p2.stage, Stage::Production);
    assert_eq!(displaced.unwrap().stage, Stage::Archived);
    assert_eq!(
        models::production(&mut tx, "injury-risk")
            .await
            .unwrap()
            .unwrap()
            .id,
        v2.id
    );
    // Rollback: v1 returns, v2 is withdrawn and cannot be rolled back to.
    let (restored, withdrawn) = models::rollback(&mut tx, "injury-risk", at(3))
        .await
        .unwrap();
    assert_eq!((restored.id, restored.stage), (v1.id, Stage::Production));
    assert_eq!(
        (withdrawn.id, withdrawn.stage, withdrawn.promoted_at),
        (v2.id, Stage::Archived, None)
    );
    assert!(matches!(
        models::rollback(&mut tx, "injury-risk", at(4)).await,
        Err(StorageError::NotFound { .. })
    ));
    assert_eq!(
        models::versions(&mut tx, "injury-risk")
            .await
            .unwrap()
            .len(),
        2
    );
    tx.commit().await.unwrap();
    let mut tx = db.tenant(&other, Access::Read).await.unwrap();
    assert!(matches!(
        models::get(&mut tx, v1.id).await,
        Err(StorageError::NotFound { .. })
    ));
    assert!(models::names(&mut tx).await.unwrap().is_empty());
}

async fn scores_have_bands_history_and_replace_on_rescoring(db: Db, _: String) {
    let org = new_org(&db, "Alpha").await;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    assert_eq!(
        risk::thresholds(&mut tx).await.unwrap(),
        Thresholds::DEFAULT
    );
    let t = Thresholds {
        moderate: 0.1,
        high: 0.2,
    };
    risk::set_thresholds(&mut tx, t, "user:x", NOW)
        .await
        .unwrap();
    assert_eq!(risk::thresholds(&mut tx).await.unwrap(), t);
    assert_eq!(t.band(0.05), "low");
    assert_eq!(t.band(0.1), "moderate");
    assert_eq!(t.band(0.25), "high");
    let subject = subjects::create(&mut tx, crate::bare_subject(&[1]), NOW)
        .await
        .unwrap()
        .id;
    let v = models::register(&mut tx, &version(ModelVersionId::new(), None), NOW)
        .await
        .unwrap();
    let score = |day: &str, p: f64| Score {
        subject,
        as_of: day.into(),
        model_version: v.id,
        probability: p,
        band: t.band(p).into(),
        contributions_json: "[]".into(),
        run: None,
        scored_at: NOW,
    };
    risk::put(&mut tx, &score("2026-11-01", 0.05))
        .await
        .unwrap();
    risk::put(&mut tx, &score("2026-11-02", 0.15))
        .await
        .unwrap();
    risk::put(&mut tx, &score("2026-11-02", 0.25))
        .await
        .unwrap();
    let history = risk::history(&mut tx, subject, 10).await.unwrap();
    assert_eq!(history.len(), 2, "the same day and model is replaced");
    assert_eq!(
        (history[0].as_of.as_str(), history[0].band.as_str()),
        ("2026-11-02", "high")
    );
    let latest = risk::latest(&mut tx).await.unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].probability, 0.25);
    // A page's bands: the newest score of each subject asked for, and only of those.
    let other = subjects::create(&mut tx, crate::bare_subject(&[2]), NOW)
        .await
        .unwrap()
        .id;
    let unscored = SubjectId::new();
    for (day, p) in [("2026-11-03", 0.3), ("2026-11-01", 0.01)] {
        risk::put(
            &mut tx,
            &Score {
                subject: other,
                ..score(day, p)
            },
        )
        .await
        .unwrap();
    }
    assert_eq!(risk::latest_of(&mut tx, &[subject]).await.unwrap(), latest);
    let both = risk::latest_of(&mut tx, &[subject, other, unscored])
        .await
        .unwrap();
    assert_eq!(both, risk::latest(&mut tx).await.unwrap());
    assert_eq!(
        both.iter()
            .map(|s| (s.subject, s.as_of.as_str()))
            .collect::<Vec<_>>(),
        vec![(other, "2026-11-03"), (subject, "2026-11-02")]
    );
    assert!(risk::latest_of(&mut tx, &[]).await.unwrap().is_empty());
    tx.commit().await.unwrap();
    // A one-hop read (SQLite files) answers what the transaction answered.
    if let Some(mut read) = db.direct_read(&org).unwrap() {
        assert_eq!(
            risk::latest_of_direct(&mut read, &[subject, other, unscored]).unwrap(),
            both
        );
    }
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    // A score of an unknown subject is refused.
    let unknown = Score {
        subject: SubjectId::new(),
        ..score("2026-11-03", 0.1)
    };
    assert!(matches!(
        risk::put(&mut tx, &unknown).await,
        Err(StorageError::NotFound { .. })
    ));
}

crate::on_both_backends!(
    a_graph_runs_in_dependency_order,
    an_expired_lease_is_taken_over_and_the_old_worker_is_refused,
    a_lease_lost_on_the_last_attempt_fails_the_run,
    failures_back_off_then_fail_the_run_and_cancel_what_follows,
    priority_and_concurrency_limits_decide_what_is_claimed,
    many_claimers_never_take_the_same_job,
    cancelling_stops_a_run_at_once_or_at_the_next_heartbeat,
    runs_and_logs_belong_to_their_organisation,
    a_schedule_fires_each_slot_once,
    the_registry_promotes_one_version_and_rolls_back,
    scores_have_bands_history_and_replace_on_rescoring,
);
