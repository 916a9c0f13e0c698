//! Audit retention on both backends: events older than six years leave through `prune` (after
//! a checkpoint vouches for the point they are cut at), verification resumes from the anchor,
//! and the database itself refuses to delete anything younger, whoever asks.

use mhp_crypto::MasterKey;
use mhp_crypto::checkpoint::CheckpointKey;
use mhp_domain::{Clock as _, SystemClock, Timestamp};
use mhp_storage::repo::audit::{self, Finding, RETENTION_FLOOR_MS};
use mhp_storage::{Access, Db};
use sqlx::Connection as _;

use crate::new_org;
use crate::repos::event;

async fn old_and_young_events_prune_to_an_anchor(db: Db, url: String) {
    let org = new_org(&db, "Alpha").await;
    let now = SystemClock.now();
    let seven_years_ago = now.as_millis() - 7 * 365 * 86_400_000;
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    for i in 0..5 {
        audit::append(
            &mut tx,
            &event("old.read"),
            Timestamp::from_millis(seven_years_ago + i),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = CheckpointKey::derive(&MasterKey::load_or_create(&dir.path().join("k")).unwrap());
    let mut tx = db.operator(Access::Write).await.unwrap();
    audit::checkpoint(&mut tx, &key, 1, now).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.tenant(&org, Access::Write).await.unwrap();
    for _ in 0..3 {
        audit::append(&mut tx, &event("new.read"), now)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = db.operator(Access::Read).await.unwrap();
    let before = audit::verify(&mut tx, &[key.public()])
        .await
        .unwrap()
        .events;
    drop(tx);

    // The cut-off asks for less than six years: six years it is.
    let mut tx = db.operator(Access::Write).await.unwrap();
    let plans = audit::prune_plan(&mut tx, now.as_millis(), now, 10_000)
        .await
        .unwrap();
    assert_eq!(plans.len(), 1, "{plans:?}");
    let plan = &plans[0];
    assert_eq!(
        plan.through_index, 4,
        "up to the checkpoint, not the young events"
    );
    assert_eq!(plan.events.len(), 5);
    assert!(plan.events.iter().all(|e| e.action == "old.read"));
    assert_eq!(audit::prune(&mut tx, plan, now).await.unwrap(), 5);
    tx.commit().await.unwrap();

    let mut tx = db.operator(Access::Read).await.unwrap();
    let report = audit::verify(&mut tx, &[key.public()]).await.unwrap();
    drop(tx);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(report.events, before - 5);

    // A second pass finds nothing more to prune.
    let mut tx = db.operator(Access::Write).await.unwrap();
    assert!(
        audit::prune_plan(&mut tx, now.as_millis(), now, 10_000)
            .await
            .unwrap()
            .is_empty()
    );
    drop(tx);

    // The application's own connection cannot delete a young event, nor an anchor.
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    if url.starts_with("postgres") {
        sqlx::query("SELECT set_config('mhp.operator', 'on', false)")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    for sql in [
        "DELETE FROM audit_events WHERE action = 'new.read'",
        "DELETE FROM audit_anchors",
        "UPDATE audit_anchors SET chain_index = 0",
    ] {
        let err = sqlx::raw_sql(sql).execute(&mut conn).await;
        assert!(err.is_err(), "{sql} was allowed");
    }
    let floor_ok = now.as_millis() - RETENTION_FLOOR_MS > seven_years_ago;
    assert!(floor_ok);

    // A forged anchor (no checkpoint vouches for it) is reported.
    let blob = if url.starts_with("postgres") {
        "'\\x00'::bytea"
    } else {
        "X'00'"
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO audit_anchors (chain, chain_index, hash, events, pruned_at_ms) \
         VALUES ('forged-chain', 9, {blob}, 1, 0)"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    let mut tx = db.operator(Access::Read).await.unwrap();
    let report = audit::verify(&mut tx, &[key.public()]).await.unwrap();
    assert!(
        report.findings.contains(&Finding::UnprovenAnchor {
            chain: "forged-chain".into(),
            index: 9
        }),
        "{:?}",
        report.findings
    );
}

crate::on_both_backends!(old_and_young_events_prune_to_an_anchor);
