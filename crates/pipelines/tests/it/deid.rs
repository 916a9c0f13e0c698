//! The de-identified view carries no identifier: serialised whole for a demo organisation, it
//! contains no name, external id, birth date, subject id or clinical pseudonym.

use mhp_demo::{DemoSpec, iso_date, plan};
use mhp_domain::{CalendarDate, Timestamp};
use mhp_pipelines::deid;
use mhp_storage::Access;
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
