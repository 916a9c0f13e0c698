//! Exports of one subject's record: the whole record as JSON (the person's right of access)
//! and jump metrics as a FHIR R4 Bundle for clinics' health records.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use mhp_domain::{SubjectId, Timestamp};
use mhp_storage::Access;
use mhp_storage::repo::{assessments, subjects};
use serde_json::{Value, json};

use super::{Grant, path_id};
use crate::{ApiError, AppState};
use mhp_app::assessments::summary;

/// The FHIR code system of MHP's own metric codes (no LOINC code exists for them): an https
/// canonical URL, as FHIR asks of code systems, naming the system the way HL7's URLs name theirs.
pub const MHP_METRIC_SYSTEM: &str = "https://fhir.mhp.health/CodeSystem/force-plate-metric";

/// The vital-signs profile of body weight (FHIR R4 Observation-bodyweight).
const BODYWEIGHT_PROFILE: &str = "http://hl7.org/fhir/StructureDefinition/bodyweight";

/// An Observation's id: the same for an assessment's metric in every export (a UUID of
/// version 8, from SHA-256 of the assessment and the metric), so a receiving record system
/// updates it in place rather than adding a copy.
fn observation_id(assessment: &str, metric: &str) -> uuid::Uuid {
    use sha2::Digest as _;
    let digest = sha2::Sha256::new()
        .chain_update(b"mhp-fhir-observation\0")
        .chain_update(assessment.as_bytes())
        .chain_update(b"\0")
        .chain_update(metric.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // Version 8 (RFC 9562: custom), RFC variant.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes)
}

/// What a metric is in FHIR: its code (LOINC where one exists), display and UCUM unit.
struct Coding {
    system: &'static str,
    code: &'static str,
    display: &'static str,
    unit: &'static str,
}

fn coding(metric: &str) -> Option<Coding> {
    let mhp = |code, display, unit| Coding {
        system: MHP_METRIC_SYSTEM,
        code,
        display,
        unit,
    };
    Some(match metric {
        // LOINC 29463-7 Body weight (measured on the plate's quiet standing).
        "body_mass_kg" => Coding {
            system: "http://loinc.org",
            code: "29463-7",
            display: "Body weight",
            unit: "kg",
        },
        "jump_height_impulse_m" => mhp(
            "cmj-jump-height-impulse",
            "Countermovement jump height (impulse-momentum)",
            "m",
        ),
        "jump_height_flight_m" => mhp(
            "cmj-jump-height-flight",
            "Countermovement jump height (flight time)",
            "m",
        ),
        "rsi_modified" => mhp(
            "cmj-rsi-modified",
            "Reactive strength index modified",
            "m/s",
        ),
        "braking_rfd_n_s" => mhp(
            "cmj-braking-rfd",
            "Braking rate of force development",
            "N/s",
        ),
        "mean_propulsive_force_n_per_kg" => mhp(
            "cmj-mean-concentric-force",
            "Mean concentric (propulsive) force per body mass",
            "N/kg",
        ),
        "concentric_impulse_n_s" => mhp("cmj-concentric-impulse", "Concentric impulse", "N.s"),
        "peak_propulsive_power_w_per_kg" => mhp(
            "cmj-peak-power",
            "Peak propulsive power per body mass",
            "W/kg",
        ),
        "asymmetry.propulsive_impulse_pct" => mhp(
            "cmj-propulsive-impulse-asymmetry",
            "Left/right propulsive impulse asymmetry",
            "%",
        ),
        _ => return None,
    })
}

pub(crate) fn iso_instant(t: Timestamp) -> String {
    let ms = t.as_millis();
    let date = mhp_domain::CalendarDate::from_unix_millis(ms);
    let in_day = ms.rem_euclid(86_400_000);
    format!(
        "{date}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// `GET /api/v1/orgs/{org}/subjects/{subject}/export`: everything MHP holds about a subject.
pub async fn record(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "subject", SubjectId::parse)?;
    record_of(&state, &grant, id).await
}

/// `GET /api/v1/orgs/{org}/me/record`: the caller's own record (an athlete's or service
/// member's), the same export as their clinician's; 404 when no record is linked to them.
pub async fn own_record(State(state): State<AppState>, grant: Grant) -> Result<Response, ApiError> {
    let id = own_subject(&state, &grant).await?;
    record_of(&state, &grant, id).await
}

/// A subject's whole record, as exported (`mhp-subject-record/1`).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct RecordOut {
    /// `mhp-subject-record/1`.
    format: &'static str,
    exported_at_ms: i64,
    subject: super::subjects::SubjectOut,
    /// The keyed pseudonym under which this person appears in de-identified training datasets
    /// (the `subject` column of a dataset's CSV), so a request for access can find them there.
    deidentified_id: String,
    /// Every assessment, with every analysis of it.
    assessments: Vec<RecordAssessment>,
    injuries: Vec<super::injuries::InjuryOut>,
}

/// An assessment in a record.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct RecordAssessment {
    id: String,
    /// The test (`cmj`, `balance`, …).
    kind: String,
    recorded_at_ms: i64,
    /// Who uploaded it: `user` or `apikey` (a device or integration).
    source: String,
    current_analysis_version: String,
    raw: RecordRaw,
    /// Each analysis version's result, oldest first.
    results: Vec<RecordResult>,
}

/// The raw file of an assessment: how it came, not what it holds.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct RecordRaw {
    #[schemars(schema_with = "super::sets::one::<super::sets::RecordingFormat>")]
    format: String,
    bytes: i64,
    sha256: String,
}

/// One analysis of an assessment.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct RecordResult {
    analysis_version: String,
    computed_at_ms: i64,
    /// The engine's report: trials, phases, metrics and quality flags (`mhp analyze`'s JSON).
    report: Value,
}

/// The export of one subject's record, audited as `subject.export`.
async fn record_of(state: &AppState, grant: &Grant, id: SubjectId) -> Result<Response, ApiError> {
    let scope = grant.org()?;
    let org = scope.org();
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&scope, Access::Write).await?;
    let s = subjects::get_including_archived(&mut tx, id).await?;
    let subject = super::subjects::SubjectOut::from(
        mhp_app::subjects::open_today(&state.app, &mut tx, &s, mhp_app::subjects::Identifiers::All)
            .await?,
    );
    let mut list = Vec::new();
    for a in mhp_app::subjects::all_assessments(&mut tx, id).await? {
        let results = assessments::results(&mut tx, a.id)
            .await?
            .into_iter()
            .map(|r| RecordResult {
                analysis_version: r.analysis_version,
                computed_at_ms: r.computed_at.as_millis(),
                report: serde_json::from_str::<Value>(&r.report_json).unwrap_or(Value::Null),
            })
            .collect();
        list.push(RecordAssessment {
            id: a.id.to_string(),
            kind: a.kind,
            recorded_at_ms: a.recorded_at.as_millis(),
            source: a.uploaded_by.split(':').next().unwrap_or("").to_owned(),
            current_analysis_version: a.analysis_version,
            raw: RecordRaw {
                format: a.format,
                bytes: a.raw_bytes,
                sha256: a.raw_sha256,
            },
            results,
        });
    }
    let injuries = super::injuries::list_for(&mut tx, state, org, id).await?;
    grant
        .record(
            &mut tx,
            "subject.export",
            "subject",
            Some(id.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    let body = RecordOut {
        format: "mhp-subject-record/1",
        exported_at_ms: now.as_millis(),
        subject,
        deidentified_id: state.app.pseudonyms.of(org, id),
        assessments: list,
        injuries,
    };
    let mut res = Json(body).into_response();
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"subject-record.json\""),
    );
    Ok(res)
}

/// `GET /api/v1/orgs/{org}/subjects/{subject}/fhir`: a FHIR R4 `collection` Bundle with the
/// Patient and one Observation per key jump metric of each assessment (mean of its trials).
pub async fn fhir(
    State(state): State<AppState>,
    grant: Grant,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "subject", SubjectId::parse)?;
    fhir_of(&state, &grant, id).await
}

/// `GET /api/v1/orgs/{org}/me/fhir`: the caller's own record as the same FHIR R4 Bundle; 404
/// when no record is linked to them.
pub async fn own_fhir(State(state): State<AppState>, grant: Grant) -> Result<Response, ApiError> {
    let id = own_subject(&state, &grant).await?;
    fhir_of(&state, &grant, id).await
}

/// The subject record linked to the caller (an athlete's own), or 404.
async fn own_subject(state: &AppState, grant: &Grant) -> Result<SubjectId, ApiError> {
    let crate::authn::Principal::User { user, .. } = &grant.principal else {
        return Err(ApiError::NotFound("record"));
    };
    let mut tx = state.app.db.tenant(&grant.org()?, Access::Read).await?;
    Ok(subjects::of_user(&mut tx, user.id)
        .await?
        .ok_or(ApiError::NotFound("record"))?
        .id)
}

/// One subject as FHIR resources: the Patient and an Observation per key jump metric of each
/// assessment (and body weight), each Observation with its stable id.
pub(crate) struct SubjectFhir {
    /// The Patient.
    pub patient: Value,
    /// The Observations, by id.
    pub observations: Vec<(uuid::Uuid, Value)>,
}

/// The FHIR resources of the subject `s` of `org`, its Observations referring to the Patient
/// as `reference` (`urn:uuid:…` inside a Bundle, `Patient/…` in bulk files); with `since`,
/// only Observations of assessments recorded in MHP from then on.
pub(crate) async fn subject_fhir(
    state: &AppState,
    tx: &mut mhp_storage::TenantTx,
    s: &subjects::Subject,
    reference: &str,
    since: Option<Timestamp>,
) -> Result<SubjectFhir, ApiError> {
    let org = tx.org();
    let id = s.id;
    let subject = mhp_app::subjects::open(
        &state.app.phi,
        org,
        s,
        mhp_domain::availability::Availability::Available,
        mhp_app::subjects::Identifiers::All,
    )
    .await?;
    let mut patient = json!({
        "resourceType": "Patient",
        "id": id.to_string(),
        "name": [{"text": subject.name}],
        "gender": match s.sex {
            Some(mhp_domain::Sex::Female) => "female",
            Some(mhp_domain::Sex::Male) => "male",
            Some(mhp_domain::Sex::Other) => "other",
            _ => "unknown",
        },
    });
    if let Some(b) = &subject.birth_date {
        patient["birthDate"] = Value::String(b.to_string());
    }
    if let Some(e) = &subject.external_id {
        patient["identifier"] =
            json!([{"system": format!("urn:mhp:org:{org}:external-id"), "value": e}]);
    }
    let mut observations = Vec::new();
    for a in mhp_app::subjects::all_assessments(tx, id).await? {
        if since.is_some_and(|t| a.created_at < t) {
            continue;
        }
        let result = assessments::current_result(tx, &a).await?;
        for (metric, value) in summary(&result).into_iter().chain(
            result
                .metrics
                .iter()
                .filter(|(t, m, _)| *t == 0 && m == "body_mass_kg")
                .map(|(_, m, v)| (m.clone(), *v)),
        ) {
            let Some(c) = coding(&metric) else { continue };
            let obs_id = observation_id(&a.id.to_string(), &metric);
            let vital = metric == "body_mass_kg";
            let (category, category_display) = if vital {
                ("vital-signs", "Vital Signs")
            } else {
                ("exam", "Exam")
            };
            let mut observation = json!({
                    "resourceType": "Observation",
                    "id": obs_id.to_string(),
                    "status": "final",
                    "category": [{"coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": category,
                        "display": category_display,
                    }]}],
                    "code": {"coding": [{"system": c.system, "code": c.code, "display": c.display}],
                             "text": c.display},
                    "subject": {"reference": reference},
                    "effectiveDateTime": iso_instant(a.recorded_at),
                    "valueQuantity": {"value": value, "unit": c.unit,
                                      "system": "http://unitsofmeasure.org", "code": c.unit},
                    "method": {"text": format!("MHP force-plate analysis {}", a.analysis_version)},
                    "identifier": [{"system": "urn:mhp:assessment", "value": format!("{}#{metric}", a.id)}],
            });
            if vital {
                observation["meta"] = json!({"profile": [BODYWEIGHT_PROFILE]});
            }
            observations.push((obs_id, observation));
        }
    }
    Ok(SubjectFhir {
        patient,
        observations,
    })
}

/// A subject's jump metrics as a FHIR R4 `collection` Bundle.
async fn fhir_of(state: &AppState, grant: &Grant, id: SubjectId) -> Result<Response, ApiError> {
    let scope = grant.org()?;
    let now = state.app.clock.now();
    let mut tx = state.app.db.tenant(&scope, Access::Write).await?;
    let s = subjects::get_including_archived(&mut tx, id).await?;
    let patient_url = format!("urn:uuid:{id}");
    let fhir = subject_fhir(state, &mut tx, &s, &patient_url, None).await?;
    let mut entries = vec![json!({"fullUrl": patient_url, "resource": fhir.patient})];
    for (obs_id, observation) in fhir.observations {
        entries.push(json!({
            "fullUrl": format!("urn:uuid:{obs_id}"),
            "resource": observation,
        }));
    }
    grant
        .record(
            &mut tx,
            "subject.export_fhir",
            "subject",
            Some(id.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": iso_instant(now),
        "entry": entries,
    });
    let mut res = Json(bundle).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json"),
    );
    Ok(res)
}
