//! Webhooks of an organisation: endpoints that receive its events, signed as Standard Webhooks
//! says (`mhp_egress::webhook`), delivered with retries for three days, a delivery log, manual
//! redelivery and secret rotation with an overlap.
//!
//! Events are not written twice: the dispatcher reads the audit log and the security signals by
//! cursor, as the security monitor does, and turns the actions that matter into messages (an
//! upload's `assessment.create` into `assessment.created`, and `assessment.flagged` when its
//! analysis carries quality flags; `injury.create`; a return-to-duty decision into
//! `rtd.decision` and `injury.updated`; a scoring's `risk.band_change`; a raised alert). The
//! audit event commits with the change it describes, so a message is made for every change
//! that happened and for none that did not. Bodies hold ids and codes, never names, notes or
//! free text, and an endpoint receives only the events its role may read across the
//! organisation ([`EventType::allowed_for`]).
//!
//! One instance at a time dispatches and sends (a lease); a message made twice (an instance
//! that died between making it and moving its cursor) is made once (a unique key), and every
//! attempt carries the same `webhook-id`, so a receiver drops duplicates.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mhp_crypto::seal::Place;
use mhp_domain::webhook::{EventType, next_attempt_ms};
use mhp_domain::{AssessmentId, InjuryId, OrgId, OrgScope, Role, SealedBytes, Secret, Timestamp};
use mhp_egress::webhook::{WebhookSecret, post_signed};
use mhp_egress::{Egress, Url};
use mhp_security::event::{SecurityEvent, Stream};
use mhp_storage::repo::security as cursors;
use mhp_storage::repo::webhooks::{self, Attempt, Changes, Delivery, Endpoint, NewEndpoint};
use mhp_storage::repo::{assessments, injuries};
use mhp_storage::{Access, StorageError};
use serde_json::{Value, json};

use crate::{App, AppError, Caller, Code};

/// How often `mhp serve` looks for new events and due deliveries.
pub const INTERVAL: Duration = Duration::from_secs(1);
/// The consumer name of the dispatcher's cursors.
const CONSUMER: &str = "webhooks";
/// The lease's name.
const LEASE: &str = "webhooks";
/// How long a lease lasts without renewal (longer than a pass: sends time out after 10 s).
const LEASE_MS: i64 = 60_000;
/// Events read per batch.
const BATCH: u32 = 500;
/// Most batches of each stream read in one pass.
const BATCHES_PER_PASS: usize = 20;
/// Deliveries sent per pass, and at once.
const SENDS_PER_PASS: u32 = 200;
const SENDS_AT_ONCE: usize = 8;
/// Ended deliveries are kept this long in the log.
pub const LOG_RETENTION_MS: i64 = 30 * 86_400_000;
/// Longest overlap a rotated secret may be given.
pub const MAX_OVERLAP_HOURS: u32 = 7 * 24;
/// Most endpoints an organisation may have.
pub const MAX_ENDPOINTS: usize = 20;

/// Where an endpoint's secret of `version` is sealed: bound to the organisation, the endpoint
/// and the version, so a sealed secret copied elsewhere does not open.
fn place(org: OrgId, row: &str) -> Place<'_> {
    Place {
        org: Some(org),
        table: "webhook_endpoints",
        column: "secret_sealed",
        row,
    }
}

fn secret_row(endpoint: &str, version: i64) -> String {
    format!("{endpoint}/v{version}")
}

/// The event types of `names`, each allowed for `role`; a clear error otherwise.
pub fn event_types(names: &[String], role: Role) -> Result<Vec<String>, AppError> {
    if names.is_empty() {
        return Err(AppError::malformed(
            "events must name at least one event type",
        ));
    }
    let mut out = Vec::new();
    for name in names {
        let Some(e) = EventType::parse(name) else {
            let known: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
            return Err(AppError::malformed(format!(
                "events: unknown event type; known are {}",
                known.join(", ")
            )));
        };
        if !e.allowed_for(role) {
            return Err(AppError::invalid(
                Code::Invalid,
                format!(
                    "events: the role {} may not read {} across the organisation, so it \
                     cannot receive it",
                    role.as_str(),
                    e.as_str()
                ),
            ));
        }
        if !out.iter().any(|o: &String| o == e.as_str()) {
            out.push(e.as_str().to_owned());
        }
    }
    Ok(out)
}

/// A new endpoint (its URL checked by the edge against the egress rules).
#[derive(Debug)]
pub struct NewWebhook {
    /// Where to post.
    pub url: Url,
    /// The event types, by name.
    pub events: Vec<String>,
    /// The role it receives them as.
    pub role: Role,
    /// What it is for.
    pub description: String,
}

fn check_description(text: &str) -> Result<(), AppError> {
    if text.chars().count() > 200 || text.chars().any(char::is_control) {
        return Err(AppError::malformed(
            "description must be at most 200 characters, without control characters",
        ));
    }
    Ok(())
}

/// Makes an endpoint with a new secret, returned this once (only its sealed form is kept).
pub async fn create(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    new: NewWebhook,
) -> Result<(Endpoint, Secret<String>), AppError> {
    let events = event_types(&new.events, new.role)?;
    check_description(&new.description)?;
    let id = format!("whe_{}", uuid::Uuid::now_v7().simple());
    let (text, _) = WebhookSecret::generate();
    let row = secret_row(&id, 1);
    let sealed = app
        .phi
        .keys()
        .seal_for_org(text.as_bytes(), &place(scope.org(), &row))
        .await?;
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    if webhooks::list(&mut tx).await?.len() >= MAX_ENDPOINTS {
        return Err(AppError::invalid(
            Code::Invalid,
            format!("an organisation has at most {MAX_ENDPOINTS} webhooks"),
        ));
    }
    let endpoint = webhooks::create(
        &mut tx,
        &NewEndpoint {
            id: &id,
            url: new.url.as_str(),
            events: &events,
            role: new.role,
            description: &new.description,
            secret: &sealed,
            created_by: &caller.actor,
        },
        now,
    )
    .await?;
    caller
        .record(&mut tx, "webhook.create", "webhook", Some(id), now)
        .await?;
    tx.commit().await?;
    Ok((endpoint, Secret::new(text)))
}

/// The organisation's endpoints.
pub async fn list(app: &App, scope: &OrgScope) -> Result<Vec<Endpoint>, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    Ok(webhooks::list(&mut tx).await?)
}

/// One endpoint.
pub async fn get(app: &App, scope: &OrgScope, id: &str) -> Result<Endpoint, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    Ok(webhooks::get(&mut tx, id).await?)
}

/// What a change of an endpoint says; `None` keeps the value.
#[derive(Debug, Default)]
pub struct WebhookChanges {
    /// A new URL (checked by the edge).
    pub url: Option<Url>,
    /// New event types.
    pub events: Option<Vec<String>>,
    /// A new description.
    pub description: Option<String>,
    /// Enabled or not (disabling cancels the pending deliveries).
    pub enabled: Option<bool>,
}

/// Changes an endpoint, with its event.
pub async fn update(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    id: &str,
    changes: WebhookChanges,
) -> Result<Endpoint, AppError> {
    if let Some(d) = &changes.description {
        check_description(d)?;
    }
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let current = webhooks::get(&mut tx, id).await?;
    let events = changes
        .events
        .as_deref()
        .map(|e| event_types(e, current.role))
        .transpose()?;
    let endpoint = webhooks::update(
        &mut tx,
        id,
        &Changes {
            url: changes.url.as_ref().map(Url::as_str),
            events: events.as_deref(),
            description: changes.description.as_deref(),
            enabled: changes.enabled,
        },
        now,
    )
    .await?;
    caller
        .record(
            &mut tx,
            "webhook.update",
            "webhook",
            Some(id.to_owned()),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok(endpoint)
}

/// Deletes an endpoint: its pending deliveries are cancelled and its secrets erased.
pub async fn delete(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    id: &str,
) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    webhooks::delete(&mut tx, id, now).await?;
    caller
        .record(
            &mut tx,
            "webhook.delete",
            "webhook",
            Some(id.to_owned()),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives an endpoint a new secret, returned this once; the one it replaces still signs for
/// `overlap_hours` (both signatures are sent meanwhile), so the receiver can change over
/// without refusing a message. A rotation during an overlap ends the older secret at once.
pub async fn rotate_secret(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    id: &str,
    overlap_hours: u32,
) -> Result<(Endpoint, Secret<String>), AppError> {
    if overlap_hours > MAX_OVERLAP_HOURS {
        return Err(AppError::malformed(format!(
            "overlap_hours must be between 0 and {MAX_OVERLAP_HOURS}"
        )));
    }
    let current = get(app, scope, id).await?;
    let version = current.secret_version + 1;
    let (text, _) = WebhookSecret::generate();
    let row = secret_row(id, version);
    let sealed = app
        .phi
        .keys()
        .seal_for_org(text.as_bytes(), &place(scope.org(), &row))
        .await?;
    let now = app.now();
    let until = Timestamp::from_millis(now.as_millis() + i64::from(overlap_hours) * 3_600_000);
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let endpoint =
        match webhooks::rotate(&mut tx, id, version, &sealed, &current.secret, until, now).await {
            Err(StorageError::Conflict { .. }) => {
                return Err(AppError::Conflict("a rotation of this secret in progress"));
            }
            other => other?,
        };
    caller
        .record(
            &mut tx,
            "webhook.rotate_secret",
            "webhook",
            Some(id.to_owned()),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok((endpoint, Secret::new(text)))
}

/// An endpoint's deliveries, newest first (see [`webhooks::deliveries`]).
pub async fn deliveries(
    app: &App,
    scope: &OrgScope,
    endpoint: &str,
    status: Option<webhooks::Status>,
    before: Option<&str>,
    limit: u32,
) -> Result<Vec<Delivery>, AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    webhooks::get(&mut tx, endpoint).await?;
    Ok(webhooks::deliveries(&mut tx, endpoint, status, before, limit).await?)
}

/// One delivery with its attempts.
pub async fn delivery(
    app: &App,
    scope: &OrgScope,
    endpoint: &str,
    id: &str,
) -> Result<(Delivery, Vec<Attempt>), AppError> {
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    Ok(webhooks::delivery(&mut tx, endpoint, id).await?)
}

/// Asks for another attempt of a delivery at once (the same message id), with its event.
pub async fn redeliver(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    endpoint: &str,
    id: &str,
) -> Result<Delivery, AppError> {
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    webhooks::get(&mut tx, endpoint).await?;
    let delivery = match webhooks::redeliver(&mut tx, endpoint, id, now).await {
        Err(StorageError::Conflict { .. }) => {
            return Err(AppError::Conflict(
                "the delivery was cancelled (its webhook is disabled or deleted); a \
                 redelivery of it",
            ));
        }
        other => other?,
    };
    caller
        .record(
            &mut tx,
            "webhook.redeliver",
            "webhook_delivery",
            Some(id.to_owned()),
            now,
        )
        .await?;
    tx.commit().await?;
    Ok(delivery)
}

/// The event types an event of the audit log or the signals becomes.
fn types_of(event: &SecurityEvent) -> &'static [EventType] {
    if event.outcome != mhp_security::event::Outcome::Success {
        return &[];
    }
    match (event.stream, event.action.as_str()) {
        (Stream::Audit, "assessment.create") => {
            &[EventType::AssessmentCreated, EventType::AssessmentFlagged]
        }
        (Stream::Audit, "injury.create") => &[EventType::InjuryCreated],
        (Stream::Audit, "injury.decision") => &[EventType::RtdDecision, EventType::InjuryUpdated],
        (Stream::Audit, "risk.band_change") => &[EventType::RiskBandChanged],
        (Stream::Signals, "alert.raised") => &[EventType::AlertRaised],
        _ => &[],
    }
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The `data` of each message an event makes, by type: ids and codes read from the
/// organisation's records (a record gone since gives no message).
async fn messages_of(
    tx: &mut mhp_storage::TenantTx,
    event: &SecurityEvent,
    types: &[EventType],
) -> Result<Vec<(EventType, Value)>, StorageError> {
    let Some(resource) = event.resource_id.as_deref() else {
        return Ok(Vec::new());
    };
    let org = tx.org().to_string();
    let gone = |e: &StorageError| matches!(e, StorageError::NotFound { .. });
    let mut out = Vec::new();
    match types.first() {
        Some(EventType::AssessmentCreated) => {
            let Ok(id) = AssessmentId::parse(resource) else {
                return Ok(out);
            };
            let assessment = match assessments::get(tx, id).await {
                Err(e) if gone(&e) => return Ok(out),
                other => other?,
            };
            let result = assessments::current_result(tx, &assessment).await?;
            let data = json!({
                "organisation_id": org,
                "assessment_id": assessment.id.to_string(),
                "subject_id": assessment.subject.to_string(),
                "kind": assessment.kind,
                "analysis_version": assessment.analysis_version,
            });
            out.push((EventType::AssessmentCreated, data.clone()));
            let flags = flag_codes(&result.report_json);
            if !flags.is_empty() {
                let mut flagged = data;
                flagged["flags"] = Value::Array(flags);
                flagged["blocked_trials"] = json!(result.blocked_trials);
                out.push((EventType::AssessmentFlagged, flagged));
            }
        }
        Some(EventType::InjuryCreated | EventType::RtdDecision) => {
            let Ok(id) = InjuryId::parse(resource) else {
                return Ok(out);
            };
            let injury = match injuries::get(tx, id).await {
                Err(e) if gone(&e) => return Ok(out),
                other => other?,
            };
            let data = json!({
                "organisation_id": org,
                "injury_id": injury.id.to_string(),
                "subject_id": injury.subject.to_string(),
                "body_region": injury.body_region,
                "injury_type": injury.injury_type,
                "severity": injury.severity,
            });
            if types.first() == Some(&EventType::InjuryCreated) {
                out.push((EventType::InjuryCreated, data));
            } else {
                // The decision the event recorded: the newest made at its time.
                let decisions = injuries::decisions(tx, id).await?;
                let decision = decisions
                    .iter()
                    .filter(|d| d.created_at.as_millis() <= event.at_ms)
                    .max_by_key(|d| (d.created_at, d.id.clone()));
                if let Some(d) = decision {
                    out.push((
                        EventType::RtdDecision,
                        json!({
                            "organisation_id": org,
                            "decision_id": d.id,
                            "injury_id": injury.id.to_string(),
                            "subject_id": injury.subject.to_string(),
                            "stage": d.stage,
                        }),
                    ));
                    let mut updated = data;
                    updated["stage"] = json!(d.stage);
                    out.push((EventType::InjuryUpdated, updated));
                }
            }
        }
        Some(EventType::RiskBandChanged) => {
            // The detail says `from=<band> to=<band> model_version=<id>`.
            let mut data = json!({ "organisation_id": org, "subject_id": resource });
            for part in event.detail.as_deref().unwrap_or("").split_whitespace() {
                if let Some((k, v)) = part.split_once('=') {
                    match k {
                        "from" => data["previous_band"] = json!(v),
                        "to" => data["band"] = json!(v),
                        "model_version" => data["model_version_id"] = json!(v),
                        "as_of" => data["as_of"] = json!(v),
                        _ => {}
                    }
                }
            }
            out.push((EventType::RiskBandChanged, data));
        }
        Some(EventType::AlertRaised) => {
            let rule = event
                .detail
                .as_deref()
                .and_then(|d| d.split_whitespace().next())
                .unwrap_or("");
            out.push((
                EventType::AlertRaised,
                json!({ "organisation_id": org, "alert_id": resource, "rule_id": rule }),
            ));
        }
        _ => {}
    }
    Ok(out)
}

/// The codes of the quality flags an analysis report carries, each once, in order.
fn flag_codes(report_json: &str) -> Vec<Value> {
    let report: Value = serde_json::from_str(report_json).unwrap_or(Value::Null);
    let mut codes: Vec<Value> = Vec::new();
    let trials = report["trials"].as_array().cloned().unwrap_or_default();
    for flag in trials
        .iter()
        .filter_map(|t| t["flags"].as_array())
        .flatten()
    {
        if let Some(code) = flag["code"].as_str()
            && !codes.iter().any(|c| c["code"] == code)
        {
            codes.push(json!({ "code": code, "blocking": flag["blocking"] == true }));
        }
    }
    codes
}

/// What this process's dispatcher did, for `/metrics`.
#[derive(Debug, Default)]
pub struct Status {
    /// Messages made.
    pub made: std::sync::atomic::AtomicU64,
    /// Attempts answered with a success.
    pub delivered: std::sync::atomic::AtomicU64,
    /// Attempts that failed (an answer that is not 2xx, or no answer).
    pub failed: std::sync::atomic::AtomicU64,
    /// Deliveries given up after three days.
    pub gave_up: std::sync::atomic::AtomicU64,
}

impl Status {
    /// (made, delivered, failed, gave up).
    pub fn figures(&self) -> (u64, u64, u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.made.load(Relaxed),
            self.delivered.load(Relaxed),
            self.failed.load(Relaxed),
            self.gave_up.load(Relaxed),
        )
    }
}

/// What a dispatcher pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Whether this instance held the lease (nothing was done otherwise).
    pub leader: bool,
    /// Events read.
    pub read: u64,
    /// Messages made.
    pub made: u64,
    /// Attempts made.
    pub attempted: u64,
    /// Attempts answered with a success.
    pub delivered: u64,
}

/// Turns events into messages and sends the messages that are due.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    egress: Egress,
    holder: String,
}

impl Dispatcher {
    /// A dispatcher that posts through `egress` (the tenant-destination client: every
    /// connection passes the egress rules again).
    pub fn new(egress: Egress) -> Self {
        Self {
            egress,
            holder: uuid::Uuid::now_v7().to_string(),
        }
    }

    /// One pass, if this instance holds the lease: every new event into messages, then the
    /// deliveries due.
    pub async fn pass(&self, app: &App) -> Result<Pass, StorageError> {
        let now = app.now();
        let mut tx = app.db.operator(Access::Write).await?;
        let leader = cursors::take_lease(
            &mut tx,
            LEASE,
            &self.holder,
            now,
            Timestamp::from_millis(now.as_millis() + LEASE_MS),
        )
        .await?;
        tx.commit().await?;
        let mut pass = Pass {
            leader,
            ..Pass::default()
        };
        if !leader {
            return Ok(pass);
        }
        // A backlog (the history before the first start) is read a bounded number of batches
        // a pass, so that a pass stays well inside the lease.
        for stream in [Stream::Audit, Stream::Signals] {
            for _ in 0..BATCHES_PER_PASS {
                let (read, made, full) = self.dispatch(app, stream).await?;
                pass.read += read;
                pass.made += made;
                if !full {
                    break;
                }
            }
        }
        let (attempted, delivered) = self.send_due(app).await?;
        pass.attempted = attempted;
        pass.delivered = delivered;
        Ok(pass)
    }

    /// Reads one batch of `stream` and makes its messages; returns (events read, messages
    /// made, whether the batch was full).
    async fn dispatch(&self, app: &App, stream: Stream) -> Result<(u64, u64, bool), StorageError> {
        let mut tx = app.db.operator(Access::Read).await?;
        let after = cursors::cursor(&mut tx, CONSUMER, stream)
            .await?
            .unwrap_or_default();
        let batch = cursors::read_after(&mut tx, stream, after, BATCH).await?;
        let orgs = if batch.iter().any(|(_, e)| !types_of(e).is_empty()) {
            webhooks::orgs_with_endpoints(&mut tx).await?
        } else {
            Vec::new()
        };
        tx.commit().await?;
        let Some(&(last, _)) = batch.last() else {
            return Ok((0, 0, false));
        };
        let read = batch.len() as u64;
        let full = batch.len() >= BATCH as usize;
        // The events that make messages, by organisation (only those with an endpoint).
        let mut by_org: HashMap<OrgId, Vec<&SecurityEvent>> = HashMap::new();
        for (_, event) in &batch {
            if types_of(event).is_empty() {
                continue;
            }
            let Some(org) = event.org.as_deref().and_then(|o| OrgId::parse(o).ok()) else {
                continue;
            };
            if orgs.contains(&org) {
                by_org.entry(org).or_default().push(event);
            }
        }
        let mut made = 0;
        for (org, events) in by_org {
            made += self.make(app, org, &events).await?;
        }
        let mut tx = app.db.operator(Access::Write).await?;
        cursors::set_cursor(&mut tx, CONSUMER, stream, last, app.now()).await?;
        tx.commit().await?;
        Ok((read, made, full))
    }

    /// Makes the messages of one organisation's events for its endpoints that want them (and
    /// existed when the event happened).
    async fn make(
        &self,
        app: &App,
        org: OrgId,
        events: &[&SecurityEvent],
    ) -> Result<u64, StorageError> {
        let scope = OrgScope::for_operator(org, "webhook delivery");
        let now = app.now();
        let mut tx = app.db.tenant(&scope, Access::Write).await?;
        let endpoints = webhooks::list(&mut tx).await?;
        let mut made = 0;
        for event in events {
            let types = types_of(event);
            let wanted = endpoints.iter().any(|e| {
                e.created_at.as_millis() <= event.at_ms && types.iter().any(|t| e.wants(t.as_str()))
            });
            if !wanted {
                continue;
            }
            for (event_type, data) in messages_of(&mut tx, event, types).await? {
                let body = json!({
                    "type": event_type.as_str(),
                    "timestamp": rfc3339(event.at_ms),
                    "data": data,
                })
                .to_string();
                for endpoint in endpoints.iter().filter(|e| {
                    e.created_at.as_millis() <= event.at_ms
                        && e.wants(event_type.as_str())
                        && event_type.allowed_for(e.role)
                }) {
                    let id = format!("msg_{}", uuid::Uuid::now_v7().simple());
                    let new = webhooks::NewDelivery {
                        id: &id,
                        endpoint: &endpoint.id,
                        event_type: event_type.as_str(),
                        event_id: &event.id,
                        payload: &body,
                    };
                    if webhooks::enqueue(&mut tx, &new, now).await? {
                        made += 1;
                    }
                }
            }
        }
        tx.commit().await?;
        // Counted once committed: a pass that fails later has still made these.
        app.webhooks
            .made
            .fetch_add(made, std::sync::atomic::Ordering::Relaxed);
        Ok(made)
    }

    /// Sends the deliveries due, a few at once; returns (attempts, successes).
    async fn send_due(&self, app: &App) -> Result<(u64, u64), StorageError> {
        let mut tx = app.db.operator(Access::Read).await?;
        let due = webhooks::due(&mut tx, app.now(), SENDS_PER_PASS).await?;
        tx.commit().await?;
        let (mut attempted, mut delivered) = (0, 0);
        let mut due = due.into_iter().peekable();
        while due.peek().is_some() {
            let mut set = tokio::task::JoinSet::new();
            for (delivery, endpoint) in due.by_ref().take(SENDS_AT_ONCE) {
                let (app, this) = (app.clone(), self.clone());
                set.spawn(async move { this.attempt(&app, &delivery, &endpoint).await });
            }
            while let Some(done) = set.join_next().await {
                use std::sync::atomic::Ordering::Relaxed;
                attempted += 1;
                // Counted as each attempt ends, so that a pass that fails later keeps them.
                match done {
                    Ok(Ok(true)) => {
                        delivered += 1;
                        app.webhooks.delivered.fetch_add(1, Relaxed);
                    }
                    Ok(Ok(false)) => {
                        app.webhooks.failed.fetch_add(1, Relaxed);
                    }
                    Ok(Err(e)) => return Err(e),
                    Err(e) => {
                        app.webhooks.failed.fetch_add(1, Relaxed);
                        tracing::error!(target: "mhp::webhooks", error = %e, "a send failed");
                    }
                }
            }
        }
        Ok((attempted, delivered))
    }

    /// One attempt of a delivery, recorded; `true` when delivered.
    async fn attempt(
        &self,
        app: &App,
        delivery: &Delivery,
        endpoint: &Endpoint,
    ) -> Result<bool, StorageError> {
        let started = std::time::Instant::now();
        let at = app.now();
        let result = match self.secrets(app, endpoint, at).await {
            Ok(secrets) => match Url::parse(&endpoint.url) {
                Ok(url) => {
                    let refs: Vec<&WebhookSecret> = secrets.iter().collect();
                    post_signed(
                        &self.egress,
                        &url,
                        &refs,
                        &delivery.id,
                        at.as_millis().div_euclid(1000),
                        delivery.payload.clone().into_bytes(),
                    )
                    .await
                    .map_err(|e| e.code().to_owned())
                }
                Err(_) => Err("egress_invalid_url".to_owned()),
            },
            Err(code) => Err(code.to_owned()),
        };
        let (status, error) = match &result {
            Ok(s) if (200..300).contains(s) => (Some(*s), None),
            Ok(s) => (Some(*s), Some(format!("status_{s}"))),
            Err(code) => (None, Some(code.clone())),
        };
        let attempts = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
        let retry_at = error.as_ref().and_then(|_| {
            next_attempt_ms(delivery.created_at.as_millis(), attempts, at.as_millis())
                .map(Timestamp::from_millis)
        });
        let outcome = webhooks::Outcome {
            at,
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            status,
            error: error.as_deref(),
            retry_at,
        };
        let mut tx = app.db.operator(Access::Write).await?;
        webhooks::record_attempt(&mut tx, delivery, &outcome).await?;
        tx.commit().await?;
        if error.is_some() && retry_at.is_none() {
            app.webhooks
                .gave_up
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        if let Some(code) = &error {
            tracing::info!(target: "mhp::webhooks", delivery = %delivery.id, webhook = %endpoint.id,
                error = %code, gave_up = retry_at.is_none(), "a webhook delivery failed");
        }
        Ok(error.is_none())
    }

    /// The secrets that sign at `at`: the current one, and the previous while it overlaps.
    async fn secrets(
        &self,
        app: &App,
        endpoint: &Endpoint,
        at: Timestamp,
    ) -> Result<Vec<WebhookSecret>, &'static str> {
        let mut sealed: Vec<(i64, &SealedBytes)> =
            vec![(endpoint.secret_version, &endpoint.secret)];
        if endpoint.previous_signs_at(at)
            && let Some(previous) = &endpoint.previous_secret
        {
            sealed.push((endpoint.secret_version - 1, previous));
        }
        let mut out = Vec::new();
        for (version, s) in sealed {
            let row = secret_row(&endpoint.id, version);
            let opened = app
                .phi
                .keys()
                .open_for_org(s, &place(endpoint.org, &row))
                .await
                .map_err(|_| "secret_unavailable")?;
            let text = std::str::from_utf8(opened.expose()).map_err(|_| "secret_unavailable")?;
            out.push(WebhookSecret::parse(text).map_err(|_| "secret_unavailable")?);
        }
        Ok(out)
    }

    /// Deletes ended deliveries older than [`LOG_RETENTION_MS`].
    pub async fn prune(&self, app: &App) -> Result<u64, StorageError> {
        let before = Timestamp::from_millis(app.now().as_millis() - LOG_RETENTION_MS);
        let mut tx = app.db.operator(Access::Write).await?;
        let n = webhooks::prune(&mut tx, before).await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// Runs the dispatcher every `every` (and prunes the log hourly) until `stop` resolves.
pub async fn run(
    app: App,
    dispatcher: Arc<Dispatcher>,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let work = async {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune: Option<std::time::Instant> = None;
        loop {
            tick.tick().await;
            if let Err(e) = dispatcher.pass(&app).await {
                tracing::warn!(target: "mhp::webhooks", error = %e, "webhook pass failed");
            }
            if last_prune.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                last_prune = Some(std::time::Instant::now());
                if let Err(e) = dispatcher.prune(&app).await {
                    tracing::warn!(target: "mhp::webhooks", error = %e, "pruning the webhook log failed");
                }
            }
        }
    };
    tokio::select! {
        () = work => {}
        () = stop => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_checked_against_the_role() {
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            event_types(
                &names(&["injury.created", "assessment.created", "injury.created"]),
                Role::Clinician
            )
            .unwrap(),
            names(&["injury.created", "assessment.created"])
        );
        assert!(matches!(
            event_types(&names(&["injury.created"]), Role::Coach),
            Err(AppError::Invalid { .. })
        ));
        assert!(matches!(
            event_types(&names(&["assessment.deleted"]), Role::OrgAdmin),
            Err(AppError::Malformed(_))
        ));
        assert!(matches!(
            event_types(&[], Role::OrgAdmin),
            Err(AppError::Malformed(_))
        ));
    }

    #[test]
    fn flags_are_listed_once_with_whether_they_block() {
        let report = r#"{"trials":[{"flags":[{"code":"low_flight","blocking":false}]},
            {"flags":[{"code":"low_flight","blocking":false},{"code":"no_stable_weighing","blocking":true}]},
            {"flags":[]}]}"#;
        assert_eq!(
            flag_codes(report),
            vec![
                json!({"code": "low_flight", "blocking": false}),
                json!({"code": "no_stable_weighing", "blocking": true}),
            ]
        );
        assert!(flag_codes(r#"{"trials":[{"flags":[]}]}"#).is_empty());
    }
}
