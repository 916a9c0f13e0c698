//! One security-relevant event as MHP records it.

use serde::{Deserialize, Serialize};

/// Where an event was read from: each stream has its own delivery cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// The audit log (hash-chained, kept six years).
    Audit,
    /// Signals that are not audit records: refusals outside any organisation, not-found probes,
    /// raised alerts.
    Signals,
}

impl Stream {
    /// Every stream.
    pub const ALL: [Stream; 2] = [Stream::Audit, Stream::Signals];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Stream::Audit => "audit",
            Stream::Signals => "signals",
        }
    }
}

/// How the action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Done.
    Success,
    /// Tried and failed.
    Failure,
    /// Refused by access control.
    Denied,
}

impl Outcome {
    /// Reads a stored outcome; anything unknown is a failure (never a success).
    pub fn parse(s: &str) -> Self {
        match s {
            "success" => Outcome::Success,
            "denied" => Outcome::Denied,
            _ => Outcome::Failure,
        }
    }
}

/// One event: ids and codes only, never PHI, a secret or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEvent {
    /// The stream it came from.
    pub stream: Stream,
    /// Its id (UUID), unique across streams: the SIEM deduplicates by it.
    pub id: String,
    /// When, in milliseconds since the epoch.
    pub at_ms: i64,
    /// The organisation it belongs to, if any.
    pub org: Option<String>,
    /// Who acted, as the audit log names them (`user:<id>`, `apikey:<id>`, `cli`,
    /// `system:<part>`, `anonymous`).
    pub actor: String,
    /// What was done, dotted (`auth.sign_in`, `subject.read`).
    pub action: String,
    /// The kind of resource.
    pub resource_type: String,
    /// Which one.
    pub resource_id: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// A short code beyond the action (a failure reason, a policy, roles granted).
    pub detail: Option<String>,
    /// The request that carried it.
    pub request_id: Option<String>,
    /// The client's address.
    pub source_ip: Option<String>,
    /// The client's user agent (truncated).
    pub user_agent: Option<String>,
}

/// The principal behind an actor string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind<'a> {
    /// A person, by user id.
    User(&'a str),
    /// An API key, by its public id.
    ApiKey(&'a str),
    /// The command line on the server.
    Cli,
    /// A part of the platform (`system:<part>`).
    System(&'a str),
    /// Nobody identified.
    Anonymous,
}

impl SecurityEvent {
    /// Who acted.
    pub fn actor_kind(&self) -> ActorKind<'_> {
        let a = self.actor.as_str();
        if let Some(id) = a.strip_prefix("user:") {
            ActorKind::User(id)
        } else if let Some(id) = a.strip_prefix("apikey:") {
            ActorKind::ApiKey(id)
        } else if a == "cli" {
            ActorKind::Cli
        } else if let Some(part) = a.strip_prefix("system:") {
            ActorKind::System(part)
        } else if a == "system" {
            ActorKind::System("")
        } else {
            ActorKind::Anonymous
        }
    }
}

/// The detail of a role change: the roles added and removed, `+org_admin -coach`.
pub fn roles_detail<'a>(
    added: impl IntoIterator<Item = &'a str>,
    removed: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut parts: Vec<String> = added.into_iter().map(|r| format!("+{r}")).collect();
    parts.extend(removed.into_iter().map(|r| format!("-{r}")));
    parts.join(" ")
}

/// Reads a role change's detail back: (added, removed).
pub fn parse_roles_detail(detail: &str) -> (Vec<&str>, Vec<&str>) {
    let mut added = Vec::new();
    let mut removed = Vec::new();
    for part in detail.split_whitespace() {
        if let Some(r) = part.strip_prefix('+') {
            added.push(r);
        } else if let Some(r) = part.strip_prefix('-') {
            removed.push(r);
        }
    }
    (added, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_detail_reads_back() {
        let d = roles_detail(["org_admin", "coach"], ["athlete"]);
        assert_eq!(d, "+org_admin +coach -athlete");
        assert_eq!(
            parse_roles_detail(&d),
            (vec!["org_admin", "coach"], vec!["athlete"])
        );
        assert_eq!(parse_roles_detail(""), (vec![], vec![]));
    }
}
