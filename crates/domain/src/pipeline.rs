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

/// A pipeline: a graph of steps, its priority and how many of its jobs may run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

impl PipelineDef {
    /// The step called `name`.
    pub fn step(&self, name: &str) -> Option<&'static StepDef> {
        self.steps.iter().find(|s| s.name == name)
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
