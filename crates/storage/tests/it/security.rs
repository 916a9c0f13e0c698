//! Security monitoring's storage: consumers read the audit log and the signals by cursor and
//! never skip an event whose transaction commits late; one holder of the lease at a time;
//! alerts stored once and seen only by their organisation.

use mhp_domain::Timestamp;
use mhp_security::event::Stream;
use mhp_storage::repo::audit::{self, AuditEvent};
use mhp_storage::repo::security::{self as repo, AlertFilter, AlertStatus, Cursor, NewAlert};
use mhp_storage::{Access, Db};

use crate::{NOW, new_org, on_both_backends};

on_both_backends!(
    cursors_read_each_event_once_in_order,
    a_late_commit_is_not_skipped,
    one_lease_holder_at_a_time,
    alerts_are_stored_once_and_kept_apart,
);

fn event(action: &'static str, i: usize) -> AuditEvent {
    AuditEvent::outside_request("cli", action, "subject", Some(format!("s{i}")))
        .with_detail(format!("n{i}"))
}

async fn drain(db: &Db, stream: Stream, consumer: &str) -> Vec<String> {
    let mut read = Vec::new();
    loop {
        let mut tx = db.operator(Access::Read).await.unwrap();
        let after = repo::cursor(&mut tx, consumer, stream)
            .await
            .unwrap()
            .unwrap_or_default();
        let batch = repo::read_after(&mut tx, stream, after, 3).await.unwrap();
        drop(tx);
        let Some((last, _)) = batch.last() else { break };
        let last = *last;
        read.extend(batch.into_iter().map(|(_, e)| e.detail.unwrap_or_default()));
        let mut tx = db.operator(Access::Write).await.unwrap();
        repo::set_cursor(&mut tx, consumer, stream, last, NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    read
}

/// This test's events among those read (the organisations' creation wrote others).
fn ours(read: Vec<String>) -> Vec<String> {
    read.into_iter().filter(|d| d.starts_with('n')).collect()
}

/// Drains until `ours` of this test's events (details `n…`) have been read, for up to 20 s.
async fn drain_until(db: &Db, stream: Stream, consumer: &str, ours: usize) -> Vec<String> {
    let mut read = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while read.iter().filter(|d: &&String| d.starts_with('n')).count() < ours {
        assert!(
            std::time::Instant::now() < deadline,
            "only {read:?} became final"
        );
        read.extend(drain(db, stream, consumer).await);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    read
}

async fn cursors_read_each_event_once_in_order(db: Db, _url: String) {
    let org = new_org(&db, "Alpha").await;
    for i in 0..7 {
        let mut tx = db.tenant(&org, Access::Write).await.unwrap();
        audit::append(&mut tx, &event("subject.read", i), NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let mut tx = db.operator(Access::Write).await.unwrap();
    repo::append_signal(&mut tx, None, &event("http.not_found", 99), NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Organisation creation wrote its own events first; ours follow in order. (On PostgreSQL
    // an event becomes final once every older transaction of the cluster has ended, and other
    // tests' transactions run beside this one: the events may come over several reads.)
    let read = drain_until(&db, Stream::Audit, "sink", 7).await;
    let ours: Vec<&str> = read
        .iter()
        .map(String::as_str)
        .filter(|d| d.starts_with('n'))
        .collect();
    assert_eq!(ours, ["n0", "n1", "n2", "n3", "n4", "n5", "n6"]);
    assert!(drain(&db, Stream::Audit, "sink").await.is_empty());
    // Another consumer reads them all again; the signals are a stream of their own.
    assert_eq!(drain_until(&db, Stream::Audit, "rules", 7).await, read);
    assert_eq!(drain_until(&db, Stream::Signals, "sink", 1).await, ["n99"]);
    let mut tx = db.operator(Access::Read).await.unwrap();
    assert_eq!(
        repo::backlog(&mut tx, Stream::Audit, Cursor::default())
            .await
            .unwrap(),
        i64::try_from(read.len()).unwrap()
    );
    let at = repo::cursor(&mut tx, "sink", Stream::Audit)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(repo::backlog(&mut tx, Stream::Audit, at).await.unwrap(), 0);
    drop(tx);
    // Signals every consumer passed are pruned once old enough, not before.
    let mut tx = db.operator(Access::Write).await.unwrap();
    assert_eq!(
        repo::prune_signals(
            &mut tx,
            &["sink", "rules"],
            Timestamp::from_millis(NOW.as_millis() + 1)
        )
        .await
        .unwrap(),
        0,
        "the rules have not read the signals yet"
    );
    tx.commit().await.unwrap();
    drain_until(&db, Stream::Signals, "rules", 1).await;
    let mut tx = db.operator(Access::Write).await.unwrap();
    assert_eq!(
        repo::prune_signals(&mut tx, &["sink", "rules"], NOW)
            .await
            .unwrap(),
        0,
        "younger than the cut-off"
    );
    assert_eq!(
        repo::prune_signals(
            &mut tx,
            &["sink", "rules"],
            Timestamp::from_millis(NOW.as_millis() + 1)
        )
        .await
        .unwrap(),
        1
    );
    tx.commit().await.unwrap();
}

/// A transaction that appended before another but commits after it: a cursor that read the
/// other's event must still deliver the first. (SQLite has one writer, so the two cannot
/// overlap there; the case runs all the same.)
async fn a_late_commit_is_not_skipped(db: Db, _url: String) {
    let org = new_org(&db, "Alpha").await;
    let other = new_org(&db, "Bravo").await;
    drain(&db, Stream::Audit, "sink").await;
    if db.backend() == mhp_storage::Backend::Postgres {
        let mut slow = db.tenant(&org, Access::Write).await.unwrap();
        audit::append(&mut slow, &event("subject.read", 1), NOW)
            .await
            .unwrap();
        let mut fast = db.tenant(&other, Access::Write).await.unwrap();
        audit::append(&mut fast, &event("subject.read", 2), NOW)
            .await
            .unwrap();
        fast.commit().await.unwrap();
        // The slow transaction is still open: nothing after it is final yet.
        assert!(ours(drain(&db, Stream::Audit, "sink").await).is_empty());
        slow.commit().await.unwrap();
        assert_eq!(
            ours(drain_until(&db, Stream::Audit, "sink", 2).await),
            ["n1", "n2"]
        );
    } else {
        for (scope, i) in [(&org, 1), (&other, 2)] {
            let mut tx = db.tenant(scope, Access::Write).await.unwrap();
            audit::append(&mut tx, &event("subject.read", i), NOW)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        assert_eq!(
            ours(drain_until(&db, Stream::Audit, "sink", 2).await),
            ["n1", "n2"]
        );
    }
}

async fn one_lease_holder_at_a_time(db: Db, _url: String) {
    let later = |ms: i64| Timestamp::from_millis(NOW.as_millis() + ms);
    let mut tx = db.operator(Access::Write).await.unwrap();
    assert!(
        repo::take_lease(&mut tx, "m", "a", NOW, later(30_000))
            .await
            .unwrap()
    );
    assert!(
        !repo::take_lease(&mut tx, "m", "b", later(1_000), later(31_000))
            .await
            .unwrap()
    );
    assert!(
        repo::take_lease(&mut tx, "m", "a", later(1_000), later(31_000))
            .await
            .unwrap()
    );
    // Once the holder stops renewing, another takes over.
    assert!(
        repo::take_lease(&mut tx, "m", "b", later(32_000), later(62_000))
            .await
            .unwrap()
    );
    assert!(
        !repo::take_lease(&mut tx, "m", "a", later(33_000), later(63_000))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
}

async fn alerts_are_stored_once_and_kept_apart(db: Db, _url: String) {
    let alpha = new_org(&db, "Alpha").await;
    let bravo = new_org(&db, "Bravo").await;
    let org = alpha.org().to_string();
    let alert = NewAlert {
        rule_id: "erasure_burst",
        org: Some(&org),
        entity: "metadata.tenant_uid=x",
        severity: "high",
        technique: Some("T1485"),
        title: "Many subject erasures in one organisation",
        first_at: NOW,
        event_count: 5,
    };
    let mut tx = db.operator(Access::Write).await.unwrap();
    let id = repo::insert_alert(&mut tx, &alert).await.unwrap().unwrap();
    assert_eq!(
        repo::insert_alert(&mut tx, &alert).await.unwrap(),
        None,
        "stored once"
    );
    repo::extend_alert(
        &mut tx,
        "erasure_burst",
        "metadata.tenant_uid=x",
        NOW,
        Timestamp::from_millis(NOW.as_millis() + 5),
    )
    .await
    .unwrap();
    let platform = NewAlert {
        rule_id: "password_spraying",
        org: None,
        entity: "src_endpoint.ip=192.0.2.1",
        ..alert.clone()
    };
    repo::insert_alert(&mut tx, &platform)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.tenant(&alpha, Access::Write).await.unwrap();
    let own = repo::org_alerts(&mut tx, &AlertFilter::default(), 100)
        .await
        .unwrap();
    assert_eq!(
        own.len(),
        1,
        "the platform's alert is not the organisation's"
    );
    assert_eq!(own[0].event_count, 6);
    assert_eq!(own[0].last_at.as_millis(), NOW.as_millis() + 5);
    repo::set_org_alert_status(
        &mut tx,
        &id,
        AlertStatus::Resolved,
        "user:u",
        Some("drill"),
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.tenant(&bravo, Access::Write).await.unwrap();
    assert!(
        repo::org_alerts(&mut tx, &AlertFilter::default(), 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        repo::set_org_alert_status(&mut tx, &id, AlertStatus::Open, "user:v", None, NOW)
            .await
            .is_err(),
        "another organisation's alert is not found"
    );
    drop(tx);
    let mut tx = db.operator(Access::Read).await.unwrap();
    let all = repo::all_alerts(&mut tx, &AlertFilter::default(), 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let resolved = AlertFilter {
        status: Some(AlertStatus::Resolved),
        ..AlertFilter::default()
    };
    let found = repo::all_alerts(&mut tx, &resolved, 100).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].status_reason.as_deref(), Some("drill"));
    let counts = repo::alert_counts(&mut tx).await.unwrap();
    assert_eq!(counts.len(), 2);
}
