//! `mhp compliance check`: the compliance self-checks of this deployment (`mhp_app::compliance`)
//! as JSON, printable HTML, OSCAL Assessment Results or AWS Security Hub findings. Each run is
//! kept in the history the API serves; `mhp serve` also runs them daily.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::ValueEnum;
use mhp_app::compliance::{self, Deployment, formats};

use crate::Failure;
use crate::logging;
use crate::settings::{LoadNotes, Settings};

/// The form of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// MHP's JSON.
    Json,
    /// A page that prints cleanly for an auditor.
    Html,
    /// NIST OSCAL 1.1 Assessment Results (JSON).
    Oscal,
    /// AWS Security Hub findings (ASFF), the input of BatchImportFindings.
    Asff,
}

/// `mhp compliance …`
#[derive(Debug, clap::Subcommand)]
pub enum ComplianceCommand {
    /// Check the deployment now against every control (HIPAA Security Rule citations, SOC 2
    /// criteria), keep the run in the history, and print the report.
    Check {
        /// The report's form.
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
        /// Write the report to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The AWS account the Security Hub findings belong to (asff).
        #[arg(long, value_name = "ID", env = "MHP_COMPLIANCE_AWS_ACCOUNT_ID")]
        aws_account_id: Option<String>,
    },
}

/// The deployment as the settings describe it, for the checks; `sinks` are the security
/// sinks' consumer names (`mhp_app::siem::Monitor::sink_names`).
pub fn deployment(settings: &Settings, sinks: &[&str]) -> Result<Deployment, Failure> {
    let pack = settings
        .security
        .rule_pack()
        .map_err(|e| Failure::Invalid(e.to_string()))?;
    let rules = pack.rules();
    let url = settings
        .resolved_database_url
        .as_ref()
        .map(|u| u.expose().clone())
        .or_else(|| settings.database.url.clone());
    let database_sslmode = url.filter(|u| u.starts_with("postgres")).map(|u| {
        u.split_once('?')
            .and_then(|(_, q)| {
                q.split('&')
                    .find_map(|kv| kv.strip_prefix("sslmode="))
                    .map(str::to_owned)
            })
            // libpq's default.
            .unwrap_or_else(|| "prefer".to_owned())
    });
    Ok(Deployment {
        environment: settings.environment.clone(),
        key_provider: settings.keys.provider.clone(),
        production_gaps: settings.production_gaps(),
        database_sslmode,
        public_url: settings.public_url(),
        audit_retention_days: settings.audit.retention_days,
        egress_private_allowed: settings.egress.allow_cidrs.clone(),
        egress_allow_http: settings.egress.allow_http,
        monitor: settings.security.monitor,
        sinks: sinks.iter().map(|s| (*s).to_owned()).collect(),
        rules_disabled: rules
            .iter()
            .filter(|r| !r.enabled)
            .map(|r| r.id.clone())
            .collect(),
        rules_total: rules.len(),
        key_backups_apart: settings
            .backup
            .keys_to
            .as_ref()
            .is_some_and(|k| Some(k) != settings.backup.to.as_ref()),
        response_headers: mhp_server::middleware::HARDENING
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
    })
}

pub async fn run(
    settings: Settings,
    notes: LoadNotes,
    command: ComplianceCommand,
) -> Result<(), Failure> {
    logging::init(&settings.log, &notes);
    let ComplianceCommand::Check {
        format,
        output,
        aws_account_id,
    } = command;
    let target = match (format, aws_account_id) {
        (Format::Asff, Some(id)) if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) => {
            Some(formats::AsffTarget {
                account_id: id,
                region: settings
                    .aws
                    .region
                    .clone()
                    .unwrap_or_else(|| "us-east-1".to_owned()),
            })
        }
        (Format::Asff, _) => {
            return Err(Failure::Invalid(
                "--format asff needs --aws-account-id: the 12-digit account the findings \
                 belong to"
                    .into(),
            ));
        }
        _ => None,
    };
    let monitor = crate::serve::security_monitor(&settings)?;
    let deployment = deployment(&settings, &monitor.sink_names())?;
    let state = crate::serve::open_state(&settings).await?;
    let checked = async {
        let report = compliance::check(&state.app, &deployment).await?;
        compliance::record(&state.app, &report).await?;
        Ok::<_, mhp_storage::StorageError>(report)
    }
    .await;
    state.app.db.close().await;
    let report = checked.context("cannot run the checks")?;
    let text = match (format, &target) {
        (Format::Json, _) => formats::json(&report),
        (Format::Html, _) => mhp_server::web::compliance_report::page(&report),
        (Format::Oscal, _) => {
            serde_json::to_string_pretty(&formats::oscal(&report)).unwrap_or_default()
        }
        (Format::Asff, Some(target)) => {
            serde_json::to_string_pretty(&formats::asff(&report, target)).unwrap_or_default()
        }
        (Format::Asff, None) => String::new(),
    };
    match output {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => println!("{text}"),
    }
    Ok(())
}
