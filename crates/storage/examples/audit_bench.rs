//! Audit log throughput: appends (one event per transaction, as requests write them, and 100 per
//! transaction), `verify` over the whole log, and this machine's SHA-256 for comparison.
//!
//!   cargo run --release -p mhp-storage --example audit_bench [EVENTS] [DATABASE_URL]
//!
//! Without a URL it uses a SQLite file in a temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::Instant;

use mhp_domain::{OrgName, OrgScope, Timestamp};
use mhp_storage::repo::audit::{self, AuditEvent, Outcome};
use mhp_storage::repo::orgs;
use mhp_storage::{Access, Db, DbOptions, migrate};
use sha2::{Digest as _, Sha256};

fn event(i: usize) -> AuditEvent {
    AuditEvent {
        actor: "user:01a2b3c4-0000-7000-8000-000000000000".into(),
        action: "subject.read",
        resource_type: "subject",
        resource_id: Some(format!("01a2b3c4-0000-7000-8000-{i:012}")),
        outcome: Outcome::Success,
        request_id: Some(format!("01a2b3c4-1111-7000-8000-{i:012}")),
        source_ip: Some("10.0.0.7".into()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) bench".into()),
        detail: None,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(5000, |a| a.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let url = args.next().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.sqlite").display()
        )
    });
    let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
    migrate::run(&db).await.unwrap();
    let mut tx = db.operator(Access::Write).await.unwrap();
    let name = OrgName::parse(&format!("Bench {}", uuid_like())).unwrap();
    let org = orgs::create(&mut tx, &name, Timestamp::from_millis(0))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let scope = OrgScope::for_command_line(org.id);
    let backend = db.backend().as_str();

    // Steady state: a live PostgreSQL has table statistics (autovacuum analyses a table after
    // 50 + 10 % new rows); without them the planner fetches and sorts the whole chain to find
    // its head, and every append gets slower as the chain grows.
    if backend == "postgres" {
        let mut tx = db.tenant(&scope, Access::Write).await.unwrap();
        for i in 0..1000 {
            audit::append(&mut tx, &event(i), Timestamp::from_millis(0))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query("ANALYZE audit_events")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }

    let start = Instant::now();
    for i in 0..n {
        let mut tx = db.tenant(&scope, Access::Write).await.unwrap();
        audit::append(&mut tx, &event(i), Timestamp::from_millis(i as i64))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let single = n as f64 / start.elapsed().as_secs_f64();

    let start = Instant::now();
    for chunk in 0..n / 100 {
        let mut tx = db.tenant(&scope, Access::Write).await.unwrap();
        for i in 0..100 {
            let k = n + chunk * 100 + i;
            audit::append(&mut tx, &event(k), Timestamp::from_millis(k as i64))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let batched = (n / 100 * 100) as f64 / start.elapsed().as_secs_f64();

    let mut tx = db.operator(Access::Read).await.unwrap();
    let start = Instant::now();
    let report = audit::verify(&mut tx, &[[0u8; 32]]).await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    drop(tx);
    let verified = report.events as f64 / secs;

    let msg = [0x5au8; 256];
    let rounds = 1_000_000;
    let start = Instant::now();
    let mut acc = [0u8; 32];
    for _ in 0..rounds {
        let d = Sha256::new().chain_update(acc).chain_update(msg).finalize();
        acc.copy_from_slice(&d);
    }
    let hashes = f64::from(rounds) / start.elapsed().as_secs_f64();
    db.close().await;

    println!(
        "backend {backend}, {n} events per run (plus {} in batches)",
        n / 100 * 100
    );
    println!("append, one event per transaction: {single:.0} events/s");
    println!("append, 100 events per transaction: {batched:.0} events/s");
    println!(
        "verify: {} events in {secs:.3} s = {verified:.0} events/s ({} findings)",
        report.events,
        report.findings.len()
    );
    println!(
        "SHA-256 of 288-byte messages on this machine: {hashes:.0} hashes/s ({:.0} MB/s)",
        hashes * 288.0 / 1e6
    );
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}
