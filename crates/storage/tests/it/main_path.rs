//! Subjects search, assessments with versioned results, injuries and return to duty.

use mhp_domain::{AssessmentId, InjuryId, SealedBytes, Sex, SubjectId, TeamName, Timestamp};
use mhp_storage::repo::assessments::{self, AnalysisResult, Assessment, Source};
use mhp_storage::repo::injuries::{self, Decision, Injury};
use mhp_storage::repo::subjects::{self, Archived, Filter, NewSubject, SearchKeys};
use mhp_storage::repo::{Page, teams};
use mhp_storage::{Access, Db, StorageError, TenantTx};

use crate::{NOW, new_org};

fn subject(name: &str, ext: Option<&str>, sport: &str) -> NewSubject {
    NewSubject {
        name: SealedBytes::from_ciphertext(name.as_bytes().to_vec()),
        birth_date: None,
        external_id: ext.map(|e| SealedBytes::from_ciphertext(e.as_bytes().to_vec())),
        sex: Some(Sex::Male),
        sport: Some(sport.to_owned()),
        user: None,
        // Stand-ins for blind indexes: the storage layer only compares them.
        search: SearchKeys {
            external_id: ext.map(|e| format!("x-{e}")),
            name: Some(format!("n-{name}")),
            name_words: name.split(' ').map(|w| format!("w-{w}")).collect(),
        },
    }
}

fn term(q: &str) -> Filter {
    Filter {
        term: Some(SearchKeys {
            external_id: Some(format!("x-{q}")),
            name: Some(format!("n-{q}")),
            name_words: vec![format!("w-{q}")],
        }),
        ..Filter::default()
    }
}

async fn subjects_are_searched_filtered_and_paged(db: Db, _: String) {
    let org = new_org(&db, "Alpha Rugby").await;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    let team = teams::create(&mut tx, &TeamName::parse("Forwards").unwrap(), NOW)
        .await
        .unwrap();
    let ada = subjects::create(&mut tx, subject("Ada Byron", Some("SN1"), "rugby"), NOW)
        .await
        .unwrap();
    let bob = subjects::create(&mut tx, subject("Bob Byron", Some("SN2"), "rugby"), NOW)
        .await
        .unwrap();
    let cy = subjects::create(&mut tx, subject("Cy Young", None, "sprint"), NOW)
        .await
        .unwrap();
    assert!(matches!(
        subjects::create(&mut tx, subject("Dup", Some("SN1"), "rugby"), NOW).await,
        Err(StorageError::Conflict { .. })
    ));
    subjects::add_to_team(&mut tx, team.id, ada.id, NOW)
        .await
        .unwrap();
    subjects::add_to_team(&mut tx, team.id, cy.id, NOW)
        .await
        .unwrap();

    let ids = |v: Vec<subjects::Subject>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let all = Page::first(50);
    let by = |f: Filter| f;
    assert_eq!(
        ids(subjects::search(&mut tx, &term("SN2"), all, false)
            .await
            .unwrap()),
        vec![bob.id]
    );
    assert_eq!(
        ids(subjects::search(&mut tx, &term("Byron"), all, false)
            .await
            .unwrap()),
        vec![ada.id, bob.id]
    );
    assert_eq!(
        ids(subjects::search(&mut tx, &term("Cy Young"), all, false)
            .await
            .unwrap()),
        vec![cy.id]
    );
    assert!(
        subjects::search(&mut tx, &term("nobody"), all, false)
            .await
            .unwrap()
            .is_empty()
    );
    let in_team = by(Filter {
        team: Some(team.id),
        ..Filter::default()
    });
    assert_eq!(
        ids(subjects::search(&mut tx, &in_team, all, true)
            .await
            .unwrap()),
        vec![cy.id, ada.id]
    );
    let sprinters = Filter {
        sport: Some("sprint".into()),
        ..Filter::default()
    };
    assert_eq!(
        ids(subjects::search(&mut tx, &sprinters, all, false)
            .await
            .unwrap()),
        vec![cy.id]
    );
    // Pages: newest first, two at a time.
    let first = subjects::search(&mut tx, &Filter::default(), Page::first(2), true)
        .await
        .unwrap();
    assert_eq!(ids(first), vec![cy.id, bob.id]);
    let next = Page {
        after: Some(bob.id),
        limit: 2,
    };
    assert_eq!(
        ids(subjects::search(&mut tx, &Filter::default(), next, true)
            .await
            .unwrap()),
        vec![ada.id]
    );

    // Updating re-indexes: the old name no longer finds the subject, the new one does.
    let renamed = subjects::update(
        &mut tx,
        bob.id,
        subject("Rob Stone", Some("SN2"), "rugby"),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(renamed.pseudonym, bob.pseudonym);
    assert_eq!(
        ids(subjects::search(&mut tx, &term("Byron"), all, false)
            .await
            .unwrap()),
        vec![ada.id]
    );
    assert_eq!(
        ids(subjects::search(&mut tx, &term("Stone"), all, false)
            .await
            .unwrap()),
        vec![bob.id]
    );
    assert!(matches!(
        subjects::update(
            &mut tx,
            bob.id,
            subject("Rob Stone", Some("SN1"), "rugby"),
            NOW
        )
        .await,
        Err(StorageError::Conflict { .. })
    ));

    subjects::archive(&mut tx, ada.id, NOW).await.unwrap();
    let archived = Filter {
        archived: Archived::Only,
        ..Filter::default()
    };
    assert_eq!(
        ids(subjects::search(&mut tx, &archived, all, false)
            .await
            .unwrap()),
        vec![ada.id]
    );
    assert_eq!(
        subjects::list(&mut tx, all).await.unwrap().len(),
        2,
        "archived subjects leave the default listing"
    );
    let kept = subjects::get_including_archived(&mut tx, ada.id)
        .await
        .unwrap();
    assert!(kept.archived_at.is_some());
    tx.commit().await.unwrap();
}

fn assessment(subject: SubjectId, key: Option<&str>) -> Assessment {
    Assessment {
        id: AssessmentId::new(),
        subject,
        kind: "cmj".into(),
        recorded_at: NOW,
        source: Source::Device,
        uploaded_by: "api_key:abc".into(),
        format: "csv".into(),
        raw_object_key: "orgs/x/raw/y.enc".into(),
        raw_sha256: "00".repeat(32),
        raw_bytes: 1234,
        idempotency_key: key.map(str::to_owned),
        analysis_version: "cmj-1/balance-1".into(),
        created_at: NOW,
        options: Default::default(),
    }
}

fn result(version: &str, height: f64) -> AnalysisResult {
    AnalysisResult {
        analysis_version: version.into(),
        computed_at: NOW,
        trials: 1,
        blocked_trials: 0,
        report_json: format!("{{\"v\":\"{version}\"}}"),
        metrics: vec![
            (0, "jump_height_impulse_m".into(), height),
            (0, "body_mass_kg".into(), 80.0),
            (0, "broken".into(), f64::NAN),
        ],
    }
}

async fn seeded_subject(tx: &mut TenantTx) -> SubjectId {
    subjects::create(tx, subject("Ada Byron", Some("SN1"), "rugby"), NOW)
        .await
        .unwrap()
        .id
}

async fn assessments_keep_every_analysis_version(db: Db, _: String) {
    let org = new_org(&db, "Alpha Rugby").await;
    let other = new_org(&db, "Bravo Company").await;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    let s = seeded_subject(&mut tx).await;
    let a = assessment(s, Some("device-42-upload-7"));
    assessments::create(&mut tx, &a, &result("cmj-1/balance-1", 0.35))
        .await
        .unwrap();
    let again = assessments::find_by_idempotency_key(&mut tx, "device-42-upload-7")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, a);
    assert!(
        assessments::find_by_idempotency_key(&mut tx, "other")
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        assessments::create(
            &mut tx,
            &assessment(s, Some("device-42-upload-7")),
            &result("v", 0.1)
        )
        .await,
        Err(StorageError::Conflict { .. })
    ));

    assert_eq!(
        assessments::stale(&mut tx, "cmj-2/balance-1", Page::first(10))
            .await
            .unwrap(),
        vec![a.clone()]
    );
    assessments::add_result(&mut tx, a.id, &result("cmj-2/balance-1", 0.36))
        .await
        .unwrap();
    assert!(matches!(
        assessments::add_result(&mut tx, a.id, &result("cmj-2/balance-1", 0.36)).await,
        Err(StorageError::Conflict { .. })
    ));
    let now = assessments::get(&mut tx, a.id).await.unwrap();
    assert_eq!(now.analysis_version, "cmj-2/balance-1");
    let history = assessments::results(&mut tx, a.id).await.unwrap();
    assert_eq!(history.len(), 2);
    let current = assessments::current_result(&mut tx, &now).await.unwrap();
    assert_eq!(current.report_json, "{\"v\":\"cmj-2/balance-1\"}");
    assert_eq!(
        current.metrics,
        vec![
            (0, "body_mass_kg".to_owned(), 80.0),
            (0, "jump_height_impulse_m".to_owned(), 0.36)
        ],
        "non-finite values are not stored"
    );
    assert!(
        assessments::stale(&mut tx, "cmj-2/balance-1", Page::first(10))
            .await
            .unwrap()
            .is_empty()
    );
    let b = assessment(s, None);
    assessments::create(&mut tx, &b, &result("cmj-2/balance-1", 0.3))
        .await
        .unwrap();
    let listed = assessments::list_for_subject(&mut tx, s, Page::first(10))
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![b.id, a.id]
    );
    tx.commit().await.unwrap();
    // On PostgreSQL the failed insert aborts its transaction: a fresh one, not committed.
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    // A subject of no organisation of ours is not found.
    assert!(matches!(
        assessments::create(
            &mut tx,
            &assessment(SubjectId::new(), None),
            &result("v", 0.1)
        )
        .await,
        Err(StorageError::NotFound { .. })
    ));
    drop(tx);

    let mut tx = db.tenant(&other, Access::Read).await.unwrap();
    assert!(matches!(
        assessments::get(&mut tx, a.id).await,
        Err(StorageError::NotFound { .. })
    ));
    assert!(
        assessments::find_by_idempotency_key(&mut tx, "device-42-upload-7")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        assessments::results(&mut tx, a.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn injuries_and_decisions(db: Db, _: String) {
    let org = new_org(&db, "Alpha Rugby").await;
    let other = new_org(&db, "Bravo Company").await;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    let s = seeded_subject(&mut tx).await;
    let injury = Injury {
        id: InjuryId::new(),
        subject: s,
        body_region: "knee".into(),
        injury_type: "ligament_sprain".into(),
        side: "left".into(),
        severity: "moderate".into(),
        mechanism: "non_contact".into(),
        occurred_on: "2026-10-01".into(),
        time_loss_days: Some(21),
        notes: Some(SealedBytes::from_ciphertext(vec![9, 9])),
        recorded_by: "user:x".into(),
        created_at: NOW,
        updated_at: NOW,
    };
    injuries::create(&mut tx, &injury).await.unwrap();
    let later = Timestamp::from_millis(NOW.as_millis() + 1000);
    for (stage, day) in [("cleared", "2026-10-22"), ("rehabilitation", "2026-10-02")] {
        injuries::add_decision(
            &mut tx,
            &Decision {
                id: AssessmentId::new().to_string(),
                injury: injury.id,
                stage: stage.into(),
                restrictions: None,
                decided_on: day.into(),
                decided_by: "user:x".into(),
                created_at: later,
            },
        )
        .await
        .unwrap();
    }
    let stages: Vec<String> = injuries::decisions(&mut tx, injury.id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.stage)
        .collect();
    assert_eq!(
        stages,
        vec!["rehabilitation", "cleared"],
        "ordered by the day they take effect"
    );
    let got = injuries::get(&mut tx, injury.id).await.unwrap();
    assert_eq!(got.updated_at, later);
    assert_eq!(
        injuries::list_for_subject(&mut tx, s).await.unwrap().len(),
        1
    );
    let mut bad = injury.clone();
    bad.id = InjuryId::new();
    bad.side = "upside".into();
    assert!(
        injuries::create(&mut tx, &bad).await.is_err(),
        "the schema checks coded values"
    );
    drop(tx);

    let mut tx = db.tenant(&other, Access::Write).await.unwrap();
    assert!(matches!(
        injuries::get(&mut tx, injury.id).await,
        Err(StorageError::NotFound { .. })
    ));
    let foreign = Decision {
        id: AssessmentId::new().to_string(),
        injury: injury.id,
        stage: "cleared".into(),
        restrictions: None,
        decided_on: "2026-10-23".into(),
        decided_by: "user:y".into(),
        created_at: NOW,
    };
    assert!(matches!(
        injuries::add_decision(&mut tx, &foreign).await,
        Err(StorageError::NotFound { .. })
    ));
}

async fn a_team_reads_the_current_values_of_named_metrics(db: Db, _: String) {
    let org = new_org(&db, "Alpha Rugby").await;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    let team = teams::create(&mut tx, &TeamName::parse("Forwards").unwrap(), NOW)
        .await
        .unwrap();
    let on = seeded_subject(&mut tx).await;
    let off = subjects::create(&mut tx, subject("Cy Young", None, "sprint"), NOW)
        .await
        .unwrap()
        .id;
    subjects::add_to_team(&mut tx, team.id, on, NOW)
        .await
        .unwrap();
    let mut first = assessment(on, None);
    first.recorded_at = Timestamp::from_millis(NOW.as_millis() - 86_400_000);
    assessments::create(&mut tx, &first, &result("cmj-1/balance-1", 0.30))
        .await
        .unwrap();
    // A second analysis replaces the first as the current one.
    assessments::add_result(&mut tx, first.id, &result("cmj-2/balance-1", 0.31))
        .await
        .unwrap();
    let second = assessment(on, None);
    assessments::create(&mut tx, &second, &result("cmj-1/balance-1", 0.33))
        .await
        .unwrap();
    assessments::create(
        &mut tx,
        &assessment(off, None),
        &result("cmj-1/balance-1", 0.5),
    )
    .await
    .unwrap();
    let series = assessments::team_series_of(&mut tx, team.id, &["jump_height_impulse_m"])
        .await
        .unwrap();
    assert_eq!(series.len(), 1, "the team's one subject");
    assert_eq!(series[0].subject, on);
    let seen: Vec<(i64, f64)> = series[0]
        .points
        .iter()
        .map(|(t, v)| (t.as_millis(), *v))
        .collect();
    assert_eq!(
        seen,
        vec![
            (first.recorded_at.as_millis(), 0.31),
            (second.recorded_at.as_millis(), 0.33)
        ],
        "oldest first, current only"
    );
    let both =
        assessments::team_series_of(&mut tx, team.id, &["jump_height_impulse_m", "body_mass_kg"])
            .await
            .unwrap();
    assert_eq!(both.len(), 2);
    assert!(both.iter().all(|s| s.subject == on && s.points.len() == 2));
    assert!(
        assessments::team_series_of(&mut tx, team.id, &[])
            .await
            .unwrap()
            .is_empty()
    );
    let latest = assessments::team_latest_of(&mut tx, team.id, "jump_height_impulse_m")
        .await
        .unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(
        latest[0].points,
        vec![(second.recorded_at, 0.33)],
        "the newest value only"
    );
}

/// The roster's one-hop reads (SQLite files, `mhp_storage::direct`) answer exactly what the
/// same reads answer in a transaction, within one organisation only; PostgreSQL has none.
async fn direct_reads_answer_as_transactions_do(db: Db, url: String) {
    let org = new_org(&db, "Alpha Rugby").await;
    let other = new_org(&db, "Bravo Company").await;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    let team = teams::create(&mut tx, &TeamName::parse("Forwards").unwrap(), NOW)
        .await
        .unwrap();
    let ada = subjects::create(&mut tx, subject("Ada Byron", Some("SN1"), "rugby"), NOW)
        .await
        .unwrap();
    let bob = subjects::create(&mut tx, subject("Bob Byron", None, "sprint"), NOW)
        .await
        .unwrap();
    subjects::add_to_team(&mut tx, team.id, ada.id, NOW)
        .await
        .unwrap();
    let injury = Injury {
        id: InjuryId::new(),
        subject: bob.id,
        body_region: "knee".into(),
        injury_type: "ligament_sprain".into(),
        side: "left".into(),
        severity: "moderate".into(),
        mechanism: "non_contact".into(),
        occurred_on: "2026-10-01".into(),
        time_loss_days: Some(21),
        notes: None,
        recorded_by: "user:x".into(),
        created_at: NOW,
        updated_at: NOW,
    };
    injuries::create(&mut tx, &injury).await.unwrap();
    injuries::add_decision(
        &mut tx,
        &Decision {
            id: AssessmentId::new().to_string(),
            injury: injury.id,
            stage: "rehabilitation".into(),
            restrictions: None,
            decided_on: "2026-10-02".into(),
            decided_by: "user:x".into(),
            created_at: NOW,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let Some(mut read) = db.direct_read(&org).unwrap() else {
        assert!(url.starts_with("postgres"), "SQLite files read directly");
        return;
    };
    let mut tx = db.tenant(&org, Access::Read).await.unwrap();
    let filters = [
        Filter::default(),
        term("Byron"),
        term("SN1"),
        Filter {
            team: Some(team.id),
            ..Filter::default()
        },
        Filter {
            sex: Some(Sex::Male),
            sport: Some("sprint".into()),
            ..Filter::default()
        },
        Filter {
            archived: Archived::Only,
            ..Filter::default()
        },
    ];
    for filter in &filters {
        for (page, newest) in [(Page::first(50), true), (Page::first(1), false)] {
            let pooled = subjects::search(&mut tx, filter, page, newest)
                .await
                .unwrap();
            let direct = subjects::search_direct(&mut read, filter, page, newest).unwrap();
            assert_eq!(direct, pooled, "{filter:?}");
        }
    }
    assert_eq!(
        subjects::search_direct(&mut read, &Filter::default(), Page::first(50), true)
            .unwrap()
            .len(),
        2
    );
    for day in ["2026-09-30", "2026-10-05"] {
        assert_eq!(
            injuries::courses_on_direct(&mut read, day).unwrap(),
            injuries::courses_on(&mut tx, day).await.unwrap()
        );
    }
    assert_eq!(
        injuries::courses_on_direct(&mut read, "2026-10-05").unwrap()[0].decisions,
        vec![("2026-10-02".to_owned(), "rehabilitation".to_owned())]
    );
    assert_eq!(
        teams::get_direct(&mut read, team.id).unwrap(),
        teams::get(&mut tx, team.id).await.unwrap()
    );
    drop(read);

    // Another organisation's read sees none of it.
    let mut theirs = db.direct_read(&other).unwrap().expect("SQLite");
    assert!(
        subjects::search_direct(&mut theirs, &Filter::default(), Page::first(50), true)
            .unwrap()
            .is_empty()
    );
    assert!(
        injuries::courses_on_direct(&mut theirs, "2026-10-05")
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        teams::get_direct(&mut theirs, team.id),
        Err(StorageError::NotFound { .. })
    ));
}

crate::on_both_backends!(
    direct_reads_answer_as_transactions_do,
    subjects_are_searched_filtered_and_paged,
    assessments_keep_every_analysis_version,
    a_team_reads_the_current_values_of_named_metrics,
    injuries_and_decisions,
);

async fn organisations_and_teams_are_renamed(db: Db, _: String) {
    let a = new_org(&db, "Alpha Rugby").await;
    let _b = new_org(&db, "Bravo Company").await;
    let mut tx = db.tenant(&a, Access::Write).await.unwrap();
    let taken = mhp_domain::OrgName::parse("Bravo Company").unwrap();
    assert!(matches!(
        mhp_storage::repo::orgs::rename(&mut tx, &taken).await,
        Err(StorageError::Conflict { .. })
    ));
    drop(tx);
    let mut tx = db.tenant(&a, Access::Write).await.unwrap();
    let new = mhp_domain::OrgName::parse("Alpha Rugby Club").unwrap();
    let org = mhp_storage::repo::orgs::rename(&mut tx, &new)
        .await
        .unwrap();
    assert_eq!(org.name.to_string(), "Alpha Rugby Club");
    let forwards = teams::create(&mut tx, &TeamName::parse("Forwards").unwrap(), NOW)
        .await
        .unwrap();
    teams::create(&mut tx, &TeamName::parse("Backs").unwrap(), NOW)
        .await
        .unwrap();
    assert!(matches!(
        teams::rename(&mut tx, forwards.id, &TeamName::parse("Backs").unwrap()).await,
        Err(StorageError::Conflict { .. })
    ));
    let renamed = teams::rename(&mut tx, forwards.id, &TeamName::parse("Pack").unwrap())
        .await
        .unwrap();
    assert_eq!(renamed.name.as_str(), "Pack");
    tx.commit().await.unwrap();
}

crate::on_both_backends!(organisations_and_teams_are_renamed);
