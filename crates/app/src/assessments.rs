//! Assessments: force-plate recordings. The main path: analyse (nothing stored when the file is
//! unreadable) → raw file sealed into the object store → assessment, results and metrics in SQL
//! with the audit event and the scoring run, in one transaction → indexed after the commit. An
//! idempotency key makes a retried upload count once.

use std::collections::BTreeMap;

use mhp_biomech::{ANALYSIS_VERSION, Format, ParseOptions, TrialKind, analyze_bytes};
use mhp_domain::{AssessmentId, OrgId, OrgScope, SubjectId, Timestamp};
use mhp_storage::repo::assessments::{self, AnalysisResult, Assessment, Source, UploadOptions};
use mhp_storage::repo::subjects;
use mhp_storage::{Access, ObjectKey, StorageError};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::{App, AppError, Caller, indexing, scoring};

/// Metrics summarised per assessment (mean over its valid trials): jump height and the
/// measures force-plate platforms lead with (braking RFD, mean concentric force, concentric
/// impulse).
pub const KEY_METRICS: &[&str] = &[
    "jump_height_impulse_m",
    "rsi_modified",
    "braking_rfd_n_s",
    "mean_propulsive_force_n_per_kg",
    "concentric_impulse_n_s",
    "peak_propulsive_power_w_per_kg",
    "asymmetry.propulsive_impulse_pct",
];

/// Largest recording analysed (the HTTP body limit may be lower).
pub const MAX_RECORDING_BYTES: u64 = 64 * 1024 * 1024;

/// Mean of every metric over the trials that have it (the stored values are per trial).
pub fn metric_means(result: &AnalysisResult) -> BTreeMap<String, f64> {
    let mut sums: BTreeMap<&str, (f64, u32)> = BTreeMap::new();
    for (_, metric, value) in &result.metrics {
        let e = sums.entry(metric.as_str()).or_insert((0.0, 0));
        e.0 += value;
        e.1 += 1;
    }
    sums.into_iter()
        .map(|(k, (sum, n))| (k.to_owned(), sum / f64::from(n)))
        .collect()
}

/// The key metrics' means, rounded to 6 decimals.
pub fn summary(result: &AnalysisResult) -> BTreeMap<String, f64> {
    metric_means(result)
        .into_iter()
        .filter(|(k, _)| KEY_METRICS.contains(&k.as_str()))
        .map(|(k, v)| (k, (v * 1e6).round() / 1e6))
        .collect()
}

/// The engine's report turned into what is stored: the report without the file name (which
/// may name a person), the kind, and every metric flattened (`asymmetry.x`).
pub fn result_of(report: &mhp_biomech::Report, now: Timestamp) -> (String, AnalysisResult) {
    let mut json = report.to_json();
    if let Some(obj) = json.as_object_mut() {
        obj.remove("file");
    }
    let mut kinds: Vec<&'static str> = report.trials.iter().map(|t| t.kind.code()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let kind = match kinds.as_slice() {
        [] => "none",
        [one] => one,
        _ => "mixed",
    };
    let mut metrics = Vec::new();
    let mut blocked = 0;
    if let Some(trials) = json.get("trials").and_then(Value::as_array) {
        for (i, trial) in trials.iter().enumerate() {
            match trial.get("metrics") {
                Some(Value::Object(m)) => {
                    flatten(i64::try_from(i).unwrap_or(i64::MAX), "", m, &mut metrics);
                }
                _ => blocked += 1,
            }
        }
    }
    let result = AnalysisResult {
        analysis_version: report.analysis_version.clone(),
        computed_at: now,
        trials: i64::try_from(report.trials.len()).unwrap_or(i64::MAX),
        blocked_trials: blocked,
        report_json: json.to_string(),
        metrics,
    };
    (kind.to_owned(), result)
}

fn flatten(
    trial: i64,
    prefix: &str,
    m: &serde_json::Map<String, Value>,
    out: &mut Vec<(i64, String, f64)>,
) {
    for (k, v) in m {
        let name = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Number(n) => {
                if let Some(x) = n.as_f64() {
                    out.push((trial, name, x));
                }
            }
            Value::Object(inner) => flatten(trial, &name, inner, out),
            _ => {}
        }
    }
}

/// What an upload said about its file that the engine cannot take.
#[derive(Debug, Clone, Copy, thiserror::Error)]
pub enum UploadOptionError {
    /// A kind the engine does not know.
    #[error("kind must be one of {}", kinds())]
    UnknownKind,
    /// A column map that does not read.
    #[error("columns: {0}")]
    Columns(#[from] mhp_biomech::ColumnMapError),
}

fn kinds() -> String {
    TrialKind::ALL.map(TrialKind::code).join(", ")
}

/// The engine's options for what an upload said about its file.
pub fn parse_options(options: &UploadOptions) -> Result<ParseOptions, UploadOptionError> {
    let mut opts = ParseOptions::default();
    if let Some(hz) = options.sample_rate_hz {
        opts = opts.with_sample_rate(hz);
    }
    if let Some(kind) = options.kind.as_deref() {
        opts = opts.with_kind(TrialKind::parse(kind).ok_or(UploadOptionError::UnknownKind)?);
    }
    if let Some(columns) = options.columns.as_deref() {
        opts = opts.with_columns(mhp_biomech::ColumnMap::parse(columns)?);
    }
    if let Some(kg) = options.body_mass_kg {
        opts = opts.with_body_mass_kg(kg);
    }
    if let Some(m) = options.box_height_m {
        opts = opts.with_box_height_m(m);
    }
    if let Some(kg) = options.earlier_body_mass_kg {
        opts = opts.with_earlier_body_mass_kg(kg);
    }
    Ok(opts)
}

/// How far back an earlier assessment's body mass may weigh a recording.
pub const EARLIER_WEIGH_IN_DAYS: i64 = 30;

/// The body mass a report measured on the plate: the first trial with a body mass that was not
/// itself taken from a weigh-in or an earlier assessment (those are not measurements, and a
/// guess must not be carried forward).
pub fn measured_body_mass(report_json: &str) -> Option<f64> {
    let report: Value = serde_json::from_str(report_json).ok()?;
    report.get("trials")?.as_array()?.iter().find_map(|t| {
        let borrowed = t
            .get("flags")
            .and_then(Value::as_array)
            .is_some_and(|flags| {
                flags.iter().any(|f| {
                    matches!(
                        f.get("code").and_then(Value::as_str),
                        Some("body_weight_from_weigh_in" | "body_weight_from_earlier_assessment")
                    )
                })
            });
        let kg = t.get("metrics")?.get("body_mass_kg")?.as_f64()?;
        (!borrowed && kg.is_finite()).then_some(kg)
    })
}

/// The athlete's body mass as measured by their latest assessment recorded in the
/// [`EARLIER_WEIGH_IN_DAYS`] up to `at` that weighed them on the plate.
async fn earlier_body_mass(
    app: &App,
    scope: &OrgScope,
    subject: SubjectId,
    at: Timestamp,
) -> Result<Option<f64>, AppError> {
    let from = Timestamp::from_millis(at.as_millis() - EARLIER_WEIGH_IN_DAYS * 86_400_000);
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    let reports = assessments::recent_reports(&mut tx, subject, from, at, 10).await?;
    Ok(reports.iter().find_map(|r| measured_body_mass(r)))
}

/// True when a rep was refused only because nothing could weigh the athlete.
fn needs_weighing(report: &mhp_biomech::Report) -> bool {
    report.trials.iter().any(|t| {
        t.flags
            .iter()
            .any(|f| f.code == mhp_biomech::FlagCode::NoStableWeighing)
    })
}

/// Runs the engine on a blocking thread; an unreadable file is the caller's
/// `invalid-recording`.
pub async fn analyse(
    hint: &'static str,
    bytes: impl AsRef<[u8]> + Send + 'static,
    opts: ParseOptions,
) -> Result<mhp_biomech::Report, AppError> {
    let opts = opts.with_max_input_bytes(MAX_RECORDING_BYTES);
    tokio::task::spawn_blocking(move || analyze_bytes(hint, bytes.as_ref(), &opts))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| AppError::invalid(crate::Code::InvalidRecording, e.to_string()))
}

fn raw_key(org: OrgId, id: AssessmentId) -> Result<ObjectKey, AppError> {
    ObjectKey::parse(&format!("orgs/{org}/raw/{id}.sealed")).map_err(AppError::internal)
}

/// A force-plate recording to store for a subject.
#[derive(Debug)]
pub struct Upload<B> {
    /// Whose recording it is.
    pub subject: SubjectId,
    /// The file as received.
    pub body: B,
    /// The format the request declared, or `None` to let the content decide.
    pub declared: Option<Format>,
    /// What the upload said about the file (sampling rate, kind); stored for re-analysis.
    pub options: UploadOptions,
    /// When the recording was made.
    pub recorded_at: Timestamp,
    /// Makes a retried upload count once.
    pub idempotency_key: Option<String>,
}

/// A stored assessment and its current result.
#[derive(Debug)]
pub struct Ingested {
    /// The assessment.
    pub assessment: Assessment,
    /// Its current analysis.
    pub result: AnalysisResult,
    /// True when the idempotency key named an earlier, identical upload, which is returned
    /// instead of storing the file again.
    pub replayed: bool,
}

/// A stored assessment under this key: the same upload again is answered with it; anything
/// else under the same key is refused.
async fn earlier(
    app: &App,
    scope: &OrgScope,
    key: &str,
    subject: SubjectId,
    sha: &str,
) -> Result<Option<Ingested>, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    let Some(a) = assessments::find_by_idempotency_key(&mut tx, key).await? else {
        return Ok(None);
    };
    if a.subject != subject || a.raw_sha256 != sha {
        return Err(AppError::invalid(
            crate::Code::IdempotencyKeyReused,
            "this Idempotency-Key was used for another upload",
        ));
    }
    let result = assessments::current_result(&mut tx, &a).await?;
    Ok(Some(Ingested {
        assessment: a,
        result,
        replayed: true,
    }))
}

/// Stores a recording: analysed first (an unreadable file, or one without analysable force,
/// is refused and nothing is written), its raw file sealed with the subject's key into the
/// object store, then the assessment, its results, the audit event and (when the organisation
/// scores) a `score-subject` run in one transaction. Indexed after the commit.
pub async fn ingest<B>(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    upload: Upload<B>,
) -> Result<Ingested, AppError>
where
    B: AsRef<[u8]> + Clone + Send + 'static,
{
    let Upload {
        subject,
        body,
        declared,
        options,
        recorded_at,
        idempotency_key: key,
    } = upload;
    let org = scope.org();
    let now = app.now();
    let opts = parse_options(&options).map_err(|e| match e {
        UploadOptionError::UnknownKind => {
            AppError::invalid(crate::Code::InvalidKind, e.to_string())
        }
        UploadOptionError::Columns(_) => AppError::malformed(e.to_string()),
    })?;
    if body.as_ref().is_empty() {
        return Err(AppError::invalid(
            crate::Code::InvalidRecording,
            "the file is empty",
        ));
    }
    let sha = mhp_domain::to_hex(&Sha256::digest(body.as_ref()));
    if let Some(k) = &key
        && let Some(done) = earlier(app, scope, k, subject, &sha).await?
    {
        return Ok(done);
    }
    // The subject, and its teams for the search index's document (one read, not a second
    // one after the commit).
    let (pseudonym, teams) = {
        let mut tx = app.db.tenant(scope, Access::Read).await?;
        let found = subjects::get(&mut tx, subject).await?;
        (found.pseudonym, subjects::teams_of(&mut tx, subject).await?)
    };

    // The engine decides the format (a declared one, else by content: a BOM and blank space
    // before `{` still make JSON) and says which it read; that is what is stored.
    let opts = match declared {
        Some(format) => opts.with_format(format),
        None => opts,
    };
    let mut options = options;
    let mut report = analyse("upload", body.clone(), opts.clone()).await?;
    // A rep nothing could weigh (no steady standing, no weigh-in given or in the file) is
    // weighed with the athlete's latest measured body mass, if a recent assessment has one;
    // the value is kept with the assessment so that a reanalysis reads the file alike.
    if needs_weighing(&report)
        && options.body_mass_kg.is_none()
        && let Some(kg) = earlier_body_mass(app, scope, subject, recorded_at).await?
    {
        report = analyse("upload", body.clone(), opts.with_earlier_body_mass_kg(kg)).await?;
        options.earlier_body_mass_kg = Some(kg);
    }
    let format = report.recording.format.map_or("csv", Format::as_str);
    let (kind, result) = result_of(&report, now);

    let id = AssessmentId::new();
    let object = raw_key(org, id)?;
    let sealed =
        app.phi
            .for_write(org, subject)
            .await?
            .seal_raw(org, &id.to_string(), body.as_ref())?;
    app.objects.put(&object, &sealed).await?;
    let assessment = Assessment {
        id,
        subject,
        kind,
        recorded_at,
        source: if caller.api_key {
            Source::Device
        } else {
            Source::User
        },
        uploaded_by: caller.actor.clone(),
        format: format.to_owned(),
        raw_object_key: object.as_str().to_owned(),
        raw_sha256: sha.clone(),
        raw_bytes: i64::try_from(body.as_ref().len()).unwrap_or(i64::MAX),
        idempotency_key: key.clone(),
        analysis_version: result.analysis_version.clone(),
        created_at: now,
        options,
    };
    let stored = async {
        let mut tx = app.db.tenant(scope, Access::Write).await?;
        assessments::create(&mut tx, &assessment, &result).await?;
        caller
            .record(
                &mut tx,
                "assessment.create",
                "assessment",
                Some(id.to_string()),
                now,
            )
            .await?;
        let scoring = scoring::enqueue_for_assessment(&mut tx, &assessment, now).await?;
        tx.commit().await?;
        Ok::<_, StorageError>(scoring)
    }
    .await;
    if stored.is_ok() {
        app.populations.forget(scope.org());
    }
    match stored {
        Ok(scoring) => {
            if scoring {
                app.pipeline_wakeup.notify_one();
            }
        }
        Err(e) => {
            // Nothing refers to the sealed file now; a failed delete leaves an orphan that
            // holds only ciphertext (and the sweep removes it).
            if let Err(del) = app.objects.delete(&object).await {
                tracing::warn!(error = %del, "could not remove the raw file of a failed upload");
            }
            if matches!(e, StorageError::Conflict { .. })
                && let Some(k) = &key
                && let Some(done) = earlier(app, scope, k, subject, &sha).await?
            {
                // Another request with the same key won the race.
                return Ok(done);
            }
            return Err(e.into());
        }
    }
    let doc = indexing::document_of(org, pseudonym, teams, &assessment, &result);
    indexing::index_document(app, doc).await;
    Ok(Ingested {
        assessment,
        result,
        replayed: false,
    })
}

/// An assessment's raw file, read from the object store and opened with its subject's key,
/// and the options it was read with at upload. Not audited here: the caller records the read
/// it makes of it.
pub async fn read_raw(
    app: &App,
    scope: &OrgScope,
    a: &Assessment,
) -> Result<(Vec<u8>, ParseOptions), AppError> {
    let org = scope.org();
    let object = ObjectKey::parse(&a.raw_object_key).map_err(AppError::internal)?;
    let sealed = app.objects.get(&object).await?;
    let raw = app
        .phi
        .for_read(org, a.subject)
        .await?
        .open_raw(org, &a.id.to_string(), sealed)?;
    let opts = parse_options(&a.options)
        .map_err(|e| AppError::internal(format!("stored upload options: {e}")))?;
    Ok((raw, opts))
}

/// Re-analyses one stored assessment from its raw file with this build's engine, keeping the
/// earlier result; read as the upload was (its sampling rate and kind). Returns whether a new
/// result was stored (false: already current).
pub async fn reanalyse(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    a: &Assessment,
) -> Result<bool, AppError> {
    if a.analysis_version == ANALYSIS_VERSION {
        return Ok(false);
    }
    // The format is detected again, by the same rule as at upload (a row stored as `csv` by
    // an earlier version for a JSON file with a byte-order mark is read right this time).
    let (raw, opts) = read_raw(app, scope, a).await?;
    let report = analyse("upload", raw, opts).await?;
    let now = app.now();
    let (_, result) = result_of(&report, now);
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    assessments::add_result(&mut tx, a.id, &result).await?;
    caller
        .record(
            &mut tx,
            "assessment.reanalyze",
            "assessment",
            Some(a.id.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    app.populations.forget(scope.org());
    let mut current = a.clone();
    current
        .analysis_version
        .clone_from(&result.analysis_version);
    indexing::index_one(app, scope, &current, &result).await;
    Ok(true)
}
