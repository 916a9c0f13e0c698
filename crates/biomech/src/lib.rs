//! MHP biomechanics engine: reads force-plate exports and computes
//! countermovement-jump (CMJ) and balance metrics, with quality flags,
//! deterministically and with the analysis version on every result.
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
//!   `kgf` or `lbf`), `subject`, `test` (`cmj`, `balance`, `plank`),
//!   `device`. Unknown keys and other `#` lines are comments.
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
//! Horizontal forces and moments are ignored. When no column is recognised
//! as force, one unrecognised column is the total force and two are left
//! then right. With no time column the sample rate comes from a header line
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
//! ## Format detection
//!
//! [`detect_format`] is the one rule: the name's extension (`.json`; `.csv`,
//! `.tsv`, `.txt`), else the content (after a byte-order mark and blank
//! space, `{` is JSON, anything else CSV). [`parse_recording`] applies it
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
//! See [`cmj`] for the jump method and its citations, [`balance`] for sway,
//! [`flags`] for quality flags and [`segment`] for how a file is split into
//! trials.

pub mod analysis;
pub mod balance;
pub mod cmj;
pub mod error;
pub mod flags;
pub mod parse;
pub mod recording;
pub mod report;
pub mod segment;
pub mod synth;

use std::io::BufRead;

pub use analysis::analyze_recording;
pub use error::ParseError;
pub use flags::{Flag, FlagCode};
pub use parse::{
    ColumnMap, ColumnRole, DEFAULT_MAX_INPUT_BYTES, Format, MAX_PLAUSIBLE_FORCE_N, ParseOptions,
    SNIFF_BYTES, detect_format, parse_recording, to_mhp_csv,
};
pub use recording::{Plates, Recording, SampleRate, TrialKind};
pub use report::{Metrics, Report, TrialResult};

/// Version of the analysis methods, carried by every report. Bump the CMJ
/// part when a jump metric's definition or value changes, the balance part
/// likewise; results with different versions are not comparable.
pub const ANALYSIS_VERSION: &str = "cmj-1.0.0/balance-1.0.0";

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
    let recording = parse_recording(name_hint, input, opts)?;
    let mut report = analyze_recording(&recording);
    report.file = name_hint.to_owned();
    Ok(report)
}
