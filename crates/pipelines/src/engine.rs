//! Workers: claim a job from the queue, run its step under a lease kept alive by a heartbeat,
//! and record the result. A step that fails is retried with exponential back-off while it has
//! attempts left; a step that runs past its time-out is stopped and counted as failed; a run
//! cancelled while its step runs is stopped at the next heartbeat; a worker that loses its
//! lease drops its result (another worker has the job).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mhp_app::App;
use mhp_app::metrics::{PIPELINES, StepOutcome};
use mhp_domain::pipeline::PipelineDef;
use mhp_domain::{OrgScope, RunId, Timestamp};
use mhp_storage::repo::pipelines::{self as queue, Beat, Claimed, LogLine, Outcome, RunStatus};
use mhp_storage::{Access, StorageError};
use rand::Rng as _;
use serde_json::Value;
use tokio::sync::watch;
use tracing::Instrument as _;

/// Most log lines kept per attempt, and longest line; the rest is dropped with a note.
const MAX_LOG_LINES: usize = 200;
const MAX_LOG_LINE: usize = 500;

/// Why a step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StepError {
    /// What went wrong: ids, counts, settings; never PHI.
    pub message: String,
    /// Whether trying again may help (a database hiccup) or not (bad parameters).
    pub retryable: bool,
}

impl StepError {
    /// A failure that another attempt may not repeat.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
        }
    }

    /// A failure that another attempt would repeat: the run fails at once.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
        }
    }
}

impl From<StorageError> for StepError {
    fn from(e: StorageError) -> Self {
        Self {
            retryable: e.is_transient(),
            message: e.to_string(),
        }
    }
}

impl From<mhp_app::AppError> for StepError {
    fn from(e: mhp_app::AppError) -> Self {
        Self {
            retryable: e.is_transient(),
            message: e.to_string(),
        }
    }
}

/// A step's log: bounded, flushed to the run history at each heartbeat and at the end.
#[derive(Debug, Clone, Default)]
pub struct StepLog {
    lines: Arc<Mutex<(Vec<LogLine>, usize)>>,
    clock: Option<Arc<dyn mhp_domain::Clock>>,
}

impl StepLog {
    fn new(clock: Arc<dyn mhp_domain::Clock>) -> Self {
        Self {
            lines: Arc::default(),
            clock: Some(clock),
        }
    }

    fn push(&self, level: &'static str, message: &str) {
        let at = self
            .clock
            .as_ref()
            .map_or(Timestamp::from_millis(0), |c| c.now());
        let Ok(mut guard) = self.lines.lock() else {
            return;
        };
        let (lines, written) = &mut *guard;
        *written += 1;
        if *written > MAX_LOG_LINES {
            if *written == MAX_LOG_LINES + 1 {
                lines.push(LogLine {
                    at,
                    level: "warn",
                    message: format!("log truncated after {MAX_LOG_LINES} lines"),
                });
            }
            return;
        }
        let mut message = message.to_owned();
        if message.len() > MAX_LOG_LINE {
            let mut end = MAX_LOG_LINE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        lines.push(LogLine { at, level, message });
    }

    /// Notes progress (ids, counts, figures; never PHI).
    pub fn info(&self, message: &str) {
        self.push("info", message);
    }

    /// Notes something odd that did not stop the step.
    pub fn warn(&self, message: &str) {
        self.push("warn", message);
    }

    fn take(&self) -> Vec<LogLine> {
        self.lines
            .lock()
            .map(|mut g| std::mem::take(&mut g.0))
            .unwrap_or_default()
    }
}

/// What a step gets: the organisation it works for (and nothing else), its run, the run's
/// parameters, and the services. Steps read subject data only through
/// [`crate::deid::DeidView`].
#[derive(Clone)]
pub struct StepCtx {
    /// The organisation the run belongs to.
    pub scope: OrgScope,
    /// The run.
    pub run: RunId,
    /// The step's name.
    pub step: String,
    /// This attempt, from 1.
    pub attempt: i64,
    /// The run's parameters (a JSON object).
    pub params: Value,
    /// The services (database, object store, keys, clock).
    pub state: App,
    /// The step's log.
    pub log: StepLog,
}

impl std::fmt::Debug for StepCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepCtx")
            .field("org", &self.scope.org())
            .field("run", &self.run)
            .field("step", &self.step)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

impl StepCtx {
    /// The output of an earlier step of this run.
    ///
    /// # Errors
    /// Transient storage errors; a permanent error when the step has no output.
    pub async fn output_of(&self, step: &str) -> Result<Value, StepError> {
        let mut tx = self.state.db.operator(Access::Read).await?;
        let out = queue::step_output(&mut tx, self.run, step).await?;
        let out = out.ok_or_else(|| StepError::permanent(format!("step {step} has no output")))?;
        serde_json::from_str(&out)
            .map_err(|_| StepError::permanent(format!("step {step} left an unreadable output")))
    }

    /// A string parameter of the run.
    pub fn param_str(&self, name: &str) -> Option<&str> {
        self.params.get(name).and_then(Value::as_str)
    }
}

/// The future a step returns.
pub type StepFuture = Pin<Box<dyn Future<Output = Result<Value, StepError>> + Send>>;
/// A step's implementation.
pub type StepFn = Arc<dyn Fn(StepCtx) -> StepFuture + Send + Sync>;

/// The pipelines a worker can run, with an implementation for every step.
#[derive(Clone, Default)]
pub struct Registry {
    pipelines: HashMap<&'static str, (PipelineDef, HashMap<&'static str, StepFn>)>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.pipelines.keys().copied().collect();
        names.sort_unstable();
        f.debug_struct("Registry")
            .field("pipelines", &names)
            .finish()
    }
}

impl Registry {
    /// Adds a pipeline with the implementations of its steps.
    ///
    /// # Errors
    /// When the definition is malformed or a step has no implementation (or one too many).
    pub fn add(
        &mut self,
        def: PipelineDef,
        steps: Vec<(&'static str, StepFn)>,
    ) -> Result<&mut Self, String> {
        def.validate().map_err(|e| e.to_string())?;
        let steps: HashMap<&'static str, StepFn> = steps.into_iter().collect();
        for s in def.steps {
            if !steps.contains_key(s.name) {
                return Err(format!(
                    "pipeline {}: step {} has no implementation",
                    def.name, s.name
                ));
            }
        }
        if steps.len() != def.steps.len() {
            return Err(format!(
                "pipeline {}: implementations of unknown steps",
                def.name
            ));
        }
        self.pipelines.insert(def.name, (def, steps));
        Ok(self)
    }

    /// The definition of a pipeline it can run.
    pub fn pipeline(&self, name: &str) -> Option<&PipelineDef> {
        self.pipelines.get(name).map(|(d, _)| d)
    }

    fn step(&self, pipeline: &str, step: &str) -> Option<StepFn> {
        self.pipelines.get(pipeline)?.1.get(step).cloned()
    }
}

/// How workers behave.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// This worker's name in leases (host, process and a random part by default).
    pub name: String,
    /// Lease length; a worker that stops beating loses its job after this.
    pub lease: Duration,
    /// Time between heartbeats (a third of the lease by default).
    pub heartbeat: Duration,
    /// Time between polls of an empty queue (a wake-up cuts it short).
    pub poll: Duration,
    /// First retry delay; doubled each attempt.
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_cap: Duration,
}

impl WorkerConfig {
    /// Defaults: 30 s lease, 10 s heartbeat, 1 s poll, back-off from 5 s to 10 min.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(10),
            poll: Duration::from_secs(1),
            backoff_base: Duration::from_secs(5),
            backoff_cap: Duration::from_secs(600),
        }
    }

    /// `base · 2^(attempt−1)`, capped, with ±20 % jitter so failed jobs do not return in step.
    pub fn backoff(&self, attempt: i64) -> Duration {
        let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let raw = self
            .backoff_base
            .saturating_mul(2u32.saturating_pow(exp))
            .min(self.backoff_cap);
        let jitter = rand::rng().random_range(0.8..1.2);
        raw.mul_f64(jitter)
    }
}

/// A worker's default name: host name, process id and a random suffix.
pub fn default_worker_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty() && h.len() <= 64)
        .unwrap_or_else(|| "mhp".to_owned());
    let suffix: u32 = rand::rng().random();
    format!("{host}-{}-{suffix:08x}", std::process::id())
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// One worker: runs one job at a time until `shutdown` turns true (the job in hand is
/// finished first). Start several for parallelism.
pub async fn run_worker(
    state: App,
    registry: Arc<Registry>,
    config: WorkerConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::info!(worker = %config.name, "pipeline worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        match claim_one(&state, &config).await {
            Ok(Some(job)) => run_job(&state, &registry, &config, job).await,
            Ok(None) => {
                tokio::select! {
                    () = state.pipeline_wakeup.notified() => {}
                    () = tokio::time::sleep(config.poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                tracing::warn!(worker = %config.name, error = %e, "claiming a pipeline job failed");
                tokio::select! {
                    () = tokio::time::sleep(config.poll.max(Duration::from_secs(1))) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
    tracing::info!(worker = %config.name, "pipeline worker stopped");
}

async fn claim_one(state: &App, config: &WorkerConfig) -> Result<Option<Claimed>, StorageError> {
    let lease = millis(config.lease);
    state
        .db
        .retry(|| {
            let state = state.clone();
            let name = config.name.clone();
            async move {
                let mut tx = state.db.operator(Access::Write).await?;
                let job = queue::claim(&mut tx, &name, state.clock.now(), lease).await?;
                tx.commit().await?;
                Ok(job)
            }
        })
        .await
}

/// Runs one claimed job to its end (or until its lease is lost), in a span linked to the trace
/// that enqueued its run (an upload's request, for a scoring run).
pub async fn run_job(state: &App, registry: &Registry, config: &WorkerConfig, job: Claimed) {
    let span = tracing::info_span!(
        "pipeline.step",
        otel.name = %format_args!("{} {}", job.pipeline, job.step),
        otel.kind = "consumer",
        pipeline = %job.pipeline,
        step = %job.step,
        run = %job.run_id,
        attempt = job.attempt,
    );
    if let Some(traceparent) = &job.traceparent {
        mhp_telemetry::add_link(&span, traceparent);
    }
    attempt(state, registry, config, job).instrument(span).await;
}

async fn attempt(state: &App, registry: &Registry, config: &WorkerConfig, job: Claimed) {
    let log = StepLog::new(state.clock.clone());
    let Some(step) = registry.step(&job.pipeline, &job.step) else {
        // A newer version enqueued a pipeline this worker does not know: leave the job to a
        // worker that does (its lease expires), after saying so.
        tracing::warn!(
            worker = %config.name, pipeline = %job.pipeline, step = %job.step,
            "no implementation for this step; leaving the job to another worker"
        );
        return;
    };
    let params: Value = serde_json::from_str(&job.params_json).unwrap_or(Value::Null);
    let ctx = StepCtx {
        scope: OrgScope::for_pipeline_run(job.org),
        run: job.run_id,
        step: job.step.clone(),
        attempt: job.attempt,
        params,
        state: state.clone(),
        log: log.clone(),
    };
    tracing::info!(
        worker = %config.name, pipeline = %job.pipeline, step = %job.step, run = %job.run_id,
        attempt = job.attempt, "pipeline step started"
    );
    let started = std::time::Instant::now();
    let timeout = Duration::from_millis(u64::try_from(job.timeout_ms).unwrap_or(u64::MAX));
    let mut work = tokio::spawn(step(ctx).instrument(tracing::Span::current()));
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut beat = tokio::time::interval(config.heartbeat);
    beat.tick().await;
    let result = loop {
        tokio::select! {
            joined = &mut work => {
                break match joined {
                    Ok(r) => r,
                    Err(e) if e.is_panic() => Err(StepError::transient("the step panicked")),
                    Err(_) => Err(StepError::transient("the step was stopped")),
                };
            }
            () = &mut deadline => {
                work.abort();
                break Err(StepError::transient(format!(
                    "timed out after {} s", timeout.as_secs()
                )));
            }
            _ = beat.tick() => {
                match heartbeat(state, config, &job, &log).await {
                    Ok(Beat::Held) => {}
                    Ok(Beat::Cancelled) => {
                        work.abort();
                        log.warn("stopped: the run was cancelled");
                        let _ = finish(state, config, &job, &log, Finish::Cancelled).await;
                        PIPELINES.step(&job.pipeline, &job.step, StepOutcome::Cancelled, started.elapsed());
                        tracing::info!(worker = %config.name, run = %job.run_id, step = %job.step, "pipeline step cancelled");
                        return;
                    }
                    Ok(Beat::Lost) => {
                        work.abort();
                        PIPELINES.step(&job.pipeline, &job.step, StepOutcome::Abandoned, started.elapsed());
                        tracing::warn!(worker = %config.name, run = %job.run_id, step = %job.step, "lease lost; dropping the step's result");
                        return;
                    }
                    // The database is unreachable: keep working; the lease may still hold.
                    Err(e) => tracing::warn!(worker = %config.name, error = %e, "heartbeat failed"),
                }
            }
        }
    };
    let elapsed = started.elapsed();
    let elapsed_ms = elapsed.as_millis();
    let succeeded = result.is_ok();
    let outcome = match result {
        Ok(output) => {
            log.info(&format!("succeeded in {elapsed_ms} ms"));
            finish(
                state,
                config,
                &job,
                &log,
                Finish::Succeeded(output.to_string()),
            )
            .await
        }
        Err(e) => {
            log.warn(&format!("attempt {} failed: {}", job.attempt, e.message));
            let retry = e.retryable.then(|| config.backoff(job.attempt));
            finish(state, config, &job, &log, Finish::Failed(e.message, retry)).await
        }
    };
    record_figures(state, &job, succeeded, elapsed, &outcome);
    match outcome {
        Ok(Outcome::Done(RunStatus::Failed)) => {
            // The alert: monitoring pages on `mhp::alerts` (no organisation data but ids).
            tracing::error!(
                target: "mhp::alerts",
                alert = "pipeline_run_failed",
                pipeline = %job.pipeline, step = %job.step, run = %job.run_id, org = %job.org,
                "a pipeline run failed"
            );
        }
        Ok(Outcome::Done(status)) => tracing::info!(
            worker = %config.name, pipeline = %job.pipeline, step = %job.step, run = %job.run_id,
            run_status = status.as_str(), elapsed_ms, "pipeline step finished"
        ),
        Ok(Outcome::Retrying(at)) => tracing::warn!(
            worker = %config.name, pipeline = %job.pipeline, step = %job.step, run = %job.run_id,
            retry_at_ms = at.as_millis(), "pipeline step failed; retrying later"
        ),
        Ok(Outcome::LeaseLost) => tracing::warn!(
            worker = %config.name, run = %job.run_id, step = %job.step,
            "lease lost before the result was recorded; another worker has the job"
        ),
        Err(e) => tracing::error!(
            worker = %config.name, run = %job.run_id, step = %job.step, error = %e,
            "could not record the step's result; its lease will expire and it runs again"
        ),
    }
}

/// Counts the attempt, the run if it ended, and a scoring run's latency (the upload's commit
/// to its score stored) in the process's figures.
fn record_figures(
    state: &App,
    job: &Claimed,
    succeeded: bool,
    elapsed: Duration,
    outcome: &Result<Outcome, StorageError>,
) {
    let step = match outcome {
        Ok(Outcome::Done(_)) if succeeded => StepOutcome::Succeeded,
        Ok(Outcome::Done(_)) => StepOutcome::Failed,
        Ok(Outcome::Retrying(_)) => StepOutcome::Retrying,
        Ok(Outcome::LeaseLost) | Err(_) => StepOutcome::Abandoned,
    };
    PIPELINES.step(&job.pipeline, &job.step, step, elapsed);
    if let Ok(Outcome::Done(status)) = outcome {
        if matches!(
            status,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled
        ) {
            PIPELINES.run_finished(&job.pipeline, status.as_str());
        }
        if *status == RunStatus::Succeeded && job.pipeline == mhp_domain::pipeline::SCORE_SUBJECT {
            let ms = state.clock.now().as_millis() - job.run_created.as_millis();
            PIPELINES.scored(Duration::from_millis(u64::try_from(ms).unwrap_or(0)));
        }
    }
}

async fn heartbeat(
    state: &App,
    config: &WorkerConfig,
    job: &Claimed,
    log: &StepLog,
) -> Result<Beat, StorageError> {
    let lines = log.take();
    let mut tx = state.db.operator(Access::Write).await?;
    let beat = queue::heartbeat(
        &mut tx,
        &job.job_id,
        &config.name,
        state.clock.now(),
        millis(config.lease),
        &lines,
    )
    .await?;
    tx.commit().await?;
    Ok(beat)
}

/// How an attempt ended, as recorded: the output (JSON text) or the error message.
#[derive(Clone)]
enum Finish {
    Succeeded(String),
    Failed(String, Option<Duration>),
    Cancelled,
}

async fn finish(
    state: &App,
    config: &WorkerConfig,
    job: &Claimed,
    log: &StepLog,
    how: Finish,
) -> Result<Outcome, StorageError> {
    let lines = log.take();
    state
        .db
        .retry(|| {
            let (state, lines, how) = (state.clone(), lines.clone(), how.clone());
            let (job_id, worker) = (job.job_id.clone(), config.name.clone());
            async move {
                let now = state.clock.now();
                let mut tx = state.db.operator(Access::Write).await?;
                let outcome = match how {
                    Finish::Succeeded(output) => {
                        queue::complete(&mut tx, &job_id, &worker, now, &output, &lines).await?
                    }
                    Finish::Failed(error, retry) => {
                        queue::fail(
                            &mut tx,
                            &job_id,
                            &worker,
                            now,
                            &error,
                            retry.map(millis),
                            &lines,
                        )
                        .await?
                    }
                    Finish::Cancelled => {
                        queue::acknowledge_cancel(&mut tx, &job_id, &worker, now, &lines).await?
                    }
                };
                tx.commit().await?;
                Ok(outcome)
            }
        })
        .await
}
