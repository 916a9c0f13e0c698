//! The compliance report as a self-contained page that prints cleanly for an auditor (`mhp
//! compliance check --format html`): no script, no external resource, the table's header
//! repeated on every printed page.

use maud::{PreEscaped, html};
use mhp_app::compliance::Report;
use mhp_app::compliance::formats::rfc3339;

const STYLE: &str = "body{font:11pt/1.4 system-ui,sans-serif;margin:2em;color:#111}\
     table{border-collapse:collapse;width:100%}\
     th,td{border:1px solid #999;padding:4px 6px;text-align:left;vertical-align:top}\
     th{background:#eee} tr{break-inside:avoid} thead{display:table-header-group}\
     .fail .result{font-weight:bold;color:#a00} .pass .result{color:#060}\
     @media print{body{margin:0} a{color:inherit}}";

/// The report as an HTML document.
pub fn page(report: &Report) -> String {
    let at = rfc3339(report.generated_at_ms);
    let s = &report.summary;
    let markup = html! {
        (PreEscaped("<!doctype html>\n"))
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "MHP compliance self-check " (at) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "MHP compliance self-check" }
                p {
                    "Run " code { (report.id) } " at " (at) " (UTC) by MHP " (report.mhp_version)
                    ", environment " (report.environment) ", " (report.public_url) "."
                }
                p {
                    strong { (s.passed) " passed, " (s.failed) " failed, " (s.not_applicable) " not applicable" }
                    " of " (report.findings.len()) " checks. Citations: HIPAA Security Rule (45 CFR Part 164 Subpart C), SOC 2 trust services criteria (2017, revised 2022)."
                }
                table {
                    thead { tr {
                        th { "Check" } th { "Control" } th { "HIPAA" } th { "SOC 2" }
                        th { "Result" } th { "Evidence" }
                    } }
                    tbody {
                        @for f in &report.findings {
                            tr class=(f.outcome.label().replace(' ', "-")) {
                                td { code { (f.id) } }
                                td { (f.title) }
                                td { (f.hipaa.join("; ")) }
                                td { (f.soc2.join(", ")) }
                                td class="result" { (f.outcome.label()) }
                                td { (f.evidence) }
                            }
                        }
                    }
                }
            }
        }
    };
    markup.into_string()
}

#[cfg(test)]
mod tests {
    use mhp_app::compliance::{Finding, Outcome, Summary};

    use super::*;

    #[test]
    fn the_page_escapes_what_it_shows() {
        let report = Report {
            format: "mhp-compliance-1".into(),
            id: "run".into(),
            generated_at_ms: 0,
            mhp_version: "0".into(),
            environment: "development".into(),
            public_url: "http://x".into(),
            summary: Summary::default(),
            findings: vec![Finding {
                id: "c".into(),
                title: "<a href='x'>&</a>".into(),
                hipaa: Vec::new(),
                soc2: Vec::new(),
                outcome: Outcome::Fail,
                evidence: String::new(),
            }],
        };
        let page = page(&report);
        assert!(page.starts_with("<!doctype html>"));
        assert!(page.contains("&lt;a href='x'&gt;&amp;&lt;/a&gt;"), "{page}");
        assert!(page.contains("<td class=\"result\">fail</td>"));
    }
}
