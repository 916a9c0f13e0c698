//! MHP's assessment document index: one document per assessment, for search and aggregation.
//!
//! SQL stays the system of record. This index is a derived copy that can always be rebuilt from
//! it (clear an organisation, then upsert its documents again), so losing it loses nothing.
//! Documents carry no direct identifiers: a subject appears only by id and pseudonym.
//!
//! Two backends behind one enum, [`DocumentIndex`]:
//!
//! - [`EmbeddedIndex`], the default for one machine: its own SQLite file (not the system of
//!   record's), a `docs` table plus side tables for teams, labels (flags and tags) and metrics,
//!   indexed for the [`Query`] filters and the weekly aggregation.
//! - [`OpenSearchIndex`], for scale-out: one index `<prefix>-assessments` with an explicit
//!   mapping installed as an index template, written with `_bulk`, read with `_search`.
//!
//! Tenant isolation: every read and write takes an [`OrgId`] and is built from it. Reads always
//! filter on the organisation (a SQL `WHERE org = ?`, an OpenSearch `term` on `org` in the
//! `bool` filter), writes and deletes address documents by `(org, id)`, so a call can never
//! return or touch another organisation's documents.
//!
//! Percentiles ([`WeekBucket`]): the embedded backend computes them exactly, by linear
//! interpolation between order statistics (Hyndman and Fan type 7, the default of R, NumPy and
//! spreadsheet `PERCENTILE`): for sorted values `x[0..n]` and `p` in `[0, 1]`, `h = (n - 1) p`,
//! `q = x[⌊h⌋] + (h - ⌊h⌋) (x[⌊h⌋ + 1] - x[⌊h⌋])`. OpenSearch has no exact percentile
//! aggregation; its `percentiles` is a t-digest estimate that interpolates between values in
//! its own way, so on OpenSearch p10/p50/p90 can differ from the embedded figures (for a small
//! team-week, by up to the gap between neighbouring values; not measured against a real
//! cluster). Counts and means agree exactly.
//! See [`percentile`].

mod doc;
mod embedded;
mod error;
mod events;
mod opensearch;
mod stats;

use std::collections::BTreeMap;

use mhp_domain::{AssessmentId, OrgId, SubjectId, TeamId};

pub use embedded::EmbeddedIndex;
pub use error::IndexError;
pub use events::SecurityEventIndex;
pub use opensearch::{OpenSearchAuth, OpenSearchIndex, RequestSigner, SignFuture};
pub use stats::{percentile, week_start_ms};

/// The most documents one search returns.
pub const MAX_LIMIT: usize = 1000;

/// The number of documents a default [`Query`] asks for.
pub const DEFAULT_LIMIT: usize = 100;

/// One assessment as the index holds it. No direct identifiers: no names, no external ids, no
/// birth dates; the subject appears by id and pseudonym only.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentDoc {
    /// The organisation that owns the assessment.
    pub org: OrgId,
    /// The assessment; documents are unique by `(org, id)`.
    pub id: AssessmentId,
    /// The person assessed.
    pub subject: SubjectId,
    /// The subject's pseudonym (never a name).
    pub pseudonym: String,
    /// The teams the subject belonged to when the document was built.
    pub teams: Vec<TeamId>,
    /// When the assessment was recorded, milliseconds since the Unix epoch (UTC).
    pub recorded_at_ms: i64,
    /// `cmj`, `balance`, `plank`, `mixed` or `none`.
    pub kind: String,
    /// The analysis version that computed the metrics.
    pub analysis_version: String,
    /// Quality flag codes, e.g. `double_bounce`.
    pub flags: Vec<String>,
    /// Free labels chosen by the organisation (codes, not prose).
    pub tags: Vec<String>,
    /// Flattened metric names (`jump_height_impulse_m`, `asymmetry.propulsive_impulse_pct`), mean
    /// over trials. Names are lowercase ASCII letters, digits, `_` and `.` (see [`IndexError`]);
    /// values must be finite.
    pub metrics: BTreeMap<String, f64>,
}

/// What to search for. Every field narrows the result; `None` and an empty list do not.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Documents of subjects in this team.
    pub team: Option<TeamId>,
    /// Documents of this subject.
    pub subject: Option<SubjectId>,
    /// Documents of this kind.
    pub kind: Option<String>,
    /// Documents carrying this quality flag.
    pub flag: Option<String>,
    /// Documents carrying this tag.
    pub tag: Option<String>,
    /// Recorded at or after this instant (ms since the epoch, inclusive).
    pub from_ms: Option<i64>,
    /// Recorded at or before this instant (ms since the epoch, inclusive).
    pub to_ms: Option<i64>,
    /// `(metric, min, max)`, bounds inclusive: the document must have the metric, within the
    /// bounds given. `(metric, None, None)` asks only that the metric be present.
    pub metric_ranges: Vec<(String, Option<f64>, Option<f64>)>,
    /// How many documents a search returns at most; capped at [`MAX_LIMIT`]. Ignored by
    /// `weekly`, which aggregates every matching document.
    pub limit: usize,
}

impl Default for Query {
    fn default() -> Self {
        Self {
            team: None,
            subject: None,
            kind: None,
            flag: None,
            tag: None,
            from_ms: None,
            to_ms: None,
            metric_ranges: Vec::new(),
            limit: DEFAULT_LIMIT,
        }
    }
}

impl Query {
    /// The limit after the cap.
    pub fn effective_limit(&self) -> usize {
        self.limit.min(MAX_LIMIT)
    }
}

/// One calendar week of an aggregation over one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekBucket {
    /// Monday 00:00 UTC that starts the week, ms since the epoch.
    pub week_start_ms: i64,
    /// Documents in the week that have the metric.
    pub count: u64,
    /// Arithmetic mean of the metric.
    pub mean: f64,
    /// 10th percentile (see the crate documentation for the definition).
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
}

/// The document index, on the backend chosen by configuration.
#[derive(Debug)]
pub enum DocumentIndex {
    /// A SQLite file beside the data directory.
    Embedded(EmbeddedIndex),
    /// An OpenSearch cluster.
    OpenSearch(OpenSearchIndex),
}

impl DocumentIndex {
    /// Prepares the backend's schema: nothing to do for the embedded backend (its file is
    /// migrated on open); installs the index template and creates the index on OpenSearch.
    /// Idempotent; call it at start-up or before a rebuild.
    pub async fn ensure_schema(&self) -> Result<(), IndexError> {
        match self {
            Self::Embedded(_) => Ok(()),
            Self::OpenSearch(index) => index.ensure_schema().await,
        }
    }

    /// Inserts or replaces documents, keyed by `(org, id)`. Each document's teams, flags, tags
    /// and metrics replace the stored ones. All or nothing on the embedded backend; on
    /// OpenSearch a failed item makes the call fail (the others may have been written, and a
    /// retry is harmless because upserts are idempotent).
    pub async fn upsert(&self, docs: &[AssessmentDoc]) -> Result<(), IndexError> {
        match self {
            Self::Embedded(index) => index.upsert(docs).await,
            Self::OpenSearch(index) => index.upsert(docs).await,
        }
    }

    /// Removes the organisation's documents with these ids; unknown ids are ignored.
    pub async fn delete(&self, org: OrgId, ids: &[AssessmentId]) -> Result<(), IndexError> {
        match self {
            Self::Embedded(index) => index.delete(org, ids).await,
            Self::OpenSearch(index) => index.delete(org, ids).await,
        }
    }

    /// Removes every document of the organisation (before a rebuild).
    pub async fn clear_org(&self, org: OrgId) -> Result<(), IndexError> {
        match self {
            Self::Embedded(index) => index.clear_org(org).await,
            Self::OpenSearch(index) => index.clear_org(org).await,
        }
    }

    /// The organisation's documents matching the query, newest first (ties by id, descending),
    /// at most [`Query::effective_limit`] of them.
    pub async fn search(&self, org: OrgId, q: &Query) -> Result<Vec<AssessmentDoc>, IndexError> {
        match self {
            Self::Embedded(index) => index.search(org, q).await,
            Self::OpenSearch(index) => index.search(org, q).await,
        }
    }

    /// Count, mean and percentiles of `metric` per calendar week (Monday 00:00 UTC), over the
    /// organisation's documents that match the query and have the metric; oldest week first,
    /// weeks without such documents left out.
    pub async fn weekly(
        &self,
        org: OrgId,
        q: &Query,
        metric: &str,
    ) -> Result<Vec<WeekBucket>, IndexError> {
        match self {
            Self::Embedded(index) => index.weekly(org, q, metric).await,
            Self::OpenSearch(index) => index.weekly(org, q, metric).await,
        }
    }

    /// How many documents the organisation has in the index.
    pub async fn count(&self, org: OrgId) -> Result<u64, IndexError> {
        match self {
            Self::Embedded(index) => index.count(org).await,
            Self::OpenSearch(index) => index.count(org).await,
        }
    }

    /// Readiness: the backend answers and its schema is in place.
    pub async fn check(&self) -> Result<(), IndexError> {
        match self {
            Self::Embedded(index) => index.check().await,
            Self::OpenSearch(index) => index.check().await,
        }
    }
}
