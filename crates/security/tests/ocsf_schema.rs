//! Every kind of event MHP emits, checked against the OCSF 1.8.0 schema by an independent
//! validator (`tools/ocsf/validate.py`, which reads the schema's own files; they are in
//! `tools/ocsf/schema-1.8.0`, Apache-2.0). The binary's end-to-end test validates what the
//! JSON-lines sink wrote after a working session as well.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::process::Command;

use mhp_security::event::{Outcome, SecurityEvent, Stream, roles_detail};
use mhp_security::ocsf::{Product, to_ocsf};
use mhp_security::rules::RulePack;

/// Every action MHP records, with the actor kinds and outcomes that occur for it.
const ACTIONS: &[&str] = &[
    "apikey.issue",
    "apikey.revoke",
    "apikey.rotate",
    "assessment.create",
    "assessment.list",
    "assessment.read",
    "assessment.reanalyze",
    "audit.export",
    "audit.read",
    "audit.verify",
    "auth.account_lock",
    "auth.authenticate",
    "auth.authorize",
    "auth.sign_in",
    "auth.sign_out",
    "dataset.export",
    "http.not_found",
    "injury.create",
    "injury.decision",
    "injury.list",
    "invitation.accept",
    "invitation.send",
    "keys.reindex",
    "keys.root_created",
    "keys.root_moved_to_key_store",
    "keys.rotate_master",
    "keys.rotate_org",
    "keys.rotate_root",
    "load.create",
    "membership.grant",
    "membership.roles",
    "mfa.enrol",
    "mfa.verify",
    "model.archive",
    "model.import",
    "model.promote",
    "model.register",
    "model.rollback",
    "model.stage",
    "organisation.create",
    "organisation.mfa_policy",
    "organisation.rename",
    "organisation.sso",
    "organisation.sso_domain_proven",
    "organisation.sso_domain_unproven",
    "organisation.time_zone",
    "password.reset",
    "password.reset_request",
    "pipeline.cancel",
    "pipeline.dataset_export",
    "pipeline.run",
    "pipeline.schedule",
    "pipeline.unschedule",
    "platform.bootstrap",
    "risk.list",
    "risk.band_change",
    "risk.read",
    "risk.thresholds",
    "security.alert_status",
    "subject.archive",
    "subject.create",
    "subject.erase",
    "subject.export",
    "subject.export_fhir",
    "subject.link",
    "subject.list",
    "subject.read",
    "subject.update",
    "subjects.reindex",
    "team.archive",
    "team.create",
    "team.export_metrics",
    "team.rename",
    "team.staff_add",
    "team.subject_add",
    "token.issue",
    "token.revoke",
    "user.create",
    "webhook.create",
    "webhook.delete",
    "webhook.redeliver",
    "webhook.rotate_secret",
    "webhook.update",
];

fn event(action: &str, actor: &str, outcome: Outcome, n: usize) -> SecurityEvent {
    let (resource_type, resource_id, detail) = match action {
        "membership.roles" => (
            "user",
            Some("0190a0a0-0000-7000-8000-000000000002"),
            Some(roles_detail(["org_admin"], ["coach"])),
        ),
        "membership.grant" => (
            "user",
            Some("0190a0a0-0000-7000-8000-000000000002"),
            Some("+clinician".to_owned()),
        ),
        "auth.authenticate" => ("api_key", None, Some("token_bad_signature".to_owned())),
        "auth.sign_in" | "auth.sign_out" | "mfa.verify" | "mfa.enrol" | "token.issue" => {
            ("user", Some("0190a0a0-0000-7000-8000-000000000002"), None)
        }
        "apikey.issue" | "apikey.revoke" | "apikey.rotate" => ("api_key", Some("k7xq2"), None),
        "organisation.mfa_policy" => ("organisation", None, Some("optional weakened".to_owned())),
        "http.not_found" => (
            "subject",
            Some("0190a0a0-0000-7000-8000-00000000dead"),
            None,
        ),
        "alert.raised" => (
            "alert",
            Some("0190a0a0-0000-7000-8000-0000000a1e27"),
            Some("brute_force_account user.uid=0190a0a0-0000-7000-8000-000000000002".to_owned()),
        ),
        _ => (
            "subject",
            Some("0190a0a0-0000-7000-8000-000000000003"),
            None,
        ),
    };
    SecurityEvent {
        stream: Stream::Audit,
        id: format!("0190a0a0-0000-7000-8000-{n:012}"),
        at_ms: 1_765_000_000_000 + i64::try_from(n).unwrap_or(0),
        org: (!action.starts_with("platform."))
            .then(|| "0190a0a0-0000-7000-8000-0000000000a1".to_owned()),
        actor: actor.to_owned(),
        action: action.to_owned(),
        resource_type: resource_type.to_owned(),
        resource_id: resource_id.map(str::to_owned),
        outcome,
        detail,
        request_id: (actor != "cli").then(|| format!("req-{n}")),
        source_ip: match actor {
            "cli" => None,
            _ if n.is_multiple_of(2) => Some("203.0.113.7".to_owned()),
            _ => Some("2001:db8::7".to_owned()),
        },
        user_agent: (actor != "cli").then(|| "Mozilla/5.0 (X11; Linux x86_64)".to_owned()),
    }
}

#[test]
fn every_kind_of_event_validates_against_the_ocsf_schema() {
    let pack = RulePack::shipped();
    let product = Product {
        version: "0.1.0".into(),
    };
    let mut lines = String::new();
    let mut n = 0;
    let actors = [
        "user:0190a0a0-0000-7000-8000-000000000001",
        "apikey:k7xq2",
        "cli",
        "system:pipelines",
        "anonymous",
    ];
    for action in ACTIONS.iter().chain(["alert.raised"].iter()) {
        for actor in actors {
            for outcome in [Outcome::Success, Outcome::Denied, Outcome::Failure] {
                n += 1;
                let e = to_ocsf(&event(action, actor, outcome, n), &product, &pack);
                lines.push_str(&e.to_string());
                lines.push('\n');
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("mhp-ocsf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("events.jsonl");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/ocsf/validate.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg("--min-events")
        .arg(n.to_string())
        .arg(&path)
        .output()
        .expect("python3 runs the OCSF validator");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "OCSF validation failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    for class in [
        "Authentication",
        "Account Change",
        "Authorize Session",
        "User Access Management",
        "API Activity",
        "Web Resource Access Activity",
        "Detection Finding",
    ] {
        assert!(
            summary.contains(class),
            "no {class} event was checked: {summary}"
        );
    }
}
