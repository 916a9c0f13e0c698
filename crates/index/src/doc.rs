//! The stored form of a document (JSON, the same in both backends) and the checks a document or
//! a query must pass before it reaches a backend.

use std::collections::BTreeMap;

use mhp_domain::{AssessmentId, OrgId, SubjectId, TeamId};
use serde::{Deserialize, Serialize};

use crate::{AssessmentDoc, IndexError, Query};

/// Longest metric name accepted.
const MAX_METRIC_NAME: usize = 100;
/// Longest kind, flag, tag, pseudonym or analysis version accepted.
const MAX_LABEL: usize = 200;

/// A document as JSON: the embedded backend's `body` column and OpenSearch's `_source`.
/// `recorded_at` is epoch milliseconds (OpenSearch maps it as a `date` in `epoch_millis`).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Body {
    pub org: String,
    pub id: String,
    pub subject: String,
    pub pseudonym: String,
    pub teams: Vec<String>,
    pub recorded_at: i64,
    pub kind: String,
    pub analysis_version: String,
    pub flags: Vec<String>,
    pub tags: Vec<String>,
    /// Empty in the embedded backend's `body`, which keeps metrics in a table of their own.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
}

impl Body {
    pub fn from_doc(doc: &AssessmentDoc) -> Self {
        Self {
            org: doc.org.to_string(),
            id: doc.id.to_string(),
            subject: doc.subject.to_string(),
            pseudonym: doc.pseudonym.clone(),
            teams: doc.teams.iter().map(ToString::to_string).collect(),
            recorded_at: doc.recorded_at_ms,
            kind: doc.kind.clone(),
            analysis_version: doc.analysis_version.clone(),
            flags: doc.flags.clone(),
            tags: doc.tags.clone(),
            metrics: doc.metrics.clone(),
        }
    }

    /// Back to a document, refusing one of another organisation than `org`.
    pub fn into_doc(self, org: OrgId) -> Result<AssessmentDoc, IndexError> {
        let doc_org = OrgId::parse(&self.org).map_err(|_| IndexError::Corrupt)?;
        if doc_org != org {
            return Err(IndexError::TenantMismatch);
        }
        let teams = self
            .teams
            .iter()
            .map(|t| TeamId::parse(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| IndexError::Corrupt)?;
        Ok(AssessmentDoc {
            org: doc_org,
            id: AssessmentId::parse(&self.id).map_err(|_| IndexError::Corrupt)?,
            subject: SubjectId::parse(&self.subject).map_err(|_| IndexError::Corrupt)?,
            pseudonym: self.pseudonym,
            teams,
            recorded_at_ms: self.recorded_at,
            kind: self.kind,
            analysis_version: self.analysis_version,
            flags: self.flags,
            tags: self.tags,
            metrics: self.metrics,
        })
    }
}

/// Checks every document of a batch; the error names the first bad one by position.
pub(crate) fn validate_docs(docs: &[AssessmentDoc]) -> Result<(), IndexError> {
    for (position, doc) in docs.iter().enumerate() {
        validate_doc(doc).map_err(|problem| IndexError::InvalidDocument { position, problem })?;
    }
    Ok(())
}

fn validate_doc(doc: &AssessmentDoc) -> Result<(), &'static str> {
    let labels = [&doc.pseudonym, &doc.kind, &doc.analysis_version];
    if labels.iter().any(|l| l.len() > MAX_LABEL) {
        return Err("a text field is too long");
    }
    if doc.flags.iter().chain(&doc.tags).any(|l| !valid_label(l)) {
        return Err("a flag or tag is empty or too long");
    }
    for (name, value) in &doc.metrics {
        if !valid_metric_name(name) {
            return Err("a metric name is not valid");
        }
        if !value.is_finite() {
            return Err("a metric value is not finite");
        }
    }
    Ok(())
}

fn valid_label(label: &str) -> bool {
    !label.is_empty() && label.len() <= MAX_LABEL
}

/// Metric names become field paths in OpenSearch (`metrics.<name>`), so they are restricted to
/// lowercase ASCII letters, digits and `_`, in segments joined by single dots.
pub(crate) fn valid_metric_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_METRIC_NAME
        && name.split('.').all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// Checks the parts of a query that reach a backend as names or numbers.
pub(crate) fn validate_query(q: &Query) -> Result<(), IndexError> {
    for (name, min, max) in &q.metric_ranges {
        if !valid_metric_name(name) {
            return Err(IndexError::InvalidQuery("a metric name is not valid"));
        }
        if min.is_some_and(|v| !v.is_finite()) || max.is_some_and(|v| !v.is_finite()) {
            return Err(IndexError::InvalidQuery("a metric bound is not finite"));
        }
    }
    Ok(())
}

/// Checks the metric a weekly aggregation is about.
pub(crate) fn validate_metric(metric: &str) -> Result<(), IndexError> {
    if valid_metric_name(metric) {
        Ok(())
    } else {
        Err(IndexError::InvalidQuery("the metric name is not valid"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_are_dotted_snake_case() {
        for good in [
            "jump_height_impulse_m",
            "asymmetry.propulsive_impulse_pct",
            "a1",
        ] {
            assert!(valid_metric_name(good), "{good}");
        }
        for bad in [
            "",
            ".a",
            "a.",
            "a..b",
            "A",
            "a b",
            "a-b",
            "a\"b",
            "métrique",
        ] {
            assert!(!valid_metric_name(bad), "{bad}");
        }
    }
}
