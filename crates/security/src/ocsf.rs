//! Security events in OCSF 1.8.0, the schema every SIEM sink receives.
//!
//! Each MHP action maps to one class and activity (`classify`); the rest of the event is the
//! same for all: `metadata` (the event id for deduplication, the organisation as
//! `tenant_uid`, the action as `event_code`, the request as `correlation_uid`), the actor, the
//! source address, the status. Only ids and codes go in: never a name, an e-mail address, a
//! token or a value of a health record. `tools/ocsf/validate.py` checks every kind of event
//! against the schema (`crates/cli/tests/it/siem.rs`).

use serde_json::{Map, Value, json};

use crate::event::{ActorKind, Outcome, SecurityEvent, parse_roles_detail};
use crate::rules::RulePack;

/// The OCSF version the events follow.
pub const VERSION: &str = "1.8.0";

/// An OCSF event class MHP emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// 3002, Identity & Access Management.
    Authentication,
    /// 3001.
    AccountChange,
    /// 3003.
    AuthorizeSession,
    /// 3005.
    UserAccessManagement,
    /// 6003, Application Activity.
    ApiActivity,
    /// 6004.
    WebResourceAccess,
    /// 2004, Findings.
    DetectionFinding,
    /// 2003.
    ComplianceFinding,
}

impl Class {
    /// `class_uid`.
    pub const fn uid(self) -> u32 {
        match self {
            Class::AccountChange => 3001,
            Class::Authentication => 3002,
            Class::AuthorizeSession => 3003,
            Class::UserAccessManagement => 3005,
            Class::ApiActivity => 6003,
            Class::WebResourceAccess => 6004,
            Class::ComplianceFinding => 2003,
            Class::DetectionFinding => 2004,
        }
    }

    /// `class_name`.
    pub const fn name(self) -> &'static str {
        match self {
            Class::AccountChange => "Account Change",
            Class::Authentication => "Authentication",
            Class::AuthorizeSession => "Authorize Session",
            Class::UserAccessManagement => "User Access Management",
            Class::ApiActivity => "API Activity",
            Class::WebResourceAccess => "Web Resource Access Activity",
            Class::ComplianceFinding => "Compliance Finding",
            Class::DetectionFinding => "Detection Finding",
        }
    }

    /// `category_uid` and `category_name`.
    pub const fn category(self) -> (u32, &'static str) {
        match self {
            Class::AccountChange
            | Class::Authentication
            | Class::AuthorizeSession
            | Class::UserAccessManagement => (3, "Identity & Access Management"),
            Class::ApiActivity | Class::WebResourceAccess => (6, "Application Activity"),
            Class::ComplianceFinding | Class::DetectionFinding => (2, "Findings"),
        }
    }

    /// The caption of an activity of this class (`Other` for 99).
    pub fn activity_name(self, activity: u32) -> &'static str {
        let names: &[&str] = match self {
            Class::Authentication => &[
                "Logon",
                "Logoff",
                "Authentication Ticket",
                "Service Ticket Request",
                "Service Ticket Renew",
                "Preauth",
                "Account Switch",
            ],
            Class::AccountChange => &[
                "Create",
                "Enable",
                "Password Change",
                "Password Reset",
                "Disable",
                "Delete",
                "Attach Policy",
                "Detach Policy",
                "Lock",
                "MFA Factor Enable",
                "MFA Factor Disable",
                "Unlock",
            ],
            Class::AuthorizeSession => &["Assign Privileges", "Assign Groups"],
            Class::UserAccessManagement => &["Assign Privileges", "Revoke Privileges"],
            Class::ApiActivity => &["Create", "Read", "Update", "Delete"],
            Class::WebResourceAccess => &[
                "Access Grant",
                "Access Deny",
                "Access Revoke",
                "Access Error",
            ],
            Class::ComplianceFinding | Class::DetectionFinding => &["Create", "Update", "Close"],
        };
        match activity {
            0 => "Unknown",
            n => usize::try_from(n)
                .ok()
                .and_then(|n| names.get(n - 1))
                .copied()
                .unwrap_or("Other"),
        }
    }
}

/// `severity_id` values.
pub mod severity {
    /// Informational.
    pub const INFORMATIONAL: u32 = 1;
    /// Low.
    pub const LOW: u32 = 2;
    /// Medium.
    pub const MEDIUM: u32 = 3;
    /// High.
    pub const HIGH: u32 = 4;
    /// Critical.
    pub const CRITICAL: u32 = 5;

    /// The caption of a severity id.
    pub const fn name(id: u32) -> &'static str {
        match id {
            1 => "Informational",
            2 => "Low",
            3 => "Medium",
            4 => "High",
            5 => "Critical",
            6 => "Fatal",
            99 => "Other",
            _ => "Unknown",
        }
    }
}

const OTHER: u32 = 99;

/// The class and activity an MHP action is reported as.
pub fn classify(action: &str, detail: Option<&str>) -> (Class, u32) {
    match action {
        "auth.sign_in" | "mfa.verify" | "auth.authenticate" => (Class::Authentication, 1),
        "auth.sign_out" => (Class::Authentication, 2),
        "token.revoke" => (Class::Authentication, OTHER),
        "token.issue" => (Class::AuthorizeSession, 1),
        "user.create" | "apikey.issue" => (Class::AccountChange, 1),
        "apikey.revoke" => (Class::AccountChange, 6),
        "password.reset" => (Class::AccountChange, 4),
        "password.reset_request" => (Class::AccountChange, OTHER),
        "auth.account_lock" => (Class::AccountChange, 9),
        "mfa.enrol" => (Class::AccountChange, 10),
        "membership.roles" => {
            let (added, removed) = parse_roles_detail(detail.unwrap_or(""));
            let activity = if added.is_empty() && !removed.is_empty() {
                2
            } else {
                1
            };
            (Class::UserAccessManagement, activity)
        }
        "membership.grant" | "invitation.accept" => (Class::UserAccessManagement, 1),
        "auth.authorize" => (Class::WebResourceAccess, 2),
        "http.not_found" => (Class::WebResourceAccess, 4),
        "alert.raised" => (Class::DetectionFinding, 1),
        _ => (Class::ApiActivity, api_activity(action)),
    }
}

/// The API Activity verb of an action, from its last word.
fn api_activity(action: &str) -> u32 {
    let verb = action.rsplit('.').next().unwrap_or(action);
    let first = verb.split('_').next().unwrap_or(verb);
    match first {
        "create" | "record" | "register" | "import" | "send" | "link" | "add" | "issue"
        | "enrol" | "run" | "schedule" | "bootstrap" | "grant" | "staff" | "subject" => 1,
        "read" | "list" | "export" | "verify" | "jsonl" => 2,
        "archive" | "erase" | "delete" | "revoke" | "cancel" | "unschedule" | "unproven" => 4,
        "update" | "rename" | "roles" | "stage" | "promote" | "rollback" | "reanalyze"
        | "decision" | "time" | "mfa" | "sso" | "rotate" | "reindex" | "thresholds"
        | "retention" | "root" | "proven" => 3,
        _ => OTHER,
    }
}

/// What the product says about itself in every event.
#[derive(Debug, Clone)]
pub struct Product {
    /// MHP's version.
    pub version: String,
}

/// The event in OCSF.
pub fn to_ocsf(event: &SecurityEvent, product: &Product, rules: &RulePack) -> Value {
    let (class, activity) = classify(&event.action, event.detail.as_deref());
    let failed = event.outcome != Outcome::Success;
    let mut out = header(
        class,
        activity,
        event.at_ms,
        if failed {
            severity::LOW
        } else {
            severity::INFORMATIONAL
        },
    );
    out.insert("metadata".into(), metadata(event, product));
    out.insert(
        "message".into(),
        Value::String(format!(
            "{} {}",
            event.action,
            match event.outcome {
                Outcome::Success => "succeeded",
                Outcome::Failure => "failed",
                Outcome::Denied => "was refused",
            }
        )),
    );
    if class != Class::DetectionFinding {
        let (status_id, status) = if failed {
            (2, "Failure")
        } else {
            (1, "Success")
        };
        out.insert("status_id".into(), json!(status_id));
        out.insert("status".into(), json!(status));
        if let Some(detail) = event.detail.as_deref().filter(|_| failed) {
            out.insert("status_detail".into(), json!(detail));
        }
    }
    let actor = actor(event);
    let src = src_endpoint(event);
    match class {
        Class::Authentication
        | Class::AccountChange
        | Class::AuthorizeSession
        | Class::UserAccessManagement => {
            out.insert("user".into(), target_user(event));
            if class == Class::Authentication {
                // Authentication names the service signed in to (or a destination).
                out.insert("service".into(), json!({ "name": "mhp" }));
            }
            if let Some(actor) = actor {
                out.insert("actor".into(), actor);
            }
            if let Some(src) = src {
                out.insert("src_endpoint".into(), src);
            }
            if event.action == "mfa.verify" {
                out.insert("is_mfa".into(), json!(true));
            }
            if class == Class::UserAccessManagement {
                let (added, removed) = parse_roles_detail(event.detail.as_deref().unwrap_or(""));
                let privileges = if activity == 2 { removed } else { added };
                out.insert("privileges".into(), json!(privileges));
            }
            if class == Class::AuthorizeSession {
                // What the session was given: an access token (and a refresh token with it).
                out.insert("privileges".into(), json!(["access_token"]));
            }
        }
        Class::ApiActivity => {
            out.insert(
                "actor".into(),
                actor.unwrap_or_else(|| json!({ "app_name": "anonymous" })),
            );
            out.insert(
                "src_endpoint".into(),
                src.unwrap_or_else(|| json!({ "name": "mhp" })),
            );
            out.insert(
                "api".into(),
                json!({ "operation": event.action, "service": { "name": "mhp" } }),
            );
            out.insert("resources".into(), json!([resource(event)]));
            if let Some(http) = http_request(event) {
                out.insert("http_request".into(), http);
            }
        }
        Class::WebResourceAccess => {
            if let Some(actor) = actor {
                // The class carries an actor only with the host profile.
                out.insert("actor".into(), actor);
                if let Some(m) = out.get_mut("metadata") {
                    m["profiles"] = json!(["host"]);
                }
            }
            if let Some(src) = src {
                out.insert("src_endpoint".into(), src);
            }
            out.insert(
                "http_request".into(),
                http_request(event).unwrap_or_else(|| json!({})),
            );
            out.insert("web_resources".into(), json!([resource(event)]));
            if event.action == "http.not_found" {
                out.insert("http_response".into(), json!({ "code": 404 }));
            }
        }
        Class::DetectionFinding => finding(&mut out, event, rules),
        Class::ComplianceFinding => {}
    }
    Value::Object(out)
}

/// The fields every event starts with.
pub fn header(class: Class, activity: u32, at_ms: i64, severity_id: u32) -> Map<String, Value> {
    let (category_uid, category_name) = class.category();
    let activity_name = class.activity_name(activity);
    let mut out = Map::new();
    out.insert("class_uid".into(), json!(class.uid()));
    out.insert("class_name".into(), json!(class.name()));
    out.insert("category_uid".into(), json!(category_uid));
    out.insert("category_name".into(), json!(category_name));
    out.insert("activity_id".into(), json!(activity));
    out.insert("activity_name".into(), json!(activity_name));
    out.insert(
        "type_uid".into(),
        json!(u64::from(class.uid()) * 100 + u64::from(activity)),
    );
    out.insert(
        "type_name".into(),
        json!(format!("{}: {}", class.name(), activity_name)),
    );
    out.insert("time".into(), json!(at_ms));
    out.insert("severity_id".into(), json!(severity_id));
    out.insert("severity".into(), json!(severity::name(severity_id)));
    out
}

fn metadata(event: &SecurityEvent, product: &Product) -> Value {
    let mut m = json!({
        "version": VERSION,
        "uid": event.id,
        "event_code": event.action,
        "log_name": event.stream.as_str(),
        "product": { "name": "MHP", "vendor_name": "MHP", "version": product.version },
    });
    if let Some(org) = &event.org {
        m["tenant_uid"] = json!(org);
    }
    if let Some(request) = &event.request_id {
        m["correlation_uid"] = json!(request);
    }
    if let Some(detail) = &event.detail {
        let labels: Vec<&str> = detail.split_whitespace().collect();
        if !labels.is_empty() {
            m["labels"] = json!(labels);
        }
    }
    m
}

/// The principal who acted, as an OCSF actor (none when nobody was identified).
fn actor(event: &SecurityEvent) -> Option<Value> {
    Some(match event.actor_kind() {
        ActorKind::User(id) => json!({ "user": { "uid": id, "type_id": 1, "type": "User" } }),
        ActorKind::ApiKey(id) => {
            json!({ "user": { "uid": id, "type_id": 4, "type": "Service", "name": "api key" } })
        }
        ActorKind::Cli => json!({ "app_name": "mhp cli" }),
        ActorKind::System(part) => json!({ "app_name": format!("mhp system:{part}") }),
        ActorKind::Anonymous => return None,
    })
}

/// The account an identity event is about: the resource when it is a user or a key, else the
/// actor.
fn target_user(event: &SecurityEvent) -> Value {
    match (event.resource_type.as_str(), event.resource_id.as_deref()) {
        ("user", Some(id)) => json!({ "uid": id, "type_id": 1, "type": "User" }),
        ("api_key", Some(id)) => {
            json!({ "uid": id, "type_id": 4, "type": "Service", "name": "api key" })
        }
        _ => match event.actor_kind() {
            ActorKind::User(id) => json!({ "uid": id, "type_id": 1, "type": "User" }),
            ActorKind::ApiKey(id) => {
                json!({ "uid": id, "type_id": 4, "type": "Service", "name": "api key" })
            }
            _ => json!({ "uid": "unknown", "type_id": 0, "type": "Unknown" }),
        },
    }
}

fn src_endpoint(event: &SecurityEvent) -> Option<Value> {
    event
        .source_ip
        .as_deref()
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
        .map(|ip| json!({ "ip": ip }))
}

fn http_request(event: &SecurityEvent) -> Option<Value> {
    let mut h = Map::new();
    if let Some(id) = &event.request_id {
        h.insert("uid".into(), json!(id));
    }
    if let Some(ua) = &event.user_agent {
        h.insert("user_agent".into(), json!(ua));
    }
    (!h.is_empty()).then_some(Value::Object(h))
}

/// The resource touched: its kind and id (a resource without an id is named by its kind).
fn resource(event: &SecurityEvent) -> Value {
    let mut r = json!({ "type": event.resource_type });
    match &event.resource_id {
        Some(id) => r["uid"] = json!(id),
        None => r["name"] = json!(event.resource_type),
    }
    r
}

/// A raised alert: the signal's resource is the alert, its detail `<rule id> <entity>`.
fn finding(out: &mut Map<String, Value>, event: &SecurityEvent, rules: &RulePack) {
    let detail = event.detail.as_deref().unwrap_or("");
    let (rule_id, entity) = detail.split_once(' ').unwrap_or((detail, ""));
    let rule = rules.get(rule_id);
    let severity_id = rule.map_or(severity::MEDIUM, |r| r.severity.id());
    out.insert("severity_id".into(), json!(severity_id));
    out.insert("severity".into(), json!(severity::name(severity_id)));
    out.insert("status_id".into(), json!(1));
    out.insert("status".into(), json!("New"));
    out.insert("is_alert".into(), json!(true));
    let title = rule.map_or(rule_id, |r| r.title.as_str());
    out.insert("message".into(), json!(title));
    let mut info = json!({
        "uid": event.resource_id.clone().unwrap_or_default(),
        "title": title,
        "desc": format!("{rule_id} raised for {entity}"),
        "types": [rule_id],
        "analytic": { "uid": rule_id, "name": rule_id, "type_id": 1, "type": "Rule" },
        "first_seen_time": event.at_ms,
    });
    if let Some(technique) = rule.and_then(|r| r.technique.as_ref()) {
        let mut attack = json!({ "technique": { "uid": technique.id, "name": technique.name } });
        if let Some(tactic) = &technique.tactic {
            attack["tactic"] = json!({ "uid": tactic.id, "name": tactic.name });
        }
        info["attacks"] = json!([attack]);
    }
    out.insert("finding_info".into(), info);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Stream;

    fn event(action: &str, outcome: Outcome) -> SecurityEvent {
        SecurityEvent {
            stream: Stream::Audit,
            id: "0190-event".into(),
            at_ms: 1_700_000_000_000,
            org: Some("org-1".into()),
            actor: "user:u-1".into(),
            action: action.into(),
            resource_type: "subject".into(),
            resource_id: Some("s-1".into()),
            outcome,
            detail: None,
            request_id: Some("req-1".into()),
            source_ip: Some("203.0.113.9".into()),
            user_agent: Some("curl/8".into()),
        }
    }

    #[test]
    fn type_uid_is_class_and_activity() {
        let pack = RulePack::shipped();
        let e = to_ocsf(
            &event("subject.read", Outcome::Success),
            &Product {
                version: "0.1.0".into(),
            },
            &pack,
        );
        assert_eq!(e["class_uid"], 6003);
        assert_eq!(e["activity_id"], 2);
        assert_eq!(e["type_uid"], 600_302);
        assert_eq!(e["type_name"], "API Activity: Read");
        assert_eq!(e["metadata"]["tenant_uid"], "org-1");
        assert_eq!(e["metadata"]["uid"], "0190-event");
        assert_eq!(e["src_endpoint"]["ip"], "203.0.113.9");
    }

    #[test]
    fn sign_in_failure_is_an_authentication_failure() {
        let mut ev = event("auth.sign_in", Outcome::Denied);
        ev.resource_type = "user".into();
        ev.resource_id = Some("u-9".into());
        ev.actor = "anonymous".into();
        ev.detail = Some("bad_credentials".into());
        let e = to_ocsf(
            &ev,
            &Product {
                version: "0".into(),
            },
            &RulePack::shipped(),
        );
        assert_eq!(e["type_uid"], 300_201);
        assert_eq!(e["status_id"], 2);
        assert_eq!(e["status_detail"], "bad_credentials");
        assert_eq!(e["user"]["uid"], "u-9");
        assert!(e.get("actor").is_none());
    }

    #[test]
    fn role_changes_name_the_privileges() {
        assert_eq!(
            classify("membership.roles", Some("+org_admin")),
            (Class::UserAccessManagement, 1)
        );
        assert_eq!(
            classify("membership.roles", Some("-coach")),
            (Class::UserAccessManagement, 2)
        );
        assert_eq!(classify("subject.erase", None), (Class::ApiActivity, 4));
        assert_eq!(classify("subject.create", None), (Class::ApiActivity, 1));
        assert_eq!(
            classify("organisation.rename", None),
            (Class::ApiActivity, 3)
        );
    }
}
