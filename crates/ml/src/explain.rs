//! Explanations by group, in plain words.
//!
//! A model's per-feature contributions ([`Model::contributions`]) are summed by reason: jump
//! height's level, a metric's change from the subject's own baseline, an asymmetry (its level
//! and change together: one side against the other), the training load, the injury history
//! ([`FeatureGroup`]s). Correlated features of one reason (the latest and the mean of three
//! jumps) add up instead of pulling against each other, and each reason is said in words from
//! the row's values: "jump height 8 % below own baseline", "load this week 1.6 × the last
//! month's".

use serde::{Deserialize, Serialize};

use crate::features::{FeatureGroup, GroupKind, ROLLING};
use crate::{MlError, Model};

/// One reason for a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// The reason's name: a group's (`load`, `jump_height_impulse_m:change`), or a signed
    /// metric's for its level and change together (`asymmetry.propulsive_impulse_pct`).
    pub group: String,
    /// Its share of the log-odds against the model's baseline (the sum of its features').
    pub contribution: f64,
    /// In plain words, from the row's values.
    pub text: String,
    /// The feature that speaks for it (the one the words read).
    pub feature: String,
    /// That feature's value (`None`: missing).
    pub value: Option<f64>,
}

/// The `k` reasons that moved the row's log-odds most (by absolute value, largest first; zero
/// ones left out). `names` are the model's features with the row's values; `groups` say which
/// feature belongs to which reason (features in no group are their own reason).
///
/// # Errors
/// As [`Model::contributions`].
pub fn reasons(
    model: &Model,
    row: &[f64],
    groups: &[FeatureGroup],
    k: usize,
) -> Result<Vec<Reason>, MlError> {
    let names = model.feature_names();
    let contributions = model.contributions(row)?;
    // (reason key, kind, features (index), sum)
    let mut out: Vec<(String, Option<&GroupKind>, Vec<usize>, f64)> = Vec::new();
    for (j, c) in contributions {
        let name = &names[j];
        let group = groups.iter().find(|g| g.features.contains(name));
        let key = match group {
            Some(g) => reason_key(g),
            None => name.clone(),
        };
        match out.iter_mut().find(|r| r.0 == key) {
            Some(r) => {
                r.2.push(j);
                r.3 += c;
            }
            None => out.push((key, group.map(|g| &g.kind), vec![j], c)),
        }
    }
    out.retain(|r| r.3 != 0.0);
    out.sort_by(|a, b| b.3.abs().total_cmp(&a.3.abs()).then(a.0.cmp(&b.0)));
    out.truncate(k);
    Ok(out
        .into_iter()
        .map(|(group, kind, features, contribution)| {
            let value_of = |suffix: &str| {
                features
                    .iter()
                    .find(|&&j| names[j].ends_with(suffix))
                    .map(|&j| (names[j].clone(), row[j]))
            };
            let (feature, value, text) = words(kind, &group, &value_of, &features, names, row);
            Reason {
                group,
                contribution,
                text,
                feature,
                value: value.filter(|v| !v.is_nan()),
            }
        })
        .collect())
}

/// A signed metric's level and change are one reason (an asymmetry); other groups their own.
fn reason_key(g: &FeatureGroup) -> String {
    match &g.kind {
        GroupKind::Level { metric } | GroupKind::Change { metric }
            if metric.starts_with("asymmetry") =>
        {
            metric.clone()
        }
        _ => g.name.clone(),
    }
}

/// "jump height" for `jump_height_impulse_m`, "asymmetry of propulsive impulse" for
/// `asymmetry.propulsive_impulse_pct`: the name without its unit, in words.
pub fn metric_words(metric: &str) -> String {
    let (asym, rest) = match metric.strip_prefix("asymmetry.") {
        Some(r) => (true, r),
        None => (false, metric),
    };
    if rest.starts_with("jump_height") {
        return "jump height".into();
    }
    let mut parts: Vec<&str> = rest.split('_').collect();
    while parts.len() > 1
        && matches!(
            parts.last().copied(),
            Some("m" | "pct" | "n" | "s" | "kg" | "w" | "bw" | "per" | "au")
        )
    {
        parts.pop();
    }
    let words = parts.join(" ");
    if asym {
        if words == "asymmetry" || words.is_empty() {
            "asymmetry".into()
        } else {
            format!("asymmetry of {words}")
        }
    } else {
        words
    }
}

fn fmt(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

type Said = (String, Option<f64>, String);

fn words(
    kind: Option<&GroupKind>,
    key: &str,
    value_of: &dyn Fn(&str) -> Option<(String, f64)>,
    features: &[usize],
    names: &[String],
    row: &[f64],
) -> Said {
    let first = || {
        let j = features[0];
        (names[j].clone(), Some(row[j]))
    };
    let missing =
        |what: String, f: (String, Option<f64>)| (f.0, f.1, format!("{what}: not measured"));
    match kind {
        Some(GroupKind::Level { metric }) if metric.starts_with("asymmetry") => {
            asymmetry(metric, value_of)
        }
        Some(GroupKind::Change { metric }) if metric.starts_with("asymmetry") => {
            asymmetry(metric, value_of)
        }
        Some(GroupKind::Level { metric }) => {
            let what = metric_words(metric);
            match value_of("_latest").or_else(|| value_of(&format!("_mean{ROLLING}"))) {
                Some((f, v)) if !v.is_nan() => (f, Some(v), format!("{what} {}", fmt(v))),
                _ => missing(what, first()),
            }
        }
        Some(GroupKind::Change { metric }) => {
            let what = metric_words(metric);
            match value_of("_change_from_baseline") {
                Some((f, v)) if !v.is_nan() => {
                    let side = if v < 0.0 { "below" } else { "above" };
                    (
                        f,
                        Some(v),
                        format!("{what} {:.0} % {side} own baseline", v.abs()),
                    )
                }
                _ => missing(format!("{what} against own baseline"), first()),
            }
        }
        Some(GroupKind::Load) => match (value_of("acwr"), value_of("load_acute_7d")) {
            (Some((f, r)), _) if !r.is_nan() => (
                f,
                Some(r),
                format!("load this week {r:.1} × the last month's"),
            ),
            (_, Some((f, a))) if !a.is_nan() => (
                f,
                Some(a),
                format!("load this week {a:.0} AU (too little history for a ratio)"),
            ),
            _ => missing("training load".into(), first()),
        },
        Some(GroupKind::InjuryHistory) => {
            let recent = value_of("recent_injury");
            let previous = value_of("previous_injuries");
            match (recent, previous) {
                (Some((f, r)), _) if r >= 0.5 => (
                    f,
                    Some(r),
                    "back from a time-loss injury within the last 8 weeks".into(),
                ),
                (_, Some((f, n))) if n >= 1.0 => {
                    (f, Some(n), format!("{n:.0} earlier time-loss injuries"))
                }
                (_, Some((f, n))) => (f, Some(n), "no earlier time-loss injury".into()),
                _ => {
                    let (f, v) = first();
                    (f, v, "no recent time-loss injury".into())
                }
            }
        }
        None => {
            let (f, v) = first();
            let text = match v {
                Some(x) if !x.is_nan() => format!("{key} {}", fmt(x)),
                _ => format!("{key}: not measured"),
            };
            (f, v, text)
        }
    }
}

fn asymmetry(metric: &str, value_of: &dyn Fn(&str) -> Option<(String, f64)>) -> Said {
    let what = metric_words(metric);
    let level = value_of("_abs").or_else(|| value_of("_latest").map(|(f, v)| (f, v.abs())));
    let change = value_of("_change_from_baseline");
    match (level, change) {
        (Some((f, v)), Some((_, c))) if !v.is_nan() && !c.is_nan() => (
            f,
            Some(v),
            format!(
                "{what} {v:.0} % ({:.0} points {} own baseline)",
                c.abs(),
                if c < 0.0 { "below" } else { "above" }
            ),
        ),
        (Some((f, v)), _) if !v.is_nan() => (f, Some(v), format!("{what} {v:.0} %")),
        (_, Some((f, c))) if !c.is_nan() => (
            f,
            Some(c),
            format!(
                "{what} {:.0} points {} own baseline",
                c.abs(),
                if c < 0.0 { "below" } else { "above" }
            ),
        ),
        (l, c) => {
            let (f, v) = l.or(c).unwrap_or_else(|| (metric.to_owned(), f64::NAN));
            (f, Some(v), format!("{what}: not measured"))
        }
    }
}
