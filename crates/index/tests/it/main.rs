//! Index tests: the embedded backend on a real SQLite file, the OpenSearch backend against an
//! in-process stand-in (OpenSearch cannot run on the build machine).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod embedded;
mod opensearch;

use std::collections::BTreeMap;

use mhp_domain::{AssessmentId, OrgId, SubjectId, TeamId};
use mhp_index::AssessmentDoc;

/// Monday 2024-01-01 00:00 UTC.
pub const MONDAY: i64 = 1_704_067_200_000;
pub const DAY: i64 = 86_400_000;
pub const WEEK: i64 = 7 * DAY;

/// A document with the given essentials and nothing else.
pub fn doc(org: OrgId, subject: SubjectId, recorded_at_ms: i64) -> AssessmentDoc {
    AssessmentDoc {
        org,
        id: AssessmentId::new(),
        subject,
        pseudonym: "P-0001".into(),
        teams: Vec::new(),
        recorded_at_ms,
        kind: "cmj".into(),
        analysis_version: "biomech-1.0.0".into(),
        flags: Vec::new(),
        tags: Vec::new(),
        metrics: BTreeMap::new(),
    }
}

/// A fully populated document.
pub fn full_doc(org: OrgId, team: TeamId) -> AssessmentDoc {
    AssessmentDoc {
        org,
        id: AssessmentId::new(),
        subject: SubjectId::new(),
        pseudonym: "Falcon-17".into(),
        teams: vec![team, TeamId::new()],
        recorded_at_ms: MONDAY + 3 * DAY + 12_345,
        kind: "cmj".into(),
        analysis_version: "biomech-1.2.0".into(),
        flags: vec!["double_bounce".into()],
        tags: vec!["preseason".into(), "baseline".into()],
        metrics: metrics(&[
            ("jump_height_impulse_m", 0.3125),
            ("asymmetry.propulsive_impulse_pct", -4.1),
            ("rsi_modified", 0.1 + 0.2),
        ]),
    }
}

pub fn metrics(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// Asserts two floats agree to 1e-9.
#[track_caller]
pub fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "{actual} is not {expected}"
    );
}
