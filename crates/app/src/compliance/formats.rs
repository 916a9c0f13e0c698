//! A report in the forms auditors' tools read: JSON (MHP's own), NIST OSCAL 1.1 Assessment
//! Results, and AWS Security Hub findings (ASFF, the input of `BatchImportFindings`). The
//! printable HTML form is a page of the web application's (`mhp_server::web::compliance_report`).

use serde_json::{Value, json};

use super::{Outcome, Report};

/// The OSCAL version the Assessment Results follow.
pub const OSCAL_VERSION: &str = "1.1.3";

/// An instant as RFC 3339 in UTC with milliseconds, as the reports write times.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The report as MHP's JSON.
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

fn uuid4() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The report as OSCAL 1.1 Assessment Results: one result, an observation per check (the
/// evidence) and a finding per check that applies, its target the check's objective with the
/// state satisfied or not; citations are properties.
pub fn oscal(report: &Report) -> Value {
    let at = rfc3339(report.generated_at_ms);
    let mut observations = Vec::new();
    let mut findings = Vec::new();
    for f in &report.findings {
        let observation = uuid4();
        observations.push(json!({
            "uuid": observation,
            "title": f.title,
            "description": f.evidence,
            "props": [
                {"name": "check-id", "ns": "https://mhp.example/ns/oscal", "value": f.id},
                {"name": "result", "ns": "https://mhp.example/ns/oscal", "value": f.outcome.label().replace(' ', "-")},
            ],
            "methods": ["TEST"],
            "types": ["control-objective"],
            "collected": at,
        }));
        let state = match f.outcome {
            Outcome::Pass => "satisfied",
            Outcome::Fail => "not-satisfied",
            Outcome::NotApplicable => continue,
        };
        let mut props: Vec<Value> = f
            .hipaa
            .iter()
            .map(|h| json!({"name": "hipaa-citation", "ns": "https://mhp.example/ns/oscal", "value": h}))
            .collect();
        props.extend(f.soc2.iter().map(
            |c| json!({"name": "soc2-criterion", "ns": "https://mhp.example/ns/oscal", "value": c}),
        ));
        findings.push(json!({
            "uuid": uuid4(),
            "title": f.title,
            "description": f.evidence,
            "props": props,
            "target": {
                "type": "objective-id",
                "target-id": f.id,
                "status": {"state": state},
            },
            "related-observations": [{"observation-uuid": observation}],
        }));
    }
    json!({
        "assessment-results": {
            "uuid": uuid4(),
            "metadata": {
                "title": "MHP compliance self-check",
                "last-modified": at,
                "version": report.mhp_version,
                "oscal-version": OSCAL_VERSION,
                "props": [{"name": "run-id", "ns": "https://mhp.example/ns/oscal", "value": report.id}],
            },
            "import-ap": {"href": "#mhp-self-check-plan"},
            "results": [{
                "uuid": uuid4(),
                "title": format!("Self-check of {}", report.public_url),
                "description": format!(
                    "{} checks of the running deployment ({} environment): {} passed, {} failed, {} not applicable.",
                    report.findings.len(), report.environment, report.summary.passed,
                    report.summary.failed, report.summary.not_applicable
                ),
                "start": at,
                "end": at,
                "reviewed-controls": {"control-selections": [{"include-all": {}}]},
                "observations": observations,
                "findings": findings,
            }],
        }
    })
}

/// Where Security Hub findings are filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsffTarget {
    /// The AWS account (12 digits).
    pub account_id: String,
    /// The region.
    pub region: String,
}

/// The report as AWS Security Hub findings (`{"Findings": [...]}`, the input of
/// `BatchImportFindings`), filed under the account's default product; a finding per check,
/// its id stable across runs so that Security Hub updates it.
pub fn asff(report: &Report, target: &AsffTarget) -> Value {
    let at = rfc3339(report.generated_at_ms);
    let AsffTarget { account_id, region } = target;
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let (status, severity, workflow) = match f.outcome {
                Outcome::Pass => ("PASSED", "INFORMATIONAL", "RESOLVED"),
                Outcome::Fail => ("FAILED", "HIGH", "NEW"),
                Outcome::NotApplicable => ("NOT_AVAILABLE", "INFORMATIONAL", "SUPPRESSED"),
            };
            let mut requirements: Vec<String> =
                f.hipaa.iter().map(|h| format!("HIPAA {h}")).collect();
            requirements.extend(f.soc2.iter().map(|c| format!("SOC 2 {c}")));
            let description: String = f.evidence.chars().take(1024).collect();
            json!({
                "SchemaVersion": "2018-10-08",
                "Id": format!("mhp/{}/{}", report.public_url, f.id),
                "ProductArn": format!("arn:aws:securityhub:{region}:{account_id}:product/{account_id}/default"),
                "GeneratorId": format!("mhp-compliance/{}", f.id),
                "AwsAccountId": account_id,
                "Types": ["Software and Configuration Checks/Industry and Regulatory Standards/HIPAA Controls"],
                "CreatedAt": at,
                "UpdatedAt": at,
                "Severity": {"Label": severity},
                "Title": f.title.chars().take(256).collect::<String>(),
                "Description": if description.is_empty() { f.title.clone() } else { description },
                "ProductFields": {"mhp/check": f.id, "mhp/run": report.id},
                "Resources": [{
                    "Type": "Other",
                    "Id": report.public_url,
                    "Region": region,
                }],
                "Compliance": {"Status": status, "RelatedRequirements": requirements},
                "Workflow": {"Status": workflow},
                "RecordState": "ACTIVE",
            })
        })
        .collect();
    json!({ "Findings": findings })
}
