use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use mhp_domain::TeamName;
use mhp_storage::repo::{Page, teams};
use mhp_storage::{Access, Db, DbOptions, StorageError};

use crate::{NOW, new_org};

#[tokio::test]
async fn transient_errors_are_retried_and_others_are_not() {
    let (db, _keep) = crate::sqlite_db().await;
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let out = db
        .retry(move || {
            let c = c.clone();
            async move {
                if c.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(StorageError::Database(sqlx::Error::PoolTimedOut))
                } else {
                    Ok(42)
                }
            }
        })
        .await;
    assert_eq!(out.unwrap(), 42);
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let out: Result<(), _> = db
        .retry(move || {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                Err(StorageError::NotFound { entity: "team" })
            }
        })
        .await;
    assert!(out.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// Writers on SQLite queue for the write lock instead of failing with "database is locked".
async fn concurrent_writers_all_succeed(db: Db, _: String) {
    let org = new_org(&db, "Alpha").await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = db.tenant(&org, Access::Write).await?;
            teams::create(
                &mut tx,
                &TeamName::parse(&format!("Team {i}")).unwrap(),
                NOW,
            )
            .await?;
            tx.commit().await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let mut tx = db.tenant(&org, Access::Read).await.unwrap();
    assert_eq!(
        teams::list(&mut tx, Page::first(100)).await.unwrap().len(),
        16
    );
}

crate::on_both_backends!(concurrent_writers_all_succeed);

#[tokio::test]
async fn an_unreachable_database_is_retried_then_reported() {
    // A loopback port with nothing listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("postgres://mhp:secret-pw@127.0.0.1:{port}/mhp");
    let options = DbOptions {
        startup_timeout: Duration::from_millis(1500),
        ..DbOptions::default()
    };
    let started = Instant::now();
    let err = Db::connect(&url, &options).await.unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, StorageError::Unreachable { .. }), "{err}");
    assert!(
        waited >= Duration::from_millis(700),
        "gave up too early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(10),
        "took too long: {waited:?}"
    );
    assert!(!err.to_string().contains("secret-pw"), "{err}");
}

#[tokio::test]
async fn an_unknown_url_scheme_is_refused() {
    let err = Db::connect("mysql://x@localhost/db", &DbOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::UnsupportedUrl));
}

/// Production databases demand TLS (`sslmode=require` or `verify-full`); a server without it is a
/// configuration error, reported at once rather than retried.
#[tokio::test]
async fn tls_is_available_and_a_server_without_it_is_refused_at_once() {
    let Some(url) = mhp_test_support::fresh_postgres().await else {
        return;
    };
    let options = DbOptions {
        startup_timeout: Duration::from_secs(20),
        ..DbOptions::default()
    };
    let started = Instant::now();
    let err = Db::connect(&format!("{url}?sslmode=require"), &options)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(err.to_string().to_lowercase().contains("tls"), "{err}");
}
