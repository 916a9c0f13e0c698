//! Storage tests. Every case runs on SQLite and on PostgreSQL (a fresh database each).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit_retention;
mod group_commit;
mod keystore;
mod main_path;
mod migrations;
mod org_copy;
mod pipelines;
mod repos;
mod resilience;
mod security;
mod tenancy;

use mhp_domain::{FixedClock, OrgId, OrgName, OrgScope, Timestamp};
use mhp_storage::{Access, Db, DbOptions, migrate, repo};

/// Generates `NAME::sqlite` and `NAME::postgres` tests from `async fn NAME(db: Db, url: String)`
/// (`url` is for tests that reach around the storage layer on purpose).
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[tokio::test]
                async fn sqlite() {
                    let (db, keep) = $crate::sqlite_db().await;
                    super::$case(db, keep.url.clone()).await;
                }

                #[tokio::test]
                async fn postgres() {
                    let Some((db, url)) = $crate::postgres_db().await else { return };
                    super::$case(db, url).await;
                }
            }
        )*
    };
}

pub async fn sqlite_db() -> (Db, mhp_test_support::SqliteDb) {
    let fresh = mhp_test_support::fresh_sqlite();
    let db = Db::connect(&fresh.url, &DbOptions::default())
        .await
        .unwrap();
    migrate::run(&db).await.unwrap();
    (db, fresh)
}

pub async fn postgres_db() -> Option<(Db, String)> {
    let url = mhp_test_support::fresh_postgres().await?;
    let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
    migrate::run(&db).await.unwrap();
    Some((db, url))
}

/// A subject with only a (stand-in) sealed name: for tests that need a row to point at.
pub fn bare_subject(name: &[u8]) -> repo::subjects::NewSubject {
    repo::subjects::NewSubject {
        name: mhp_domain::SealedBytes::from_ciphertext(name.to_vec()),
        birth_date: None,
        external_id: None,
        sex: None,
        sport: None,
        user: None,
        search: Default::default(),
    }
}

pub const NOW: Timestamp = Timestamp::from_millis(1_790_000_000_000);
pub const CLOCK: FixedClock = FixedClock(NOW);

/// Creates an organisation through the operator path and returns its scope.
pub async fn new_org(db: &Db, name: &str) -> OrgScope {
    let mut tx = db.operator(Access::Write).await.unwrap();
    let org = repo::orgs::create(&mut tx, &OrgName::parse(name).unwrap(), NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    OrgScope::for_operator(org.id, "test")
}

pub fn other_org() -> OrgScope {
    OrgScope::for_operator(OrgId::new(), "test")
}
