//! Pipeline parameters, checked where a run is asked for (the API, a schedule, the command
//! line) against what the pipeline declares (`mhp_domain::pipeline::ParamDef`): an unknown
//! name, a value of the wrong type or out of range, or a missing required one is refused with
//! a message naming the accepted parameters, instead of being ignored by the steps.

use mhp_domain::pipeline::{ParamKind, PipelineDef};
use mhp_domain::{CalendarDate, SubjectId};
use serde_json::{Map, Value};

use crate::AppError;

/// Checks a run's parameters against its pipeline's declaration.
///
/// # Errors
/// [`AppError::Invalid`] (`invalid-params`) naming the parameter and what the pipeline
/// accepts; the refused value is never echoed.
pub fn check_params(def: &PipelineDef, params: &Map<String, Value>) -> Result<(), AppError> {
    let refuse = |why: String| {
        AppError::invalid(
            "invalid-params",
            format!("{why}; {} accepts: {}", def.name, def.accepted_params()),
        )
    };
    for (name, value) in params {
        let Some(p) = def.param(name) else {
            // Names are shown only when they look like parameter names (no content echoed).
            let shown = if name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                format!("unknown parameter {name}")
            } else {
                "an unknown parameter".to_owned()
            };
            return Err(refuse(shown));
        };
        if !value_fits(p.kind, value) {
            return Err(refuse(format!(
                "parameter {name} must be {}",
                p.kind.describe()
            )));
        }
    }
    if let Some(p) = def
        .params
        .iter()
        .find(|p| p.required && !params.contains_key(p.name))
    {
        return Err(refuse(format!("parameter {} is required", p.name)));
    }
    Ok(())
}

fn value_fits(kind: ParamKind, value: &Value) -> bool {
    match kind {
        ParamKind::Date => value
            .as_str()
            .is_some_and(|s| CalendarDate::parse(s).is_ok()),
        ParamKind::SubjectId => value.as_str().is_some_and(|s| SubjectId::parse(s).is_ok()),
        ParamKind::Number { .. } | ParamKind::Integer { .. } => {
            value.as_f64().is_some_and(|x| kind.number_in_range(x))
        }
        ParamKind::ModelConfig => {
            value.is_object()
                && serde_json::from_value::<mhp_ml::ModelConfig>(value.clone())
                    .is_ok_and(|c| c.validate().is_ok())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use mhp_domain::pipeline::{SCORE_SUBJECT, TRAIN, pipeline};
    use serde_json::json;

    fn check(name: &str, v: Value) -> Result<(), String> {
        let def = pipeline(name).unwrap();
        check_params(def, v.as_object().unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn declared_parameters_pass_and_others_are_refused_naming_the_accepted() {
        check(
            TRAIN,
            json!({
                "as_of": "2026-03-01", "season_start": "2025-09-01", "train_fraction": 0.6,
                "test_from": "2026-01-05", "seed": 7, "tolerance": 0.02,
                "gate_min_positives": 5,
                "model": { "model": "logistic", "l2": 1.0, "max_iter": 100, "tol": 1e-8 },
            }),
        )
        .unwrap();
        let e = check(TRAIN, json!({ "test_form": "2026-01-05" })).unwrap_err();
        assert!(e.contains("unknown parameter test_form"), "{e}");
        assert!(e.contains("test_from (a date YYYY-MM-DD)"), "{e}");
        assert!(e.contains("train_fraction (a number in (0, 1))"), "{e}");
        for (bad, why) in [
            (
                json!({ "train_fraction": 1.0 }),
                "train_fraction must be a number in (0, 1)",
            ),
            (json!({ "train_fraction": "0.5" }), "train_fraction must be"),
            (json!({ "as_of": "2026-02-30" }), "as_of must be a date"),
            (json!({ "seed": 1.5 }), "seed must be a whole number"),
            (json!({ "seed": -1 }), "seed must be a whole number"),
            (
                json!({ "tolerance": 0.6 }),
                "tolerance must be a number in [0, 0.5]",
            ),
            (
                json!({ "model": "logistic" }),
                "model must be a model configuration",
            ),
            (json!({ "model": { "model": "forest" } }), "model must be"),
            (json!({ "Bad Name!": 1 }), "an unknown parameter;"),
        ] {
            let e = check(TRAIN, bad).unwrap_err();
            assert!(e.contains(why), "{e} lacks {why}");
            assert!(e.starts_with("invalid-params"), "{e}");
        }
        let e = check(SCORE_SUBJECT, json!({})).unwrap_err();
        assert!(e.contains("parameter subject is required"), "{e}");
        check(
            SCORE_SUBJECT,
            json!({ "subject": mhp_domain::SubjectId::new().to_string() }),
        )
        .unwrap();
    }
}
