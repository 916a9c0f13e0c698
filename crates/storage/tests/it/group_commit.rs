//! Group commit of read events: concurrent appends share a transaction, every caller returns
//! only after its event committed, and the chains stay gap-free and verifiable.

use std::sync::Arc;
use std::time::Duration;

use mhp_crypto::MasterKey;
use mhp_crypto::checkpoint::CheckpointKey;
use mhp_storage::repo::audit::{self, AuditEvent};
use mhp_storage::{Access, Db, GroupCommit};

use crate::{NOW, new_org};

fn read_event(n: usize) -> AuditEvent {
    AuditEvent::outside_request(
        "user:reader",
        "subject.read",
        "subject",
        Some(n.to_string()),
    )
}

async fn reads_queued_behind_a_writer_commit_in_one_batch(db: Db, _: String) {
    let a = new_org(&db, "Group A").await;
    let b = new_org(&db, "Group B").await;
    let group = Arc::new(GroupCommit::new(db.clone()));

    // A change holds organisation A's chain (PostgreSQL: its chain lock; SQLite: the writer).
    let mut change = db.tenant(&a, Access::Write).await.unwrap();
    audit::append(&mut change, &read_event(0), NOW)
        .await
        .unwrap();

    let mut reads = Vec::new();
    for n in 1..=40 {
        let (group, scope) = (group.clone(), if n % 2 == 1 { a } else { b });
        reads.push(tokio::spawn(async move {
            group.append(&scope, read_event(n), NOW).await
        }));
    }
    // The first read (for A) takes the turn and its batch waits for the change; the other 39
    // queue behind it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while group.queued() < 39 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "reads did not queue: {}",
            group.queued()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        group.figures().events,
        0,
        "nothing commits while the chain is held"
    );
    change.commit().await.unwrap();
    for read in reads {
        read.await.unwrap().unwrap();
    }
    let figures = group.figures();
    assert_eq!((figures.batches, figures.events), (2, 40), "{figures:?}");

    let mut tx = db.tenant(&a, Access::Read).await.unwrap();
    assert_eq!(audit::count(&mut tx).await.unwrap(), 21);
    drop(tx);
    let mut tx = db.tenant(&b, Access::Read).await.unwrap();
    assert_eq!(audit::count(&mut tx).await.unwrap(), 20);
    drop(tx);
    let dir = tempfile::tempdir().unwrap();
    let key = CheckpointKey::derive(&MasterKey::load_or_create(&dir.path().join("k")).unwrap());
    let mut tx = db.operator(Access::Read).await.unwrap();
    let report = audit::verify(&mut tx, &[key.public()]).await.unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert!(report.events >= 41, "{report:?}");
}

async fn a_lone_read_commits_at_once(db: Db, _: String) {
    let a = new_org(&db, "Alone").await;
    let group = Arc::new(GroupCommit::new(db.clone()));
    for n in 0..3 {
        group.append(&a, read_event(n), NOW).await.unwrap();
        let mut tx = db.tenant(&a, Access::Read).await.unwrap();
        assert_eq!(
            audit::count(&mut tx).await.unwrap(),
            i64::try_from(n + 1).unwrap()
        );
    }
    assert_eq!(group.queued(), 0);
}

crate::on_both_backends!(
    reads_queued_behind_a_writer_commit_in_one_batch,
    a_lone_read_commits_at_once
);
