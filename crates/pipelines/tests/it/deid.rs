//! The de-identified view carries no identifier: serialised whole for a demo organisation, it
//! contains no name, external id, birth date, subject id or clinical pseudonym.

use mhp_demo::{DemoSpec, iso_date, plan};
use mhp_domain::{CalendarDate, InjuryId, Timestamp};
use mhp_pipelines::deid;
use mhp_storage::Access;
use mhp_storage::repo::injuries::{self, Injury};
use mhp_storage::repo::subjects;

use crate::{Backend, env, seed};

async fn the_view_holds_no_identifier(backend: Backend) {
    let spec = DemoSpec {
        teams: 2,
        subjects_per_team: 15,
        weeks: 10,
        ..DemoSpec::default()
    };
    let org = plan(&spec).unwrap();
    let end = spec.start_day + 7 * spec.weeks as i64;
    let Some(env) = env(backend, Timestamp::from_millis(end * 86_400_000)).await else {
        return;
    };
    let ids = seed::store(&env, &org).await;
    let as_of = CalendarDate::from_unix_millis(end * 86_400_000);
    let (view, linker) = deid::load(&env.state.app, &env.scope, None, as_of)
        .await
        .unwrap();
    assert_eq!(view.subjects.len(), ids.len());
    let text = serde_json::to_string(&view).unwrap();

    let mut tx = env.tx(Access::Read).await;
    for (i, s) in org.subjects.iter().enumerate() {
        let stored = subjects::get(&mut tx, ids[i]).await.unwrap();
        for word in s.name.split_whitespace() {
            assert!(!text.contains(word), "a name ({word}) leaked");
        }
        assert!(!text.contains(&s.external_id), "an external id leaked");
        assert!(
            !text.contains(&iso_date(s.birth_day)),
            "a birth date leaked"
        );
        assert!(!text.contains(&ids[i].to_string()), "a subject id leaked");
        assert!(
            !text.contains(&stored.pseudonym),
            "the clinical pseudonym leaked"
        );
        // What the view does say: the keyed pseudonym (linked back only by the linker), age,
        // sex and sport.
        let pseudonym = env.state.app.pseudonyms.of(env.scope.org(), ids[i]);
        assert_eq!(linker.subject(&pseudonym), Some(ids[i]));
        let v = view.subjects.iter().find(|v| v.id == pseudonym).unwrap();
        let age = CalendarDate::from_unix_millis(s.birth_day * 86_400_000).years_until(as_of);
        assert_eq!(v.age_years, Some(age.min(deid::AGE_CAP)));
        assert_eq!(v.sex.as_deref(), Some(s.sex.as_str()));
        assert_eq!(v.sport.as_deref(), Some(s.sport.as_str()));
    }
    // The view's content matches what was stored: every planned assessment, load and injury.
    let observations: usize = view
        .subjects
        .iter()
        .map(|s| s.history.observations.len())
        .sum();
    assert_eq!(observations, org.assessments.len());
    let loads: usize = view.subjects.iter().map(|s| s.history.loads.len()).sum();
    assert_eq!(loads, org.loads.len());
    let injuries: usize = view.subjects.iter().map(|s| s.injuries.len()).sum();
    assert_eq!(injuries, org.injuries.len());

    // As of an earlier day, later data is left out.
    let early = CalendarDate::from_unix_millis((spec.start_day + 14) * 86_400_000);
    let (view, _) = deid::load(&env.state.app, &env.scope, None, early)
        .await
        .unwrap();
    assert!(
        view.subjects
            .iter()
            .flat_map(|s| s.history.observations.iter())
            .all(|o| o.day <= spec.start_day + 14)
    );
}

crate::on_both_backends!(the_view_holds_no_identifier);

/// Time loss ends: injuries recorded with their time loss and no return-to-duty decision end
/// on their expected return (occurred + time loss), so the weeks after it are at risk again,
/// exactly as when every injury is cleared on that day (the demo's truth). An injury with
/// neither a time loss nor a decision, older than four weeks, is flagged stale, not ended.
async fn time_loss_ends_without_a_clearance(backend: Backend) {
    let spec = DemoSpec {
        teams: 2,
        subjects_per_team: 20,
        weeks: 16,
        ..DemoSpec::default()
    };
    let mut org = plan(&spec).unwrap();
    assert!(org.injuries.len() >= 5, "{} injuries", org.injuries.len());
    for i in &mut org.injuries {
        i.return_to_duty.clear();
    }
    let end = spec.start_day + 7 * spec.weeks as i64;
    let Some(env) = env(backend, Timestamp::from_millis(end * 86_400_000)).await else {
        return;
    };
    let ids = seed::store(&env, &org).await;
    let as_of = CalendarDate::from_unix_millis(end * 86_400_000);
    let (view, _) = deid::load(&env.state.app, &env.scope, None, as_of)
        .await
        .unwrap();
    for i in &org.injuries {
        let pseudonym = env.state.app.pseudonyms.of(env.scope.org(), ids[i.subject]);
        let s = view.subjects.iter().find(|s| s.id == pseudonym).unwrap();
        let expected = i.occurred_day + i64::from(i.time_loss_days);
        let label = s
            .injuries
            .iter()
            .find(|l| l.occurred_day == i.occurred_day)
            .unwrap();
        assert_eq!(
            label.cleared_day,
            (expected <= end).then_some(expected),
            "an injury of {} days on day {}",
            i.time_loss_days,
            i.occurred_day
        );
        assert!(!label.stale);
    }
    let rows =
        mhp_pipelines::risk::build_rows(&deid::risk_feature_spec(), &view, Some(spec.start_day));
    assert_eq!(
        rows.len(),
        org.weekly_truth.len(),
        "every subject-week at risk, as if each injury had been cleared on its expected return"
    );

    // An injury without time loss or decision, 40 days old: open, flagged, no end guessed.
    let mut tx = env.tx(Access::Write).await;
    let now = env.state.app.clock.now();
    injuries::create(
        &mut tx,
        &Injury {
            id: InjuryId::new(),
            subject: ids[0],
            body_region: "knee".into(),
            injury_type: "ligament_sprain".into(),
            side: "left".into(),
            severity: "moderate".into(),
            mechanism: "contact".into(),
            occurred_on: iso_date(end - 40),
            time_loss_days: None,
            notes: None,
            recorded_by: "test".into(),
            created_at: now,
            updated_at: now,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (view, _) = deid::load(&env.state.app, &env.scope, Some(ids[0]), as_of)
        .await
        .unwrap();
    let stale: Vec<_> = view.subjects[0]
        .injuries
        .iter()
        .filter(|l| l.stale)
        .collect();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].occurred_day, end - 40);
    assert_eq!(stale[0].cleared_day, None);
    // Twenty days earlier it was 20 days old: open, not yet stale.
    let earlier = CalendarDate::from_unix_millis((end - 20) * 86_400_000);
    let (view, _) = deid::load(&env.state.app, &env.scope, Some(ids[0]), earlier)
        .await
        .unwrap();
    assert!(view.subjects[0].injuries.iter().all(|l| !l.stale));
}

crate::on_both_backends!(time_loss_ends_without_a_clearance);
