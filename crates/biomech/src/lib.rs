//! MHP biomechanics engine: reads force-plate exports (CSV, JSON, C3D) and
//! computes the metrics of countermovement jumps (every rep of a multi-rep
//! recording), squat jumps, drop jumps, repeated hops, single-leg jumps and
//! hops, isometric mid-thigh pulls, landings, balance and plank holds, with
//! quality flags, deterministically and with the analysis version on every
//! result.
//!
//! Pure: no I/O beyond the reader the caller passes, no async, no globals.
//!
//! # Use
//!
//! ```
//! use mhp_biomech::{ParseOptions, analyze_bytes};
//!
//! let csv = mhp_biomech::to_mhp_csv(&mhp_biomech::synth::cmj(&Default::default())?.recording);
//! let report = analyze_bytes("jump.csv", csv.as_bytes(), &ParseOptions::default())?;
//! assert_eq!(report.trials.len(), 1);
//! println!("{}", report.to_json());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Input formats
//!
//! ## MHP's CSV form
//!
//! ```text
//! # sample_rate_hz: 1000
//! # units: N
//! # subject: S-0042
//! # test: cmj
//! # device: plate-7
//! time_s,fz_left_n,fz_right_n,cop_x_m,cop_y_m
//! 0.000,401.2,398.7,0.0012,-0.0031
//! 0.001,401.0,398.9,0.0012,-0.0030
//! ```
//!
//! * Optional `# key: value` lines first: `sample_rate_hz`, `units` (`N`,
//!   `kgf` or `lbf`), `subject`, `test` (a [`TrialKind`] code such as `cmj`,
//!   `drop_jump` or `single_leg_cmj_left`), `device`, `body_mass_kg`.
//!   Unknown keys and other `#` lines are comments.
//! * A header row: `time_s,fz_n` (single plate) or
//!   `time_s,fz_left_n,fz_right_n` (dual plate); force columns end in
//!   `_kgf`/`_lbf` when so declared; `cop_x_m,cop_y_m` (x medial-lateral,
//!   y anterior-posterior, metres) are optional.
//! * One row per sample. Forces are converted to newtons.
//! * The sample rate comes from `sample_rate_hz` or from the time column; if
//!   both are present they must agree within 1 %.
//!
//! ## Other systems' exports
//!
//! Tab, semicolon or comma separated (detected from the header row), with
//! decimal commas when the delimiter is not a comma, a UTF-8 byte-order
//! mark, CRLF line ends, quoted fields, and metadata lines such as
//! `Sample Rate: 1000 Hz` or `Units;kgf` before the header. Columns are
//! recognised by the words in their names: `time`/`t` (`ms` for
//! milliseconds), `fz`/`force`/`z` with `left`/`l` or `right`/`r`, `cop`
//! with `x`/`ml` or `y`/`ap` (`mm`, `cm` scale), units `N`/`kgf`/`lbf`.
//! Horizontal forces and moments are ignored. A plate's four load cells
//! (`fz1`…`fz4`, `Left Fz1`…`Right Fz4`) sum to its force. A vendor's block
//! of metadata lines above the header is skipped (the header is the last
//! line before the data), and a row of units under it is read. When no
//! column is recognised as force, the file is refused unless a
//! [`ColumnMap`] says which column is which. With no time column the sample
//! rate comes from a header line
//! or [`ParseOptions::sample_rate_hz`] (the CLI's `--sample-rate`); without
//! either, parsing fails with [`ParseError::MissingSampleRate`]. A file of
//! bare numbers in one column is accepted as force.
//!
//! ## JSON
//!
//! ```json
//! { "sample_rate_hz": 1000, "units": "N", "test": "cmj", "subject": "S-0042",
//!   "channels": { "fz_left": [401.2, 401.0], "fz_right": [398.7, 398.9],
//!                 "cop_x": [0.0012, 0.0012], "cop_y": [-0.0031, -0.0030] } }
//! ```
//!
//! `fz` replaces `fz_left`/`fz_right` for a single plate; all but
//! `channels` are optional.
//!
//! ## C3D
//!
//! Force-plate channels of a C3D file (plate types 1–4; Intel, DEC and MIPS
//! processors; integer or float data): one plate, or two as left and right.
//! See `parse/c3d.rs` and `docs/design/biomechanics.md`.
//!
//! ## Format detection
//!
//! [`detect_format`] is the one rule: the name's extension (`.json`; `.c3d`;
//! `.csv`, `.tsv`, `.txt`), else the content (a C3D header is C3D; after a
//! byte-order mark and blank space, `{` is JSON, anything else CSV). [`parse_recording`] applies it
//! unless [`ParseOptions::format`] is set, and the report says what was read
//! (`recording.format`).
//!
//! ## Limits and errors
//!
//! Input larger than [`ParseOptions::max_input_bytes`] (default 256 MiB)
//! is refused with [`ParseError::TooLarge`]. A file without one usable force
//! sample (all missing, infinite, or beyond ±[`MAX_PLAUSIBLE_FORCE_N`],
//! 100 kN) is refused with [`ParseError::NoUsableForce`]; a file with only
//! some such samples is read and its trials flagged. Errors carry the line
//! ([`ParseError::line`]) and column name where relevant, never a sample
//! value or the subject.
//!
//! # Analysis
//!
//! See [`cmj`] for the jump method and its citations, [`weighing`] for how
//! each rep is weighed, [`squat_jump`], [`drop_jump`], [`hops`], [`imtp`],
//! [`landing`] and [`balance`] for the other tests, [`detect`] for how a
//! kind nobody gave is detected, [`flags`] for quality flags and
//! [`segment`] for how a file is split into stretches, flights and reps.
//! [`AnalysisOptions`] (or [`ParseOptions::with_body_mass_kg`]) carries the
//! athlete's weigh-in, used only when the recording cannot weigh them.

pub mod analysis;
pub mod balance;
pub mod cmj;
pub mod detect;
pub mod drop_jump;
pub mod error;
pub mod flags;
pub mod hops;
pub mod imtp;
pub mod landing;
pub mod parse;
pub mod recording;
pub mod report;
pub mod segment;
mod signal;
pub mod squat_jump;
pub mod synth;
pub mod weighing;

use std::io::BufRead;

pub use analysis::{AnalysisOptions, analyze_recording, analyze_recording_with};
pub use error::ParseError;
pub use flags::{Flag, FlagCode};
pub use parse::{
    ColumnMap, ColumnMapError, ColumnRole, DEFAULT_MAX_INPUT_BYTES, Format, MAX_PLAUSIBLE_FORCE_N,
    ParseOptions, SNIFF_BYTES, detect_format, parse_recording, to_mhp_csv,
};
pub use recording::{Plates, Recording, SampleRate, Side, TrialKind};
pub use report::{KindSource, Metrics, Phases, Report, Summary, TrialResult};
pub use weighing::WeighingSource;

/// Version of the analysis methods, carried by every report: one part per
/// family of tests. Bump a part when one of its metrics' definition or
/// value changes; results with different versions are not comparable.
///
/// `cmj-1.1.0`: every rep of a multi-rep recording with its own onset,
/// weighing fallbacks, block-based weighing windows. `balance-1.2.0`: the
/// unloaded threshold from 50 ms block means (stretch ends may move by a
/// sample); centre of pressure read from C3D and combined from two plates'
/// own (recordings stored without one are analysed again). The other parts are the first versions of their tests.
pub const ANALYSIS_VERSION: &str =
    "cmj-1.1.0/balance-1.2.0/squat_jump-1.0.0/drop_jump-1.0.0/hops-1.0.0/imtp-1.0.0/landing-1.0.0";

/// Parses and analyses one file: the command line's and the server's entry
/// point. `name_hint` (the file name) becomes the report's `file`; the
/// format is [`detect_format`]'s (extension, else content) unless
/// [`ParseOptions::format`] fixes it, and is reported in
/// `report.recording.format`.
pub fn analyze_bytes(
    name_hint: &str,
    input: impl BufRead,
    opts: &ParseOptions,
) -> Result<Report, ParseError> {
    if let Some(kg) = opts.body_mass_kg
        && !(kg.is_finite() && (10.0..=400.0).contains(&kg))
    {
        return Err(ParseError::InvalidOption {
            option: "body_mass_kg",
            range: "10..=400 kg",
        });
    }
    if let Some(m) = opts.box_height_m
        && !(m.is_finite() && (0.0..=3.0).contains(&m))
    {
        return Err(ParseError::InvalidOption {
            option: "box_height_m",
            range: "0..=3 m",
        });
    }
    let recording = parse_recording(name_hint, input, opts)?;
    let mut report = analyze_recording_with(&recording, &opts.analysis_options());
    report.file = name_hint.to_owned();
    Ok(report)
}
