//! MHP pipelines (C3, C4 of DESIGN.md; plan and decisions in docs/design/pipelines.md).
//!
//! - [`engine`]: workers over the durable queue in `mhp_storage::repo::pipelines` — claim under
//!   a lease, heartbeat, time-out, retries with back-off, cancellation, logs.
//! - [`scheduler`]: fires cron schedules (with time zones).
//! - [`deid`]: the de-identified view, the only way steps reach subject data.
//! - [`risk`]: the injury-risk steps (dataset, train, evaluate, register with the promotion
//!   gate, batch and real-time scoring).
//!
//! The server enqueues (storage); only workers run steps: inside `mhp serve` by default, or as
//! `mhp worker` processes sharing a PostgreSQL queue.

pub mod deid;
pub mod engine;
pub mod risk;
pub mod scheduler;

use std::sync::Arc;
use std::time::Duration;

use mhp_app::App;
use mhp_domain::pipeline::{self, SCORE_ALL, SCORE_SUBJECT, TRAIN};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use engine::{Registry, StepCtx, StepError, StepFn, WorkerConfig, run_job, run_worker};

/// Wraps an async step function.
pub fn step<F, Fut>(f: F) -> StepFn
where
    F: Fn(StepCtx) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<serde_json::Value, StepError>> + Send + 'static,
{
    Arc::new(move |ctx| Box::pin(f(ctx)))
}

/// Every catalogue pipeline with its steps.
///
/// # Errors
/// When the catalogue and the implementations disagree (a bug, caught by a test).
pub fn catalogue() -> Result<Registry, String> {
    let mut r = Registry::default();
    let def = |name| pipeline::pipeline(name).ok_or_else(|| format!("{name} not in catalogue"));
    r.add(
        *def(TRAIN)?,
        vec![
            ("dataset", step(risk::dataset)),
            ("train", step(risk::train)),
            ("evaluate", step(risk::evaluate)),
            ("register", step(risk::register)),
        ],
    )?;
    r.add(*def(SCORE_ALL)?, vec![("score", step(risk::score_all))])?;
    r.add(
        *def(SCORE_SUBJECT)?,
        vec![("score", step(risk::score_subject))],
    )?;
    Ok(r)
}

/// Starts `workers` workers and the scheduler; they stop when `shutdown` turns true (each
/// finishes the job in hand).
pub fn start(
    state: &App,
    registry: Arc<Registry>,
    workers: usize,
    base: &WorkerConfig,
    shutdown: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::with_capacity(workers + 1);
    for i in 0..workers {
        let mut config = base.clone();
        config.name = format!("{}-{i}", base.name);
        handles.push(tokio::spawn(run_worker(
            state.clone(),
            registry.clone(),
            config,
            shutdown.clone(),
        )));
    }
    handles.push(tokio::spawn(scheduler::run_scheduler(
        state.clone(),
        Duration::from_secs(15),
        shutdown.clone(),
    )));
    handles
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn every_catalogue_pipeline_has_its_steps() {
        let r = super::catalogue().unwrap();
        for p in mhp_domain::pipeline::CATALOGUE {
            assert!(r.pipeline(p.name).is_some(), "{}", p.name);
        }
    }
}
