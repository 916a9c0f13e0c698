//! Security events in OCSF 1.8.0, the schema every SIEM sink receives.
//!
//! Each MHP action maps to one class and activity (`classify`); the rest of the event is the
//! same for all: `metadata` (the event id for deduplication, the organisation as
//! `tenant_uid`, the action as `event_code`, the request as `correlation_uid`), the actor, the
//! source address, the status. Only ids and codes go in: never a name, an e-mail address, a
//! token or a value of a health record. `tools/ocsf/validate.py` checks every kind of event
//! against the schema (`crates/cli/tests/it/siem.rs`).

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use crate::event::{ActorKind, Outcome, SecurityEvent, parse_roles_detail};
use crate::fields::{Field, Fields};
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
        // A credential's secret replaced: OCSF's nearest activity is a password change.
        "apikey.rotate" => (Class::AccountChange, 3),
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
        "create" | "record" | "register" | "import" | "send" | "redeliver" | "link" | "add"
        | "issue" | "enrol" | "run" | "schedule" | "bootstrap" | "grant" | "staff" | "subject" => 1,
        "read" | "list" | "export" | "verify" | "jsonl" => 2,
        "archive" | "erase" | "delete" | "revoke" | "cancel" | "unschedule" | "unproven" => 4,
        "update" | "rename" | "roles" | "stage" | "promote" | "rollback" | "reanalyze"
        | "decision" | "time" | "mfa" | "sso" | "rotate" | "reindex" | "thresholds"
        | "retention" | "root" | "proven" | "band" => 3,
        _ => OTHER,
    }
}

/// What the product says about itself in every event.
#[derive(Debug, Clone)]
pub struct Product {
    /// MHP's version.
    pub version: String,
}

/// The event in OCSF, as a JSON value (tools and tests; the monitor serialises [`Event`]).
pub fn to_ocsf(event: &SecurityEvent, product: &Product, rules: &RulePack) -> Value {
    serde_json::to_value(Event::of(event, product, rules)).unwrap_or(Value::Null)
}

/// One event in OCSF, borrowed from the [`SecurityEvent`] it describes: serialised straight to
/// the text every sink receives, and read by the detection rules through [`Fields`] without a
/// JSON tree in between. Absent fields are left out.
#[derive(Debug, Clone, Serialize)]
pub struct Event<'a> {
    class_uid: u32,
    class_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    activity_id: u32,
    activity_name: &'static str,
    type_uid: u64,
    type_name: String,
    time: i64,
    severity_id: u32,
    severity: &'static str,
    metadata: Metadata<'a>,
    message: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_detail: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserRef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<Named>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<Actor<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_endpoint: Option<Endpoint<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_mfa: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    privileges: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api: Option<Api<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<[Resource<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    web_resources: Option<[Resource<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_request: Option<HttpRequest<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_response: Option<HttpResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_alert: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finding_info: Option<FindingInfo<'a>>,
}

#[derive(Debug, Clone, Serialize)]
struct Metadata<'a> {
    version: &'static str,
    uid: &'a str,
    event_code: &'a str,
    log_name: &'static str,
    product: ProductRef<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profiles: Option<[&'static str; 1]>,
}

#[derive(Debug, Clone, Serialize)]
struct ProductRef<'a> {
    name: &'static str,
    vendor_name: &'static str,
    version: &'a str,
}

#[derive(Debug, Clone, Serialize)]
struct UserRef<'a> {
    uid: &'a str,
    type_id: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'static str>,
}

impl<'a> UserRef<'a> {
    fn user(uid: &'a str) -> Self {
        Self {
            uid,
            type_id: 1,
            kind: "User",
            name: None,
        }
    }

    fn api_key(uid: &'a str) -> Self {
        Self {
            uid,
            type_id: 4,
            kind: "Service",
            name: Some("api key"),
        }
    }

    fn field(&self, path: &str) -> Option<Field<'a>> {
        Some(match path {
            "uid" => Field::Str(Cow::Borrowed(self.uid)),
            "type_id" => Field::Int(i64::from(self.type_id)),
            "type" => Field::Str(Cow::Borrowed(self.kind)),
            "name" => Field::Str(Cow::Borrowed(self.name?)),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
struct Named {
    name: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct Actor<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserRef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_name: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, Serialize)]
struct Endpoint<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
struct Api<'a> {
    operation: &'a str,
    service: Named,
}

#[derive(Debug, Clone, Serialize)]
struct Resource<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

impl<'a> Resource<'a> {
    fn field(&self, path: &str) -> Option<Field<'a>> {
        Some(Field::Str(Cow::Borrowed(match path {
            "type" => self.kind,
            "uid" => self.uid?,
            "name" => self.name?,
            _ => return None,
        })))
    }
}

#[derive(Debug, Clone, Serialize)]
struct HttpRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
struct HttpResponse {
    code: u16,
}

#[derive(Debug, Clone, Serialize)]
struct FindingInfo<'a> {
    uid: &'a str,
    title: &'a str,
    desc: String,
    types: [&'a str; 1],
    analytic: Analytic<'a>,
    first_seen_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    attacks: Option<[Attack<'a>; 1]>,
}

#[derive(Debug, Clone, Serialize)]
struct Analytic<'a> {
    uid: &'a str,
    name: &'a str,
    type_id: u32,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct Attack<'a> {
    technique: Ref<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tactic: Option<Ref<'a>>,
}

#[derive(Debug, Clone, Serialize)]
struct Ref<'a> {
    uid: &'a str,
    name: &'a str,
}

impl<'a> Ref<'a> {
    fn field(&self, path: &str) -> Option<Field<'a>> {
        Some(Field::Str(Cow::Borrowed(match path {
            "uid" => self.uid,
            "name" => self.name,
            _ => return None,
        })))
    }
}

impl<'a> Event<'a> {
    /// The OCSF form of `event`.
    pub fn of(event: &'a SecurityEvent, product: &'a Product, rules: &'a RulePack) -> Self {
        let (class, activity) = classify(&event.action, event.detail.as_deref());
        let failed = event.outcome != Outcome::Success;
        let (category_uid, category_name) = class.category();
        let activity_name = class.activity_name(activity);
        let severity_id = if failed {
            severity::LOW
        } else {
            severity::INFORMATIONAL
        };
        let mut out = Event {
            class_uid: class.uid(),
            class_name: class.name(),
            category_uid,
            category_name,
            activity_id: activity,
            activity_name,
            type_uid: u64::from(class.uid()) * 100 + u64::from(activity),
            type_name: format!("{}: {}", class.name(), activity_name),
            time: event.at_ms,
            severity_id,
            severity: severity::name(severity_id),
            metadata: Metadata {
                version: VERSION,
                uid: &event.id,
                event_code: &event.action,
                log_name: event.stream.as_str(),
                product: ProductRef {
                    name: "MHP",
                    vendor_name: "MHP",
                    version: &product.version,
                },
                tenant_uid: event.org.as_deref(),
                correlation_uid: event.request_id.as_deref(),
                labels: event
                    .detail
                    .as_deref()
                    .map(|d| d.split_whitespace().collect::<Vec<_>>())
                    .filter(|l| !l.is_empty()),
                profiles: None,
            },
            message: Cow::Owned(format!(
                "{} {}",
                event.action,
                match event.outcome {
                    Outcome::Success => "succeeded",
                    Outcome::Failure => "failed",
                    Outcome::Denied => "was refused",
                }
            )),
            status_id: None,
            status: None,
            status_detail: None,
            user: None,
            service: None,
            actor: None,
            src_endpoint: None,
            is_mfa: None,
            privileges: None,
            api: None,
            resources: None,
            web_resources: None,
            http_request: None,
            http_response: None,
            is_alert: None,
            finding_info: None,
        };
        if class != Class::DetectionFinding {
            out.status_id = Some(if failed { 2 } else { 1 });
            out.status = Some(if failed { "Failure" } else { "Success" });
            out.status_detail = event.detail.as_deref().filter(|_| failed);
        }
        let actor = actor(event);
        let src = src_endpoint(event);
        match class {
            Class::Authentication
            | Class::AccountChange
            | Class::AuthorizeSession
            | Class::UserAccessManagement => {
                out.user = Some(target_user(event));
                if class == Class::Authentication {
                    // Authentication names the service signed in to (or a destination).
                    out.service = Some(Named { name: "mhp" });
                }
                out.actor = actor;
                out.src_endpoint = src;
                if event.action == "mfa.verify" {
                    out.is_mfa = Some(true);
                }
                if class == Class::UserAccessManagement {
                    let (added, removed) =
                        parse_roles_detail(event.detail.as_deref().unwrap_or(""));
                    out.privileges = Some(if activity == 2 { removed } else { added });
                }
                if class == Class::AuthorizeSession {
                    // What the session was given: an access token (and a refresh token with it).
                    out.privileges = Some(vec!["access_token"]);
                }
            }
            Class::ApiActivity => {
                out.actor = Some(actor.unwrap_or(Actor {
                    user: None,
                    app_name: Some(Cow::Borrowed("anonymous")),
                }));
                out.src_endpoint = Some(src.unwrap_or(Endpoint {
                    ip: None,
                    name: Some("mhp"),
                }));
                out.api = Some(Api {
                    operation: &event.action,
                    service: Named { name: "mhp" },
                });
                out.resources = Some([resource(event)]);
                out.http_request = http_request(event);
            }
            Class::WebResourceAccess => {
                if actor.is_some() {
                    // The class carries an actor only with the host profile.
                    out.actor = actor;
                    out.metadata.profiles = Some(["host"]);
                }
                out.src_endpoint = src;
                out.http_request = Some(http_request(event).unwrap_or(HttpRequest {
                    uid: None,
                    user_agent: None,
                }));
                out.web_resources = Some([resource(event)]);
                if event.action == "http.not_found" {
                    out.http_response = Some(HttpResponse { code: 404 });
                }
            }
            Class::DetectionFinding => finding(&mut out, event, rules),
            Class::ComplianceFinding => {}
        }
        out
    }
}

fn borrowed(s: &str) -> Field<'_> {
    Field::Str(Cow::Borrowed(s))
}

impl Fields for Event<'_> {
    fn field(&self, path: &str) -> Option<Field<'_>> {
        let (head, rest) = path.split_once('.').unwrap_or((path, ""));
        let str_owned = |s: &str| Field::Str(Cow::Owned(s.to_owned()));
        let int = |i: i64| Field::Int(i);
        let list = |items: &[&str]| Field::List(items.iter().map(|s| str_owned(s)).collect());
        if rest.is_empty() {
            return Some(match head {
                "class_uid" => int(i64::from(self.class_uid)),
                "class_name" => borrowed(self.class_name),
                "category_uid" => int(i64::from(self.category_uid)),
                "category_name" => borrowed(self.category_name),
                "activity_id" => int(i64::from(self.activity_id)),
                "activity_name" => borrowed(self.activity_name),
                "type_uid" => int(i64::try_from(self.type_uid).unwrap_or(i64::MAX)),
                "type_name" => borrowed(&self.type_name),
                "time" => int(self.time),
                "severity_id" => int(i64::from(self.severity_id)),
                "severity" => borrowed(self.severity),
                "message" => borrowed(&self.message),
                "status_id" => int(i64::from(self.status_id?)),
                "status" => borrowed(self.status?),
                "status_detail" => borrowed(self.status_detail?),
                "is_mfa" => Field::Bool(self.is_mfa?),
                "is_alert" => Field::Bool(self.is_alert?),
                "privileges" => list(self.privileges.as_deref()?),
                "resources" => {
                    self.resources.as_ref()?;
                    Field::List(vec![Field::Object])
                }
                "web_resources" => {
                    self.web_resources.as_ref()?;
                    Field::List(vec![Field::Object])
                }
                "metadata" => Field::Object,
                "user" => self.user.as_ref().map(|_| Field::Object)?,
                "service" => self.service.as_ref().map(|_| Field::Object)?,
                "actor" => self.actor.as_ref().map(|_| Field::Object)?,
                "src_endpoint" => self.src_endpoint.as_ref().map(|_| Field::Object)?,
                "api" => self.api.as_ref().map(|_| Field::Object)?,
                "http_request" => self.http_request.as_ref().map(|_| Field::Object)?,
                "http_response" => self.http_response.as_ref().map(|_| Field::Object)?,
                "finding_info" => self.finding_info.as_ref().map(|_| Field::Object)?,
                _ => return None,
            });
        }
        match head {
            "metadata" => {
                let m = &self.metadata;
                let (key, more) = rest.split_once('.').unwrap_or((rest, ""));
                if key == "product" {
                    return Some(match more {
                        "" => Field::Object,
                        "name" => borrowed(m.product.name),
                        "vendor_name" => borrowed(m.product.vendor_name),
                        "version" => borrowed(m.product.version),
                        _ => return None,
                    });
                }
                if key == "labels" || key == "profiles" {
                    let items: &[&str] = if key == "labels" {
                        m.labels.as_deref()?
                    } else {
                        m.profiles.as_ref()?
                    };
                    return if more.is_empty() {
                        Some(list(items))
                    } else {
                        items.get(more.parse::<usize>().ok()?).map(|s| borrowed(s))
                    };
                }
                if !more.is_empty() {
                    return None;
                }
                Some(match key {
                    "version" => borrowed(m.version),
                    "uid" => borrowed(m.uid),
                    "event_code" => borrowed(m.event_code),
                    "log_name" => borrowed(m.log_name),
                    "tenant_uid" => borrowed(m.tenant_uid?),
                    "correlation_uid" => borrowed(m.correlation_uid?),
                    _ => return None,
                })
            }
            "user" => self.user.as_ref()?.field(rest),
            "actor" => {
                let a = self.actor.as_ref()?;
                match rest.split_once('.') {
                    Some(("user", more)) => a.user.as_ref()?.field(more),
                    None if rest == "user" => a.user.as_ref().map(|_| Field::Object),
                    None if rest == "app_name" => a.app_name.as_deref().map(borrowed),
                    _ => None,
                }
            }
            "src_endpoint" => {
                let e = self.src_endpoint.as_ref()?;
                match rest {
                    "ip" => e.ip.map(borrowed),
                    "name" => e.name.map(borrowed),
                    _ => None,
                }
            }
            "service" => match rest {
                "name" => self.service.as_ref().map(|n| borrowed(n.name)),
                _ => None,
            },
            "api" => {
                let a = self.api.as_ref()?;
                match rest {
                    "operation" => Some(borrowed(a.operation)),
                    "service" => Some(Field::Object),
                    "service.name" => Some(borrowed(a.service.name)),
                    _ => None,
                }
            }
            "privileges" => self
                .privileges
                .as_ref()?
                .get(rest.parse::<usize>().ok()?)
                .map(|s| borrowed(s)),
            "resources" | "web_resources" => {
                let r = if head == "resources" {
                    self.resources.as_ref()?
                } else {
                    self.web_resources.as_ref()?
                };
                let (index, more) = rest.split_once('.').unwrap_or((rest, ""));
                let r = r.get(index.parse::<usize>().ok()?)?;
                if more.is_empty() {
                    Some(Field::Object)
                } else {
                    r.field(more)
                }
            }
            "http_request" => {
                let h = self.http_request.as_ref()?;
                match rest {
                    "uid" => h.uid.map(borrowed),
                    "user_agent" => h.user_agent.map(borrowed),
                    _ => None,
                }
            }
            "http_response" => (rest == "code")
                .then(|| self.http_response.as_ref().map(|h| int(i64::from(h.code))))?,
            "finding_info" => self.finding_info.as_ref()?.field(rest),
            _ => None,
        }
    }
}

impl<'a> FindingInfo<'a> {
    fn field(&self, path: &str) -> Option<Field<'a>> {
        let str = |s: &'a str| Field::Str(Cow::Borrowed(s));
        let (head, rest) = path.split_once('.').unwrap_or((path, ""));
        match (head, rest) {
            ("uid", "") => Some(str(self.uid)),
            ("title", "") => Some(str(self.title)),
            ("desc", "") => Some(Field::Str(Cow::Owned(self.desc.clone()))),
            ("types", "") => Some(Field::List(vec![str(self.types[0])])),
            ("types", "0") => Some(str(self.types[0])),
            ("first_seen_time", "") => Some(Field::Int(self.first_seen_time)),
            ("analytic", "") => Some(Field::Object),
            ("analytic", "uid") => Some(str(self.analytic.uid)),
            ("analytic", "name") => Some(str(self.analytic.name)),
            ("analytic", "type_id") => Some(Field::Int(i64::from(self.analytic.type_id))),
            ("analytic", "type") => Some(str(self.analytic.kind)),
            ("attacks", "") => self
                .attacks
                .as_ref()
                .map(|_| Field::List(vec![Field::Object])),
            ("attacks", more) => {
                let [attack] = self.attacks.as_ref()?;
                let (index, more) = more.split_once('.').unwrap_or((more, ""));
                if index != "0" {
                    return None;
                }
                let (part, leaf) = more.split_once('.').unwrap_or((more, ""));
                let r = match part {
                    "" => return Some(Field::Object),
                    "technique" => &attack.technique,
                    "tactic" => attack.tactic.as_ref()?,
                    _ => return None,
                };
                if leaf.is_empty() {
                    Some(Field::Object)
                } else {
                    r.field(leaf)
                }
            }
            _ => None,
        }
    }
}

/// The principal who acted, as an OCSF actor (none when nobody was identified).
fn actor(event: &SecurityEvent) -> Option<Actor<'_>> {
    let user = |u| Actor {
        user: Some(u),
        app_name: None,
    };
    let app = |name: Cow<'static, str>| Actor {
        user: None,
        app_name: Some(name),
    };
    Some(match event.actor_kind() {
        ActorKind::User(id) => user(UserRef::user(id)),
        ActorKind::ApiKey(id) => user(UserRef::api_key(id)),
        ActorKind::Cli => app(Cow::Borrowed("mhp cli")),
        ActorKind::System(part) => app(Cow::Owned(format!("mhp system:{part}"))),
        ActorKind::Anonymous => return None,
    })
}

/// The account an identity event is about: the resource when it is a user or a key, else the
/// actor.
fn target_user(event: &SecurityEvent) -> UserRef<'_> {
    match (event.resource_type.as_str(), event.resource_id.as_deref()) {
        ("user", Some(id)) => UserRef::user(id),
        ("api_key", Some(id)) => UserRef::api_key(id),
        _ => match event.actor_kind() {
            ActorKind::User(id) => UserRef::user(id),
            ActorKind::ApiKey(id) => UserRef::api_key(id),
            _ => UserRef {
                uid: "unknown",
                type_id: 0,
                kind: "Unknown",
                name: None,
            },
        },
    }
}

fn src_endpoint(event: &SecurityEvent) -> Option<Endpoint<'_>> {
    event
        .source_ip
        .as_deref()
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
        .map(|ip| Endpoint {
            ip: Some(ip),
            name: None,
        })
}

fn http_request(event: &SecurityEvent) -> Option<HttpRequest<'_>> {
    let h = HttpRequest {
        uid: event.request_id.as_deref(),
        user_agent: event.user_agent.as_deref(),
    };
    (h.uid.is_some() || h.user_agent.is_some()).then_some(h)
}

/// The resource touched: its kind and id (a resource without an id is named by its kind).
fn resource(event: &SecurityEvent) -> Resource<'_> {
    match &event.resource_id {
        Some(id) => Resource {
            kind: &event.resource_type,
            uid: Some(id),
            name: None,
        },
        None => Resource {
            kind: &event.resource_type,
            uid: None,
            name: Some(&event.resource_type),
        },
    }
}

/// A raised alert: the signal's resource is the alert, its detail `<rule id> <entity>`.
fn finding<'a>(out: &mut Event<'a>, event: &'a SecurityEvent, rules: &'a RulePack) {
    let detail = event.detail.as_deref().unwrap_or("");
    let (rule_id, entity) = detail.split_once(' ').unwrap_or((detail, ""));
    let rule = rules.get(rule_id);
    let severity_id = rule.map_or(severity::MEDIUM, |r| r.severity.id());
    out.severity_id = severity_id;
    out.severity = severity::name(severity_id);
    out.status_id = Some(1);
    out.status = Some("New");
    out.is_alert = Some(true);
    let title = rule.map_or(rule_id, |r| r.title.as_str());
    out.message = Cow::Borrowed(title);
    out.finding_info = Some(FindingInfo {
        uid: event.resource_id.as_deref().unwrap_or_default(),
        title,
        desc: format!("{rule_id} raised for {entity}"),
        types: [rule_id],
        analytic: Analytic {
            uid: rule_id,
            name: rule_id,
            type_id: 1,
            kind: "Rule",
        },
        first_seen_time: event.at_ms,
        attacks: rule.and_then(|r| r.technique.as_ref()).map(|t| {
            [Attack {
                technique: Ref {
                    uid: &t.id,
                    name: &t.name,
                },
                tactic: t.tactic.as_ref().map(|tactic| Ref {
                    uid: &tactic.id,
                    name: &tactic.name,
                }),
            }]
        }),
    });
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

    /// Every path of every kind of event's JSON (objects, arrays and their items, leaves).
    fn paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
        let join = |k: &str| {
            if prefix.is_empty() {
                k.to_owned()
            } else {
                format!("{prefix}.{k}")
            }
        };
        match v {
            Value::Object(m) => {
                for (k, item) in m {
                    out.push(join(k));
                    paths(item, &join(k), out);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    out.push(join(&i.to_string()));
                    paths(item, &join(&i.to_string()), out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn the_rules_read_the_typed_event_as_its_json() {
        let pack = RulePack::shipped();
        let product = Product {
            version: "0.1.0".into(),
        };
        let actions = [
            "auth.sign_in",
            "auth.sign_out",
            "mfa.verify",
            "token.issue",
            "token.revoke",
            "apikey.issue",
            "membership.roles",
            "membership.grant",
            "auth.authorize",
            "http.not_found",
            "subject.read",
            "subject.erase",
            "alert.raised",
            "something.else",
        ];
        let actors = [
            "user:u-1",
            "apikey:k-1",
            "cli",
            "system:pipelines",
            "anonymous",
        ];
        let mut checked = 0;
        for action in actions {
            for actor in actors {
                for outcome in [Outcome::Success, Outcome::Denied, Outcome::Failure] {
                    for variant in 0..4 {
                        let mut e = event(action, outcome);
                        e.actor = actor.into();
                        match variant {
                            1 => e.detail = Some("+org_admin -coach".into()),
                            2 => {
                                e.detail = Some("-coach".into());
                                e.request_id = None;
                                e.user_agent = None;
                                e.org = None;
                                e.source_ip = Some("not an address".into());
                            }
                            3 => {
                                e.detail = Some("mass_phi_access actor.user.uid=u-1".into());
                                e.resource_id = None;
                                e.resource_type = "user".into();
                            }
                            _ => {}
                        }
                        let json = to_ocsf(&e, &product, &pack);
                        let typed = Event::of(&e, &product, &pack);
                        let mut all = Vec::new();
                        paths(&json, "", &mut all);
                        for path in &all {
                            assert_eq!(
                                typed.field(path),
                                json.field(path),
                                "{action} {actor} {outcome:?} {variant}: {path}"
                            );
                            checked += 1;
                        }
                        for absent in [
                            "nope",
                            "actor.user.uid.more",
                            "resources.1.type",
                            "metadata.labels.9",
                            "metadata.product.nope",
                            "finding_info.attacks.1",
                            "user.nope",
                            "http_response.nope",
                            "actor.app_name",
                            "actor.user.name",
                            "src_endpoint.ip",
                            "status_detail",
                            "privileges.0",
                        ] {
                            assert_eq!(
                                typed.field(absent),
                                json.field(absent),
                                "{action} {actor} {outcome:?} {variant}: {absent}"
                            );
                        }
                    }
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
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
