//! The demo organisation's published data as the feature builder's input: one de-identified
//! history per subject (planned jump height and asymmetry, session-RPE load, time-loss
//! injuries cleared after their time loss). Shared by the tests and `examples/demo_truth.rs`.

use mhp_demo::DemoOrg;
use mhp_ml::features::{FeatureSpec, History, InjurySpan, Observation};

/// Jump height and asymmetry (in points), injuries within the next week.
pub fn feature_spec() -> FeatureSpec {
    FeatureSpec {
        metrics: vec!["jump_height_m".into(), "asymmetry_pct".into()],
        points: vec!["asymmetry_pct".into()],
        horizon_days: 7,
    }
}

/// One history per subject, indexed like `org.subjects`.
pub fn histories(org: &DemoOrg) -> Vec<History> {
    let mut histories: Vec<History> = vec![History::default(); org.subjects.len()];
    for a in &org.assessments {
        histories[a.subject].observations.push(Observation {
            day: a.recorded_at_ms.div_euclid(86_400_000),
            metrics: [
                ("jump_height_m".to_owned(), a.jump_height_m),
                ("asymmetry_pct".to_owned(), a.asymmetry_pct),
            ]
            .into(),
        });
    }
    for l in &org.loads {
        histories[l.subject]
            .loads
            .push((l.day, f64::from(l.load_au())));
    }
    for i in &org.injuries {
        histories[i.subject].injuries.push(InjurySpan {
            occurred_day: i.occurred_day,
            cleared_day: Some(i.occurred_day + i64::from(i.time_loss_days)),
        });
    }
    histories
}
