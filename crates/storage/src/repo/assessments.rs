//! Assessments: one uploaded force-plate file of a subject, its raw signal (sealed, in the
//! object store) and its analysis results, one per analysis version. Re-analysis adds a result
//! and moves the assessment's current version; older results stay.

use mhp_domain::{AssessmentId, SubjectId, Timestamp};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::teams::not_found_on_fk;
use super::{Page, conflict_if_none, parse_id};
use crate::{StorageError, TenantTx};

/// Who sent the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A person, through the API or the web application.
    User,
    /// A device or integration, with an API key.
    Device,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::User => "user",
            Source::Device => "device",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Source::User),
            "device" => Some(Source::Device),
            _ => None,
        }
    }
}

/// An assessment as stored (without its results).
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Its id.
    pub id: AssessmentId,
    /// Whose it is.
    pub subject: SubjectId,
    /// `cmj`, `balance`, `plank`, `mixed` (trials of several kinds) or `none` (no trial found).
    pub kind: String,
    /// When the recording was made (the upload time when the file does not say).
    pub recorded_at: Timestamp,
    /// Who sent it.
    pub source: Source,
    /// The audit name of the sender (`user:<id>` or `api_key:<id>`).
    pub uploaded_by: String,
    /// `csv` or `json`.
    pub format: String,
    /// Where the sealed raw file lies in the object store.
    pub raw_object_key: String,
    /// SHA-256 of the raw file as received, hex.
    pub raw_sha256: String,
    /// Size of the raw file as received.
    pub raw_bytes: i64,
    /// The client's `Idempotency-Key`, if it sent one.
    pub idempotency_key: Option<String>,
    /// The analysis version of the current result.
    pub analysis_version: String,
    /// When it was stored.
    pub created_at: Timestamp,
    /// How the sender asked the file to be read, so that a reanalysis reads it alike.
    pub options: UploadOptions,
}

/// What an upload said about reading its file, beyond the file itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UploadOptions {
    /// The sampling rate given for a file without a time column or rate header.
    pub sample_rate_hz: Option<f64>,
    /// The test kind given when the file does not say (a `TrialKind` code).
    pub kind: Option<String>,
    /// A recent weigh-in, used when the recording has no quiet standing to weigh the athlete.
    pub body_mass_kg: Option<f64>,
    /// The box height of drop jumps.
    pub box_height_m: Option<f64>,
    /// The columns of a delimited file by position (`mhp_biomech::ColumnMap`'s text form),
    /// for a header MHP does not recognise.
    pub columns: Option<String>,
    /// The body mass of the athlete's earlier assessment that weighed a recording with no quiet
    /// standing and no weigh-in (looked up at upload, not given by the uploader).
    pub earlier_body_mass_kg: Option<f64>,
}

/// One analysis of an assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisResult {
    /// The analysis version that computed it.
    pub analysis_version: String,
    /// When.
    pub computed_at: Timestamp,
    /// Trials found.
    pub trials: i64,
    /// Trials with a blocking quality flag (no metrics).
    pub blocked_trials: i64,
    /// The engine's report, as JSON text (trials, flags, metrics).
    pub report_json: String,
    /// Every metric of every trial: (trial index, metric name, value).
    pub metrics: Vec<(i64, String, f64)>,
}

const SELECT: &str = "SELECT id, subject_id, kind, recorded_at_ms, source, uploaded_by, format, \
                      raw_object_key, raw_sha256, raw_bytes, idempotency_key, analysis_version, \
                      created_at_ms, declared_sample_rate_hz, declared_kind, \
                      declared_body_mass_kg, declared_box_height_m, declared_columns, \
                      earlier_body_mass_kg FROM assessments";

fn from_row(row: &AnyRow) -> Result<Assessment, StorageError> {
    let id: String = row.try_get("id")?;
    let subject: String = row.try_get("subject_id")?;
    let source: String = row.try_get("source")?;
    Ok(Assessment {
        id: parse_id(&id, "assessment id", AssessmentId::parse)?,
        subject: parse_id(&subject, "subject id", SubjectId::parse)?,
        kind: row.try_get("kind")?,
        recorded_at: Timestamp::from_millis(row.try_get("recorded_at_ms")?),
        source: Source::parse(&source).ok_or(StorageError::Corrupt {
            what: "assessment source",
        })?,
        uploaded_by: row.try_get("uploaded_by")?,
        format: row.try_get("format")?,
        raw_object_key: row.try_get("raw_object_key")?,
        raw_sha256: row.try_get("raw_sha256")?,
        raw_bytes: row.try_get("raw_bytes")?,
        idempotency_key: row.try_get("idempotency_key")?,
        analysis_version: row.try_get("analysis_version")?,
        created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
        options: UploadOptions {
            sample_rate_hz: row.try_get("declared_sample_rate_hz")?,
            kind: row.try_get("declared_kind")?,
            body_mass_kg: row.try_get("declared_body_mass_kg")?,
            box_height_m: row.try_get("declared_box_height_m")?,
            columns: row.try_get("declared_columns")?,
            earlier_body_mass_kg: row.try_get("earlier_body_mass_kg")?,
        },
    })
}

/// The object keys of the organisation's raw files that assessments refer to (for the sweep
/// that removes raw files no row refers to).
pub async fn raw_object_keys(tx: &mut TenantTx) -> Result<Vec<String>, StorageError> {
    let keys = sqlx::query_scalar("SELECT raw_object_key FROM assessments WHERE org_id = $1")
        .bind(tx.org_key())
        .fetch_all(tx.conn())
        .await?;
    Ok(keys)
}

/// Stores an assessment and its first result. A repeated idempotency key is a conflict (the
/// caller looks it up first with [`find_by_idempotency_key`]).
pub async fn create(
    tx: &mut TenantTx,
    assessment: &Assessment,
    result: &AnalysisResult,
) -> Result<(), StorageError> {
    let inserted = sqlx::query(
        "INSERT INTO assessments (id, org_id, subject_id, kind, recorded_at_ms, source, \
         uploaded_by, format, raw_object_key, raw_sha256, raw_bytes, idempotency_key, \
         analysis_version, created_at_ms, declared_sample_rate_hz, declared_kind, \
         declared_body_mass_kg, declared_box_height_m, declared_columns, earlier_body_mass_kg) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
         $19, $20) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(assessment.id.to_string())
    .bind(tx.org_key())
    .bind(assessment.subject.to_string())
    .bind(assessment.kind.as_str())
    .bind(assessment.recorded_at.as_millis())
    .bind(assessment.source.as_str())
    .bind(assessment.uploaded_by.as_str())
    .bind(assessment.format.as_str())
    .bind(assessment.raw_object_key.as_str())
    .bind(assessment.raw_sha256.as_str())
    .bind(assessment.raw_bytes)
    .bind(assessment.idempotency_key.clone())
    .bind(assessment.analysis_version.as_str())
    .bind(assessment.created_at.as_millis())
    .bind(assessment.options.sample_rate_hz)
    .bind(assessment.options.kind.clone())
    .bind(assessment.options.body_mass_kg)
    .bind(assessment.options.box_height_m)
    .bind(assessment.options.columns.clone())
    .bind(assessment.options.earlier_body_mass_kg)
    .fetch_optional(tx.conn())
    .await
    .map_err(not_found_on_fk("subject"))?;
    conflict_if_none(inserted, "assessment")?;
    insert_result(tx, assessment.id, result).await?;
    write_values(
        tx,
        assessment.id,
        assessment.subject,
        assessment.recorded_at,
        result,
        false,
    )
    .await
}

/// Adds a result of another analysis version and makes it current. A result of the same
/// version already stored is a conflict.
pub async fn add_result(
    tx: &mut TenantTx,
    id: AssessmentId,
    result: &AnalysisResult,
) -> Result<(), StorageError> {
    insert_result(tx, id, result).await?;
    sqlx::query("UPDATE assessments SET analysis_version = $1 WHERE org_id = $2 AND id = $3")
        .bind(result.analysis_version.as_str())
        .bind(tx.org_key())
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    let row = sqlx::query(
        "SELECT subject_id, recorded_at_ms FROM assessments WHERE org_id = $1 AND id = $2",
    )
    .bind(tx.org_key())
    .bind(id.to_string())
    .fetch_one(tx.conn())
    .await
    .map_err(StorageError::from_sqlx_as("assessment"))?;
    let subject: String = row.try_get("subject_id")?;
    let subject = parse_id(&subject, "subject id", SubjectId::parse)?;
    let recorded_at = Timestamp::from_millis(row.try_get("recorded_at_ms")?);
    write_values(tx, id, subject, recorded_at, result, true).await
}

/// The metrics the read model `assessment_values` keeps: what the team dashboard reads for
/// every athlete of a season. Keep in step with migration 0020's backfill.
pub const VALUE_METRICS: &[&str] = &["jump_height_impulse_m", "asymmetry.propulsive_impulse_pct"];

/// Rewrites the assessment's rows of the read model `assessment_values` from its current
/// result (each metric's mean over the trials), in the transaction that changed the result:
/// one insert of every row, from the result in hand, after a delete when `replacing` an earlier
/// result (a statement that read the
/// metrics back would make SQLite walk the organisation's metric index on every upload).
async fn write_values(
    tx: &mut TenantTx,
    id: AssessmentId,
    subject: SubjectId,
    recorded_at: Timestamp,
    result: &AnalysisResult,
    replacing: bool,
) -> Result<(), StorageError> {
    let org = tx.org_key().to_owned();
    let id = id.to_string();
    let subject = subject.to_string();
    if replacing {
        // By the whole key (each metric, the subject, the moment, the assessment): a delete by
        // the assessment alone was planned as a walk of the organisation's rows by SQLite in
        // a long transaction (a 43,200-assessment seed went from 38 s to over 7 minutes).
        for metric in VALUE_METRICS {
            sqlx::query(
                "DELETE FROM assessment_values WHERE org_id = $1 AND metric = $2 \
                 AND subject_id = $3 AND recorded_at_ms = $4 AND assessment_id = $5",
            )
            .bind(&org)
            .bind(*metric)
            .bind(&subject)
            .bind(recorded_at.as_millis())
            .bind(&id)
            .execute(tx.conn())
            .await?;
        }
    }
    let mut sums: std::collections::BTreeMap<&str, (f64, u32)> = std::collections::BTreeMap::new();
    for (_, metric, value) in &result.metrics {
        if value.is_finite() && VALUE_METRICS.contains(&metric.as_str()) {
            let e = sums.entry(metric.as_str()).or_insert((0.0, 0));
            e.0 += value;
            e.1 += 1;
        }
    }
    if sums.is_empty() {
        return Ok(());
    }
    let mut sql = String::from(
        "INSERT INTO assessment_values (org_id, metric, subject_id, recorded_at_ms, \
         assessment_id, value) VALUES ",
    );
    sql.push_str(&super::value_rows(tx.backend(), sums.len(), 6));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (metric, (sum, n)) in &sums {
        q = q
            .bind(&org)
            .bind(*metric)
            .bind(&subject)
            .bind(recorded_at.as_millis())
            .bind(&id)
            .bind(sum / f64::from(*n));
    }
    q.execute(tx.conn()).await?;
    Ok(())
}

async fn insert_result(
    tx: &mut TenantTx,
    id: AssessmentId,
    result: &AnalysisResult,
) -> Result<(), StorageError> {
    let inserted = sqlx::query(
        "INSERT INTO assessment_results (org_id, assessment_id, analysis_version, \
         computed_at_ms, trials, blocked_trials, report_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING assessment_id",
    )
    .bind(tx.org_key())
    .bind(id.to_string())
    .bind(result.analysis_version.as_str())
    .bind(result.computed_at.as_millis())
    .bind(result.trials)
    .bind(result.blocked_trials)
    .bind(result.report_json.as_str())
    .fetch_optional(tx.conn())
    .await
    .map_err(not_found_on_fk("assessment"))?;
    conflict_if_none(inserted, "analysis result")?;
    // Every finite value in one statement per chunk (a jump's report has some forty), not a
    // round trip per value inside the write lock.
    let finite: Vec<_> = result
        .metrics
        .iter()
        .filter(|(_, _, value)| value.is_finite())
        .collect();
    for chunk in finite.chunks(METRIC_ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO assessment_metrics (org_id, assessment_id, analysis_version, \
             trial_index, metric, value) VALUES {}",
            super::value_rows(tx.backend(), chunk.len(), 6)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (trial, metric, value) in chunk {
            q = q
                .bind(tx.org_key())
                .bind(id.to_string())
                .bind(result.analysis_version.as_str())
                .bind(*trial)
                .bind(metric.as_str())
                .bind(*value);
        }
        q.execute(tx.conn()).await?;
    }
    Ok(())
}

/// Rows of `assessment_metrics` per insert: 6 × 500 = 3,000 bound values, well within both
/// databases' limits (SQLite 32,766, PostgreSQL 65,535).
const METRIC_ROWS_PER_STATEMENT: usize = 500;

/// The assessment a client stored before under this idempotency key, if any.
pub async fn find_by_idempotency_key(
    tx: &mut TenantTx,
    key: &str,
) -> Result<Option<Assessment>, StorageError> {
    let sql = format!("{SELECT} WHERE org_id = $1 AND idempotency_key = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(key)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// One assessment of the transaction's organisation.
pub async fn get(tx: &mut TenantTx, id: AssessmentId) -> Result<Assessment, StorageError> {
    let sql = format!("{SELECT} WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(id.to_string())
        .fetch_one(tx.conn())
        .await
        .map_err(StorageError::from_sqlx_as("assessment"))?;
    from_row(&row)
}

/// A subject's assessments, newest id first (ids sort by creation).
pub async fn list_for_subject(
    tx: &mut TenantTx,
    subject: SubjectId,
    page: Page<AssessmentId>,
) -> Result<Vec<Assessment>, StorageError> {
    let sql = format!(
        "{SELECT} WHERE org_id = $1 AND subject_id = $2 AND ($3 = '' OR id < $3) \
         ORDER BY id DESC LIMIT $4"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(subject.to_string())
        .bind(page.after.map(|a| a.to_string()).unwrap_or_default())
        .bind(page.capped_limit())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// The current reports (JSON text) of a subject's assessments recorded in `[from, to]`, the
/// latest recorded first, at most `limit`: where the athlete's earlier body mass is looked up.
pub async fn recent_reports(
    tx: &mut TenantTx,
    subject: SubjectId,
    from: Timestamp,
    to: Timestamp,
    limit: i64,
) -> Result<Vec<String>, StorageError> {
    let reports = sqlx::query_scalar(
        "SELECT r.report_json FROM assessments a \
         JOIN assessment_results r ON r.org_id = a.org_id AND r.assessment_id = a.id \
         AND r.analysis_version = a.analysis_version \
         WHERE a.org_id = $1 AND a.subject_id = $2 AND a.recorded_at_ms >= $3 \
         AND a.recorded_at_ms <= $4 ORDER BY a.recorded_at_ms DESC, a.id DESC LIMIT $5",
    )
    .bind(tx.org_key())
    .bind(subject.to_string())
    .bind(from.as_millis())
    .bind(to.as_millis())
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(reports)
}

/// Every assessment of the organisation, oldest first, a page at a time (index rebuilds).
pub async fn list_all(
    tx: &mut TenantTx,
    page: Page<AssessmentId>,
) -> Result<Vec<Assessment>, StorageError> {
    let sql = format!("{SELECT} WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(page.after.map(|a| a.to_string()).unwrap_or_default())
        .bind(page.capped_limit())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Assessments whose current result is not of `version`, oldest first: the work of
/// `mhp reanalyze`.
pub async fn stale(
    tx: &mut TenantTx,
    version: &str,
    page: Page<AssessmentId>,
) -> Result<Vec<Assessment>, StorageError> {
    let sql = format!(
        "{SELECT} WHERE org_id = $1 AND analysis_version <> $2 AND id > $3 ORDER BY id LIMIT $4"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(version)
        .bind(page.after.map(|a| a.to_string()).unwrap_or_default())
        .bind(page.capped_limit())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Every result of an assessment, oldest first, with its metrics.
pub async fn results(
    tx: &mut TenantTx,
    id: AssessmentId,
) -> Result<Vec<AnalysisResult>, StorageError> {
    let rows = sqlx::query(
        "SELECT analysis_version, computed_at_ms, trials, blocked_trials, report_json \
         FROM assessment_results WHERE org_id = $1 AND assessment_id = $2 \
         ORDER BY computed_at_ms, analysis_version",
    )
    .bind(tx.org_key())
    .bind(id.to_string())
    .fetch_all(tx.conn())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let version: String = row.try_get("analysis_version")?;
        let metrics = sqlx::query(
            "SELECT trial_index, metric, value FROM assessment_metrics \
             WHERE org_id = $1 AND assessment_id = $2 AND analysis_version = $3 \
             ORDER BY trial_index, metric",
        )
        .bind(tx.org_key())
        .bind(id.to_string())
        .bind(version.as_str())
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|m| {
            Ok((
                m.try_get("trial_index")?,
                m.try_get("metric")?,
                m.try_get("value")?,
            ))
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
        out.push(AnalysisResult {
            analysis_version: version,
            computed_at: Timestamp::from_millis(row.try_get("computed_at_ms")?),
            trials: row.try_get("trials")?,
            blocked_trials: row.try_get("blocked_trials")?,
            report_json: row.try_get("report_json")?,
            metrics,
        });
    }
    Ok(out)
}

/// The current result of an assessment.
pub async fn current_result(
    tx: &mut TenantTx,
    assessment: &Assessment,
) -> Result<AnalysisResult, StorageError> {
    results(tx, assessment.id)
        .await?
        .into_iter()
        .find(|r| r.analysis_version == assessment.analysis_version)
        .ok_or(StorageError::Corrupt {
            what: "assessment without its current result",
        })
}

/// Each assessment's current metric values, averaged over its trials (completed by a join, a
/// filter, then [`PER_ASSESSMENT`] and an order).
const CURRENT_METRICS: &str = "SELECT a.subject_id, a.id, a.recorded_at_ms, m.metric, \
    AVG(m.value) AS v, COUNT(m.value) AS n, SUM(m.value * m.value) AS ss \
    FROM assessment_metrics m \
    JOIN assessments a ON a.org_id = m.org_id AND a.id = m.assessment_id \
    AND a.analysis_version = m.analysis_version";
const PER_ASSESSMENT: &str = "GROUP BY a.subject_id, a.id, a.recorded_at_ms, m.metric";

/// One assessment's value of a metric: the mean over its trials, in its current result.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValue {
    /// Whose.
    pub subject: SubjectId,
    /// Which assessment.
    pub assessment: AssessmentId,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// The metric.
    pub metric: String,
    /// Mean over the assessment's trials that have it.
    pub value: f64,
    /// How many trials have it.
    pub trials: u32,
    /// Sample SD over those trials (`None` with fewer than two).
    pub sd: Option<f64>,
}

fn metric_value(row: &AnyRow) -> Result<MetricValue, StorageError> {
    let subject: String = row.try_get("subject_id")?;
    let assessment: String = row.try_get("id")?;
    let value: f64 = row.try_get("v")?;
    let n: i64 = row.try_get("n")?;
    let ss: f64 = row.try_get("ss")?;
    // Σx² − n·x̄² over n − 1; rounding can leave a hair below zero for identical trials.
    #[allow(clippy::cast_precision_loss)]
    let sd = (n >= 2).then(|| {
        ((ss - n as f64 * value * value) / (n - 1) as f64)
            .max(0.0)
            .sqrt()
    });
    Ok(MetricValue {
        subject: parse_id(&subject, "subject id", SubjectId::parse)?,
        assessment: parse_id(&assessment, "assessment id", AssessmentId::parse)?,
        recorded_at: Timestamp::from_millis(row.try_get("recorded_at_ms")?),
        metric: row.try_get("metric")?,
        value,
        trials: u32::try_from(n).unwrap_or(0),
        sd,
    })
}

/// `n` bind placeholders from `$first` on, comma-separated (an `IN (…)` list).
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The current values of `metrics` in the latest countermovement jump of every subject in use
/// in the organisation (and, when given, of one sex and sport), as `(subject, metric, value)`:
/// the reference population of norms, one voice per person. Each subject's latest jump is one
/// walk back along their assessments by time (ordered by time alone, so the index gives the
/// order; sorting by id as well cost a sort per subject), and only its values leave the
/// database.
pub async fn latest_metric_values(
    tx: &mut TenantTx,
    metrics: &[&str],
    sex: Option<&str>,
    sport: Option<&str>,
) -> Result<Vec<(SubjectId, String, f64)>, StorageError> {
    if metrics.is_empty() {
        return Ok(Vec::new());
    }
    // $1 the organisation, $2 and $3 sex and sport, then the metrics.
    let names = placeholders(4, metrics.len());
    let sql = format!(
        "SELECT l.subject_id, m.metric, AVG(m.value) AS v FROM (SELECT s.id AS subject_id, \
         (SELECT a.id FROM assessments a WHERE a.org_id = s.org_id AND a.subject_id = s.id \
          AND a.kind = 'cmj' ORDER BY a.recorded_at_ms DESC LIMIT 1) AS latest \
         FROM subjects s WHERE s.org_id = $1 AND s.archived_at_ms IS NULL \
           AND (CAST($2 AS TEXT) IS NULL OR s.sex = $2) \
           AND (CAST($3 AS TEXT) IS NULL OR s.sport = $3)) l \
         JOIN assessments a ON a.org_id = $1 AND a.id = l.latest \
         JOIN assessment_metrics m ON m.org_id = a.org_id AND m.assessment_id = a.id \
          AND m.analysis_version = a.analysis_version \
         WHERE m.metric IN ({names}) GROUP BY l.subject_id, m.metric ORDER BY l.subject_id, m.metric"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(sex)
        .bind(sport);
    for m in metrics {
        q = q.bind(*m);
    }
    let rows = q.fetch_all(tx.conn()).await?;
    rows.iter()
        .map(|row| {
            let subject: String = row.try_get("subject_id")?;
            Ok((
                parse_id(&subject, "subject id", SubjectId::parse)?,
                row.try_get("metric")?,
                row.try_get("v")?,
            ))
        })
        .collect()
}

/// A subject's current values of the given metrics, oldest first.
pub async fn subject_metric_values(
    tx: &mut TenantTx,
    subject: SubjectId,
    metrics: &[&str],
) -> Result<Vec<MetricValue>, StorageError> {
    if metrics.is_empty() {
        return Ok(Vec::new());
    }
    // $1 the organisation, $2 the subject, then the metrics: only their rows are read (an
    // assessment holds a hundred metrics per trial).
    let names = placeholders(3, metrics.len());
    let sql = format!(
        "{CURRENT_METRICS} WHERE m.org_id = $1 AND a.subject_id = $2 AND m.metric IN ({names}) \
         {PER_ASSESSMENT} ORDER BY a.recorded_at_ms, a.id, m.metric"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(subject.to_string());
    for m in metrics {
        q = q.bind(*m);
    }
    let rows = q.fetch_all(tx.conn()).await?;
    rows.iter().map(metric_value).collect()
}

/// One subject's values of one metric, each assessment's current value (the mean over its
/// trials) with when it was recorded, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectSeries {
    /// Whose.
    pub subject: SubjectId,
    /// The metric.
    pub metric: String,
    /// (recorded at, value), oldest first.
    pub points: Vec<(Timestamp, f64)>,
}

/// The series of the given metrics of every subject of a team, a season of them: what the
/// dashboard reads. Each subject's series comes as one row, its points aggregated in the query
/// (`string_agg … ORDER BY`, in SQLite since 3.44 and in PostgreSQL): row by row, a team's
/// season is thousands of rows, and each crossed from the database thread to the request's
/// (sqlx's SQLite driver sends rows one at a time), which was most of a 150-athlete
/// dashboard's time. One query per metric, so each walks one range of the covering index.
pub async fn team_series_of(
    tx: &mut TenantTx,
    team: mhp_domain::TeamId,
    metrics: &[&str],
) -> Result<Vec<SubjectSeries>, StorageError> {
    // The read model keeps its metrics' values in subject and time order: the season is one
    // range of its key, grouped without a sort. Other metrics are grouped from the trials.
    let fast = "SELECT v.subject_id, v.metric, string_agg(CAST(v.recorded_at_ms AS TEXT) || ':' || \
         CAST(v.value AS TEXT), ',' ORDER BY v.recorded_at_ms, v.assessment_id) AS points \
         FROM assessment_values v \
         JOIN team_subjects t ON t.org_id = v.org_id AND t.subject_id = v.subject_id \
         WHERE v.org_id = $1 AND t.team_id = $2 AND v.metric = $3 \
         GROUP BY v.subject_id, v.metric ORDER BY v.subject_id";
    let slow = format!(
        "SELECT subject_id, metric, string_agg(CAST(recorded_at_ms AS TEXT) || ':' || \
         CAST(v AS TEXT), ',' ORDER BY recorded_at_ms, id) AS points FROM ({CURRENT_METRICS} \
         JOIN team_subjects t ON t.org_id = a.org_id AND t.subject_id = a.subject_id \
         WHERE m.org_id = $1 AND t.team_id = $2 AND m.metric = $3 {PER_ASSESSMENT}) per \
         GROUP BY subject_id, metric ORDER BY subject_id"
    );
    let mut out = Vec::new();
    for metric in metrics {
        let sql = if VALUE_METRICS.contains(metric) {
            fast.to_owned()
        } else {
            slow.clone()
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tx.org_key())
            .bind(team.to_string())
            .bind(*metric)
            .fetch_all(tx.conn())
            .await?;
        for row in &rows {
            let subject: String = row.try_get("subject_id")?;
            let text: String = row.try_get("points")?;
            let points = text
                .split(',')
                .map(|p| {
                    let (at, v) = p.split_once(':')?;
                    Some((Timestamp::from_millis(at.parse().ok()?), v.parse().ok()?))
                })
                .collect::<Option<Vec<(Timestamp, f64)>>>()
                .ok_or(StorageError::Corrupt {
                    what: "a metric series",
                })?;
            out.push(SubjectSeries {
                subject: parse_id(&subject, "subject id", SubjectId::parse)?,
                metric: row.try_get("metric")?,
                points,
            });
        }
    }
    Ok(out)
}

/// The latest current value of `metric` (one of [`VALUE_METRICS`]) of every subject of a team
/// (a series of one point each): what the dashboard shows of a metric it draws no trend of.
pub async fn team_latest_of(
    tx: &mut TenantTx,
    team: mhp_domain::TeamId,
    metric: &str,
) -> Result<Vec<SubjectSeries>, StorageError> {
    let rows = sqlx::query(
        "SELECT subject_id, metric, recorded_at_ms, value FROM (\
         SELECT v.subject_id, v.metric, v.recorded_at_ms, v.value, ROW_NUMBER() OVER (\
         PARTITION BY v.subject_id ORDER BY v.recorded_at_ms DESC, v.assessment_id DESC) AS k \
         FROM assessment_values v \
         JOIN team_subjects t ON t.org_id = v.org_id AND t.subject_id = v.subject_id \
         WHERE v.org_id = $1 AND t.team_id = $2 AND v.metric = $3) latest \
         WHERE k = 1 ORDER BY subject_id",
    )
    .bind(tx.org_key())
    .bind(team.to_string())
    .bind(metric)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let subject: String = row.try_get("subject_id")?;
            Ok(SubjectSeries {
                subject: parse_id(&subject, "subject id", SubjectId::parse)?,
                metric: row.try_get("metric")?,
                points: vec![(
                    Timestamp::from_millis(row.try_get("recorded_at_ms")?),
                    row.try_get("value")?,
                )],
            })
        })
        .collect()
}

/// Current values of every metric of every assessment of a team's subjects, by assessment.
pub async fn team_metric_values(
    tx: &mut TenantTx,
    team: mhp_domain::TeamId,
) -> Result<Vec<MetricValue>, StorageError> {
    let sql = format!(
        "{CURRENT_METRICS} \
         JOIN team_subjects t ON t.org_id = a.org_id AND t.subject_id = a.subject_id \
         WHERE m.org_id = $1 AND t.team_id = $2 \
         {PER_ASSESSMENT} ORDER BY a.recorded_at_ms, a.id, m.metric"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(team.to_string())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(metric_value).collect()
}

/// Current values of the given metrics of every assessment in the organisation, of subjects
/// not erased, oldest first: the input of the pipelines' de-identified view.
pub async fn org_metric_values(
    tx: &mut TenantTx,
    metrics: &[&str],
    only: Option<SubjectId>,
) -> Result<Vec<MetricValue>, StorageError> {
    let mut out = Vec::new();
    for metric in metrics {
        let sql = format!(
            "{CURRENT_METRICS} JOIN subjects s ON s.org_id = a.org_id AND s.id = a.subject_id \
             WHERE m.org_id = $1 AND m.metric = $2 AND s.erased_at_ms IS NULL \
               AND (CAST($3 AS TEXT) IS NULL OR a.subject_id = $3) \
             {PER_ASSESSMENT} ORDER BY a.recorded_at_ms, a.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tx.org_key())
            .bind(*metric)
            .bind(only.map(|s| s.to_string()))
            .fetch_all(tx.conn())
            .await?;
        for row in &rows {
            out.push(metric_value(row)?);
        }
    }
    Ok(out)
}
