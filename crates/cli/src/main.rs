//! `mhp`: the Movement Health Platform in one binary.
//!
//! Exit codes: 0 success, 1 failure while running, 2 invalid configuration or input.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod admin;
mod alert_sinks;
mod analyze;
mod audit;
mod backup_cmd;
mod cloud;
mod compliance_cmd;
mod demo;
mod healthcheck;
mod index_cmd;
mod keys_cmd;
mod logging;
mod model_cmd;
mod org_cmd;
mod pipeline_cmd;
mod reanalyze;
mod root;
mod serve;
mod settings;
mod syslog_sink;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::settings::{ConfigError, LoadNotes, Overrides, Settings};

/// mimalloc: requests allocate many small values on one thread and free them on another,
/// where it costs a fraction of glibc's allocator (docs/design/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Movement Health Platform: force-plate assessments, biomechanics, injury-risk models.
#[derive(Debug, Parser)]
#[command(name = "mhp", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

/// Flags that every command touching data takes.
#[derive(Debug, Args)]
struct Common {
    /// Directory of the embedded defaults (SQLite file, objects, master key) [env: MHP_DATA_DIR].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Settings file (TOML).
    #[arg(long, global = true, env = "MHP_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(after_help = "Examples:
  mhp serve
  mhp serve --listen 0.0.0.0:8080 --data-dir /var/lib/mhp
  DATABASE_URL=postgres://mhp@db/mhp mhp serve --config /etc/mhp/mhp.toml")]
    /// Serve the API (creates the data directory, database and master key on first start).
    Serve {
        /// Listen address [env: MHP_LISTEN].
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Analyse a force-plate recording (CSV, JSON or C3D; jumps, drop jumps, hops, IMTP, landing, balance, plank) and print every trial's metrics and flags.
    #[command(after_help = "Examples:
  mhp analyze jump.csv
  mhp analyze session.c3d --format table
  mhp analyze plate.csv --kind cmj --sample-rate 1000 --body-mass-kg 82")]
    Analyze(analyze::AnalyzeArgs),
    /// Create a realistic synthetic organisation through the API (teams, subjects, a season of
    /// jump sessions, training load, injuries from the documented hazard model).
    #[command(after_help = "Examples:
  mhp demo
  mhp demo --teams 1 --subjects-per-team 20 --weeks 8 --seed 7")]
    Demo(demo::DemoArgs),
    /// The document index (search and analytics).
    Index {
        #[command(subcommand)]
        command: IndexCommand,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Recompute stored assessments whose analysis version differs from this build's (earlier
    /// results are kept).
    Reanalyze {
        /// Only count what would be recomputed.
        #[arg(long)]
        dry_run: bool,
    },
    #[command(after_help = "Examples:
  mhp config check
  mhp config check --strict
  mhp config vars")]
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Check that a running instance is ready (for container health checks; no curl needed).
    Healthcheck {
        /// What to ask; default: /readyz on the configured listen address.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Give up after this many seconds.
        #[arg(long, value_name = "S", default_value_t = 3)]
        timeout_s: u64,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    #[command(after_help = "Examples:
  mhp backup create
  mhp backup list
  mhp backup verify BACKUP_ID
  mhp backup drill")]
    /// Backups: create, list, verify, restore, prune, and the restore drill (RTO and RPO).
    Backup {
        #[command(subcommand)]
        command: backup_cmd::BackupCommand,
    },
    /// Envelope-encryption keys: status, rotation, re-wrapping.
    Keys {
        #[command(subcommand)]
        command: keys_cmd::KeysCommand,
    },
    /// Run pipeline workers (and the scheduler) without serving HTTP: scale-out on PostgreSQL.
    Worker {
        /// Workers in this process.
        #[arg(long, value_name = "N", default_value_t = 2)]
        workers: u32,
    },
    /// Print the shell completion script for bash, zsh or fish.
    ///
    /// bash: `mhp completions bash > /etc/bash_completion.d/mhp`; zsh: into a directory on
    /// `$fpath` as `_mhp`; fish: `mhp completions fish > ~/.config/fish/completions/mhp.fish`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Compliance self-checks of this deployment (HIPAA, SOC 2): JSON, HTML, OSCAL, ASFF.
    Compliance {
        #[command(subcommand)]
        command: compliance_cmd::ComplianceCommand,
    },
    /// Organisations: moving one to another installation (export, import).
    Org {
        #[command(subcommand)]
        command: org_cmd::OrgCommand,
    },
    /// Model versions: their stage and their evaluation on the test weeks (list, show).
    Model {
        #[command(subcommand)]
        command: model_cmd::ModelCommand,
    },
    #[command(after_help = "Examples:
  mhp pipeline list
  mhp pipeline run train-injury-risk --org ORG_ID --wait
  mhp pipeline run score-all --org ORG_ID --param as_of=2026-11-30
  mhp pipeline status RUN_ID")]
    /// Pipelines: the catalogue, starting a run, a run's status.
    Pipeline {
        #[command(subcommand)]
        command: pipeline_cmd::PipelineCommand,
    },
    #[command(after_help = "Examples:
  mhp admin bootstrap --org Acme --email ops@example.org --password-stdin
  mhp admin api-key create --org ORG_ID --role device --name plate-1")]
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
enum IndexCommand {
    /// Reindex every assessment from SQL.
    Rebuild,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration, secrets redacted; exit 2 if it is invalid.
    Check {
        /// Also exit 2 on an `MHP_*` variable MHP does not read and, in production, on any
        /// setting production needs left unset (what `mhp serve` would refuse): for deployment
        /// checks.
        #[arg(long)]
        strict: bool,
    },
    /// List the environment variables MHP reads, each with the setting it sets.
    Vars,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create the first platform operator and organisation.
    Bootstrap(admin::BootstrapArgs),
    /// Create an organisation (platform operator task).
    OrgCreate {
        /// Its name.
        #[arg(long, value_name = "NAME")]
        name: String,
    },
    /// Issue or revoke API keys for devices and integrations.
    ApiKey {
        #[command(subcommand)]
        command: admin::ApiKeyCommand,
    },
    /// Look every proven single sign-on domain up in DNS again now and withdraw the proofs no
    /// longer published (`mhp serve` does it daily).
    SsoRecheck,
}

/// Why a command failed, and so its exit code.
#[derive(Debug)]
enum Failure {
    /// Invalid configuration or input: exit 2.
    Invalid(String),
    /// Failed while running: exit 1.
    Runtime(anyhow::Error),
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::Invalid(e.to_string())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Runtime(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Invalid(msg)) => {
            eprintln!("mhp: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(e)) => {
            eprintln!("mhp: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    // Analysis reads one file and touches no data directory: no settings needed.
    if let Command::Analyze(args) = &cli.command {
        return analyze::run(args);
    }
    // Nor does the list of the variables MHP reads.
    if let Command::Config {
        command: ConfigCommand::Vars,
    } = &cli.command
    {
        for (var, key) in settings::env_vars() {
            println!("{var}\t{key}");
        }
        return Ok(());
    }
    // Neither do completions: they are written from the command definitions.
    if let Command::Completions { shell } = cli.command {
        let mut command = <Cli as clap::CommandFactory>::command();
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut command, "mhp", &mut script);
        // A reader that stops early (`| head`) is not a failure.
        return match std::io::Write::write_all(&mut std::io::stdout().lock(), &script) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::Runtime(
                anyhow::anyhow!("cannot write the script: {e}"),
            )),
            _ => Ok(()),
        };
    }
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        _ => None,
    };
    let (settings, notes) = load_settings(&cli.common, listen)?;
    match cli.command {
        Command::Config {
            command: ConfigCommand::Check { strict },
        } => {
            print!("{}", settings.to_redacted_toml());
            for var in &notes.unknown_env {
                eprintln!("mhp: warning: unknown environment variable {var} ignored");
            }
            if strict {
                let mut problems: Vec<String> = notes
                    .unknown_env
                    .iter()
                    .map(|var| format!("{var} is not a variable MHP reads (mhp config vars)"))
                    .collect();
                problems.extend(settings.production_gaps());
                if !problems.is_empty() {
                    return Err(Failure::Invalid(format!(
                        "the configuration is not complete:\n  - {}",
                        problems.join("\n  - ")
                    )));
                }
            }
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Vars,
        } => Ok(()),
        Command::Serve { .. } => runtime()?.block_on(serve::run(settings, notes)),
        Command::Analyze(args) => analyze::run(&args),
        Command::Completions { .. } => Ok(()),
        Command::Migrate => runtime()?.block_on(admin::migrate(settings, notes)),
        Command::Demo(args) => runtime()?.block_on(demo::run(settings, notes, args)),
        Command::Index {
            command: IndexCommand::Rebuild,
        } => runtime()?.block_on(index_cmd::rebuild(settings, notes)),
        Command::Reanalyze { dry_run } => {
            runtime()?.block_on(reanalyze::run(settings, notes, dry_run))
        }
        Command::Audit { command } => runtime()?.block_on(audit::run(settings, notes, command)),
        Command::Keys { command } => runtime()?.block_on(keys_cmd::run(settings, notes, command)),
        Command::Backup { command } => {
            runtime()?.block_on(backup_cmd::run(settings, notes, command))
        }
        Command::Worker { workers } => {
            runtime()?.block_on(pipeline_cmd::worker(settings, notes, workers))
        }
        Command::Compliance { command } => {
            runtime()?.block_on(compliance_cmd::run(settings, notes, command))
        }
        Command::Org { command } => runtime()?.block_on(org_cmd::run(settings, notes, command)),
        Command::Model { command } => runtime()?.block_on(model_cmd::run(settings, notes, command)),
        Command::Pipeline { command } => {
            runtime()?.block_on(pipeline_cmd::run(settings, notes, command))
        }
        Command::Healthcheck { url, timeout_s } => healthcheck::run(
            &settings,
            url.as_deref(),
            std::time::Duration::from_secs(timeout_s.max(1)),
        ),
        Command::Admin {
            command: AdminCommand::Bootstrap(args),
        } => runtime()?.block_on(admin::bootstrap(settings, notes, args)),
        Command::Admin {
            command: AdminCommand::OrgCreate { name },
        } => runtime()?.block_on(admin::org_create(settings, notes, &name)),
        Command::Admin {
            command: AdminCommand::ApiKey { command },
        } => runtime()?.block_on(admin::api_key(settings, notes, command)),
        Command::Admin {
            command: AdminCommand::SsoRecheck,
        } => runtime()?.block_on(admin::sso_recheck(settings, notes)),
    }
}

fn load_settings(
    common: &Common,
    listen: Option<String>,
) -> Result<(Settings, LoadNotes), ConfigError> {
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    Settings::load(
        common.config.as_deref(),
        &env,
        &Overrides {
            data_dir: common.data_dir.clone(),
            listen,
        },
    )
}

/// This machine's host name (`mhp` when it cannot be read): lease holders, log streams and
/// syslog messages name the instance by it.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "mhp".to_owned())
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(e.into()))
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser as _};

    use super::Cli;

    /// Every example in a command's help is a command line that parses (the environment
    /// variables before it and the placeholders in capitals aside, which are values).
    #[test]
    fn every_example_in_the_help_parses() {
        let mut seen = 0;
        let root = Cli::command();
        let mut stack = vec![root];
        while let Some(cmd) = stack.pop() {
            if let Some(help) = cmd.get_after_help() {
                for line in help.to_string().lines() {
                    // The command line from the word `mhp` on (after any VAR=value).
                    let words: Vec<&str> = line
                        .split_whitespace()
                        .skip_while(|w| *w != "mhp")
                        .collect();
                    if words.is_empty() {
                        continue;
                    }
                    if let Err(e) = Cli::try_parse_from(&words) {
                        panic!("the example `{}` does not parse: {e}", line.trim());
                    }
                    seen += 1;
                }
            }
            stack.extend(cmd.get_subcommands().cloned());
        }
        assert!(seen >= 20, "{seen} examples");
    }
}
