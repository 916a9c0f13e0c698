//! How fast security monitoring drains its outbox: audit events written to SQLite (as requests
//! write them), then one monitor ships them to the JSON-lines sink in OCSF and evaluates the
//! shipped rules over them. Prints events per second for the sink alone (OCSF to file), for
//! shipping (read, OCSF, write, cursor) and for the rules.
//!
//!   cargo run --release -p mhp-server --example siem_bench -- [EVENTS]

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use mhp_app::siem::{JsonLines, Monitor, Sink};
use mhp_domain::{Clock as _, OrgName, OrgScope, SystemClock};
use mhp_security::rules::RulePack;
use mhp_storage::repo::audit::{self, AuditEvent, Outcome};
use mhp_storage::{Access, Db, DbOptions, migrate};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let events: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let db = Db::connect(
        &format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("mhp.sqlite").display()
        ),
        &DbOptions::default(),
    )
    .await?;
    migrate::run(&db).await?;
    let state = mhp_server::local_state(dir.path(), db.clone(), Arc::new(SystemClock)).await?;
    let mut tx = db.operator(Access::Write).await?;
    let org =
        mhp_storage::repo::orgs::create(&mut tx, &OrgName::parse("Bench")?, SystemClock.now())
            .await?;
    tx.commit().await?;
    let scope = OrgScope::for_operator(org.id, "bench");

    // Reads of subjects by a few principals from a few addresses: what a busy day records.
    let started = Instant::now();
    for chunk in 0..events.div_ceil(1000) {
        let mut tx = db.tenant(&scope, Access::Write).await?;
        for i in 0..1000.min(events - chunk * 1000) {
            let n = chunk * 1000 + i;
            let event = AuditEvent {
                actor: format!("user:0190a0a0-0000-7000-8000-{:012}", n % 7),
                action: "subject.read",
                resource_type: "subject",
                resource_id: Some(format!("0190a0a0-0000-7000-8000-{:012}", n % 40)),
                outcome: Outcome::Success,
                request_id: Some(format!("req-{n}")),
                source_ip: Some(format!("10.0.{}.{}", n % 3, n % 11)),
                user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) bench".into()),
                detail: None,
            };
            audit::append(&mut tx, &event, SystemClock.now()).await?;
        }
        tx.commit().await?;
    }
    let written = started.elapsed().as_secs_f64();

    // The sink alone: OCSF lines appended and synced in batches of 1000.
    let pack = RulePack::shipped();
    let probe = Monitor::new(Vec::new(), pack.clone(), "bench");
    let mut tx = db.operator(Access::Read).await?;
    let sample = mhp_storage::repo::security::read_after(
        &mut tx,
        mhp_security::event::Stream::Audit,
        Default::default(),
        1000,
    )
    .await?;
    drop(tx);
    let started = Instant::now();
    let mut read = 0;
    for _ in 0..10 {
        let mut tx = db.operator(Access::Read).await?;
        read += mhp_storage::repo::security::read_after(
            &mut tx,
            mhp_security::event::Stream::Audit,
            Default::default(),
            5000,
        )
        .await?
        .len();
    }
    let read_rate = read as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut text = Vec::new();
    for _ in 0..10 {
        text.clear();
        for (_, e) in &sample {
            serde_json::to_writer(&mut text, &probe.ocsf(e))?;
            text.push(b'\n');
        }
    }
    let ocsf_rate = (10 * sample.len()) as f64 / started.elapsed().as_secs_f64();
    let lines: Vec<_> = sample.iter().map(|(_, e)| probe.ocsf(e)).collect();
    let sink = JsonLines::new(dir.path().join("sink-only"), 1 << 30);
    let rounds = events.div_ceil(1000);
    let started = Instant::now();
    for _ in 0..rounds {
        // Synchronously, as the monitor's blocking thread would: this measures the sink.
        sink.append(&lines, SystemClock.now())?;
    }
    let sink_only = (rounds * lines.len()) as f64 / started.elapsed().as_secs_f64();

    // Shipping and rules, as `mhp serve` runs them.
    let monitor = Monitor::new(
        vec![Sink::JsonLines(JsonLines::new(
            dir.path().join("security"),
            1 << 30,
        ))],
        pack,
        "bench",
    );
    let started = Instant::now();
    let pass = monitor.ship_all(&state.app).await?;
    let shipped = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let full = monitor.pass(&state.app).await?;
    let evaluated = started.elapsed().as_secs_f64();
    assert_eq!(pass as usize, events, "every event shipped");
    assert_eq!(full.evaluated as usize, events, "every event evaluated");

    println!("{events} audit events written in {written:.2} s");
    println!("reading the outbox (5000 a query):                  {read_rate:>10.0} events/s");
    println!("OCSF conversion to text:                            {ocsf_rate:>10.0} events/s");
    println!("JSON-lines sink alone (OCSF lines, synced per 1000): {sink_only:>10.0} events/s");
    println!(
        "shipping (read, OCSF, write, sync, cursor):         {:>10.0} events/s",
        events as f64 / shipped
    );
    println!(
        "detection rules (read, OCSF, 14 rules, state):       {:>10.0} events/s",
        events as f64 / evaluated
    );
    println!("alerts raised: {}", full.raised);
    Ok(())
}
