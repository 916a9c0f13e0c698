//! The pipeline catalogue: which pipelines exist and the graph of their steps. Pure data, so
//! the server and the command line can enqueue a run (storage writes one job per step) while
//! only the workers (`mhp-pipelines`) know how to run a step.

use std::fmt;

/// One step of a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepDef {
    /// Its name, unique within the pipeline: lowercase letters, digits and `-`.
    pub name: &'static str,
    /// Steps of the same pipeline that must succeed before this one may start.
    pub needs: &'static [&'static str],
    /// Longest an attempt may run before it is stopped and counted as failed.
    pub timeout_s: u32,
    /// Most attempts, the first included (a lost lease counts as one).
    pub max_attempts: u32,
}

/// The type and range of a pipeline parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamKind {
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A number in `[min, max]`, or `(min, max)` when `exclusive`.
    Number {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
        /// Whether the bounds themselves are refused.
        exclusive: bool,
    },
    /// A whole number in `[min, max]`.
    Integer {
        /// Lower bound.
        min: i64,
        /// Upper bound.
        max: i64,
    },
    /// A subject id (UUID).
    SubjectId,
    /// A model configuration: a JSON object such as `{"model": "logistic", "l2": 1.0,
    /// "max_iter": 100, "tol": 1e-8}`.
    ModelConfig,
}

impl ParamKind {
    /// What a value must be, for people: `a date YYYY-MM-DD`, `a number in (0, 1)`, ….
    pub fn describe(&self) -> String {
        match *self {
            Self::Date => "a date YYYY-MM-DD".into(),
            Self::Number {
                min,
                max,
                exclusive: true,
            } => format!("a number in ({min}, {max})"),
            Self::Number { min, max, .. } => format!("a number in [{min}, {max}]"),
            Self::Integer { min, max } => format!("a whole number from {min} to {max}"),
            Self::SubjectId => "a subject id".into(),
            Self::ModelConfig => "a model configuration (JSON object)".into(),
        }
    }

    /// Whether a number is in range (for [`ParamKind::Number`] and [`ParamKind::Integer`]).
    pub fn number_in_range(&self, x: f64) -> bool {
        match *self {
            Self::Number {
                min,
                max,
                exclusive,
            } => {
                x.is_finite()
                    && if exclusive {
                        x > min && x < max
                    } else {
                        x >= min && x <= max
                    }
            }
            #[allow(clippy::cast_precision_loss)]
            Self::Integer { min, max } => x.fract() == 0.0 && x >= min as f64 && x <= max as f64,
            _ => false,
        }
    }
}

/// A parameter a pipeline accepts: anything else is refused when a run is started or
/// scheduled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamDef {
    /// Its name: lowercase letters, digits and `_`.
    pub name: &'static str,
    /// Its type and range.
    pub kind: ParamKind,
    /// Whether a run must give it.
    pub required: bool,
    /// What it does and its default, for people.
    pub description: &'static str,
}

/// A pipeline: a graph of steps, its priority and how many of its jobs may run at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PipelineDef {
    /// Its name: lowercase letters, digits and `-`.
    pub name: &'static str,
    /// What it does, for people.
    pub description: &'static str,
    /// The steps; a step appears after every step it needs.
    pub steps: &'static [StepDef],
    /// Higher runs first when workers are busy.
    pub priority: i32,
    /// Most jobs of this pipeline running at once, over every worker.
    pub max_concurrent: u32,
    /// The parameters it accepts.
    pub params: &'static [ParamDef],
}

impl PipelineDef {
    /// The step called `name`.
    pub fn step(&self, name: &str) -> Option<&'static StepDef> {
        self.steps.iter().find(|s| s.name == name)
    }

    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&'static ParamDef> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The accepted parameters as one line: `as_of (a date YYYY-MM-DD), …`, or `none`.
    pub fn accepted_params(&self) -> String {
        if self.params.is_empty() {
            return "none".into();
        }
        self.params
            .iter()
            .map(|p| format!("{} ({})", p.name, p.kind.describe()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Checks the graph: names well formed and unique, every need an earlier step.
    ///
    /// # Errors
    /// A description of the first problem found.
    pub fn validate(&self) -> Result<(), CatalogueError> {
        let bad = |why: String| Err(CatalogueError(format!("pipeline {}: {why}", self.name)));
        if !is_name(self.name) {
            return bad("malformed name".into());
        }
        if self.steps.is_empty() {
            return bad("no steps".into());
        }
        if self.max_concurrent == 0 {
            return bad("max_concurrent must be at least 1".into());
        }
        for (i, p) in self.params.iter().enumerate() {
            let well_formed = !p.name.is_empty()
                && p.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !well_formed || self.params[..i].iter().any(|q| q.name == p.name) {
                return bad(format!("parameter {i}: malformed or repeated name"));
            }
        }
        for (i, step) in self.steps.iter().enumerate() {
            if !is_name(step.name) {
                return bad(format!("step {i}: malformed name"));
            }
            if self.steps[..i].iter().any(|s| s.name == step.name) {
                return bad(format!("step {} appears twice", step.name));
            }
            if step.timeout_s == 0 || !(1..=100).contains(&step.max_attempts) {
                return bad(format!(
                    "step {}: timeout or attempts out of range",
                    step.name
                ));
            }
            for need in step.needs {
                if !self.steps[..i].iter().any(|s| s.name == *need) {
                    return bad(format!(
                        "step {} needs {need}, not an earlier step",
                        step.name
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A pipeline definition that breaks the catalogue's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueError(pub String);

impl fmt::Display for CatalogueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CatalogueError {}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// A cron schedule fired.
    Schedule,
    /// A request to the API.
    Api,
    /// `mhp pipeline run`.
    Cli,
    /// Something happened (a new assessment).
    Event,
}

impl Trigger {
    /// As stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Api => "api",
            Self::Cli => "cli",
            Self::Event => "event",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Schedule, Self::Api, Self::Cli, Self::Event]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// `as_of`: the day the data is read as of.
const AS_OF: ParamDef = ParamDef {
    name: "as_of",
    kind: ParamKind::Date,
    required: false,
    description: "read the data as of this day (default: today, UTC)",
};

/// The parameters of `train-injury-risk`.
pub const TRAIN_PARAMS: &[ParamDef] = &[
    AS_OF,
    ParamDef {
        name: "season_start",
        kind: ParamKind::Date,
        required: false,
        description: "count the weeks from this day, before a subject's first test too \
                      (default: from each subject's first test)",
    },
    ParamDef {
        name: "train_fraction",
        kind: ParamKind::Number {
            min: 0.0,
            max: 1.0,
            exclusive: true,
        },
        required: false,
        description: "share of the weeks, oldest first, trained on; the rest are the test \
                      (default 0.7; not with test_from)",
    },
    ParamDef {
        name: "test_from",
        kind: ParamKind::Date,
        required: false,
        description: "first day of the test period: weeks before it are trained on \
                      (instead of train_fraction)",
    },
    ParamDef {
        name: "model",
        kind: ParamKind::ModelConfig,
        required: false,
        description: "the model to train (default: chosen by a time-ordered search over \
                      logistic regression and boosting within the training weeks)",
    },
    ParamDef {
        name: "seed",
        kind: ParamKind::Integer {
            min: 0,
            max: 9_007_199_254_740_991,
        },
        required: false,
        description: "seed of the model's random choices (row subsampling), recorded in the \
                      lineage (default: the model configuration's, 0)",
    },
    ParamDef {
        name: "tolerance",
        kind: ParamKind::Number {
            min: 0.0,
            max: 0.5,
            exclusive: false,
        },
        required: false,
        description: "promote without a person when the candidate's AUC is at most this much \
                      below production's on the same rows (default 0.01)",
    },
    ParamDef {
        name: "gate_min_positives",
        kind: ParamKind::Integer {
            min: 1,
            max: 1_000_000,
        },
        required: false,
        description: "fewest injuries among the rows after both models' training cut-offs for \
                      the gate to compare them; fewer, and a person decides (default 20)",
    },
];

/// Trains the injury-risk model on the organisation's de-identified data, evaluates it on
/// later weeks, registers it as a candidate and applies the promotion gate.
pub const TRAIN: &str = "train-injury-risk";
/// Scores every active subject with the production model (nightly).
pub const SCORE_ALL: &str = "score-all";
/// Scores one subject after a new assessment (real time).
pub const SCORE_SUBJECT: &str = "score-subject";

/// The registry name of the injury-risk model the pipelines train and score with.
pub const RISK_MODEL: &str = "injury-risk";

/// Every pipeline the platform runs.
pub const CATALOGUE: &[PipelineDef] = &[
    PipelineDef {
        name: TRAIN,
        description: "Build the de-identified feature dataset, train the injury-risk model, \
                      evaluate it on later weeks (overall and per sex and sport), register it \
                      and apply the promotion gate.",
        steps: &[
            StepDef {
                name: "dataset",
                needs: &[],
                timeout_s: 1800,
                max_attempts: 3,
            },
            StepDef {
                name: "train",
                needs: &["dataset"],
                timeout_s: 3600,
                max_attempts: 3,
            },
            StepDef {
                name: "evaluate",
                needs: &["train"],
                timeout_s: 1800,
                max_attempts: 3,
            },
            StepDef {
                name: "register",
                needs: &["evaluate"],
                timeout_s: 300,
                max_attempts: 5,
            },
        ],
        priority: 0,
        max_concurrent: 2,
        params: TRAIN_PARAMS,
    },
    PipelineDef {
        name: SCORE_ALL,
        description: "Score every active subject with the production model.",
        steps: &[StepDef {
            name: "score",
            needs: &[],
            timeout_s: 1800,
            max_attempts: 3,
        }],
        priority: 5,
        max_concurrent: 2,
        params: &[AS_OF],
    },
    PipelineDef {
        name: SCORE_SUBJECT,
        description: "Score one subject after a new assessment.",
        steps: &[StepDef {
            name: "score",
            needs: &[],
            timeout_s: 120,
            max_attempts: 5,
        }],
        priority: 10,
        max_concurrent: 16,
        params: &[
            ParamDef {
                name: "subject",
                kind: ParamKind::SubjectId,
                required: true,
                description: "the subject to score",
            },
            AS_OF,
        ],
    },
];

/// The catalogue's pipeline called `name`.
pub fn pipeline(name: &str) -> Option<&'static PipelineDef> {
    CATALOGUE.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_is_well_formed() {
        for p in CATALOGUE {
            assert_eq!(p.validate(), Ok(()));
        }
        assert_eq!(pipeline(TRAIN).map(|p| p.steps.len()), Some(4));
        assert!(pipeline("nope").is_none());
    }

    #[test]
    fn broken_graphs_are_named() {
        const LOOP: PipelineDef = PipelineDef {
            name: "x",
            description: "",
            steps: &[StepDef {
                name: "a",
                needs: &["b"],
                timeout_s: 1,
                max_attempts: 1,
            }],
            priority: 0,
            max_concurrent: 1,
            params: &[],
        };
        let e = LOOP.validate().unwrap_err();
        assert!(e.0.contains("needs b"), "{e}");
        let upper = PipelineDef { name: "X", ..LOOP };
        assert!(upper.validate().unwrap_err().0.contains("malformed"));
    }

    #[test]
    fn triggers_round_trip() {
        for t in [
            Trigger::Schedule,
            Trigger::Api,
            Trigger::Cli,
            Trigger::Event,
        ] {
            assert_eq!(Trigger::parse(t.as_str()), Some(t));
        }
        assert_eq!(Trigger::parse("cron"), None);
    }
}
