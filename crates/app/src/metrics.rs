//! Figures of the work done in this process that Prometheus reads through `/metrics`: pipeline
//! steps and runs by outcome, and scoring latency. Process-wide tallies, like the process and
//! authentication figures, because a worker records them wherever it runs (in `mhp serve` or in
//! `mhp worker`). Labels are pipeline and step names from the catalogue and fixed outcome
//! words: bounded sets that never hold an id or a value from a request.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// A Prometheus histogram: cumulative counts under fixed upper bounds, a count and a sum.
#[derive(Debug, Clone)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    /// An empty histogram with these upper bounds (seconds, ascending).
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len()],
            count: 0,
            sum: 0.0,
        }
    }

    /// Records one observation.
    pub fn observe(&mut self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        for (count, bound) in self.counts.iter_mut().zip(self.bounds) {
            if secs <= *bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Writes the `_bucket`, `_sum` and `_count` lines of `name` with `labels` (already
    /// formatted as `key="value",…`, or empty).
    pub fn write(&self, out: &mut String, name: &str, labels: &str) -> std::fmt::Result {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {count}")?;
        }
        writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        )?;
        let braces = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("{{{s}}}")
            }
        };
        writeln!(out, "{name}_sum{} {}", braces(labels), self.sum)?;
        writeln!(out, "{name}_count{} {}", braces(labels), self.count)
    }
}

/// Upper bounds for a pipeline step's duration: from a score (tens of milliseconds) to a
/// training run (minutes).
pub const STEP_BUCKETS: [f64; 12] = [
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// Upper bounds for scoring latency, from an upload's commit to its score stored.
pub const SCORING_BUCKETS: [f64; 11] =
    [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

/// How one attempt of a step ended, as the worker recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StepOutcome {
    /// It succeeded.
    Succeeded,
    /// It failed and will be tried again.
    Retrying,
    /// It failed for good.
    Failed,
    /// Its run was cancelled while it ran.
    Cancelled,
    /// It timed out, panicked, or its lease was lost (another worker has the job).
    Abandoned,
}

impl StepOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Abandoned => "abandoned",
        }
    }
}

#[derive(Debug, Default)]
struct Tally {
    steps: BTreeMap<(String, String, StepOutcome), Histogram>,
    runs: BTreeMap<(String, &'static str), u64>,
    scoring: Option<Histogram>,
}

/// The pipelines' figures of this process.
#[derive(Debug, Default)]
pub struct PipelineFigures {
    tally: Mutex<Tally>,
}

/// The process's pipeline figures.
pub static PIPELINES: PipelineFigures = PipelineFigures {
    tally: Mutex::new(Tally {
        steps: BTreeMap::new(),
        runs: BTreeMap::new(),
        scoring: None,
    }),
};

impl PipelineFigures {
    fn with<R>(&self, f: impl FnOnce(&mut Tally) -> R) -> Option<R> {
        let mut guard = self.tally.lock().ok()?;
        Some(f(&mut guard))
    }

    /// Records one attempt of `pipeline`'s `step`: how long it ran and how it ended.
    pub fn step(&self, pipeline: &str, step: &str, outcome: StepOutcome, elapsed: Duration) {
        self.with(|t| {
            t.steps
                .entry((pipeline.to_owned(), step.to_owned(), outcome))
                .or_insert_with(|| Histogram::new(&STEP_BUCKETS))
                .observe(elapsed);
        });
    }

    /// Records a run of `pipeline` that ended in `status` (`succeeded`, `failed`, `cancelled`).
    pub fn run_finished(&self, pipeline: &str, status: &'static str) {
        self.with(|t| *t.runs.entry((pipeline.to_owned(), status)).or_default() += 1);
    }

    /// Records the time from an upload's commit to its score stored.
    pub fn scored(&self, latency: Duration) {
        self.with(|t| {
            t.scoring
                .get_or_insert_with(|| Histogram::new(&SCORING_BUCKETS))
                .observe(latency);
        });
    }

    /// Writes the step histograms, run counters and the scoring histogram.
    pub fn write(&self, out: &mut String) -> std::fmt::Result {
        let Some(result) = self.with(|t| write_tally(t, out)) else {
            return Ok(());
        };
        result
    }
}

fn write_tally(t: &Tally, out: &mut String) -> std::fmt::Result {
    writeln!(
        out,
        "# HELP mhp_pipeline_step_duration_seconds Time an attempt of a pipeline step ran, \
         by how it ended."
    )?;
    writeln!(out, "# TYPE mhp_pipeline_step_duration_seconds histogram")?;
    for ((pipeline, step, outcome), h) in &t.steps {
        let labels = format!(
            "pipeline=\"{pipeline}\",step=\"{step}\",outcome=\"{}\"",
            outcome.as_str()
        );
        h.write(out, "mhp_pipeline_step_duration_seconds", &labels)?;
    }
    writeln!(
        out,
        "# HELP mhp_pipeline_runs_finished_total Pipeline runs this process finished, by outcome."
    )?;
    writeln!(out, "# TYPE mhp_pipeline_runs_finished_total counter")?;
    for ((pipeline, status), n) in &t.runs {
        writeln!(
            out,
            "mhp_pipeline_runs_finished_total{{pipeline=\"{pipeline}\",status=\"{status}\"}} {n}"
        )?;
    }
    writeln!(
        out,
        "# HELP mhp_scoring_latency_seconds Time from an upload's commit to its risk score \
         stored (the upload's score-subject run)."
    )?;
    writeln!(out, "# TYPE mhp_scoring_latency_seconds histogram")?;
    let empty = Histogram::new(&SCORING_BUCKETS);
    t.scoring
        .as_ref()
        .unwrap_or(&empty)
        .write(out, "mhp_scoring_latency_seconds", "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_sum_seconds() {
        let mut h = Histogram::new(&[0.1, 1.0]);
        h.observe(Duration::from_millis(50));
        h.observe(Duration::from_millis(500));
        h.observe(Duration::from_secs(3));
        let mut out = String::new();
        h.write(&mut out, "x_seconds", "a=\"b\"").unwrap();
        assert_eq!(
            out,
            "x_seconds_bucket{a=\"b\",le=\"0.1\"} 1\n\
             x_seconds_bucket{a=\"b\",le=\"1\"} 2\n\
             x_seconds_bucket{a=\"b\",le=\"+Inf\"} 3\n\
             x_seconds_sum{a=\"b\"} 3.55\n\
             x_seconds_count{a=\"b\"} 3\n"
        );
        let mut bare = String::new();
        h.write(&mut bare, "y", "").unwrap();
        assert!(bare.starts_with("y_bucket{le=\"0.1\"} 1\n"), "{bare}");
        assert!(bare.contains("\ny_count 3\n"), "{bare}");
    }

    #[test]
    fn figures_are_labelled_by_pipeline_step_and_outcome() {
        let figures = PipelineFigures::default();
        figures.step("p", "s", StepOutcome::Succeeded, Duration::from_millis(20));
        figures.step("p", "s", StepOutcome::Retrying, Duration::from_secs(2));
        figures.run_finished("p", "succeeded");
        figures.run_finished("p", "succeeded");
        figures.scored(Duration::from_millis(300));
        let mut out = String::new();
        figures.write(&mut out).unwrap();
        assert!(out.contains(
            "mhp_pipeline_step_duration_seconds_count{pipeline=\"p\",step=\"s\",outcome=\"succeeded\"} 1\n"
        ));
        assert!(out.contains(
            "mhp_pipeline_step_duration_seconds_bucket{pipeline=\"p\",step=\"s\",outcome=\"retrying\",le=\"1\"} 0\n"
        ));
        assert!(
            out.contains(
                "mhp_pipeline_runs_finished_total{pipeline=\"p\",status=\"succeeded\"} 2\n"
            )
        );
        assert!(out.contains("mhp_scoring_latency_seconds_bucket{le=\"0.5\"} 1\n"));
        assert!(out.contains("mhp_scoring_latency_seconds_bucket{le=\"0.25\"} 0\n"));
    }
}
