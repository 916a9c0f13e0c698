//! The durable pipeline queue and run history (docs/design/pipelines.md).
//!
//! A run is one execution of a catalogue pipeline for one organisation; each of its steps is a
//! job. Jobs wait for the steps they need, then are claimed by workers under a lease that a
//! heartbeat renews. Claiming is an operator function (workers serve every organisation);
//! enqueueing, reading and cancelling are tenant functions, so a request can enqueue in the
//! transaction of the change that triggered it.
//!
//! Every function that changes a claimed job names the worker holding it: a worker whose lease
//! was taken over finds its update refused ([`Outcome::LeaseLost`]) and drops its result.

use mhp_domain::pipeline::{PipelineDef, Trigger};
use mhp_domain::{OrgId, RunId, Timestamp};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Page, parse_id};
use crate::db::Backend;
use crate::{OperatorTx, StorageError, TenantTx};

/// A run to enqueue.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    /// The pipeline, from the catalogue (or a test's own definition).
    pub pipeline: &'a PipelineDef,
    /// What started it.
    pub trigger: Trigger,
    /// Audit name of who asked (a user, `schedule`, `event:assessment`).
    pub requested_by: &'a str,
    /// Parameters, a JSON object (ids and settings, never PHI).
    pub params_json: &'a str,
    /// Earliest start.
    pub not_before: Timestamp,
}

/// Status of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// No step has started.
    Queued,
    /// A step has started and the run has not ended.
    Running,
    /// Every step succeeded.
    Succeeded,
    /// A step failed for good.
    Failed,
    /// Cancelled before it ended.
    Cancelled,
}

impl RunStatus {
    /// As stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Result<Self, StorageError> {
        Ok(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return Err(StorageError::Corrupt { what: "run status" }),
        })
    }

    /// Whether the run has ended.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Its id.
    pub id: RunId,
    /// Whose.
    pub org: OrgId,
    /// The pipeline's name.
    pub pipeline: String,
    /// What started it.
    pub trigger: Trigger,
    /// Who asked.
    pub requested_by: String,
    /// Its parameters (JSON object).
    pub params_json: String,
    /// Where it is.
    pub status: RunStatus,
    /// Whether someone asked to cancel it.
    pub cancel_requested: bool,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was enqueued.
    pub created_at: Timestamp,
    /// When its first step started.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub finished_at: Option<Timestamp>,
}

/// One step of a run, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: String,
    /// The step's name.
    pub step: String,
    /// `waiting`, `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: String,
    /// Attempts started so far.
    pub attempts: i64,
    /// Most attempts.
    pub max_attempts: i64,
    /// Earliest next start (after a back-off).
    pub not_before: Timestamp,
    /// The worker holding it while running.
    pub lease_owner: Option<String>,
    /// The step's result summary (JSON), once it succeeded.
    pub output_json: Option<String>,
    /// The last attempt's error.
    pub error: Option<String>,
    /// When its first attempt started.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub finished_at: Option<Timestamp>,
}

/// A job a worker has claimed: everything it needs to run the step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The job's id.
    pub job_id: String,
    /// Its run.
    pub run_id: RunId,
    /// The run's organisation: the step works in this organisation's scope only.
    pub org: OrgId,
    /// The pipeline's name.
    pub pipeline: String,
    /// The step's name.
    pub step: String,
    /// This attempt's number, from 1.
    pub attempt: i64,
    /// Most attempts.
    pub max_attempts: i64,
    /// Longest this attempt may run.
    pub timeout_ms: i64,
    /// The run's parameters.
    pub params_json: String,
    /// When the run was created (for a scoring run, when its upload committed).
    pub run_created: Timestamp,
    /// The trace that enqueued the run (W3C `traceparent`), when spans were exported.
    pub traceparent: Option<String>,
    /// When the lease ends unless renewed.
    pub lease_expires: Timestamp,
}

/// What became of a change to a claimed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; the run is now in this state.
    Done(RunStatus),
    /// The job failed and will be tried again at this time.
    Retrying(Timestamp),
    /// Another worker holds the job now (or it ended): this worker's result is dropped.
    LeaseLost,
}

/// What a heartbeat found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// The lease is renewed.
    Held,
    /// Someone asked to cancel the run: stop and call [`acknowledge_cancel`].
    Cancelled,
    /// The lease is gone.
    Lost,
}

/// A line of a step's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// When.
    pub at: Timestamp,
    /// `info`, `warn` or `error`.
    pub level: &'static str,
    /// The message: ids, counts, figures; never PHI.
    pub message: String,
}

/// A stored log line with its step and attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLogLine {
    /// The step.
    pub step: String,
    /// The attempt.
    pub attempt: i64,
    /// When.
    pub at: Timestamp,
    /// `info`, `warn` or `error`.
    pub level: String,
    /// The message.
    pub message: String,
}

/// One pipeline's queue, for metrics and autoscaling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStat {
    /// The pipeline.
    pub pipeline: String,
    /// Jobs due now and not claimed.
    pub due: i64,
    /// Jobs queued for later (back-off) or waiting for the steps they need.
    pub pending: i64,
    /// Jobs running.
    pub running: i64,
    /// Age of the oldest due job.
    pub oldest_due_age_ms: i64,
}

const RUN_COLUMNS: &str = "id, org_id, pipeline, trigger_kind, requested_by, params_json, \
     status, cancel_requested, error, created_at_ms, started_at_ms, finished_at_ms";

fn run_from_row(row: &AnyRow) -> Result<Run, StorageError> {
    let id: String = row.try_get("id")?;
    let org: String = row.try_get("org_id")?;
    let trigger: String = row.try_get("trigger_kind")?;
    let status: String = row.try_get("status")?;
    let cancel: i64 = row.try_get("cancel_requested")?;
    Ok(Run {
        id: parse_id(&id, "run id", RunId::parse)?,
        org: parse_id(&org, "organisation id", OrgId::parse)?,
        pipeline: row.try_get("pipeline")?,
        trigger: Trigger::parse(&trigger).ok_or(StorageError::Corrupt { what: "trigger" })?,
        requested_by: row.try_get("requested_by")?,
        params_json: row.try_get("params_json")?,
        status: RunStatus::parse(&status)?,
        cancel_requested: cancel != 0,
        error: row.try_get("error")?,
        created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
        started_at: row
            .try_get::<Option<i64>, _>("started_at_ms")?
            .map(Timestamp::from_millis),
        finished_at: row
            .try_get::<Option<i64>, _>("finished_at_ms")?
            .map(Timestamp::from_millis),
    })
}

/// Enqueues a run in the caller's transaction: the run and one job per step, steps without
/// needs due at `not_before`, the others waiting.
pub async fn enqueue(
    tx: &mut TenantTx,
    run: &NewRun<'_>,
    now: Timestamp,
) -> Result<RunId, StorageError> {
    let org = tx.org();
    enqueue_on(tx.conn(), org, run, now).await
}

async fn enqueue_on(
    conn: &mut AnyConnection,
    org: OrgId,
    run: &NewRun<'_>,
    now: Timestamp,
) -> Result<RunId, StorageError> {
    let id = RunId::new();
    let def = run.pipeline;
    sqlx::query(
        "INSERT INTO pipeline_runs (id, org_id, pipeline, trigger_kind, requested_by, \
         params_json, status, cancel_requested, created_at_ms, traceparent) \
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $8)",
    )
    .bind(id.to_string())
    .bind(org.to_string())
    .bind(def.name)
    .bind(run.trigger.as_str())
    .bind(run.requested_by)
    .bind(run.params_json)
    .bind(now.as_millis())
    // The trace of whoever enqueues (the request of an upload), when spans are exported.
    .bind(mhp_telemetry::current_traceparent())
    .execute(&mut *conn)
    .await?;
    for step in def.steps {
        sqlx::query(
            "INSERT INTO pipeline_jobs (id, org_id, run_id, pipeline, step, status, priority, \
             max_concurrent, attempts, max_attempts, timeout_ms, not_before_ms, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11, $12)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(org.to_string())
        .bind(id.to_string())
        .bind(def.name)
        .bind(step.name)
        .bind(if step.needs.is_empty() {
            "queued"
        } else {
            "waiting"
        })
        .bind(i64::from(def.priority))
        .bind(i64::from(def.max_concurrent))
        .bind(i64::from(step.max_attempts))
        .bind(i64::from(step.timeout_s) * 1000)
        .bind(run.not_before.as_millis())
        .bind(now.as_millis())
        .execute(&mut *conn)
        .await?;
        for need in step.needs {
            sqlx::query(
                "INSERT INTO pipeline_job_needs (org_id, run_id, step, needs_step) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(org.to_string())
            .bind(id.to_string())
            .bind(step.name)
            .bind(*need)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(id)
}

/// Claims the most urgent due job for `worker` with a lease of `lease_ms`: a queued job whose
/// time has come, or a running one whose lease expired (another attempt), of a run not being
/// cancelled, of a pipeline under its concurrency limit. Highest priority first, then oldest.
/// On PostgreSQL concurrent claimers skip each other's candidates (`FOR UPDATE SKIP LOCKED`);
/// on SQLite the write transaction already serialises them.
///
/// Before claiming it settles jobs whose lease expired on their last attempt (failed) or in a
/// run being cancelled (cancelled).
pub async fn claim(
    tx: &mut OperatorTx,
    worker: &str,
    now: Timestamp,
    lease_ms: i64,
) -> Result<Option<Claimed>, StorageError> {
    let backend = tx.backend();
    reap_expired(tx.conn(), now).await?;
    // Pipelines at their concurrency limit: their jobs are passed over.
    let running = sqlx::query(
        "SELECT pipeline, COUNT(*) AS n, MAX(max_concurrent) AS max FROM pipeline_jobs \
         WHERE status = 'running' AND lease_expires_ms >= $1 GROUP BY pipeline",
    )
    .bind(now.as_millis())
    .fetch_all(tx.conn())
    .await?;
    let mut full = String::from(",");
    for row in &running {
        let (n, max): (i64, i64) = (row.try_get("n")?, row.try_get("max")?);
        if n >= max {
            full.push_str(&row.try_get::<String, _>("pipeline")?);
            full.push(',');
        }
    }
    let lock = match backend {
        Backend::Postgres => "FOR UPDATE OF j SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let eligible = "AND $2 NOT LIKE '%,' || j.pipeline || ',%' \
         AND NOT EXISTS (SELECT 1 FROM pipeline_runs r WHERE r.id = j.run_id \
             AND r.cancel_requested = 1)";
    // A job whose worker vanished first (its lease expired), then the queue in claim order.
    let takeover = format!(
        "SELECT j.id, j.pipeline, j.max_concurrent FROM pipeline_jobs j \
         WHERE j.status = 'running' AND j.lease_expires_ms < $1 \
           AND j.attempts < j.max_attempts {eligible} \
         ORDER BY j.lease_expires_ms, j.id LIMIT 1 {lock}"
    );
    let queued = format!(
        "SELECT j.id, j.pipeline, j.max_concurrent FROM pipeline_jobs j \
         WHERE j.status = 'queued' AND j.not_before_ms <= $1 {eligible} \
         ORDER BY j.priority DESC, j.not_before_ms, j.id LIMIT 1 {lock}"
    );
    let mut candidate = None;
    for sql in [takeover, queued] {
        candidate = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now.as_millis())
            .bind(full.as_str())
            .fetch_optional(tx.conn())
            .await?;
        if candidate.is_some() {
            break;
        }
    }
    let Some(candidate) = candidate else {
        return Ok(None);
    };
    let job_id: String = candidate.try_get("id")?;
    let pipeline: String = candidate.try_get("pipeline")?;
    if backend == Backend::Postgres {
        // Claimers of one pipeline take turns here, so two of them cannot both see room under
        // the limit and both take a job.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('mhp.pipeline:' || $1))")
            .bind(pipeline.as_str())
            .execute(tx.conn())
            .await?;
        let max: i64 = candidate.try_get("max_concurrent")?;
        let running: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pipeline_jobs WHERE pipeline = $1 AND status = 'running' \
             AND lease_expires_ms >= $2 AND id <> $3",
        )
        .bind(pipeline.as_str())
        .bind(now.as_millis())
        .bind(job_id.as_str())
        .fetch_one(tx.conn())
        .await?;
        if running >= max {
            return Ok(None);
        }
    }
    let lease_expires = now.as_millis().saturating_add(lease_ms);
    let row = sqlx::query(
        "UPDATE pipeline_jobs SET status = 'running', attempts = attempts + 1, \
         lease_owner = $2, lease_expires_ms = $3, \
         started_at_ms = COALESCE(started_at_ms, $4) \
         WHERE id = $1 \
         RETURNING run_id, org_id, step, attempts, max_attempts, timeout_ms",
    )
    .bind(job_id.as_str())
    .bind(worker)
    .bind(lease_expires)
    .bind(now.as_millis())
    .fetch_one(tx.conn())
    .await?;
    let run_id: String = row.try_get("run_id")?;
    let org: String = row.try_get("org_id")?;
    sqlx::query(
        "UPDATE pipeline_runs SET status = 'running', started_at_ms = COALESCE(started_at_ms, $2) \
         WHERE id = $1 AND status = 'queued'",
    )
    .bind(run_id.as_str())
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    let run = sqlx::query(
        "SELECT params_json, created_at_ms, traceparent FROM pipeline_runs WHERE id = $1",
    )
    .bind(run_id.as_str())
    .fetch_one(tx.conn())
    .await?;
    Ok(Some(Claimed {
        job_id,
        run_id: parse_id(&run_id, "run id", RunId::parse)?,
        org: parse_id(&org, "organisation id", OrgId::parse)?,
        pipeline,
        step: row.try_get("step")?,
        attempt: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        timeout_ms: row.try_get("timeout_ms")?,
        params_json: run.try_get("params_json")?,
        run_created: Timestamp::from_millis(run.try_get("created_at_ms")?),
        traceparent: run.try_get("traceparent")?,
        lease_expires: Timestamp::from_millis(lease_expires),
    }))
}

/// Jobs whose worker vanished on their last attempt fail; those of runs being cancelled are
/// cancelled. Their runs are settled.
async fn reap_expired(conn: &mut AnyConnection, now: Timestamp) -> Result<(), StorageError> {
    let rows = sqlx::query(
        "SELECT j.id, j.run_id, r.cancel_requested FROM pipeline_jobs j \
         JOIN pipeline_runs r ON r.id = j.run_id \
         WHERE j.status = 'running' AND j.lease_expires_ms < $1 \
           AND (j.attempts >= j.max_attempts OR r.cancel_requested = 1) LIMIT 100",
    )
    .bind(now.as_millis())
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let id: String = row.try_get("id")?;
        let run_id: String = row.try_get("run_id")?;
        let cancel: i64 = row.try_get("cancel_requested")?;
        let (status, error) = if cancel != 0 {
            ("cancelled", None)
        } else {
            (
                "failed",
                Some("the worker stopped answering on the last attempt (lease expired)"),
            )
        };
        sqlx::query(
            "UPDATE pipeline_jobs SET status = $2, error = COALESCE($3, error), \
             lease_owner = NULL, lease_expires_ms = NULL, finished_at_ms = $4 WHERE id = $1",
        )
        .bind(id.as_str())
        .bind(status)
        .bind(error)
        .bind(now.as_millis())
        .execute(&mut *conn)
        .await?;
        if let Some(error) = error {
            fail_run(conn, &run_id, &id, error, now).await?;
        }
        settle_run(conn, &run_id, now).await?;
    }
    Ok(())
}

/// Renews the lease of a running job and flushes its log lines.
pub async fn heartbeat(
    tx: &mut OperatorTx,
    job_id: &str,
    worker: &str,
    now: Timestamp,
    lease_ms: i64,
    logs: &[LogLine],
) -> Result<Beat, StorageError> {
    let run: Option<String> = sqlx::query_scalar(
        "UPDATE pipeline_jobs SET lease_expires_ms = $3 \
         WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING run_id",
    )
    .bind(job_id)
    .bind(worker)
    .bind(now.as_millis().saturating_add(lease_ms))
    .fetch_optional(tx.conn())
    .await?;
    let Some(run) = run else {
        return Ok(Beat::Lost);
    };
    write_logs(tx.conn(), job_id, logs).await?;
    let cancel: i64 =
        sqlx::query_scalar("SELECT cancel_requested FROM pipeline_runs WHERE id = $1")
            .bind(run.as_str())
            .fetch_one(tx.conn())
            .await?;
    Ok(if cancel != 0 {
        Beat::Cancelled
    } else {
        Beat::Held
    })
}

async fn write_logs(
    conn: &mut AnyConnection,
    job_id: &str,
    logs: &[LogLine],
) -> Result<(), StorageError> {
    for line in logs {
        sqlx::query(
            "INSERT INTO pipeline_logs (id, org_id, run_id, step, attempt, at_ms, level, message) \
             SELECT $1, org_id, run_id, step, attempts, $3, $4, $5 FROM pipeline_jobs WHERE id = $2",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(job_id)
        .bind(line.at.as_millis())
        .bind(line.level)
        .bind(line.message.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Records a step's success with its output (JSON), releases the steps that needed it, and
/// settles the run.
pub async fn complete(
    tx: &mut OperatorTx,
    job_id: &str,
    worker: &str,
    now: Timestamp,
    output_json: &str,
    logs: &[LogLine],
) -> Result<Outcome, StorageError> {
    write_logs(tx.conn(), job_id, logs).await?;
    let run: Option<String> = sqlx::query_scalar(
        "UPDATE pipeline_jobs SET status = 'succeeded', output_json = $3, finished_at_ms = $4, \
         lease_owner = NULL, lease_expires_ms = NULL, error = NULL \
         WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING run_id",
    )
    .bind(job_id)
    .bind(worker)
    .bind(output_json)
    .bind(now.as_millis())
    .fetch_optional(tx.conn())
    .await?;
    let Some(run) = run else {
        return Ok(Outcome::LeaseLost);
    };
    sqlx::query(
        "UPDATE pipeline_jobs SET status = 'queued', not_before_ms = $2 \
         WHERE run_id = $1 AND status = 'waiting' \
           AND NOT EXISTS (SELECT 1 FROM pipeline_runs r WHERE r.id = $1 AND r.cancel_requested = 1) \
           AND NOT EXISTS (SELECT 1 FROM pipeline_job_needs n \
               JOIN pipeline_jobs d ON d.run_id = n.run_id AND d.step = n.needs_step \
               WHERE n.run_id = pipeline_jobs.run_id AND n.step = pipeline_jobs.step \
                 AND d.status <> 'succeeded')",
    )
    .bind(run.as_str())
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(Outcome::Done(settle_run(tx.conn(), &run, now).await?))
}

/// Records a failed attempt. With `retry_after_ms` and attempts left, the job is queued again
/// after that delay; otherwise it fails for good, and so does its run (with `error`), whose
/// other steps are cancelled.
pub async fn fail(
    tx: &mut OperatorTx,
    job_id: &str,
    worker: &str,
    now: Timestamp,
    error: &str,
    retry_after_ms: Option<i64>,
    logs: &[LogLine],
) -> Result<Outcome, StorageError> {
    write_logs(tx.conn(), job_id, logs).await?;
    let Some(row) = sqlx::query(
        "SELECT run_id, attempts, max_attempts FROM pipeline_jobs \
         WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
    )
    .bind(job_id)
    .bind(worker)
    .fetch_optional(tx.conn())
    .await?
    else {
        return Ok(Outcome::LeaseLost);
    };
    let run: String = row.try_get("run_id")?;
    let attempts: i64 = row.try_get("attempts")?;
    let max_attempts: i64 = row.try_get("max_attempts")?;
    let error = truncate(error, 1000);
    if let Some(delay) = retry_after_ms.filter(|_| attempts < max_attempts) {
        let at = now.as_millis().saturating_add(delay.max(0));
        sqlx::query(
            "UPDATE pipeline_jobs SET status = 'queued', not_before_ms = $2, error = $3, \
             lease_owner = NULL, lease_expires_ms = NULL WHERE id = $1",
        )
        .bind(job_id)
        .bind(at)
        .bind(error.as_str())
        .execute(tx.conn())
        .await?;
        return Ok(Outcome::Retrying(Timestamp::from_millis(at)));
    }
    sqlx::query(
        "UPDATE pipeline_jobs SET status = 'failed', error = $2, finished_at_ms = $3, \
         lease_owner = NULL, lease_expires_ms = NULL WHERE id = $1",
    )
    .bind(job_id)
    .bind(error.as_str())
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    fail_run(tx.conn(), &run, job_id, &error, now).await?;
    Ok(Outcome::Done(settle_run(tx.conn(), &run, now).await?))
}

/// Marks a run failed with its step's error and cancels its steps that have not started.
async fn fail_run(
    conn: &mut AnyConnection,
    run: &str,
    job_id: &str,
    error: &str,
    now: Timestamp,
) -> Result<(), StorageError> {
    let step: String = sqlx::query_scalar("SELECT step FROM pipeline_jobs WHERE id = $1")
        .bind(job_id)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query("UPDATE pipeline_runs SET error = $2 WHERE id = $1 AND error IS NULL")
        .bind(run)
        .bind(truncate(&format!("step {step}: {error}"), 1000))
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE pipeline_jobs SET status = 'cancelled', finished_at_ms = $2 \
         WHERE run_id = $1 AND status IN ('waiting', 'queued')",
    )
    .bind(run)
    .bind(now.as_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Derives the run's status from its jobs and records it (and its end) when it changed.
async fn settle_run(
    conn: &mut AnyConnection,
    run: &str,
    now: Timestamp,
) -> Result<RunStatus, StorageError> {
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS n FROM pipeline_jobs WHERE run_id = $1 GROUP BY status",
    )
    .bind(run)
    .fetch_all(&mut *conn)
    .await?;
    let header = sqlx::query("SELECT status, cancel_requested FROM pipeline_runs WHERE id = $1")
        .bind(run)
        .fetch_one(&mut *conn)
        .await?;
    let current = RunStatus::parse(&header.try_get::<String, _>("status")?)?;
    let cancel = header.try_get::<i64, _>("cancel_requested")? != 0;
    let (mut running, mut failed, mut succeeded, mut cancelled, mut total) = (0, 0, 0, 0, 0);
    for row in &rows {
        let n: i64 = row.try_get("n")?;
        total += n;
        match row.try_get::<String, _>("status")?.as_str() {
            "running" => running += n,
            "failed" => failed += n,
            "succeeded" => succeeded += n,
            "cancelled" => cancelled += n,
            _ => {}
        }
    }
    let next = if running > 0 {
        current
    } else if failed > 0 {
        RunStatus::Failed
    } else if cancel || cancelled > 0 {
        RunStatus::Cancelled
    } else if succeeded == total {
        RunStatus::Succeeded
    } else {
        current
    };
    if next != current && !current.is_terminal() {
        sqlx::query(
            "UPDATE pipeline_runs SET status = $2, \
             finished_at_ms = CASE WHEN $3 = 1 THEN $4 ELSE finished_at_ms END WHERE id = $1",
        )
        .bind(run)
        .bind(next.as_str())
        .bind(i64::from(next.is_terminal()))
        .bind(now.as_millis())
        .execute(&mut *conn)
        .await?;
        return Ok(next);
    }
    Ok(current)
}

/// Asks to cancel a run: steps not started are cancelled at once, running ones when their
/// worker next beats. Returns the run's status afterwards; a run that already ended is left
/// as it is.
pub async fn cancel(
    tx: &mut TenantTx,
    run: RunId,
    now: Timestamp,
) -> Result<RunStatus, StorageError> {
    let current = get(tx, run).await?;
    if current.status.is_terminal() {
        return Ok(current.status);
    }
    let org = tx.org_key();
    sqlx::query("UPDATE pipeline_runs SET cancel_requested = 1 WHERE org_id = $1 AND id = $2")
        .bind(org.as_str())
        .bind(run.to_string())
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "UPDATE pipeline_jobs SET status = 'cancelled', finished_at_ms = $3 \
         WHERE org_id = $1 AND run_id = $2 AND status IN ('waiting', 'queued')",
    )
    .bind(org.as_str())
    .bind(run.to_string())
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    settle_run(tx.conn(), &run.to_string(), now).await
}

/// A worker stopped a running step because its run was cancelled.
pub async fn acknowledge_cancel(
    tx: &mut OperatorTx,
    job_id: &str,
    worker: &str,
    now: Timestamp,
    logs: &[LogLine],
) -> Result<Outcome, StorageError> {
    write_logs(tx.conn(), job_id, logs).await?;
    let run: Option<String> = sqlx::query_scalar(
        "UPDATE pipeline_jobs SET status = 'cancelled', finished_at_ms = $3, \
         lease_owner = NULL, lease_expires_ms = NULL \
         WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING run_id",
    )
    .bind(job_id)
    .bind(worker)
    .bind(now.as_millis())
    .fetch_optional(tx.conn())
    .await?;
    match run {
        Some(run) => Ok(Outcome::Done(settle_run(tx.conn(), &run, now).await?)),
        None => Ok(Outcome::LeaseLost),
    }
}

/// The output (JSON) of a step of the same run that succeeded, for the steps that need it.
pub async fn step_output(
    tx: &mut OperatorTx,
    run: RunId,
    step: &str,
) -> Result<Option<String>, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT output_json FROM pipeline_jobs \
         WHERE run_id = $1 AND step = $2 AND status = 'succeeded'",
    )
    .bind(run.to_string())
    .bind(step)
    .fetch_optional(tx.conn())
    .await?
    .flatten())
}

/// A step that succeeded, with its run's pipeline and its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepDone {
    /// The run.
    pub run: RunId,
    /// The run's pipeline.
    pub pipeline: String,
    /// When the step finished.
    pub finished_at: Timestamp,
    /// Its output (JSON).
    pub output_json: String,
}

const STEP_DONE_SQL: &str = "SELECT j.run_id, r.pipeline, j.finished_at_ms, j.output_json \
     FROM pipeline_jobs j JOIN pipeline_runs r ON r.id = j.run_id AND r.org_id = j.org_id \
     WHERE j.org_id = $1 AND j.step = $2 AND j.status = 'succeeded' \
     AND j.output_json IS NOT NULL AND j.finished_at_ms IS NOT NULL";

fn step_done_from_row(row: &AnyRow) -> Result<StepDone, StorageError> {
    let run: String = row.try_get("run_id")?;
    Ok(StepDone {
        run: parse_id(&run, "run id", RunId::parse)?,
        pipeline: row.try_get("pipeline")?,
        finished_at: Timestamp::from_millis(row.try_get("finished_at_ms")?),
        output_json: row.try_get("output_json")?,
    })
}

/// The organisation's steps named `step` that succeeded, newest run first (at most `limit`).
pub async fn succeeded_steps(
    tx: &mut TenantTx,
    step: &str,
    limit: i64,
) -> Result<Vec<StepDone>, StorageError> {
    let sql = format!("{STEP_DONE_SQL} ORDER BY j.run_id DESC LIMIT $3");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(step)
        .bind(limit.clamp(1, 1000))
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(step_done_from_row).collect()
}

/// The step named `step` of one run of the organisation, if it succeeded.
pub async fn succeeded_step(
    tx: &mut TenantTx,
    run: RunId,
    step: &str,
) -> Result<Option<StepDone>, StorageError> {
    let sql = format!("{STEP_DONE_SQL} AND j.run_id = $3");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(step)
        .bind(run.to_string())
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(step_done_from_row).transpose()
}

/// A run of the organisation.
pub async fn get(tx: &mut TenantTx, run: RunId) -> Result<Run, StorageError> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM pipeline_runs WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(run.to_string())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StorageError::NotFound {
            entity: "pipeline run",
        })?;
    run_from_row(&row)
}

/// A run (operator function: workers and the command line waiting for a run).
pub async fn get_any(tx: &mut OperatorTx, run: RunId) -> Result<Run, StorageError> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM pipeline_runs WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(run.to_string())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StorageError::NotFound {
            entity: "pipeline run",
        })?;
    run_from_row(&row)
}

/// The organisation's runs, newest first, optionally of one pipeline.
pub async fn list(
    tx: &mut TenantTx,
    pipeline: Option<&str>,
    page: Page<RunId>,
) -> Result<Vec<Run>, StorageError> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM pipeline_runs WHERE org_id = $1 \
         AND (CAST($2 AS TEXT) IS NULL OR pipeline = $2) \
         AND (CAST($3 AS TEXT) IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(pipeline)
        .bind(page.after.map(|r| r.to_string()))
        .bind(page.capped_limit())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(run_from_row).collect()
}

/// A run's jobs, in step order of creation.
pub async fn jobs(tx: &mut TenantTx, run: RunId) -> Result<Vec<Job>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, step, status, attempts, max_attempts, not_before_ms, lease_owner, \
         output_json, error, started_at_ms, finished_at_ms FROM pipeline_jobs \
         WHERE org_id = $1 AND run_id = $2 ORDER BY created_at_ms, id",
    )
    .bind(tx.org_key())
    .bind(run.to_string())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Job {
                id: row.try_get("id")?,
                step: row.try_get("step")?,
                status: row.try_get("status")?,
                attempts: row.try_get("attempts")?,
                max_attempts: row.try_get("max_attempts")?,
                not_before: Timestamp::from_millis(row.try_get("not_before_ms")?),
                lease_owner: row.try_get("lease_owner")?,
                output_json: row.try_get("output_json")?,
                error: row.try_get("error")?,
                started_at: row
                    .try_get::<Option<i64>, _>("started_at_ms")?
                    .map(Timestamp::from_millis),
                finished_at: row
                    .try_get::<Option<i64>, _>("finished_at_ms")?
                    .map(Timestamp::from_millis),
            })
        })
        .collect()
}

/// A run's log, oldest first (at most `limit` lines).
pub async fn logs(
    tx: &mut TenantTx,
    run: RunId,
    limit: i64,
) -> Result<Vec<StoredLogLine>, StorageError> {
    let rows = sqlx::query(
        "SELECT step, attempt, at_ms, level, message FROM pipeline_logs \
         WHERE org_id = $1 AND run_id = $2 ORDER BY at_ms, id LIMIT $3",
    )
    .bind(tx.org_key())
    .bind(run.to_string())
    .bind(limit.clamp(1, 10_000))
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StoredLogLine {
                step: row.try_get("step")?,
                attempt: row.try_get("attempt")?,
                at: Timestamp::from_millis(row.try_get("at_ms")?),
                level: row.try_get("level")?,
                message: row.try_get("message")?,
            })
        })
        .collect()
}

/// Queue depth and the oldest due job's age per pipeline with unfinished jobs (operator
/// function; no organisation in the figures).
pub async fn queue_stats(
    tx: &mut OperatorTx,
    now: Timestamp,
) -> Result<Vec<QueueStat>, StorageError> {
    let rows = sqlx::query(
        "SELECT pipeline, \
           COUNT(CASE WHEN status = 'queued' AND not_before_ms <= $1 THEN 1 END) AS due, \
           COUNT(CASE WHEN status = 'waiting' OR (status = 'queued' AND not_before_ms > $1) \
                 THEN 1 END) AS pending, \
           COUNT(CASE WHEN status = 'running' THEN 1 END) AS running, \
           MIN(CASE WHEN status = 'queued' AND not_before_ms <= $1 THEN not_before_ms END) \
             AS oldest \
         FROM pipeline_jobs WHERE status IN ('waiting', 'queued', 'running') \
         GROUP BY pipeline ORDER BY pipeline",
    )
    .bind(now.as_millis())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let oldest: Option<i64> = row.try_get("oldest")?;
            Ok(QueueStat {
                pipeline: row.try_get("pipeline")?,
                due: row.try_get("due")?,
                pending: row.try_get("pending")?,
                running: row.try_get("running")?,
                oldest_due_age_ms: oldest.map_or(0, |o| (now.as_millis() - o).max(0)),
            })
        })
        .collect()
}

/// A cron schedule of a pipeline for one organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Its id.
    pub id: String,
    /// Whose.
    pub org: OrgId,
    /// The pipeline.
    pub pipeline: String,
    /// Cron expression (5 fields, or 6 with seconds).
    pub cron: String,
    /// IANA time zone the expression is read in.
    pub timezone: String,
    /// Parameters of the runs it starts.
    pub params_json: String,
    /// Whether it fires.
    pub enabled: bool,
    /// Next firing time.
    pub next_fire: Timestamp,
    /// Last firing time.
    pub last_fire: Option<Timestamp>,
    /// The run it last started.
    pub last_run: Option<String>,
}

const SCHEDULE_COLUMNS: &str = "id, org_id, pipeline, cron, timezone, params_json, enabled, \
     next_fire_ms, last_fire_ms, last_run_id";

fn schedule_from_row(row: &AnyRow) -> Result<Schedule, StorageError> {
    let org: String = row.try_get("org_id")?;
    Ok(Schedule {
        id: row.try_get("id")?,
        org: parse_id(&org, "organisation id", OrgId::parse)?,
        pipeline: row.try_get("pipeline")?,
        cron: row.try_get("cron")?,
        timezone: row.try_get("timezone")?,
        params_json: row.try_get("params_json")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        next_fire: Timestamp::from_millis(row.try_get("next_fire_ms")?),
        last_fire: row
            .try_get::<Option<i64>, _>("last_fire_ms")?
            .map(Timestamp::from_millis),
        last_run: row.try_get("last_run_id")?,
    })
}

/// Creates or replaces the organisation's schedule of `schedule.pipeline` (the caller has
/// checked the expression and computed `next_fire`).
pub async fn put_schedule(
    tx: &mut TenantTx,
    schedule: &Schedule,
    now: Timestamp,
) -> Result<Schedule, StorageError> {
    let sql = format!(
        "INSERT INTO pipeline_schedules (id, org_id, pipeline, cron, timezone, params_json, \
         enabled, next_fire_ms, created_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         ON CONFLICT (org_id, pipeline) DO UPDATE SET cron = excluded.cron, \
           timezone = excluded.timezone, params_json = excluded.params_json, \
           enabled = excluded.enabled, next_fire_ms = excluded.next_fire_ms, \
           updated_at_ms = excluded.updated_at_ms \
         RETURNING {SCHEDULE_COLUMNS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(schedule.id.as_str())
        .bind(tx.org_key())
        .bind(schedule.pipeline.as_str())
        .bind(schedule.cron.as_str())
        .bind(schedule.timezone.as_str())
        .bind(schedule.params_json.as_str())
        .bind(i64::from(schedule.enabled))
        .bind(schedule.next_fire.as_millis())
        .bind(now.as_millis())
        .fetch_one(tx.conn())
        .await?;
    schedule_from_row(&row)
}

/// The organisation's schedules.
pub async fn schedules(tx: &mut TenantTx) -> Result<Vec<Schedule>, StorageError> {
    let sql = format!(
        "SELECT {SCHEDULE_COLUMNS} FROM pipeline_schedules WHERE org_id = $1 ORDER BY pipeline"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(schedule_from_row).collect()
}

/// Removes the organisation's schedule of a pipeline.
pub async fn delete_schedule(tx: &mut TenantTx, pipeline: &str) -> Result<(), StorageError> {
    let done = sqlx::query("DELETE FROM pipeline_schedules WHERE org_id = $1 AND pipeline = $2")
        .bind(tx.org_key())
        .bind(pipeline)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound {
            entity: "pipeline schedule",
        });
    }
    Ok(())
}

/// Enabled schedules due at `now` (operator function). On PostgreSQL they stay locked for
/// this transaction and other schedulers skip them.
pub async fn due_schedules(
    tx: &mut OperatorTx,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<Schedule>, StorageError> {
    let lock = match tx.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "SELECT {SCHEDULE_COLUMNS} FROM pipeline_schedules \
         WHERE enabled = 1 AND next_fire_ms <= $1 ORDER BY next_fire_ms, id LIMIT $2 {lock}"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now.as_millis())
        .bind(limit.clamp(1, 1000))
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(schedule_from_row).collect()
}

/// Fires a due schedule: enqueues its run and moves it to `next_fire`, in the caller's
/// transaction. `None` runs leaves no run (a schedule of an unknown pipeline is disabled).
pub async fn fire_schedule(
    tx: &mut OperatorTx,
    schedule: &Schedule,
    run: Option<&NewRun<'_>>,
    next_fire: Option<Timestamp>,
    now: Timestamp,
) -> Result<Option<RunId>, StorageError> {
    let run_id = match run {
        Some(run) => Some(enqueue_on(tx.conn(), schedule.org, run, now).await?),
        None => None,
    };
    sqlx::query(
        "UPDATE pipeline_schedules SET next_fire_ms = COALESCE($2, next_fire_ms), \
         enabled = CASE WHEN $2 IS NULL THEN 0 ELSE enabled END, \
         last_fire_ms = $3, last_run_id = COALESCE($4, last_run_id), updated_at_ms = $3 \
         WHERE id = $1",
    )
    .bind(schedule.id.as_str())
    .bind(next_fire.map(Timestamp::as_millis))
    .bind(now.as_millis())
    .bind(run_id.map(|r| r.to_string()))
    .execute(tx.conn())
    .await?;
    Ok(run_id)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
