//! A report in the forms auditors' tools read: JSON (MHP's own), HTML (printable), NIST OSCAL
//! 1.1 Assessment Results, and AWS Security Hub findings (ASFF, the input of
//! `BatchImportFindings`).

use serde_json::{Value, json};

use super::{Outcome, Report};

/// The OSCAL version the Assessment Results follow.
pub const OSCAL_VERSION: &str = "1.1.3";

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The report as MHP's JSON.
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn label(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "fail",
        Outcome::NotApplicable => "not applicable",
    }
}

/// The report as a self-contained HTML page that prints cleanly (no script, no external
/// resource).
pub fn html(report: &Report) -> String {
    let s = &report.summary;
    let mut rows = String::new();
    for f in &report.findings {
        rows.push_str(&format!(
            "<tr class=\"{class}\"><td><code>{id}</code></td><td>{title}</td><td>{hipaa}</td>\
             <td>{soc2}</td><td class=\"result\">{result}</td><td>{evidence}</td></tr>\n",
            class = label(f.outcome).replace(' ', "-"),
            id = escape(&f.id),
            title = escape(&f.title),
            hipaa = escape(&f.hipaa.join("; ")),
            soc2 = escape(&f.soc2.join(", ")),
            result = label(f.outcome),
            evidence = escape(&f.evidence),
        ));
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>MHP compliance self-check {at}</title>\n<style>\
         body{{font:11pt/1.4 system-ui,sans-serif;margin:2em;color:#111}}\
         table{{border-collapse:collapse;width:100%}}\
         th,td{{border:1px solid #999;padding:4px 6px;text-align:left;vertical-align:top}}\
         th{{background:#eee}} tr{{break-inside:avoid}} thead{{display:table-header-group}}\
         .fail .result{{font-weight:bold;color:#a00}} .pass .result{{color:#060}}\
         @media print{{body{{margin:0}} a{{color:inherit}}}}\
         </style></head><body>\n\
         <h1>MHP compliance self-check</h1>\n\
         <p>Run <code>{id}</code> at {at} (UTC) by MHP {version}, environment {env}, \
         {url}.</p>\n\
         <p><strong>{passed} passed, {failed} failed, {na} not applicable</strong> of {total} \
         checks. Citations: HIPAA Security Rule (45 CFR Part 164 Subpart C), SOC 2 trust \
         services criteria (2017, revised 2022).</p>\n\
         <table><thead><tr><th>Check</th><th>Control</th><th>HIPAA</th><th>SOC 2</th>\
         <th>Result</th><th>Evidence</th></tr></thead><tbody>\n{rows}</tbody></table>\n\
         </body></html>\n",
        at = escape(&rfc3339(report.generated_at_ms)),
        id = escape(&report.id),
        version = escape(&report.mhp_version),
        env = escape(&report.environment),
        url = escape(&report.public_url),
        passed = s.passed,
        failed = s.failed,
        na = s.not_applicable,
        total = report.findings.len(),
    )
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
                {"name": "result", "ns": "https://mhp.example/ns/oscal", "value": label(f.outcome).replace(' ', "-")},
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_what_it_shows() {
        assert_eq!(
            escape("<a href='x'>&</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"
        );
    }
}
