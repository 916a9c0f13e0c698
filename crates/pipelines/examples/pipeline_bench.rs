//! Pipeline figures: queue throughput (no-op jobs per second with W workers), the training run
//! on a seeded demo organisation, batch scoring (subjects per second) and real-time scoring
//! latency (enqueue to stored score, one subject at a time).
//!
//!   cargo run --release -p mhp-pipelines --example pipeline_bench -- sqlite|postgres [JOBS] [WORKERS]
//!
//! PostgreSQL needs MHP_TEST_PG_URL (run it under scripts/with-postgres.sh). The workers run in
//! this process, each claiming on its own connections, as `mhp worker` processes would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic
)]

#[path = "../tests/it/seed.rs"]
mod seed;
#[path = "../tests/it/support.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mhp_demo::{DemoSpec, iso_date, plan};
use mhp_domain::pipeline::{self, PipelineDef, SCORE_ALL, SCORE_SUBJECT, StepDef, TRAIN};
use mhp_domain::{RunId, Timestamp};
use mhp_pipelines::{Registry, StepCtx, StepError, WorkerConfig, step};
use mhp_storage::Access;
use mhp_storage::repo::pipelines as queue;
use serde_json::{Value, json};
pub use support::{Backend, Env, enqueue, env, output, run_ok};
use tokio::sync::watch;

const NOOP: PipelineDef = PipelineDef {
    name: "noop",
    description: "does nothing",
    steps: &[StepDef {
        name: "only",
        needs: &[],
        timeout_s: 60,
        max_attempts: 3,
    }],
    priority: 0,
    max_concurrent: 1000,
    params: &[],
};

async fn nothing(_: StepCtx) -> Result<Value, StepError> {
    Ok(Value::Null)
}

fn config(name: &str) -> WorkerConfig {
    WorkerConfig {
        poll: Duration::from_millis(20),
        ..WorkerConfig::new(name)
    }
}

async fn wait(e: &Env, run: RunId) {
    loop {
        let mut tx = e.state.app.db.tenant(&e.scope, Access::Read).await.unwrap();
        let r = queue::get(&mut tx, run).await.unwrap();
        if r.status.is_terminal() {
            assert_eq!(r.status.as_str(), "succeeded", "{:?}", r.error);
            return;
        }
        drop(tx);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend = match args.get(1).map(String::as_str) {
        Some("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let jobs: usize = args.get(2).map_or(2000, |a| a.parse().unwrap());
    let workers: usize = args.get(3).map_or(4, |a| a.parse().unwrap());

    // Queue throughput.
    let e = env(backend, Timestamp::from_millis(1_790_000_000_000))
        .await
        .expect("PostgreSQL: set MHP_TEST_PG_URL (scripts/with-postgres.sh)");
    let mut r = Registry::default();
    r.add(NOOP, vec![("only", step(nothing))]).unwrap();
    let mut runs = Vec::with_capacity(jobs);
    for _ in 0..jobs {
        runs.push(enqueue(&e, &NOOP, &json!({})).await);
    }
    let (stop, stopped) = watch::channel(false);
    let t = Instant::now();
    let handles = mhp_pipelines::start(
        &e.state.app,
        Arc::new(r),
        workers,
        &config("noop"),
        &stopped,
    );
    loop {
        let mut tx = e.state.app.db.operator(Access::Read).await.unwrap();
        let stats = queue::queue_stats(&mut tx, e.state.app.clock.now())
            .await
            .unwrap();
        if stats.is_empty() {
            break;
        }
        drop(tx);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = t.elapsed().as_secs_f64();
    stop.send(true).unwrap();
    for h in handles {
        h.await.unwrap();
    }
    println!(
        "queue ({backend:?}): {jobs} no-op jobs with {workers} workers in {secs:.2} s: {:.0} jobs/s",
        jobs as f64 / secs
    );

    // The risk pipelines on a seeded demo organisation.
    let spec = DemoSpec {
        teams: 6,
        subjects_per_team: 100,
        weeks: 24,
        ..DemoSpec::default()
    };
    let org = plan(&spec).unwrap();
    let end = spec.start_day + 7 * spec.weeks as i64;
    let e = env(
        backend,
        Timestamp::from_millis(end * 86_400_000 + 3_600_000),
    )
    .await
    .unwrap();
    let t = Instant::now();
    let ids = seed::store(&e, &org).await;
    println!(
        "seeded {} subjects, {} assessments, {} sessions, {} injuries in {:.1} s",
        ids.len(),
        org.assessments.len(),
        org.loads.len(),
        org.injuries.len(),
        t.elapsed().as_secs_f64()
    );
    let (stop, stopped) = watch::channel(false);
    let registry = Arc::new(mhp_pipelines::catalogue().unwrap());
    let handles = mhp_pipelines::start(&e.state.app, registry, workers, &config("risk"), &stopped);
    let t = Instant::now();
    let train = run_ok(
        &e,
        TRAIN,
        json!({ "as_of": iso_date(end), "season_start": iso_date(spec.start_day) }),
    )
    .await;
    let ds = output(&e, train, "dataset").await;
    let tr = output(&e, train, "train").await;
    let ev = output(&e, train, "evaluate").await;
    println!(
        "train-injury-risk: {:.2} s in all; {} rows ({} injuries); model fitted in {} ms; test AUC {:.3}",
        t.elapsed().as_secs_f64(),
        ds["rows"],
        ds["positives"],
        tr["training_ms"],
        ev["evaluation"]["overall"]["roc_auc"]
            .as_f64()
            .unwrap_or(f64::NAN)
    );

    let t = Instant::now();
    let all = enqueue(
        &e,
        pipeline::pipeline(SCORE_ALL).unwrap(),
        &json!({ "as_of": iso_date(end) }),
    )
    .await;
    e.state.app.pipeline_wakeup.notify_waiters();
    wait(&e, all).await;
    let secs = t.elapsed().as_secs_f64();
    let out = output(&e, all, "score").await;
    let scored = out["scored"].as_u64().unwrap();
    println!(
        "score-all: {scored} subjects scored ({} skipped) in {secs:.2} s: {:.0} subjects/s (run, \
         including the de-identified view and writing the scores)",
        out["skipped"],
        scored as f64 / secs
    );

    let mut latencies = Vec::new();
    for id in ids.iter().take(100) {
        let t = Instant::now();
        let run = enqueue(
            &e,
            pipeline::pipeline(SCORE_SUBJECT).unwrap(),
            &json!({ "subject": id.to_string(), "as_of": iso_date(end) }),
        )
        .await;
        e.state.app.pipeline_wakeup.notify_one();
        wait(&e, run).await;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let q = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    println!(
        "score-subject (enqueue to stored score, {} subjects one by one): median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        latencies.len(),
        q(0.5),
        q(0.95),
        q(1.0)
    );
    stop.send(true).unwrap();
    for h in handles {
        h.await.unwrap();
    }
}
