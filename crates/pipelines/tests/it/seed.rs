//! Writes a planned demo organisation straight into storage, as the API would store it
//! (identifiers sealed under each subject's key, with blind indexes), but with the planned
//! jump height and asymmetry as the assessments' metrics instead of analysed force traces:
//! perfect measurement, fast enough for seasons of thousands of subject-weeks. The full path
//! (`mhp demo`, recordings analysed) is exercised by the command-line tests.

use mhp_app::phi::FieldAt;
use mhp_demo::{DemoOrg, iso_date};
use mhp_domain::{AssessmentId, InjuryId, SubjectId, Timestamp};
use mhp_storage::Access;
use mhp_storage::repo::assessments::{self, AnalysisResult, Assessment, Source};
use mhp_storage::repo::injuries::{self, Decision, Injury};
use mhp_storage::repo::loads::{self, LoadEntry};
use mhp_storage::repo::subjects::{self, NewSubject};

use crate::Env;

pub const HEIGHT: &str = "jump_height_impulse_m";
pub const ASYMMETRY: &str = "asymmetry.propulsive_impulse_pct";

/// Stores the plan; returns the subject ids in the plan's order.
pub async fn store(env: &Env, plan: &DemoOrg) -> Vec<SubjectId> {
    store_with(env, plan, false).await
}

/// Stores the plan with one load entry per subject and week (the week's sessions summed,
/// dated on its first session) instead of one per session: a fifth of the rows for the large
/// truth test. The risk features read the same: training rows fall on Mondays, so the acute
/// and chronic windows hold whole weeks, the first session's day is kept, and a week holds an
/// entry exactly when it held a session.
#[allow(dead_code)] // the pipeline bench includes this file and does not use it
pub async fn store_weekly_loads(env: &Env, plan: &DemoOrg) -> Vec<SubjectId> {
    store_with(env, plan, true).await
}

async fn store_with(env: &Env, plan: &DemoOrg, weekly: bool) -> Vec<SubjectId> {
    let org = env.scope.org();
    let now = env.state.app.clock.now();
    let mut ids = Vec::new();
    let mut tx = env.tx(Access::Write).await;
    for s in &plan.subjects {
        let id = SubjectId::new();
        let row = id.to_string();
        let phi = env.state.app.phi.for_write(org, id).await.unwrap();
        let at = |column| FieldAt {
            org,
            table: "subjects",
            column,
            row: &row,
        };
        let new = NewSubject {
            name: phi.seal(at("name"), &s.name).unwrap(),
            birth_date: Some(phi.seal(at("birth_date"), &iso_date(s.birth_day)).unwrap()),
            external_id: Some(phi.seal(at("external_id"), &s.external_id).unwrap()),
            sex: Some(s.sex),
            sport: Some(s.sport.clone()),
            user: None,
            search: env
                .state
                .app
                .phi
                .subject_keys(org, &s.name, Some(&s.external_id)),
        };
        subjects::create_with_id(&mut tx, id, new, now)
            .await
            .unwrap();
        ids.push(id);
    }
    tx.commit().await.unwrap();

    for chunk in plan.assessments.chunks(2000) {
        let mut tx = env.tx(Access::Write).await;
        for a in chunk {
            let id = AssessmentId::new();
            let at = Timestamp::from_millis(a.recorded_at_ms);
            assessments::create(
                &mut tx,
                &Assessment {
                    id,
                    subject: ids[a.subject],
                    kind: "cmj".into(),
                    recorded_at: at,
                    source: Source::Device,
                    uploaded_by: "seed".into(),
                    format: "csv".into(),
                    raw_object_key: format!("seed/{id}"),
                    raw_sha256: "00".into(),
                    raw_bytes: 0,
                    idempotency_key: None,
                    analysis_version: "seed".into(),
                    created_at: at,
                    options: Default::default(),
                },
                &AnalysisResult {
                    analysis_version: "seed".into(),
                    computed_at: at,
                    trials: 1,
                    blocked_trials: 0,
                    report_json: "{}".into(),
                    metrics: vec![
                        (0, HEIGHT.into(), a.jump_height_m),
                        (0, ASYMMETRY.into(), a.asymmetry_pct),
                    ],
                },
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }

    // (subject, first day, type, minutes, rpe, load)
    let mut entries: Vec<(usize, i64, String, i64, i64, i64)> = plan
        .loads
        .iter()
        .map(|l| {
            (
                l.subject,
                l.day,
                l.session_type.clone(),
                i64::from(l.duration_min),
                i64::from(l.rpe),
                i64::from(l.load_au()),
            )
        })
        .collect();
    if weekly {
        // Weeks run Monday to Sunday; 1970-01-01 was a Thursday.
        let week = |day: i64| (day + 3).div_euclid(7);
        let mut by_week: std::collections::BTreeMap<(usize, i64), (i64, i64, i64)> =
            Default::default();
        for (subject, day, _, minutes, _, load) in &entries {
            let e = by_week
                .entry((*subject, week(*day)))
                .or_insert((*day, 0, 0));
            e.0 = e.0.min(*day);
            e.1 += minutes;
            e.2 += load;
        }
        entries = by_week
            .into_iter()
            .map(|((subject, _), (day, minutes, load))| {
                let minutes = minutes.clamp(1, 600);
                let rpe = (load / minutes).clamp(0, 10);
                (subject, day, "week".to_owned(), minutes, rpe, load)
            })
            .collect();
    }
    for chunk in entries.chunks(5000) {
        let mut tx = env.tx(Access::Write).await;
        for (subject, day, session_type, minutes, rpe, load) in chunk {
            loads::create(
                &mut tx,
                &LoadEntry {
                    id: uuid::Uuid::now_v7().to_string(),
                    subject: ids[*subject],
                    session_date: iso_date(*day),
                    session_type: session_type.clone(),
                    duration_min: *minutes,
                    rpe: *rpe,
                    load_au: *load,
                    recorded_by: "seed".into(),
                    created_at: now,
                },
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }

    let mut tx = env.tx(Access::Write).await;
    for i in &plan.injuries {
        let id = InjuryId::new();
        injuries::create(
            &mut tx,
            &Injury {
                id,
                subject: ids[i.subject],
                body_region: i.body_region.clone(),
                injury_type: i.injury_type.clone(),
                side: i.side.clone(),
                severity: i.severity.clone(),
                mechanism: i.mechanism.clone(),
                occurred_on: iso_date(i.occurred_day),
                time_loss_days: Some(i64::from(i.time_loss_days)),
                notes: None,
                recorded_by: "seed".into(),
                created_at: now,
                updated_at: now,
            },
        )
        .await
        .unwrap();
        for (stage, day) in &i.return_to_duty {
            injuries::add_decision(
                &mut tx,
                &Decision {
                    id: uuid::Uuid::now_v7().to_string(),
                    injury: id,
                    stage: stage.clone(),
                    restrictions: None,
                    decided_on: iso_date(*day),
                    decided_by: "seed".into(),
                    created_at: now,
                },
            )
            .await
            .unwrap();
        }
    }
    tx.commit().await.unwrap();
    ids
}
