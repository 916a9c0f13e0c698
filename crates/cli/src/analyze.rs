//! `mhp analyze FILE`: the biomechanics engine on one force-plate export,
//! without a server or a database.
//!
//! Output goes to stdout (JSON, the stable contract other tools read, or a
//! table for people); a file that cannot be read or parsed exits 2 with
//! `FILE:LINE: reason` on stderr, so editors and CI logs can jump to it.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use mhp_biomech::{ParseOptions, TrialKind, analyze_bytes};

use crate::Failure;

/// How `mhp analyze` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The JSON contract: file, analysis_version, trials[index, kind, flags, metrics].
    Json,
    /// An aligned table per trial, for reading in a terminal.
    Table,
}

/// What the file holds, when its metadata does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum KindArg {
    /// Countermovement jumps.
    Cmj,
    /// Quiet standing balance, single or double leg.
    Balance,
    /// A plank hold on the plate.
    Plank,
    /// Squat jumps (from a held squat, no countermovement).
    SquatJump,
    /// Drop jumps from a box (give --box-height-m when known).
    DropJump,
    /// A countermovement jump with rebound, or repeated hops.
    RepeatedHops,
    /// Single-leg countermovement jumps.
    SingleLegCmj,
    /// Single-leg hops.
    SingleLegHop,
    /// Isometric mid-thigh pull.
    Imtp,
    /// Landings (peak force, time to stabilisation).
    Landing,
}

impl From<KindArg> for TrialKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Cmj => TrialKind::Cmj,
            KindArg::Balance => TrialKind::Balance,
            KindArg::Plank => TrialKind::Plank,
            KindArg::SquatJump => TrialKind::SquatJump,
            KindArg::DropJump => TrialKind::DropJump,
            KindArg::RepeatedHops => TrialKind::RepeatedHops,
            KindArg::SingleLegCmj => TrialKind::SingleLegCmj,
            KindArg::SingleLegHop => TrialKind::SingleLegHop,
            KindArg::Imtp => TrialKind::Imtp,
            KindArg::Landing => TrialKind::Landing,
        }
    }
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The export to analyse: MHP's CSV or JSON form, or another system's
    /// delimited export; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub format: OutputFormat,
    /// Sample rate in Hz, for files without a time column or rate header
    /// (overrides the file's own).
    #[arg(long, value_name = "HZ")]
    pub sample_rate: Option<f64>,
    /// The test the file records, when its metadata does not say (default: detected from the
    /// signal, flagged when in doubt).
    #[arg(long, value_enum, value_name = "KIND")]
    pub kind: Option<KindArg>,
    /// The athlete's body mass from a recent weigh-in, used when the recording has no quiet
    /// standing to weigh them (flagged).
    #[arg(long, value_name = "KG")]
    pub body_mass_kg: Option<f64>,
    /// The box height of drop jumps.
    #[arg(long, value_name = "M")]
    pub box_height_m: Option<f64>,
    /// The columns of a CSV file whose header MHP does not recognise, by position:
    /// `time_s,force`, `time_ms,left,right,cop_x,cop_y` (roles: time_s, time_ms, force, left,
    /// right, cop_x, cop_y, cell1-cell4, left_cell1-left_cell4, right_cell1-right_cell4,
    /// ignore).
    #[arg(long, value_name = "ROLES")]
    pub columns: Option<String>,
}

pub fn run(args: &AnalyzeArgs) -> Result<(), Failure> {
    let shown = args.file.display().to_string();
    let mut opts = ParseOptions::default();
    if let Some(hz) = args.sample_rate {
        opts = opts.with_sample_rate(hz);
    }
    if let Some(kind) = args.kind {
        opts = opts.with_kind(kind.into());
    }
    if let Some(kg) = args.body_mass_kg {
        opts = opts.with_body_mass_kg(kg);
    }
    if let Some(m) = args.box_height_m {
        opts = opts.with_box_height_m(m);
    }
    if let Some(columns) = args.columns.as_deref() {
        let map = mhp_biomech::ColumnMap::parse(columns)
            .map_err(|e| Failure::Invalid(format!("--columns: {e}")))?;
        opts = opts.with_columns(map);
    }
    let result = if shown == "-" {
        analyze_bytes("stdin", std::io::stdin().lock(), &opts)
    } else {
        let file = File::open(&args.file)
            .map_err(|e| Failure::Invalid(format!("{shown}: cannot open: {e}")))?;
        let name = args
            .file
            .file_name()
            .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
        analyze_bytes(&name, BufReader::new(file), &opts)
    };
    let report = result.map_err(|e| match e.line() {
        Some(line) => Failure::Invalid(format!("{shown}:{line}: {}", e.detail())),
        None => Failure::Invalid(format!("{shown}: {}", e.detail())),
    })?;
    let text = match args.format {
        OutputFormat::Json => {
            let mut s = serde_json::to_string_pretty(&report.to_json())
                .map_err(|e| Failure::Runtime(e.into()))?;
            s.push('\n');
            s
        }
        OutputFormat::Table => report.render_table(),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("writing the report: {e}")))
}
