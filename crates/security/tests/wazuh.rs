//! The Wazuh decoder and rules shipped in `deploy/wazuh/` are well-formed XML and mirror the
//! shipped rule pack: one Wazuh rule per MHP rule id, with its technique and a level for its
//! severity, each matching the Detection Finding MHP writes for that rule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use mhp_security::event::{Outcome, SecurityEvent, Stream};
use mhp_security::fields::value_at as field;
use mhp_security::ocsf::{Product, to_ocsf};
use mhp_security::rules::{RulePack, Severity};

fn read(rel: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/wazuh")
            .join(rel),
    )
    .unwrap()
}

/// Wazuh files hold several top-level elements; they parse as XML once wrapped.
fn parse(text: &str) -> String {
    format!("<root>{text}</root>")
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "14",
        Severity::High => "12",
        Severity::Medium => "8",
        Severity::Low => "5",
        Severity::Informational => "3",
    }
}

#[test]
fn the_decoder_recognises_mhp_events() {
    let text = parse(&read("decoders/mhp_decoders.xml"));
    let doc = roxmltree::Document::parse(&text).unwrap();
    let decoder = doc
        .descendants()
        .find(|n| n.has_tag_name("decoder"))
        .unwrap();
    assert_eq!(decoder.attribute("name"), Some("mhp-ocsf"));
    let prematch = decoder
        .children()
        .find(|n| n.has_tag_name("prematch"))
        .and_then(|n| n.text())
        .unwrap();
    let event = SecurityEvent {
        stream: Stream::Audit,
        id: "e".into(),
        at_ms: 1,
        org: None,
        actor: "anonymous".into(),
        action: "auth.sign_in".into(),
        resource_type: "user".into(),
        resource_id: Some("u".into()),
        outcome: Outcome::Denied,
        detail: None,
        request_id: None,
        source_ip: None,
        user_agent: None,
    };
    let line = to_ocsf(
        &event,
        &Product {
            version: "0".into(),
        },
        &RulePack::shipped(),
    )
    .to_string();
    assert!(line.contains(prematch), "{prematch} not in {line}");
}

#[test]
fn every_shipped_rule_has_its_wazuh_rule() {
    let text = parse(&read("rules/mhp_rules.xml"));
    let doc = roxmltree::Document::parse(&text).unwrap();
    let rules: Vec<roxmltree::Node<'_, '_>> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rule"))
        .collect();
    let mut ids: Vec<&str> = rules.iter().map(|r| r.attribute("id").unwrap()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "Wazuh rule ids are unique");
    for id in &ids {
        let n: u32 = id.parse().unwrap();
        assert!(
            (100_000..=120_000).contains(&n),
            "{id} is outside Wazuh's custom range"
        );
    }
    let pack = RulePack::shipped();
    for rule in pack.rules() {
        let wazuh = rules
            .iter()
            .find(|r| {
                r.children().any(|f| {
                    f.has_tag_name("field")
                        && f.attribute("name") == Some("finding_info.analytic.uid")
                        && f.text() == Some(format!("^{}$", rule.id).as_str())
                })
            })
            .unwrap_or_else(|| panic!("no Wazuh rule for {}", rule.id));
        assert_eq!(
            wazuh.attribute("level"),
            Some(level(rule.severity)),
            "{}",
            rule.id
        );
        let technique = wazuh
            .descendants()
            .find(|n| n.has_tag_name("id"))
            .and_then(|n| n.text())
            .unwrap();
        assert_eq!(
            Some(technique),
            rule.technique.as_ref().map(|t| t.id.as_str()),
            "{}",
            rule.id
        );
        // The rule's fields match the finding MHP writes for it.
        let finding = to_ocsf(
            &SecurityEvent {
                stream: Stream::Signals,
                id: "f".into(),
                at_ms: 1,
                org: None,
                actor: "system:security-monitor".into(),
                action: "alert.raised".into(),
                resource_type: "alert".into(),
                resource_id: Some("a".into()),
                outcome: Outcome::Success,
                detail: Some(format!("{} all", rule.id)),
                request_id: None,
                source_ip: None,
                user_agent: None,
            },
            &Product {
                version: "0".into(),
            },
            &pack,
        );
        for f in wazuh.children().filter(|f| f.has_tag_name("field")) {
            let path = f.attribute("name").unwrap();
            let pattern = f.text().unwrap();
            let value = field(&finding, path).map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                v => v.to_string(),
            });
            let literal = pattern.trim_start_matches('^').trim_end_matches('$');
            assert_eq!(value.as_deref(), Some(literal), "{}: {path}", rule.id);
        }
    }
}
