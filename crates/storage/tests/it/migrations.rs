use std::collections::BTreeSet;

use mhp_storage::{Db, DbOptions, StorageError, migrate};
use sqlx::{Connection as _, Row as _};

async fn migrations_apply_once(db: Db, _: String) {
    // The fixture already migrated: a second run applies nothing.
    assert_eq!(migrate::run(&db).await.unwrap(), Vec::<i64>::new());
    let status = migrate::status(&db).await.unwrap();
    assert!(status.is_current(), "{status:?}");
    assert_eq!(status.expected, migrate::migrations(db.backend()).len());
}

crate::on_both_backends!(migrations_apply_once);

#[tokio::test]
async fn a_fresh_database_reports_pending_migrations() {
    let fresh = mhp_test_support::fresh_sqlite();
    let db = Db::connect(&fresh.url, &Default::default()).await.unwrap();
    let status = migrate::status(&db).await.unwrap();
    assert_eq!(status.applied, 0);
    assert!(!status.is_current());
    assert_eq!(
        migrate::run(&db).await.unwrap(),
        vec![
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
            25, 26, 27, 28, 29, 30, 31, 32
        ]
    );
}

#[tokio::test]
async fn an_edited_or_unknown_migration_is_refused() {
    let fresh = mhp_test_support::fresh_sqlite();
    let db = Db::connect(&fresh.url, &Default::default()).await.unwrap();
    migrate::run(&db).await.unwrap();

    let mut conn = sqlx::SqliteConnection::connect(&fresh.url).await.unwrap();
    sqlx::query("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    let err = migrate::status(&db).await.unwrap_err();
    assert!(
        matches!(err, StorageError::MigrationChanged { version: 1, .. }),
        "{err}"
    );
    assert!(migrate::run(&db).await.is_err());

    let real = migrate::migrations(db.backend())[0].checksum();
    sqlx::query("UPDATE schema_migrations SET checksum = $1 WHERE version = 1")
        .bind(real)
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at_ms) \
         VALUES (999, 'future', 'x', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let err = migrate::status(&db).await.unwrap_err();
    assert!(
        matches!(err, StorageError::UnknownMigration { version: 999 }),
        "{err}"
    );
}

/// The two backends' schemas must hold the same tables with the same columns.
#[tokio::test]
async fn sqlite_and_postgres_schemas_have_the_same_tables_and_columns() {
    let Some(pg_url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    let pg = Db::connect(&pg_url, &Default::default()).await.unwrap();
    migrate::run(&pg).await.unwrap();
    let (_sqlite, fresh) = crate::sqlite_db().await;

    let mut lite = sqlx::SqliteConnection::connect(&fresh.url).await.unwrap();
    let lite_cols: BTreeSet<(String, String)> = sqlx::query(
        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut lite)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();

    let mut pgc = sqlx::PgConnection::connect(&pg_url).await.unwrap();
    let pg_cols: BTreeSet<(String, String)> = sqlx::query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema()",
    )
    .fetch_all(&mut pgc)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();

    assert!(
        lite_cols.len() > 40,
        "too few columns found: {}",
        lite_cols.len()
    );
    let only_lite: Vec<_> = lite_cols.difference(&pg_cols).collect();
    let only_pg: Vec<_> = pg_cols.difference(&lite_cols).collect();
    assert!(
        only_lite.is_empty() && only_pg.is_empty(),
        "schemas differ\n  only in SQLite: {only_lite:?}\n  only in PostgreSQL: {only_pg:?}"
    );
}

/// The SQLite files (database, key store, their write-ahead logs) are the owner's alone, also
/// when a file already existed with wider permissions.
#[tokio::test]
async fn sqlite_files_are_created_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("mhp.sqlite");
    let db = Db::connect(
        &format!("sqlite://{}?mode=rwc", db_path.display()),
        &DbOptions::default(),
    )
    .await
    .unwrap();
    migrate::run(&db).await.unwrap();
    let keys_path = dir.path().join("keys.sqlite");
    std::fs::write(&keys_path, b"").unwrap();
    std::fs::set_permissions(&keys_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _store = mhp_storage::keystore::KeyStore::open(&format!(
        "sqlite://{}?mode=rwc",
        keys_path.display()
    ))
    .await
    .unwrap();
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        seen.push(entry.file_name().to_string_lossy().into_owned());
        assert_eq!(mode, 0o600, "{:?}", entry.file_name());
    }
    assert!(seen.contains(&"mhp.sqlite".to_owned()), "{seen:?}");
    assert!(seen.contains(&"keys.sqlite".to_owned()), "{seen:?}");
}
