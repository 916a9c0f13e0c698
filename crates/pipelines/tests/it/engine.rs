//! The engine with test pipelines: dependencies and outputs, retries with back-off, permanent
//! failures, time-outs, cancellation, and takeover of a job whose worker vanished.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mhp_domain::pipeline::{PipelineDef, StepDef};
use mhp_domain::{RunId, Timestamp};
use mhp_pipelines::{Registry, StepCtx, StepError, WorkerConfig, step};
use mhp_storage::Access;
use mhp_storage::repo::pipelines::{self as queue, RunStatus};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::support::wait_for;
use crate::{Backend, Env, env};

const NOW: Timestamp = Timestamp::from_millis(1_790_000_000_000);

const CHAIN: PipelineDef = PipelineDef {
    name: "chain",
    description: "test",
    steps: &[
        StepDef {
            name: "first",
            needs: &[],
            timeout_s: 10,
            max_attempts: 3,
        },
        StepDef {
            name: "second",
            needs: &["first"],
            timeout_s: 10,
            max_attempts: 3,
        },
    ],
    priority: 0,
    max_concurrent: 4,
    params: &[],
};

macro_rules! single {
    ($name:literal, $timeout:expr, $attempts:expr) => {
        PipelineDef {
            name: $name,
            description: "test",
            steps: &[StepDef {
                name: "only",
                needs: &[],
                timeout_s: $timeout,
                max_attempts: $attempts,
            }],
            priority: 0,
            max_concurrent: 4,
            params: &[],
        }
    };
}

const FLAKY: PipelineDef = single!("flaky", 10, 3);
const BROKEN: PipelineDef = single!("broken", 10, 3);
const SLOW: PipelineDef = single!("slow", 1, 2);
const ENDLESS: PipelineDef = single!("endless", 60, 1);
const ONCE: PipelineDef = single!("once", 10, 3);

static ONCE_RUNS: AtomicUsize = AtomicUsize::new(0);

async fn first(_: StepCtx) -> Result<Value, StepError> {
    Ok(json!({ "n": 41 }))
}

async fn second(ctx: StepCtx) -> Result<Value, StepError> {
    let n = ctx.output_of("first").await?["n"].as_i64().unwrap_or(0);
    ctx.log.info(&format!("got {n}"));
    Ok(json!({ "n": n + 1 }))
}

async fn flaky(ctx: StepCtx) -> Result<Value, StepError> {
    if ctx.attempt < 3 {
        return Err(StepError::transient(format!(
            "attempt {} fails",
            ctx.attempt
        )));
    }
    Ok(json!({ "attempt": ctx.attempt }))
}

async fn broken(_: StepCtx) -> Result<Value, StepError> {
    Err(StepError::permanent("parameter x is wrong"))
}

async fn sleeper(_: StepCtx) -> Result<Value, StepError> {
    tokio::time::sleep(Duration::from_secs(30)).await;
    Ok(Value::Null)
}

async fn once(_: StepCtx) -> Result<Value, StepError> {
    ONCE_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(json!({}))
}

fn registry() -> Arc<Registry> {
    let mut r = Registry::default();
    r.add(
        CHAIN,
        vec![("first", step(first)), ("second", step(second))],
    )
    .unwrap();
    r.add(FLAKY, vec![("only", step(flaky))]).unwrap();
    r.add(BROKEN, vec![("only", step(broken))]).unwrap();
    r.add(SLOW, vec![("only", step(sleeper))]).unwrap();
    r.add(ENDLESS, vec![("only", step(sleeper))]).unwrap();
    r.add(ONCE, vec![("only", step(once))]).unwrap();
    Arc::new(r)
}

fn config() -> WorkerConfig {
    WorkerConfig {
        lease: Duration::from_secs(3),
        heartbeat: Duration::from_millis(100),
        poll: Duration::from_millis(50),
        backoff_base: Duration::from_millis(20),
        backoff_cap: Duration::from_millis(100),
        ..WorkerConfig::new("test")
    }
}

async fn enqueue(env: &Env, def: &PipelineDef) -> RunId {
    crate::support::enqueue(env, def, &json!({})).await
}

async fn jobs(env: &Env, run: RunId) -> Vec<queue::Job> {
    let mut tx = env.tx(Access::Read).await;
    queue::jobs(&mut tx, run).await.unwrap()
}

fn start(env: &Env, workers: usize) -> (watch::Sender<bool>, Vec<tokio::task::JoinHandle<()>>) {
    let (stop, stopped) = watch::channel(false);
    let handles = mhp_pipelines::start(&env.state.app, registry(), workers, &config(), &stopped);
    (stop, handles)
}

async fn steps_run_in_order_and_retries_back_off(backend: Backend) {
    let Some(env) = env(backend, NOW).await else {
        return;
    };
    let (stop, handles) = start(&env, 2);
    let chain = enqueue(&env, &CHAIN).await;
    let flaky_run = enqueue(&env, &FLAKY).await;
    let broken_run = enqueue(&env, &BROKEN).await;

    wait_for(&env, chain, RunStatus::Succeeded).await;
    let js = jobs(&env, chain).await;
    assert_eq!(js[1].output_json.as_deref(), Some("{\"n\":42}"));
    let mut tx = env.tx(Access::Read).await;
    let logs = queue::logs(&mut tx, chain, 100).await.unwrap();
    drop(tx);
    assert!(
        logs.iter()
            .any(|l| l.step == "second" && l.message == "got 41"),
        "{logs:?}"
    );

    wait_for(&env, flaky_run, RunStatus::Succeeded).await;
    let js = jobs(&env, flaky_run).await;
    assert_eq!(js[0].attempts, 3, "two failures, then success");

    let failed = wait_for(&env, broken_run, RunStatus::Failed).await;
    assert_eq!(
        failed.error.as_deref(),
        Some("step only: parameter x is wrong")
    );
    assert_eq!(
        jobs(&env, broken_run).await[0].attempts,
        1,
        "a permanent error is not retried"
    );
    stop.send(true).unwrap();
    for h in handles {
        h.await.unwrap();
    }
}

async fn time_outs_and_cancellation_stop_a_step(backend: Backend) {
    let Some(env) = env(backend, NOW).await else {
        return;
    };
    let (stop, handles) = start(&env, 2);
    let slow = enqueue(&env, &SLOW).await;
    let endless = enqueue(&env, &ENDLESS).await;
    let failed = wait_for(&env, slow, RunStatus::Failed).await;
    assert_eq!(
        failed.error.as_deref(),
        Some("step only: timed out after 1 s")
    );
    assert_eq!(jobs(&env, slow).await[0].attempts, 2);

    // Wait until the endless step runs, then cancel its run: the heartbeat stops it.
    for _ in 0..200 {
        if jobs(&env, endless).await[0].status == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut tx = env.tx(Access::Write).await;
    let status = queue::cancel(&mut tx, endless, env.state.app.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(status, RunStatus::Running, "stops at the next heartbeat");
    wait_for(&env, endless, RunStatus::Cancelled).await;
    assert_eq!(jobs(&env, endless).await[0].status, "cancelled");
    stop.send(true).unwrap();
    for h in handles {
        h.await.unwrap();
    }
}

async fn a_vanished_workers_job_is_taken_over_after_its_lease(backend: Backend) {
    let Some(env) = env(backend, NOW).await else {
        return;
    };
    let run = enqueue(&env, &ONCE).await;
    // A worker claims the job and dies without a word.
    let mut tx = env.state.app.db.operator(Access::Write).await.unwrap();
    let claimed = queue::claim(&mut tx, "dead", env.state.app.clock.now(), 60_000)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(claimed.attempt, 1);
    let before = ONCE_RUNS.load(Ordering::SeqCst);
    let (stop, handles) = start(&env, 1);
    // While the lease holds, the live worker leaves the job alone. A claim looks for a job to
    // take over before it looks at the queue, so once the worker has claimed (and finished) both
    // steps of a run queued after it started, it has looked at the dead worker's job and passed
    // it over.
    let marker = enqueue(&env, &CHAIN).await;
    wait_for(&env, marker, RunStatus::Succeeded).await;
    let js = jobs(&env, run).await;
    assert_eq!(js[0].status, "running");
    assert_eq!(js[0].lease_owner.as_deref(), Some("dead"));
    assert_eq!(js[0].attempts, 1);
    // A minute later its lease has expired: a live worker takes the job over.
    env.clock.advance_ms(61_000);
    let done = wait_for(&env, run, RunStatus::Succeeded).await;
    assert!(done.finished_at.is_some());
    let js = jobs(&env, run).await;
    assert_eq!(js[0].attempts, 2);
    assert!(ONCE_RUNS.load(Ordering::SeqCst) > before);
    stop.send(true).unwrap();
    for h in handles {
        h.await.unwrap();
    }
}

#[test]
fn a_registry_refuses_a_pipeline_with_a_step_missing() {
    let mut r = Registry::default();
    let e = r.add(CHAIN, vec![("first", step(first))]).unwrap_err();
    assert!(e.contains("second has no implementation"), "{e}");
}

crate::on_both_backends!(
    steps_run_in_order_and_retries_back_off,
    time_outs_and_cancellation_stop_a_step,
    a_vanished_workers_job_is_taken_over_after_its_lease,
);
