//! `mhp model`: an organisation's model versions and what their evaluation on the held-out test
//! weeks said, for a data scientist at a terminal (the same figures as the Models page).

use std::fmt::Write as _;

use anyhow::Context as _;
use mhp_domain::{ModelVersionId, OrgId, OrgScope};
use mhp_ml::{AucInterval, Evaluation};
use mhp_storage::Access;
use mhp_storage::repo::models::{self, ModelVersion};
use serde_json::Value;

use crate::Failure;
use crate::settings::{LoadNotes, Settings};

/// `mhp model ...`
#[derive(Debug, clap::Subcommand)]
pub enum ModelCommand {
    /// Every version of the organisation's models, newest first, with its stage and its
    /// evaluation on the test weeks.
    List {
        /// The organisation.
        #[arg(long, value_name = "ORG_ID")]
        org: String,
    },
    /// One version: its evaluation (overall and per group, the AUC's interval by athlete,
    /// calibration), risk bands, lineage (training run, seed, split, search) and features.
    Show {
        /// The model version's id.
        #[arg(value_name = "VERSION_ID")]
        model_version: String,
        /// The organisation.
        #[arg(long, value_name = "ORG_ID")]
        org: String,
    },
}

/// Runs `mhp model ...`.
pub async fn run(
    settings: Settings,
    notes: LoadNotes,
    command: ModelCommand,
) -> Result<(), Failure> {
    crate::logging::init(&settings.log, &notes);
    let org_text = match &command {
        ModelCommand::List { org } | ModelCommand::Show { org, .. } => org,
    };
    let org = OrgId::parse(org_text)
        .map_err(|_| Failure::Invalid("--org must be an organisation id".into()))?;
    let state = crate::serve::open_state(&settings).await?;
    let mut tx = state
        .app
        .db
        .tenant(&OrgScope::for_command_line(org), Access::Read)
        .await
        .context("cannot start a transaction")?;
    let text = match command {
        ModelCommand::List { .. } => {
            let mut versions = Vec::new();
            for name in models::names(&mut tx).await.map_err(runtime)? {
                versions.extend(models::versions(&mut tx, &name).await.map_err(runtime)?);
            }
            list(&versions)
        }
        ModelCommand::Show { model_version, .. } => {
            let id = ModelVersionId::parse(&model_version)
                .map_err(|_| Failure::Invalid("the version must be a model version id".into()))?;
            let v = models::get(&mut tx, id).await.map_err(|e| match e {
                mhp_storage::StorageError::NotFound { .. } => {
                    Failure::Invalid(format!("no model version {id} in organisation {org}"))
                }
                e => runtime(e),
            })?;
            show(&v)
        }
    };
    drop(tx);
    print!("{text}");
    Ok(())
}

fn runtime(e: impl std::fmt::Display) -> Failure {
    Failure::Runtime(anyhow::anyhow!("{e}"))
}

/// The stored evaluation and what was kept beside it.
struct Stored {
    evaluation: Option<Evaluation>,
    interval: Option<AucInterval>,
    warnings: Vec<String>,
}

fn stored(v: &ModelVersion) -> Stored {
    let json: Value = serde_json::from_str(&v.metrics_json).unwrap_or(Value::Null);
    Stored {
        evaluation: serde_json::from_value(json.clone()).ok(),
        interval: serde_json::from_value(json["roc_auc_interval"].clone()).ok(),
        warnings: json["warnings"]
            .as_array()
            .map(|w| {
                w.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn figure(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_owned(), |x| format!("{x:.3}"))
}

fn day(t: mhp_domain::Timestamp) -> String {
    mhp_domain::CalendarDate::from_unix_millis(t.as_millis()).to_string()
}

fn list(versions: &[ModelVersion]) -> String {
    let mut out = String::new();
    if versions.is_empty() {
        out.push_str("no model versions yet (train one: mhp pipeline run train-injury-risk)\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{:<36}  {:<12} {:>3}  {:<10}  {:>6}  {:<13}  {:>6}  {:>6}  {:>5}  {:>11}  {:<10}",
        "version id",
        "model",
        "#",
        "stage",
        "AUC",
        "95 % interval",
        "PR AUC",
        "Brier",
        "ECE",
        "test rows",
        "registered"
    );
    for v in versions {
        let s = stored(v);
        let overall = s.evaluation.as_ref().map(|e| &e.overall);
        let _ = writeln!(
            out,
            "{:<36}  {:<12} {:>3}  {:<10}  {:>6}  {:<13}  {:>6}  {:>6}  {:>5}  {:>11}  {:<10}",
            v.id.to_string(),
            v.model,
            v.version,
            v.stage.as_str(),
            figure(overall.and_then(|o| o.roc_auc)),
            s.interval
                .as_ref()
                .map_or_else(|| "–".to_owned(), |i| format!("{:.3}–{:.3}", i.low, i.high)),
            figure(overall.and_then(|o| o.pr_auc)),
            figure(overall.map(|o| o.brier)),
            overall.map_or_else(|| "–".to_owned(), |o| format!("{:.3}", o.calibration_error)),
            overall.map_or_else(
                || "–".to_owned(),
                |o| format!("{} ({} inj.)", o.rows, o.positives)
            ),
            day(v.created_at),
        );
    }
    out
}

fn show(v: &ModelVersion) -> String {
    let mut out = String::new();
    let s = stored(v);
    let lineage: Value = serde_json::from_str(&v.lineage_json).unwrap_or(Value::Null);
    let _ = writeln!(out, "model {} version {} ({})", v.model, v.version, v.id);
    let _ = writeln!(
        out,
        "stage: {} since {}",
        v.stage.as_str(),
        day(v.stage_changed_at)
    );
    let _ = writeln!(
        out,
        "kind: {}; registered {} by {}",
        v.kind,
        day(v.created_at),
        v.created_by
    );
    if let Some(run) = &v.training_run {
        let _ = writeln!(out, "training run: {run}");
    }
    for (label, key) in [
        ("seed", "seed"),
        ("split", "split"),
        ("dataset rows", "dataset_rows"),
        ("analysis version", "analysis_version"),
        ("code version", "code_version"),
    ] {
        match &lineage[key] {
            Value::Null => {}
            Value::String(t) => {
                let _ = writeln!(out, "{label}: {t}");
            }
            other => {
                let _ = writeln!(out, "{label}: {other}");
            }
        }
    }
    if let Some(days) = lineage["cutoff_day"].as_i64() {
        let cutoff = mhp_domain::CalendarDate::from_unix_millis(days.saturating_mul(86_400_000));
        let _ = writeln!(out, "trained on weeks before: {cutoff}");
    }
    if let Some(search) = lineage["search"].as_object() {
        let count = |k: &str| search.get(k).and_then(Value::as_array).map_or(0, Vec::len);
        let groups: Vec<&str> = search
            .get("groups")
            .and_then(Value::as_array)
            .map(|g| g.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "model search: {} candidates over {} time-ordered folds; metric groups kept: {}",
            count("candidates"),
            count("folds"),
            if groups.is_empty() {
                "none".to_owned()
            } else {
                groups.join(", ")
            }
        );
        if let Some(reason) = search.get("skipped").and_then(Value::as_str) {
            let _ = writeln!(out, "model search skipped: {reason}");
        }
    }
    if !lineage["parameters"].is_null() {
        let _ = writeln!(out, "model: {}", lineage["parameters"]);
    }
    match &s.evaluation {
        Some(e) => {
            let o = &e.overall;
            let _ = writeln!(out, "test weeks: {} rows, {} injuries", o.rows, o.positives);
            let _ = writeln!(
                out,
                "ROC AUC {}{}, PR AUC {}, Brier {:.4}, log loss {:.4}, calibration error (ECE) {:.4}",
                figure(o.roc_auc),
                s.interval.as_ref().map_or_else(String::new, |i| format!(
                    " (95 % interval by athlete {:.3}–{:.3}, {} resamples of {} athletes)",
                    i.low, i.high, i.resamples, i.clusters
                )),
                figure(o.pr_auc),
                o.brier,
                o.log_loss,
                o.calibration_error
            );
            for w in &s.warnings {
                let _ = writeln!(out, "warning: {w}");
            }
            if !o.calibration.is_empty() {
                out.push_str("calibration (predicted → observed, rows):\n");
                for b in &o.calibration {
                    let _ = writeln!(
                        out,
                        "  {:.4} → {:.4}  ({})",
                        b.mean_predicted, b.observed_rate, b.count
                    );
                }
            }
            if !e.groups.is_empty() {
                out.push_str("by group:\n");
                for g in &e.groups {
                    let _ = writeln!(
                        out,
                        "  {} = {}: {} rows, {} injuries, ROC AUC {}, Brier {:.4}",
                        g.key,
                        g.value,
                        g.metrics.rows,
                        g.metrics.positives,
                        figure(g.metrics.roc_auc),
                        g.metrics.brier
                    );
                }
            }
        }
        None => out.push_str("no evaluation stored (an imported model)\n"),
    }
    if let Some(bands) = lineage["bands"].as_object() {
        let _ = writeln!(
            out,
            "risk bands: moderate from {}, high from {}{}",
            figure(bands.get("moderate").and_then(Value::as_f64)),
            figure(bands.get("high").and_then(Value::as_f64)),
            match bands.get("rising").and_then(Value::as_bool) {
                Some(true) => ", observed injury rates rise band to band on the test weeks",
                Some(false) => ", observed rates do NOT rise band to band",
                None => "",
            }
        );
    }
    let features: Vec<String> = serde_json::from_str(&v.features_json).unwrap_or_default();
    let _ = writeln!(
        out,
        "features ({}): {}",
        features.len(),
        features.join(", ")
    );
    out
}
