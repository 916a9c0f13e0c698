//! The analysis report: a stable JSON contract and a table for people.
//!
//! ```text
//! {"file": "...", "analysis_version": "...",
//!  "recording": {"format": "csv", "sample_rate_hz": 1000.0, "samples": 10000,
//!                "duration_s": 10.0, "plates": "dual", "centre_of_pressure": false},
//!  "trials": [{"index": 0, "kind": "cmj", "start_s": 0.0, "end_s": 10.0,
//!              "flags": [{"code": "double_bounce", "blocking": false, "message": "..."}],
//!              "metrics": {"body_mass_kg": 80.1, "jump_height_impulse_m": 0.352, ...,
//!                          "asymmetry": {"propulsive_impulse_pct": 4.2, ...}}}]}
//! ```
//!
//! `metrics` is `null` when a blocking flag is set; `asymmetry` is `null`
//! for a single plate. Numbers are rounded to 6 decimals so that the output
//! does not depend on the last bits of a platform's maths library. No
//! subject identifier appears in a report.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::balance::BalanceMetrics;
use crate::cmj::CmjMetrics;
use crate::flags::Flag;
use crate::parse::Format;
use crate::recording::{Recording, TrialKind};

/// Decimals kept in JSON numbers.
const JSON_DECIMALS: i32 = 6;

/// The result of analysing one recording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The file name, set by the caller.
    pub file: String,
    /// [`crate::ANALYSIS_VERSION`] at the time of analysis.
    pub analysis_version: String,
    /// What was analysed.
    pub recording: RecordingSummary,
    /// One entry per trial, in time order.
    pub trials: Vec<TrialResult>,
}

/// A summary of the recording (no PHI).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordingSummary {
    /// The format the file was read in (`"csv"` or `"json"`, as
    /// [`crate::detect_format`] decided or [`crate::ParseOptions::format`]
    /// fixed); `null` for a recording analysed from memory.
    pub format: Option<Format>,
    /// Sample rate, Hz.
    pub sample_rate_hz: f64,
    /// Number of samples.
    pub samples: usize,
    /// Duration, s.
    pub duration_s: f64,
    /// `"single"` or `"dual"`.
    pub plates: &'static str,
    /// Whether centre-of-pressure data was present.
    pub centre_of_pressure: bool,
}

impl RecordingSummary {
    pub(crate) fn of(recording: &Recording) -> Self {
        Self {
            format: recording.metadata.format,
            sample_rate_hz: recording.sample_rate.hz(),
            samples: recording.len(),
            duration_s: recording.duration_s(),
            plates: recording.plates.code(),
            centre_of_pressure: recording.cop.is_some(),
        }
    }
}

/// One trial's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrialResult {
    /// 0-based position in the recording.
    pub index: usize,
    /// What was analysed.
    pub kind: TrialKind,
    /// Start of the trial in the recording, s.
    pub start_s: f64,
    /// End of the trial in the recording, s.
    pub end_s: f64,
    /// Quality flags, sorted by code.
    pub flags: Vec<Flag>,
    /// Metrics, or `None` when a blocking flag is set.
    pub metrics: Option<Metrics>,
}

/// Metrics of one trial, by kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Metrics {
    /// Countermovement jump.
    Cmj(Box<CmjMetrics>),
    /// Balance or plank sway.
    Balance(BalanceMetrics),
}

impl Report {
    /// The report as JSON (the stable contract above).
    pub fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        round_numbers(&mut value);
        value
    }

    /// A plain-text table of every trial's flags and metrics.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(out, "file: {}", self.file);
        let _ = writeln!(out, "analysis version: {}", self.analysis_version);
        let r = &self.recording;
        let _ = writeln!(
            out,
            "recording: {} plate, {} Hz, {} samples, {:.2} s",
            r.plates, r.sample_rate_hz, r.samples, r.duration_s
        );
        for trial in &self.trials {
            render_trial(&mut out, trial);
        }
        out
    }
}

fn render_trial(out: &mut String, trial: &TrialResult) {
    let _ = writeln!(
        out,
        "\ntrial {} ({}) {:.3}-{:.3} s",
        trial.index,
        trial.kind.code(),
        trial.start_s,
        trial.end_s
    );
    for flag in &trial.flags {
        let severity = if flag.blocking { "BLOCKING" } else { "warning" };
        let _ = writeln!(out, "  {severity} {}: {}", flag.code.as_str(), flag.message);
    }
    let Some(metrics) = &trial.metrics else {
        let _ = writeln!(out, "  no metrics");
        return;
    };
    let value = serde_json::to_value(metrics).unwrap_or(Value::Null);
    let mut rows = Vec::new();
    flatten("", &value, &mut rows);
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (name, text) in rows {
        let _ = writeln!(out, "  {name:<width$}  {text:>14}");
    }
}

/// Flattens nested metric objects into `prefix.name` rows.
fn flatten(prefix: &str, value: &Value, rows: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&name, v, rows);
            }
        }
        Value::Number(n) => {
            let text = n
                .as_f64()
                .map_or_else(|| n.to_string(), |x| format!("{x:.4}"));
            rows.push((prefix.to_owned(), text));
        }
        Value::Null => rows.push((prefix.to_owned(), "-".to_owned())),
        other => rows.push((prefix.to_owned(), other.to_string())),
    }
}

/// Rounds every float in a JSON tree to [`JSON_DECIMALS`] decimals.
fn round_numbers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(x) = n.as_f64() {
                let scale = 10f64.powi(JSON_DECIMALS);
                let rounded = (x * scale).round() / scale;
                // -0.0 prints as "-0.0"; normalise it.
                let rounded = if rounded == 0.0 { 0.0 } else { rounded };
                if let Some(r) = serde_json::Number::from_f64(rounded) {
                    *n = r;
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(round_numbers),
        Value::Object(map) => map.values_mut().for_each(round_numbers),
        _ => {}
    }
}
