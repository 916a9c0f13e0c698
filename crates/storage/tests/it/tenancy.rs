//! Tenant isolation: the storage layer's own filters (both backends), and PostgreSQL's
//! row-level security as the second wall, tested by queries that forget their filter.

use mhp_domain::{OrgScope, TeamName};
use mhp_storage::repo::{Page, subjects, teams};
use mhp_storage::{Access, Backend, Db, StorageError};
use sqlx::{Connection as _, Row as _};

use crate::{NOW, new_org};

async fn seed(db: &Db, org: &OrgScope, n: usize) -> Vec<mhp_domain::SubjectId> {
    let mut tx = db.tenant(org, Access::Write).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..n {
        let s = subjects::create(&mut tx, crate::bare_subject(&[1, 2, 3]), NOW)
            .await
            .unwrap();
        ids.push(s.id);
    }
    tx.commit().await.unwrap();
    ids
}

async fn one_organisation_never_reaches_anothers_rows(db: Db, _: String) {
    let a = new_org(&db, "Alpha").await;
    let b = new_org(&db, "Bravo").await;
    let a_subjects = seed(&db, &a, 3).await;
    seed(&db, &b, 2).await;
    let mut tx = db.tenant(&a, Access::Write).await.unwrap();
    let a_team = teams::create(&mut tx, &TeamName::parse("A team").unwrap(), NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.tenant(&b, Access::Write).await.unwrap();
    assert_eq!(
        subjects::list(&mut tx, Page::first(100))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(matches!(
        subjects::get(&mut tx, a_subjects[0]).await,
        Err(StorageError::NotFound { .. })
    ));
    assert!(matches!(
        subjects::archive(&mut tx, a_subjects[0], NOW).await,
        Err(StorageError::NotFound { .. })
    ));
    assert!(matches!(
        teams::get(&mut tx, a_team.id).await,
        Err(StorageError::NotFound { .. })
    ));
    // Linking another organisation's subject into a team is refused by the composite keys.
    let b_team = teams::create(&mut tx, &TeamName::parse("B team").unwrap(), NOW)
        .await
        .unwrap();
    let err = subjects::add_to_team(&mut tx, b_team.id, a_subjects[0], NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");
    // On PostgreSQL the failed statement aborted the transaction: committing must say so
    // rather than roll back quietly.
    let committed = tx.commit().await;
    match db.backend() {
        Backend::Postgres => assert!(matches!(committed, Err(StorageError::Aborted(_)))),
        Backend::Sqlite => committed.unwrap(),
    }

    let mut tx = db.tenant(&a, Access::Read).await.unwrap();
    assert_eq!(
        subjects::list(&mut tx, Page::first(100))
            .await
            .unwrap()
            .len(),
        3
    );
}

crate::on_both_backends!(one_organisation_never_reaches_anothers_rows);

/// Opens the application role's own connection (not through the storage layer) and runs
/// queries that forgot their organisation filter.
#[tokio::test]
async fn postgres_row_level_security_blocks_a_query_that_forgot_its_filter() {
    let Some((db, url)) = crate::postgres_db().await else {
        return;
    };
    let a = new_org(&db, "Alpha").await;
    let b = new_org(&db, "Bravo").await;
    seed(&db, &a, 3).await;
    seed(&db, &b, 2).await;

    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let is_super: bool = sqlx::query_scalar(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(
        !is_super,
        "the test role must be subject to row-level security"
    );

    // No organisation set: a query without a filter sees nothing.
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM subjects")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(count, 0, "unscoped query must see no tenant rows");

    // Scoped to A: the same unfiltered query sees only A's rows.
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('mhp.org_id', $1, true)")
        .bind(a.org().to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let rows = sqlx::query("SELECT org_id FROM subjects")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r.get::<String, _>(0) == a.org().to_string())
    );

    // ...cannot change B's rows, and cannot write a row into B.
    let touched = sqlx::query("UPDATE subjects SET sex = 'other' WHERE org_id = $1")
        .bind(b.org().to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(touched.rows_affected(), 0);
    let insert = sqlx::query(
        "INSERT INTO subjects (id, org_id, pseudonym, name_sealed, created_at_ms, updated_at_ms) \
         VALUES ('x', $1, 'SX', '\\x00', 0, 0)",
    )
    .bind(b.org().to_string())
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert!(
        insert.to_string().contains("row-level security"),
        "{insert}"
    );
    tx.rollback().await.unwrap();

    // The operator setting opens organisations but never subject data.
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('mhp.operator', 'on', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let orgs: i64 = sqlx::query_scalar("SELECT count(*) FROM organizations")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(orgs, 2);
    let subjects: i64 = sqlx::query_scalar("SELECT count(*) FROM subjects")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(subjects, 0);
}

/// A read transaction on PostgreSQL refuses writes.
#[tokio::test]
async fn postgres_read_transactions_are_read_only() {
    let Some((db, _)) = crate::postgres_db().await else {
        return;
    };
    let a = new_org(&db, "Alpha").await;
    let mut tx = db.tenant(&a, Access::Read).await.unwrap();
    let err = teams::create(&mut tx, &TeamName::parse("T").unwrap(), NOW)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
}

/// Every table with an organisation column has row-level security, enabled and forced: a new
/// tenant table cannot be added without its policy.
#[tokio::test]
async fn postgres_every_tenant_table_has_forced_row_level_security() {
    let Some((_db, url)) = crate::postgres_db().await else {
        return;
    };
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let unprotected: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() \
         WHERE c.relkind = 'r' AND EXISTS (SELECT 1 FROM pg_attribute a \
             WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped) \
           AND NOT (c.relrowsecurity AND c.relforcerowsecurity) ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(unprotected, Vec::<String>::new());
    let tenant_tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid \
         WHERE a.attname = 'org_id' AND c.relkind = 'r'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(tenant_tables >= 20, "{tenant_tables}");
}
