//! One organisation's rows into a transfer database and from it into another installation:
//! only that organisation's rows leave, a file holding another organisation's rows is refused
//! whole, and imported audit events sort below the target's own.

use mhp_domain::TeamName;
use mhp_storage::repo::audit::{self, AuditEvent};
use mhp_storage::repo::teams;
use mhp_storage::{Access, Db, org_copy};

use crate::{NOW, new_org, sqlite_db};

/// A number a query on a SQLite file answers, read around the storage layer.
async fn count(url: &str, sql: &str) -> i64 {
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

async fn moves_one_organisation(db: Db, _url: String) {
    let (a, b) = (new_org(&db, "Leaving").await, new_org(&db, "Staying").await);
    for (scope, team) in [(&a, "A team"), (&b, "B team")] {
        let mut tx = db.tenant(scope, Access::Write).await.unwrap();
        teams::create(&mut tx, &TeamName::parse(team).unwrap(), NOW)
            .await
            .unwrap();
        audit::append(
            &mut tx,
            &AuditEvent::outside_request("cli", "team.create", "team", None),
            NOW,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("transfer.sqlite");
    let copied = org_copy::export_org(&db, a.org(), &file).await.unwrap();
    assert_eq!(copied.rows["organizations"], 1);
    assert_eq!(copied.rows["teams"], 1);
    assert_eq!(copied.rows["audit_events"], 1);
    assert!(!copied.rows.contains_key("sessions"), "sessions stay");
    let transfer_url = format!("sqlite://{}", file.display());
    let transfer = Db::connect(&transfer_url, &mhp_storage::DbOptions::default())
        .await
        .unwrap();

    // Into another installation (SQLite), whose own event comes first.
    let (target, keep) = sqlite_db().await;
    let other = new_org(&target, "Already here").await;
    let mut tx = target.tenant(&other, Access::Write).await.unwrap();
    audit::append(
        &mut tx,
        &AuditEvent::outside_request("cli", "team.create", "team", None),
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = target.operator(Access::Write).await.unwrap();
    org_copy::import_org(&transfer, &mut tx, a.org())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count(&keep.url, "SELECT count(*) FROM teams").await, 1);
    assert_eq!(
        count(
            &keep.url,
            "SELECT count(*) FROM audit_events WHERE seq < 0 AND tx_id = 0"
        )
        .await,
        1,
        "imported history sorts below the target's events"
    );
    // Again: the organisation exists.
    let mut tx = target.operator(Access::Write).await.unwrap();
    assert!(
        org_copy::import_org(&transfer, &mut tx, a.org())
            .await
            .is_err()
    );
    drop(tx);

    // A transfer database that holds a row of another organisation is refused whole.
    let (fresh, keep2) = sqlite_db().await;
    let pool = sqlx::AnyPool::connect(&transfer_url).await.unwrap();
    sqlx::query("INSERT INTO organizations (id, name, created_at_ms) VALUES ($1, 'Smuggled', 0)")
        .bind(b.org().to_string())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let mut tx = fresh.operator(Access::Write).await.unwrap();
    let err = org_copy::import_org(&transfer, &mut tx, a.org())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another organisation"), "{err}");
    drop(tx);
    assert_eq!(
        count(&keep2.url, "SELECT count(*) FROM organizations").await,
        0
    );
    transfer.close().await;
}

crate::on_both_backends!(moves_one_organisation);
