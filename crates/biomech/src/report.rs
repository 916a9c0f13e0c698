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

use std::collections::BTreeMap;
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
    /// Figures over several trials (limb symmetry of single-leg tests, the
    /// hops of a hop test); absent when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
}

/// Figures over several trials of one recording.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Summary {
    /// Left against right for single-leg tests: per metric, each side's
    /// mean over its analysed reps and the limb symmetry index.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub limb_symmetry: BTreeMap<&'static str, SideComparison>,
    /// The hops of a hop test.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hops: Option<HopSummary>,
}

/// One metric on each side of a single-leg test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideComparison {
    /// Mean over the left side's analysed reps.
    pub left: Option<f64>,
    /// Mean over the right side's analysed reps.
    pub right: Option<f64>,
    /// Reps analysed on the left.
    pub left_reps: usize,
    /// Reps analysed on the right.
    pub right_reps: usize,
    /// Limb symmetry index, 100 × weaker / stronger, %: 100 is symmetric
    /// (the involved/uninvolved ratio of return-to-sport testing, with the
    /// weaker side standing in for the involved one).
    pub limb_symmetry_index_pct: Option<f64>,
    /// Signed asymmetry (L − R) / max(|L|, |R|) × 100, %, positive when the
    /// left is larger (the convention of the two-leg asymmetry metrics).
    pub asymmetry_pct: Option<f64>,
}

/// The hops of a hop test (every analysed contact).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HopSummary {
    /// Analysed hops.
    pub hops: usize,
    /// Mean reactive strength index, m/s.
    pub mean_rsi: f64,
    /// Best reactive strength index, m/s.
    pub best_rsi: f64,
    /// Mean ground contact time, s.
    pub mean_contact_time_s: f64,
    /// Mean flight time, s.
    pub mean_flight_time_s: f64,
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
    /// Where the trials' kind came from: `"given"` (the caller's options
    /// or the file's `test`) or `"detected"` from the signal.
    pub kind_source: KindSource,
}

/// Where the test kind came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KindSource {
    /// The caller's options or the file's `test` metadata.
    Given,
    /// Detected from the signal.
    Detected,
}

impl RecordingSummary {
    pub(crate) fn of(recording: &Recording, kind_source: KindSource) -> Self {
        Self {
            kind_source,
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
    /// When each phase of a countermovement jump began, for drawing the force-time curve;
    /// absent for other tests and for blocked trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phases: Option<Phases>,
}

/// The phase boundaries of a countermovement jump, s from the start of the recording: the
/// unweighting phase runs from `onset_s` to `braking_s` (peak downward velocity), braking to
/// `propulsion_s` (zero velocity), propulsion to `takeoff_s`, flight to `landing_s`, landing
/// to `landing_end_s` (velocity back to zero).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Phases {
    /// Onset of movement.
    pub onset_s: f64,
    /// Start of braking (peak downward velocity).
    pub braking_s: f64,
    /// Start of propulsion (zero velocity at the lowest point).
    pub propulsion_s: f64,
    /// Take-off.
    pub takeoff_s: f64,
    /// Touch-down.
    pub landing_s: f64,
    /// End of the landing (velocity back to zero).
    pub landing_end_s: f64,
}

/// [`Phases`] as sample indices, while the analysis runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PhaseIndices {
    pub onset: usize,
    pub braking: usize,
    pub propulsion: usize,
    pub takeoff: usize,
    pub landing: usize,
    pub landing_end: usize,
}

impl PhaseIndices {
    /// In seconds, at `dt` s per sample.
    pub(crate) fn seconds(self, dt: f64) -> Phases {
        let s = |i: usize| i as f64 * dt;
        Phases {
            onset_s: s(self.onset),
            braking_s: s(self.braking),
            propulsion_s: s(self.propulsion),
            takeoff_s: s(self.takeoff),
            landing_s: s(self.landing),
            landing_end_s: s(self.landing_end),
        }
    }
}

/// Metrics of one trial, by kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Metrics {
    /// Countermovement jump.
    Cmj(Box<CmjMetrics>),
    /// Balance or plank sway.
    Balance(BalanceMetrics),
    /// One ground contact of a hop test.
    Hop(Box<crate::hops::HopMetrics>),
    /// Squat jump.
    SquatJump(Box<crate::squat_jump::SquatJumpMetrics>),
    /// Drop jump.
    DropJump(Box<crate::drop_jump::DropJumpMetrics>),
    /// Isometric mid-thigh pull.
    Imtp(Box<crate::imtp::ImtpMetrics>),
    /// Landing (stick landing).
    Landing(crate::landing::LandingMetrics),
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
        if let Some(summary) = &self.summary {
            let _ = writeln!(out, "\nsummary");
            let value = serde_json::to_value(summary).unwrap_or(Value::Null);
            render_rows(&mut out, &value);
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
    render_rows(out, &value);
}

/// Aligned `name value` rows of a JSON object's numbers (nested objects
/// as `prefix.name`).
fn render_rows(out: &mut String, value: &Value) {
    let mut rows = Vec::new();
    flatten("", value, &mut rows);
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
