//! `mhp worker` (pipeline workers without HTTP, for scaling out on PostgreSQL) and `mhp pipeline`
//! (list the catalogue, start a run, show a run).

use std::time::Duration;

use anyhow::Context as _;
use mhp_domain::pipeline::{self, Trigger};
use mhp_domain::{Clock as _, OrgId, OrgScope, RunId, SystemClock};
use mhp_storage::Access;
use mhp_storage::repo::audit::{self, AuditEvent};
use mhp_storage::repo::pipelines as queue;
use serde_json::Value;

use crate::Failure;
use crate::logging;
use crate::settings::{LoadNotes, Settings};

/// `mhp pipeline ...`
#[derive(Debug, clap::Subcommand)]
pub enum PipelineCommand {
    /// The pipelines there are, with their steps.
    List,
    /// Start a run of a pipeline for an organisation (workers pick it up).
    Run {
        /// The pipeline, e.g. train-injury-risk.
        name: String,
        /// The organisation.
        #[arg(long, value_name = "ORG_ID")]
        org: String,
        /// A parameter `key=value` (the value read as JSON when it parses, else as text);
        /// repeatable.
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
        /// Wait for the run to end; exit 1 unless it succeeded.
        #[arg(long)]
        wait: bool,
        /// With --wait, give up after this many seconds.
        #[arg(long, value_name = "S", default_value_t = 3600)]
        timeout_s: u64,
    },
    /// A run's status and its steps.
    Status {
        /// The run.
        run: String,
    },
    /// Write the de-identified feature rows a training run built, as CSV (pseudonymous
    /// subject, week, sex, sport, label, features), for tools outside MHP such as
    /// tools/ml/sklearn_compare.py.
    ExportDataset {
        /// The training run.
        run: String,
        /// Where to write (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// Write a training run's evaluation per test row, as CSV (pseudonymous subject and week
    /// as in export-dataset, label, probability, band), to study its errors outside MHP.
    ExportPredictions {
        /// The training run.
        run: String,
        /// Where to write (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
}

/// Writes an export to `out` (a private file) or standard output.
fn write_csv(csv: &str, rows: usize, out: Option<&std::path::Path>) -> Result<(), Failure> {
    match out {
        Some(path) => {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            f.write_all(csv.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("{rows} rows written to {}", path.display());
        }
        None => print!("{csv}"),
    }
    Ok(())
}

/// One step as `mhp pipeline run --wait` and `status` show it: status, attempt, time taken,
/// error.
fn step_line(j: &queue::Job) -> String {
    let took = match (j.started_at, j.finished_at) {
        (Some(s), Some(f)) => format!(
            " in {:.1} s",
            (f.as_millis() - s.as_millis()) as f64 / 1000.0
        ),
        _ => String::new(),
    };
    format!(
        "  {}: {} (attempt {}/{}){took}{}",
        j.step,
        j.status,
        j.attempts,
        j.max_attempts,
        j.error
            .as_ref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default()
    )
}

fn runtime_err(e: impl std::fmt::Display) -> Failure {
    Failure::Runtime(anyhow::anyhow!("{e}"))
}

/// `mhp worker`: runs pipeline workers and the scheduler until SIGTERM or Ctrl-C; the jobs in
/// hand get the HTTP shutdown grace to finish.
pub async fn worker(settings: Settings, notes: LoadNotes, count: u32) -> Result<(), Failure> {
    let _traces = logging::init_with_traces(&settings, &notes, "mhp-worker")?;
    settings.check_environment().map_err(Failure::Invalid)?;
    crate::serve::create_private_dir(&settings.data_dir)?;
    let state = crate::serve::open_state_for(&settings, crate::root::RootUse::Create).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = crate::serve::start_workers(&state, &settings, count.max(1), &stopped)?;
    tracing::info!(
        workers = count.max(1),
        backend = state.app.db.backend().as_str(),
        "pipeline workers running"
    );
    // /metrics: a port taken (a second worker on this machine) costs the metrics, not the
    // pipelines, and says so.
    let listen = &settings.pipelines.metrics_listen;
    if listen != "off" {
        match tokio::net::TcpListener::bind(listen).await {
            Ok(listener) => {
                let addr = listener.local_addr().context("listener address")?;
                tracing::info!(addr = %addr, "metrics listening");
                let router = mhp_server::metrics_router(state.clone());
                let mut until = stopped.clone();
                tokio::spawn(async move {
                    let _ = axum::serve(listener, router)
                        .with_graceful_shutdown(async move {
                            let _ = until.wait_for(|stop| *stop).await;
                        })
                        .await;
                });
            }
            Err(e) => tracing::error!(listen = %listen, error = %e,
                "cannot serve /metrics (set pipelines.metrics_listen to a free address, or off)"),
        }
    }
    crate::serve::shutdown_signal().await;
    crate::serve::stop_pipeline_workers(&stop, workers, settings.http_config().shutdown_grace)
        .await;
    state.app.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

fn parse_params(params: &[String]) -> Result<Value, Failure> {
    let mut map = serde_json::Map::new();
    for p in params {
        let Some((k, v)) = p.split_once('=') else {
            return Err(Failure::Invalid(format!("--param {p}: expected KEY=VALUE")));
        };
        if k.is_empty()
            || !k
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(Failure::Invalid(format!(
                "--param {k}: keys are lowercase letters, digits and _"
            )));
        }
        let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()));
        map.insert(k.to_owned(), value);
    }
    Ok(Value::Object(map))
}

pub async fn run(
    settings: Settings,
    notes: LoadNotes,
    command: PipelineCommand,
) -> Result<(), Failure> {
    logging::init(&settings.log, &notes);
    match command {
        PipelineCommand::List => {
            for p in pipeline::CATALOGUE {
                let steps: Vec<String> = p
                    .steps
                    .iter()
                    .map(|s| {
                        if s.needs.is_empty() {
                            s.name.to_owned()
                        } else {
                            format!("{} (after {})", s.name, s.needs.join(", "))
                        }
                    })
                    .collect();
                println!("{}: {}", p.name, p.description);
                println!(
                    "  steps: {}; priority {}, at most {} running",
                    steps.join(", "),
                    p.priority,
                    p.max_concurrent
                );
                if p.params.is_empty() {
                    println!("  parameters: none");
                } else {
                    println!("  parameters:");
                }
                for param in p.params {
                    println!(
                        "    {}{}: {}; {}",
                        param.name,
                        if param.required { " (required)" } else { "" },
                        param.kind.describe(),
                        param.description
                    );
                }
            }
            Ok(())
        }
        PipelineCommand::Run {
            name,
            org,
            params,
            wait,
            timeout_s,
        } => {
            let def = pipeline::pipeline(&name).ok_or_else(|| {
                let names: Vec<&str> = pipeline::CATALOGUE.iter().map(|p| p.name).collect();
                Failure::Invalid(format!(
                    "unknown pipeline {name}; there are: {}",
                    names.join(", ")
                ))
            })?;
            let org = OrgId::parse(&org)
                .map_err(|_| Failure::Invalid("--org must be an organisation id".into()))?;
            let params = match parse_params(&params)? {
                Value::Object(map) => map,
                _ => serde_json::Map::new(),
            };
            mhp_app::runs::check_params(def, &params)
                .map_err(|e| Failure::Invalid(format!("--param: {e}")))?;
            let state = crate::serve::open_state(&settings).await?;
            let known = crate::serve::organisations(&state).await?;
            if !known.iter().any(|o| o.id == org) {
                return Err(Failure::Invalid(format!("no organisation {org}")));
            }
            let scope = OrgScope::for_command_line(org);
            let run = mhp_app::runs::start(
                &state.app,
                &scope,
                &mhp_app::Caller::cli(),
                def,
                &params,
                Trigger::Cli,
            )
            .await
            .context("cannot enqueue the run")?;
            let id = run.id;
            println!("run {id} queued ({name})");
            if !wait {
                return Ok(());
            }
            let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout_s);
            // Each step's line is printed as it is first seen and again when it moves on.
            let mut shown: std::collections::HashMap<String, (String, i64)> =
                std::collections::HashMap::new();
            loop {
                let mut tx = state
                    .app
                    .db
                    .operator(Access::Read)
                    .await
                    .context("cannot start a transaction")?;
                let r = queue::get_any(&mut tx, id).await.map_err(runtime_err)?;
                drop(tx);
                let mut tx = state
                    .app
                    .db
                    .tenant(&scope, Access::Read)
                    .await
                    .context("cannot start a transaction")?;
                let jobs = queue::jobs(&mut tx, id).await.map_err(runtime_err)?;
                drop(tx);
                for j in jobs {
                    let now = (j.status.clone(), j.attempts);
                    if shown.get(&j.step) == Some(&now)
                        || (j.status == "pending" && j.attempts == 0)
                    {
                        continue;
                    }
                    println!("{}", step_line(&j));
                    shown.insert(j.step.clone(), now);
                }
                if r.status.is_terminal() {
                    println!("run {id} {}", r.status.as_str());
                    if let Some(e) = r.error {
                        println!("error: {e}");
                    }
                    state.app.db.close().await;
                    return if r.status == queue::RunStatus::Succeeded {
                        Ok(())
                    } else {
                        Err(Failure::Runtime(anyhow::anyhow!(
                            "the run ended {}",
                            r.status.as_str()
                        )))
                    };
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(Failure::Runtime(anyhow::anyhow!(
                        "run {id} still {} after {timeout_s} s",
                        r.status.as_str()
                    )));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        PipelineCommand::ExportDataset { run, out } => {
            let id = RunId::parse(&run)
                .map_err(|_| Failure::Invalid("the run must be a run id".into()))?;
            let state = crate::serve::open_state(&settings).await?;
            let mut tx = state
                .app
                .db
                .operator(Access::Read)
                .await
                .context("cannot start a transaction")?;
            let r = queue::get_any(&mut tx, id).await.map_err(runtime_err)?;
            let output = queue::step_output(&mut tx, id, "dataset")
                .await
                .map_err(runtime_err)?
                .ok_or_else(|| Failure::Invalid(format!("run {id} has built no dataset")))?;
            drop(tx);
            let output: Value = serde_json::from_str(&output).map_err(runtime_err)?;
            let key =
                mhp_storage::ObjectKey::parse(output["artifact"].as_str().unwrap_or_default())
                    .map_err(runtime_err)?;
            let bytes =
                mhp_app::artifacts::get(state.app.phi.keys(), &state.app.objects, r.org, &key)
                    .await
                    .map_err(runtime_err)?;
            let file: mhp_pipelines::risk::DatasetFile =
                serde_json::from_slice(&bytes).map_err(runtime_err)?;
            write_csv(&file.to_csv(), file.rows.len(), out.as_deref())?;
            audit_export(&state, r.org, id).await?;
            Ok(())
        }
        PipelineCommand::ExportPredictions { run, out } => {
            let id = RunId::parse(&run)
                .map_err(|_| Failure::Invalid("the run must be a run id".into()))?;
            let state = crate::serve::open_state(&settings).await?;
            let r = {
                let mut tx = state
                    .app
                    .db
                    .operator(Access::Read)
                    .await
                    .context("cannot start a transaction")?;
                queue::get_any(&mut tx, id).await.map_err(runtime_err)?
            };
            // The export is audited as the command line's, as the API audits its caller's.
            let csv = mhp_app::datasets::export_predictions_csv(
                &state.app,
                &mhp_domain::OrgScope::for_command_line(r.org),
                &mhp_app::Caller::cli(),
                id,
            )
            .await
            .map_err(|e| match e {
                mhp_app::AppError::NotFound(_) => {
                    Failure::Invalid(format!("run {id} has no evaluation with predictions"))
                }
                e => runtime_err(e),
            })?;
            let rows = csv.lines().count().saturating_sub(1);
            write_csv(&csv, rows, out.as_deref())
        }
        PipelineCommand::Status { run } => {
            let id = RunId::parse(&run)
                .map_err(|_| Failure::Invalid("the run must be a run id".into()))?;
            let state = crate::serve::open_state(&settings).await?;
            let mut tx = state
                .app
                .db
                .operator(Access::Read)
                .await
                .context("cannot start a transaction")?;
            let r = queue::get_any(&mut tx, id).await.map_err(runtime_err)?;
            drop(tx);
            println!(
                "run {id}: {} {} ({}), organisation {}",
                r.pipeline,
                r.status.as_str(),
                r.trigger.as_str(),
                r.org
            );
            if let Some(e) = &r.error {
                println!("error: {e}");
            }
            let mut tx = state
                .app
                .db
                .tenant(&OrgScope::for_command_line(r.org), Access::Read)
                .await
                .context("cannot start a transaction")?;
            for j in queue::jobs(&mut tx, id).await.map_err(runtime_err)? {
                println!("{}", step_line(&j));
            }
            Ok(())
        }
    }
}

/// The export of a de-identified dataset is recorded in the organisation's audit log.
async fn audit_export(state: &mhp_server::AppState, org: OrgId, run: RunId) -> Result<(), Failure> {
    let now = SystemClock.now();
    let mut tx = state
        .app
        .db
        .tenant(&OrgScope::for_command_line(org), Access::Write)
        .await
        .context("cannot start a transaction")?;
    audit::append(
        &mut tx,
        &AuditEvent::outside_request(
            "cli",
            "pipeline.dataset_export",
            "pipeline_run",
            Some(run.to_string()),
        ),
        now,
    )
    .await
    .context("cannot write the audit event")?;
    tx.commit().await.context("cannot commit")?;
    Ok(())
}
