use mhp_domain::{
    DisplayName, Email, OrgName, PlatformRole, Role, SealedBytes, Sex, SubjectId, TeamName,
};
use mhp_storage::repo::audit::{AuditEvent, Outcome};
use mhp_storage::repo::subjects::NewSubject;
use mhp_storage::repo::users::NewUser;
use mhp_storage::repo::{Page, audit, orgs, subjects, teams, users};
use mhp_storage::{Access, Db, StorageError};
use sqlx::Connection as _;

use crate::{NOW, new_org};

fn sealed(s: &str) -> SealedBytes {
    SealedBytes::from_ciphertext(s.as_bytes().iter().map(|b| b ^ 0x5a).collect())
}

fn new_subject(name: &str) -> NewSubject {
    NewSubject {
        name: sealed(name),
        birth_date: Some(sealed("1999-04-01")),
        external_id: None,
        sex: Some(Sex::Female),
        sport: None,
        user: None,
        search: Default::default(),
    }
}

async fn organisations_are_created_listed_and_unique(db: Db, _: String) {
    let a = new_org(&db, "Alpha Rugby").await;
    let _b = new_org(&db, "Bravo Company").await;

    let mut tx = db.operator(Access::Write).await.unwrap();
    let all = orgs::list_all(&mut tx).await.unwrap();
    assert_eq!(
        all.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
        ["Alpha Rugby", "Bravo Company"]
    );
    let dup = orgs::create(&mut tx, &OrgName::parse("Alpha Rugby").unwrap(), NOW).await;
    assert!(matches!(
        dup,
        Err(StorageError::Conflict {
            entity: "organisation"
        })
    ));
    drop(tx);

    let mut tx = db.tenant(&a, Access::Read).await.unwrap();
    assert_eq!(
        orgs::current(&mut tx).await.unwrap().name.as_str(),
        "Alpha Rugby"
    );
}

async fn users_and_memberships(db: Db, _: String) {
    let org = new_org(&db, "Alpha Rugby").await;
    let email = Email::parse("Coach@Example.org").unwrap();
    let mut tx = db.operator(Access::Write).await.unwrap();
    let user = users::create(
        &mut tx,
        &NewUser {
            email: &email,
            display_name: &DisplayName::parse("Coach One").unwrap(),
            password_hash: Some("$argon2id$v=19$stub"),
            password_change_required: true,
            platform_role: Some(PlatformRole::Operator),
        },
        NOW,
    )
    .await
    .unwrap();
    users::grant_as_operator(&mut tx, org.org(), user.id, Role::Coach, NOW)
        .await
        .unwrap();
    assert_eq!(users::count_platform_operators(&mut tx).await.unwrap(), 1);
    let (found, hash) = users::find_by_email(&mut tx, &email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, user);
    assert_eq!(found.password_change_required_at, Some(NOW));
    assert_eq!(hash.as_deref(), Some("$argon2id$v=19$stub"));
    let dup = users::create(
        &mut tx,
        &NewUser {
            email: &email,
            display_name: &DisplayName::parse("Other").unwrap(),
            password_hash: None,
            password_change_required: false,
            platform_role: None,
        },
        NOW,
    )
    .await;
    assert!(matches!(
        dup,
        Err(StorageError::Conflict { entity: "user" })
    ));
    tx.commit().await.unwrap();

    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    users::grant(&mut tx, user.id, Role::Clinician, NOW)
        .await
        .unwrap();
    users::grant(&mut tx, user.id, Role::Clinician, NOW)
        .await
        .unwrap();
    assert_eq!(
        users::roles(&mut tx, user.id).await.unwrap(),
        vec![Role::Clinician, Role::Coach]
    );
    let members = users::members(&mut tx).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].roles, vec![Role::Clinician, Role::Coach]);
    tx.commit().await.unwrap();
}

async fn teams_and_subjects(db: Db, _: String) {
    let org = new_org(&db, "Alpha Rugby").await;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    let forwards = teams::create(&mut tx, &TeamName::parse("Forwards").unwrap(), NOW)
        .await
        .unwrap();
    let backs = teams::create(&mut tx, &TeamName::parse("Backs").unwrap(), NOW)
        .await
        .unwrap();
    let dup = teams::create(&mut tx, &TeamName::parse("Backs").unwrap(), NOW).await;
    assert!(matches!(
        dup,
        Err(StorageError::Conflict { entity: "team" })
    ));
    tx.commit().await.unwrap();

    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    let mut created = Vec::new();
    for i in 0..5 {
        let s = subjects::create(&mut tx, new_subject(&format!("Player {i}")), NOW)
            .await
            .unwrap();
        subjects::add_to_team(&mut tx, forwards.id, s.id, NOW)
            .await
            .unwrap();
        created.push(s);
    }
    tx.commit().await.unwrap();

    let mut tx = db.tenant(&org, Access::Read).await.unwrap();
    let got = subjects::get(&mut tx, created[0].id).await.unwrap();
    assert_eq!(got, created[0]);
    assert_eq!(got.name, sealed("Player 0"));
    assert!(got.pseudonym.starts_with('S') && got.pseudonym.len() == 13);

    // Keyset pagination walks every subject once, in creation order.
    let first = subjects::list(&mut tx, Page::first(2)).await.unwrap();
    let second = subjects::list(
        &mut tx,
        Page {
            after: Some(first[1].id),
            limit: 10,
        },
    )
    .await
    .unwrap();
    let ids: Vec<SubjectId> = first.iter().chain(&second).map(|s| s.id).collect();
    assert_eq!(ids, created.iter().map(|s| s.id).collect::<Vec<_>>());

    let in_forwards = subjects::list_in_team(&mut tx, forwards.id, Page::first(50))
        .await
        .unwrap();
    assert_eq!(in_forwards.len(), 5);
    assert!(
        subjects::list_in_team(&mut tx, backs.id, Page::first(50))
            .await
            .unwrap()
            .is_empty()
    );
    let all_teams = teams::list(&mut tx, Page::first(10)).await.unwrap();
    assert_eq!(all_teams.len(), 2);
    drop(tx);

    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    subjects::archive(&mut tx, created[0].id, NOW)
        .await
        .unwrap();
    assert!(matches!(
        subjects::archive(&mut tx, created[0].id, NOW).await,
        Err(StorageError::NotFound { .. })
    ));
    teams::archive(&mut tx, backs.id, NOW).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.tenant(&org, Access::Read).await.unwrap();
    assert!(matches!(
        subjects::get(&mut tx, created[0].id).await,
        Err(StorageError::NotFound { entity: "subject" })
    ));
    assert_eq!(
        subjects::list(&mut tx, Page::first(50))
            .await
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        teams::list(&mut tx, Page::first(50)).await.unwrap().len(),
        1
    );
}

async fn a_rolled_back_transaction_leaves_nothing(db: Db, _: String) {
    let org = new_org(&db, "Alpha Rugby").await;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    subjects::create(&mut tx, new_subject("Ghost"), NOW)
        .await
        .unwrap();
    audit::append(&mut tx, &event("subject.create"), NOW)
        .await
        .unwrap();
    drop(tx); // no commit

    let mut tx = db.tenant(&org, Access::Read).await.unwrap();
    assert!(
        subjects::list(&mut tx, Page::first(10))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(audit::count(&mut tx).await.unwrap(), 0);
}

async fn audit_events_cannot_be_changed_or_removed(db: Db, url: String) {
    let org = new_org(&db, "Alpha Rugby").await;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    audit::append(&mut tx, &event("team.create"), NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Even the application's own database role may not rewrite history, with every row in
    // sight (the operator setting on PostgreSQL).
    let mut raw = sqlx::AnyConnection::connect(&url).await.unwrap();
    if url.starts_with("postgres") {
        sqlx::query("SELECT set_config('mhp.operator', 'on', false)")
            .execute(&mut raw)
            .await
            .unwrap();
    }
    for statement in [
        "UPDATE audit_events SET action = 'nothing.happened'",
        "DELETE FROM audit_events",
    ] {
        let err = sqlx::query(statement).execute(&mut raw).await.unwrap_err();
        assert!(
            err.to_string().contains("append-only")
                || err.to_string().contains("younger than six years"),
            "{statement}: {err}"
        );
    }
    let mut tx = db.tenant(&org, Access::Read).await.unwrap();
    assert_eq!(audit::count(&mut tx).await.unwrap(), 1);
}

async fn api_keys_are_stored_hashed_found_touched_and_revoked(db: Db, _: String) {
    use mhp_domain::Timestamp;
    use mhp_storage::repo::api_keys::{self, NewApiKey};

    let org = new_org(&db, "Alpha Rugby").await;
    let other = new_org(&db, "Bravo").await;
    let hash = [7u8; 32];
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    let key = api_keys::create(
        &mut tx,
        &NewApiKey {
            id: "abcdefghjkmn",
            name: "Force plate, gym 2",
            role: Role::Device,
            secret_sha256: &hash,
            created_by: "cli",
            expires_at: Timestamp::from_millis(NOW.as_millis() + 86_400_000),
        },
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(key.is_active(NOW));
    assert!(!key.is_active(key.expires_at));

    let mut op = db.operator(Access::Write).await.unwrap();
    let (found, stored) = api_keys::find_for_authentication(&mut op, "abcdefghjkmn")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, key);
    assert_eq!(stored, hash.to_vec());
    assert!(
        api_keys::find_for_authentication(&mut op, "nope")
            .await
            .unwrap()
            .is_none()
    );
    // Use is recorded at most once a minute.
    api_keys::touch(&mut op, &key.id, NOW).await.unwrap();
    let later = Timestamp::from_millis(NOW.as_millis() + 30_000);
    api_keys::touch(&mut op, &key.id, later).await.unwrap();
    op.commit().await.unwrap();

    let mut tx = db.tenant(&org, Access::Read).await.unwrap();
    let listed = api_keys::list(&mut tx).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(NOW));
    drop(tx);

    // Another organisation can neither see nor revoke it.
    let mut tx = db.tenant(&other, Access::Write).await.unwrap();
    assert!(api_keys::list(&mut tx).await.unwrap().is_empty());
    assert!(matches!(
        api_keys::revoke(&mut tx, &key.id, NOW).await,
        Err(StorageError::NotFound { .. })
    ));
    drop(tx);

    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    api_keys::revoke(&mut tx, &key.id, NOW).await.unwrap();
    tx.commit().await.unwrap();
    let mut op = db.operator(Access::Read).await.unwrap();
    let (found, _) = api_keys::find_for_authentication(&mut op, &key.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!found.is_active(NOW));
}

async fn sessions_and_sign_in_throttling(db: Db, _: String) {
    use mhp_domain::Timestamp;
    use mhp_storage::repo::sessions::{self, NewSession};

    let email = Email::parse("jane@example.org").unwrap();
    let mut tx = db.operator(Access::Write).await.unwrap();
    let user = users::create(
        &mut tx,
        &NewUser {
            email: &email,
            display_name: &DisplayName::parse("Jane").unwrap(),
            password_hash: None,
            password_change_required: false,
            platform_role: None,
        },
        NOW,
    )
    .await
    .unwrap();
    for id in ["s1", "s2"] {
        sessions::create(
            &mut tx,
            &NewSession {
                id_sha256: id,
                user: user.id,
                csrf_token: "csrf",
                source_ip: Some("127.0.0.1"),
                user_agent: None,
                mfa_pending: false,
                mfa_verified_at: None,
            },
            NOW,
        )
        .await
        .unwrap();
    }
    let later = Timestamp::from_millis(NOW.as_millis() + 90_000);
    sessions::touch(&mut tx, "s1", later).await.unwrap();
    let s1 = sessions::find(&mut tx, "s1").await.unwrap().unwrap();
    assert_eq!(
        (s1.user, s1.last_seen_at, s1.revoked_at),
        (user.id, later, None)
    );
    assert!(sessions::find(&mut tx, "nope").await.unwrap().is_none());
    sessions::revoke(&mut tx, "s1", later).await.unwrap();
    assert_eq!(
        sessions::revoke_all(&mut tx, user.id, later).await.unwrap(),
        1
    );
    assert!(
        sessions::find(&mut tx, "s2")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );

    // Throttling: counts within the window, restarts after it, locks and clears.
    let k = "acct:x@127.0.0.1";
    for expected in 1..=3 {
        assert_eq!(
            sessions::record_failure(&mut tx, k, NOW, 60_000)
                .await
                .unwrap(),
            expected
        );
    }
    let much_later = Timestamp::from_millis(NOW.as_millis() + 120_000);
    assert_eq!(
        sessions::record_failure(&mut tx, k, much_later, 60_000)
            .await
            .unwrap(),
        1
    );
    assert_eq!(sessions::locked_until(&mut tx, k, NOW).await.unwrap(), None);
    sessions::lock(&mut tx, k, later).await.unwrap();
    assert_eq!(
        sessions::locked_until(&mut tx, k, NOW).await.unwrap(),
        Some(later)
    );
    assert_eq!(
        sessions::locked_until(&mut tx, k, later).await.unwrap(),
        None
    );
    sessions::clear(&mut tx, k).await.unwrap();
    assert_eq!(
        sessions::record_failure(&mut tx, k, NOW, 60_000)
            .await
            .unwrap(),
        1
    );
    tx.commit().await.unwrap();
}

async fn second_factors_and_policies(db: Db, _: String) {
    use mhp_domain::MfaPolicy;
    use mhp_storage::repo::mfa;

    let org = new_org(&db, "Alpha").await;
    let mut tx = db.operator(Access::Write).await.unwrap();
    let user = users::create(
        &mut tx,
        &NewUser {
            email: &Email::parse("jane@example.org").unwrap(),
            display_name: &DisplayName::parse("Jane").unwrap(),
            password_hash: None,
            password_change_required: false,
            platform_role: None,
        },
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(mfa::totp(&mut tx, user.id).await.unwrap(), None);
    mfa::begin_totp(&mut tx, user.id, &sealed("secret"))
        .await
        .unwrap();
    let t = mfa::totp(&mut tx, user.id).await.unwrap().unwrap();
    assert_eq!(
        (t.secret, t.enabled_at, t.last_step),
        (sealed("secret"), None, None)
    );
    assert!(mfa::accept_step(&mut tx, user.id, 100, NOW).await.unwrap());
    assert!(
        !mfa::accept_step(&mut tx, user.id, 100, NOW).await.unwrap(),
        "replay"
    );
    assert!(
        !mfa::accept_step(&mut tx, user.id, 99, NOW).await.unwrap(),
        "older step"
    );
    let t = mfa::totp(&mut tx, user.id).await.unwrap().unwrap();
    assert_eq!((t.enabled_at, t.last_step), (Some(NOW), Some(100)));

    mfa::replace_recovery_codes(&mut tx, user.id, &["a".into(), "b".into()])
        .await
        .unwrap();
    assert!(
        mfa::use_recovery_code(&mut tx, user.id, "a", NOW)
            .await
            .unwrap()
    );
    assert!(
        !mfa::use_recovery_code(&mut tx, user.id, "a", NOW)
            .await
            .unwrap(),
        "used once"
    );
    assert!(
        !mfa::use_recovery_code(&mut tx, user.id, "zz", NOW)
            .await
            .unwrap()
    );
    assert_eq!(mfa::recovery_codes_left(&mut tx, user.id).await.unwrap(), 1);
    mfa::replace_recovery_codes(&mut tx, user.id, &["c".into()])
        .await
        .unwrap();
    assert!(
        !mfa::use_recovery_code(&mut tx, user.id, "b", NOW)
            .await
            .unwrap(),
        "replaced"
    );
    tx.commit().await.unwrap();

    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    assert_eq!(mfa::policy(&mut tx).await.unwrap(), MfaPolicy::Optional);
    mfa::set_policy(&mut tx, MfaPolicy::Privileged)
        .await
        .unwrap();
    assert_eq!(mfa::policy(&mut tx).await.unwrap(), MfaPolicy::Privileged);
    tx.commit().await.unwrap();
}

async fn signing_keys_and_refresh_tokens(db: Db, _: String) {
    use mhp_domain::Timestamp;
    use mhp_storage::repo::tokens::{self, RefreshToken, SigningKey};

    let mut tx = db.operator(Access::Write).await.unwrap();
    let user = users::create(
        &mut tx,
        &NewUser {
            email: &Email::parse("jane@example.org").unwrap(),
            display_name: &DisplayName::parse("Jane").unwrap(),
            password_hash: None,
            password_change_required: false,
            platform_role: None,
        },
        NOW,
    )
    .await
    .unwrap();
    for (kid, at) in [("old", NOW.as_millis() - 100_000), ("new", NOW.as_millis())] {
        tokens::add_signing_key(
            &mut tx,
            &SigningKey {
                kid: kid.into(),
                private: sealed(kid),
                public: vec![1; 32],
                created_at: Timestamp::from_millis(at),
            },
        )
        .await
        .unwrap();
    }
    let since = Timestamp::from_millis(NOW.as_millis() - 50_000);
    let keys = tokens::signing_keys_since(&mut tx, since).await.unwrap();
    assert_eq!(
        keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(),
        ["new"]
    );

    let t = RefreshToken {
        id_sha256: "r1".into(),
        family: "f1".into(),
        user: user.id,
        amr: "pwd otp".into(),
        expires_at: Timestamp::from_millis(NOW.as_millis() + 1000),
        used_at: None,
        revoked_at: None,
    };
    tokens::add_refresh(&mut tx, &t, NOW).await.unwrap();
    assert_eq!(
        tokens::find_refresh(&mut tx, "r1").await.unwrap(),
        Some(t.clone())
    );
    assert!(tokens::use_refresh(&mut tx, "r1", NOW).await.unwrap());
    assert!(
        !tokens::use_refresh(&mut tx, "r1", NOW).await.unwrap(),
        "second use refused"
    );
    tokens::revoke_family(&mut tx, "f1", NOW).await.unwrap();
    let after = tokens::find_refresh(&mut tx, "r1").await.unwrap().unwrap();
    assert_eq!((after.used_at, after.revoked_at), (Some(NOW), Some(NOW)));
    tx.commit().await.unwrap();
}

pub fn event(action: &'static str) -> AuditEvent {
    AuditEvent {
        actor: "cli".into(),
        action,
        resource_type: "test",
        resource_id: None,
        outcome: Outcome::Success,
        request_id: Some("req-1".into()),
        source_ip: None,
        user_agent: Some("x".repeat(1000)),
        detail: None,
    }
}

async fn mail_is_counted_per_key_in_windows(db: Db, _: String) {
    use mhp_domain::Timestamp;
    use mhp_storage::repo::mail;

    const HOUR: i64 = 3_600_000;
    let at = |ms: i64| Timestamp::from_millis(NOW.as_millis() + ms);
    let mut tx = db.operator(Access::Write).await.unwrap();
    for n in 1..=3 {
        let c = mail::count(&mut tx, "addr:a", at(n * 1000), HOUR)
            .await
            .unwrap();
        assert_eq!((c.sent, c.window_start), (n, at(1000)));
    }
    // Another key counts on its own.
    let other = mail::count(&mut tx, "addr:b", at(5000), HOUR)
        .await
        .unwrap();
    assert_eq!((other.sent, other.window_start), (1, at(5000)));
    // Still inside the first window at its last millisecond...
    let c = mail::count(&mut tx, "addr:a", at(1000 + HOUR - 1), HOUR)
        .await
        .unwrap();
    assert_eq!((c.sent, c.window_start), (4, at(1000)));
    // ...and a new window once it ended.
    let c = mail::count(&mut tx, "addr:a", at(1000 + HOUR), HOUR)
        .await
        .unwrap();
    assert_eq!((c.sent, c.window_start), (1, at(1000 + HOUR)));
    tx.commit().await.unwrap();
}

async fn a_teams_load_is_summed_per_member_and_week(db: Db, _: String) {
    use mhp_storage::repo::loads::{self, LoadDays, LoadEntry};
    let org = new_org(&db, "Load Club").await;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    let team = teams::create(&mut tx, &TeamName::parse("Squad").unwrap(), NOW)
        .await
        .unwrap();
    let mut members = Vec::new();
    for i in 0..3 {
        let s = subjects::create(&mut tx, new_subject(&format!("Member {i}")), NOW)
            .await
            .unwrap();
        if i < 2 {
            subjects::add_to_team(&mut tx, team.id, s.id, NOW)
                .await
                .unwrap();
        }
        members.push(s.id);
    }
    let session = |subject: SubjectId, day: &str, load_au: i64| LoadEntry {
        id: uuid::Uuid::now_v7().to_string(),
        subject,
        session_date: day.into(),
        session_type: "training".into(),
        duration_min: 60,
        rpe: 5,
        load_au,
        recorded_by: "test".into(),
        created_at: NOW,
    };
    for (who, day, au) in [
        (0, "2026-01-01", 100), // before the weeks: covers the chronic window only
        (0, "2026-02-02", 300), // week 1 (Monday), chronic
        (0, "2026-02-10", 200), // week 2, acute
        (0, "2026-02-15", 400), // week 2, acute (the day itself)
        (1, "2026-02-14", 50),  // a member whose history begins inside the window
        (2, "2026-02-14", 999), // not on the team
        (0, "2026-02-16", 777), // after the day: not counted
    ] {
        loads::create(&mut tx, &session(members[who], day, au))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = db.tenant(&org, Access::Read).await.unwrap();
    assert_eq!(
        loads::team_latest_day(&mut tx, team.id, "2026-02-15")
            .await
            .unwrap()
            .as_deref(),
        Some("2026-02-15")
    );
    let weeks = [
        "2026-01-26".to_owned(),
        "2026-02-02".into(),
        "2026-02-09".into(),
    ];
    let summary = loads::team_load_summary(
        &mut tx,
        team.id,
        &LoadDays {
            as_of: "2026-02-15",
            acute_from: "2026-02-09",
            chronic_from: "2026-01-19",
            covered_by: "2026-01-25",
            weeks: &weeks,
        },
    )
    .await
    .unwrap();
    assert_eq!(summary.len(), 2, "{summary:?}");
    let first = summary.iter().find(|m| m.subject == members[0]).unwrap();
    assert_eq!((first.acute_au, first.chronic_au), (600, 900));
    assert!(first.covered);
    assert_eq!(first.weeks_au, vec![0, 300, 600]);
    let second = summary.iter().find(|m| m.subject == members[1]).unwrap();
    assert_eq!(
        (second.acute_au, second.chronic_au, second.covered),
        (50, 50, false)
    );
    assert_eq!(second.weeks_au, vec![0, 0, 50]);
}

async fn a_domain_proof_is_kept_proven_and_found_by_the_operator(db: Db, _: String) {
    use mhp_storage::repo::sso;
    let org = new_org(&db, "Proof Clinic").await;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    sso::put_config(&mut tx, "{}", false, Some(&sealed("secret")), "test", NOW)
        .await
        .unwrap();
    let domains = vec!["a.example".to_owned(), "b.example".to_owned()];
    sso::keep_domains(&mut tx, &domains, |d| format!("token-{d}"), NOW)
        .await
        .unwrap();
    sso::mark_proven(&mut tx, "a.example", NOW).await.unwrap();
    assert!(matches!(
        sso::mark_proven(&mut tx, "c.example", NOW).await,
        Err(StorageError::NotFound { .. })
    ));
    // Kept domains keep their token and proof; a dropped one goes.
    sso::keep_domains(&mut tx, &domains[..1], |_| "new".into(), NOW)
        .await
        .unwrap();
    let proofs = sso::domain_proofs(&mut tx).await.unwrap();
    assert_eq!(proofs.len(), 1);
    assert_eq!(proofs[0].token, "token-a.example");
    assert_eq!(proofs[0].verified_at, Some(NOW));
    tx.commit().await.unwrap();
    let mut tx = db.operator(Access::Read).await.unwrap();
    let proven = sso::proven_domains_as_operator(&mut tx).await.unwrap();
    assert_eq!(proven, vec![(org.org(), "a.example".to_owned())]);
}

crate::on_both_backends!(
    organisations_are_created_listed_and_unique,
    users_and_memberships,
    teams_and_subjects,
    a_rolled_back_transaction_leaves_nothing,
    audit_events_cannot_be_changed_or_removed,
    api_keys_are_stored_hashed_found_touched_and_revoked,
    sessions_and_sign_in_throttling,
    second_factors_and_policies,
    signing_keys_and_refresh_tokens,
    mail_is_counted_per_key_in_windows,
    a_teams_load_is_summed_per_member_and_week,
    a_domain_proof_is_kept_proven_and_found_by_the_operator,
);

mod audit_chain {
    //! Tampering with the audit log is found: an edited, a deleted and a moved event, and events
    //! cut from the end after a checkpoint. Each test removes the append-only guard first, as an
    //! attacker with the database owner's rights could.
    use mhp_crypto::MasterKey;
    use mhp_crypto::checkpoint::CheckpointKey;
    use mhp_storage::repo::audit::{self, Finding};
    use mhp_storage::{Access, Backend, Db};
    use sqlx::Connection as _;

    use crate::{NOW, new_org};

    async fn seed(db: &Db) -> (CheckpointKey, tempfile::TempDir) {
        let org = new_org(db, "Alpha").await;
        let mut tx = db.tenant(&org, Access::Write).await.unwrap();
        for action in ["a.one", "a.two", "a.three", "a.four"] {
            audit::append(&mut tx, &super::event(action), NOW)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let key = CheckpointKey::derive(&MasterKey::load_or_create(&dir.path().join("k")).unwrap());
        (key, dir)
    }

    async fn tamper(db: &Db, url: &str, statements: &[&str]) {
        let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
        let (unguard, guard) = match db.backend() {
            Backend::Sqlite => (
                vec![
                    "DROP TRIGGER audit_events_no_update",
                    "DROP TRIGGER audit_events_no_delete",
                ],
                vec![],
            ),
            Backend::Postgres => (
                vec![
                    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
                    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_retention",
                    "SELECT set_config('mhp.operator', 'on', false)",
                ],
                vec![
                    "ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only",
                    "ALTER TABLE audit_events ENABLE TRIGGER audit_events_retention",
                ],
            ),
        };
        for s in unguard.iter().chain(statements).chain(&guard) {
            sqlx::raw_sql(sqlx::AssertSqlSafe(s.to_string()))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }

    async fn findings(db: &Db, key: &CheckpointKey) -> Vec<Finding> {
        let mut tx = db.operator(Access::Read).await.unwrap();
        audit::verify(&mut tx, &[key.public()])
            .await
            .unwrap()
            .findings
    }

    async fn an_intact_log_verifies(db: Db, _: String) {
        let (key, _d) = seed(&db).await;
        let mut tx = db.operator(Access::Write).await.unwrap();
        assert!(audit::checkpoint(&mut tx, &key, 1, NOW).await.unwrap() >= 1);
        assert_eq!(
            audit::checkpoint(&mut tx, &key, 1, NOW).await.unwrap(),
            0,
            "nothing new"
        );
        tx.commit().await.unwrap();
        let mut tx = db.operator(Access::Read).await.unwrap();
        let report = audit::verify(&mut tx, &[key.public()]).await.unwrap();
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        assert_eq!(
            (report.chains, report.events, report.checkpoints),
            (1, 4, 1),
            "{report:?}"
        );
        // Another key does not vouch for these checkpoints.
        let dir = tempfile::tempdir().unwrap();
        let other =
            CheckpointKey::derive(&MasterKey::load_or_create(&dir.path().join("o")).unwrap());
        let report = audit::verify(&mut tx, &[other.public()]).await.unwrap();
        assert!(
            matches!(report.findings[0], Finding::BadCheckpoint { .. }),
            "{report:?}"
        );
    }

    async fn an_edited_event_is_named(db: Db, url: String) {
        let (key, _d) = seed(&db).await;
        tamper(
            &db,
            &url,
            &["UPDATE audit_events SET actor = 'someone else' WHERE action = 'a.two'"],
        )
        .await;
        let f = findings(&db, &key).await;
        assert!(
            matches!(&f[..], [Finding::Altered { index: 1, .. }]),
            "{f:?}"
        );
    }

    async fn a_deleted_event_is_named(db: Db, url: String) {
        let (key, _d) = seed(&db).await;
        tamper(
            &db,
            &url,
            &["DELETE FROM audit_events WHERE action = 'a.two'"],
        )
        .await;
        let f = findings(&db, &key).await;
        assert!(
            matches!(&f[..], [Finding::Removed { index: 1, .. }]),
            "{f:?}"
        );
    }

    async fn a_moved_event_is_named(db: Db, url: String) {
        let (key, _d) = seed(&db).await;
        tamper(
            &db,
            &url,
            &[
                "UPDATE audit_events SET chain_index = 100 WHERE action = 'a.two'",
                "UPDATE audit_events SET chain_index = 1 WHERE action = 'a.three'",
                "UPDATE audit_events SET chain_index = 2 WHERE action = 'a.two'",
            ],
        )
        .await;
        let f = findings(&db, &key).await;
        assert!(
            matches!(&f[..], [Finding::Reordered { index: 1, .. }]),
            "{f:?}"
        );
    }

    async fn events_cut_after_a_checkpoint_are_found(db: Db, url: String) {
        let (key, _d) = seed(&db).await;
        let mut tx = db.operator(Access::Write).await.unwrap();
        audit::checkpoint(&mut tx, &key, 1, NOW).await.unwrap();
        tx.commit().await.unwrap();
        tamper(
            &db,
            &url,
            &["DELETE FROM audit_events WHERE action IN ('a.three', 'a.four')"],
        )
        .await;
        let f = findings(&db, &key).await;
        assert!(
            matches!(&f[..], [Finding::Removed { index: 2, .. }]),
            "{f:?}"
        );
    }

    crate::on_both_backends!(
        an_intact_log_verifies,
        an_edited_event_is_named,
        a_deleted_event_is_named,
        a_moved_event_is_named,
        events_cut_after_a_checkpoint_are_found,
    );
}
