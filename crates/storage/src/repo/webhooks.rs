//! An organisation's webhooks: the endpoints (URL, events, role, sealed signing secrets), the
//! deliveries (one message to one endpoint, with where it stands) and every attempt.
//!
//! Endpoints and the delivery log are tenant functions. Sending crosses organisations (one
//! sender serves the installation) and is an operator function: the due deliveries with their
//! endpoints, and each attempt's result.

use mhp_domain::{OrgId, Role, SealedBytes, Timestamp};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::parse_id;
use crate::{OperatorTx, StorageError, TenantTx};

/// An endpoint, with its sealed secrets (never shown; the API describes it without them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Its id (`whe_…`).
    pub id: String,
    /// Its organisation.
    pub org: OrgId,
    /// Where messages are posted.
    pub url: String,
    /// The event types it receives, by name.
    pub events: Vec<String>,
    /// The role it receives them as.
    pub role: Role,
    /// What it is for.
    pub description: String,
    /// Whether messages are made for it.
    pub enabled: bool,
    /// The current secret's version (1, then one more at each rotation).
    pub secret_version: i64,
    /// The current secret, sealed.
    pub secret: SealedBytes,
    /// The secret before the last rotation, sealed, while it still signs.
    pub previous_secret: Option<SealedBytes>,
    /// When the previous secret stops signing.
    pub previous_expires_at: Option<Timestamp>,
    /// Who made it (audit actor form).
    pub created_by: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl Endpoint {
    /// Whether the endpoint receives events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.enabled && self.events.iter().any(|e| e == event_type)
    }

    /// Whether the previous secret still signs at `now`.
    pub fn previous_signs_at(&self, now: Timestamp) -> bool {
        self.previous_secret.is_some() && self.previous_expires_at.is_some_and(|t| now < t)
    }
}

const ENDPOINT_COLUMNS: &str = "id, org_id, url, events, role, description, enabled, \
     secret_version, secret_sealed, previous_secret_sealed, previous_expires_at_ms, created_by, \
     created_at_ms, updated_at_ms";

fn endpoint_from(row: &AnyRow) -> Result<Endpoint, StorageError> {
    let org: String = row.try_get("org_id")?;
    let role: String = row.try_get("role")?;
    let events: String = row.try_get("events")?;
    Ok(Endpoint {
        id: row.try_get("id")?,
        org: parse_id(&org, "organisation id", OrgId::parse)?,
        url: row.try_get("url")?,
        events: events.split_whitespace().map(str::to_owned).collect(),
        role: Role::parse(&role).map_err(|_| StorageError::Corrupt {
            what: "webhook role",
        })?,
        description: row.try_get("description")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        secret_version: row.try_get("secret_version")?,
        secret: SealedBytes::from_ciphertext(row.try_get("secret_sealed")?),
        previous_secret: row
            .try_get::<Option<Vec<u8>>, _>("previous_secret_sealed")?
            .map(SealedBytes::from_ciphertext),
        previous_expires_at: row
            .try_get::<Option<i64>, _>("previous_expires_at_ms")?
            .map(Timestamp::from_millis),
        created_by: row.try_get("created_by")?,
        created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
        updated_at: Timestamp::from_millis(row.try_get("updated_at_ms")?),
    })
}

/// What it takes to store a new endpoint.
#[derive(Debug, Clone)]
pub struct NewEndpoint<'a> {
    /// Its id.
    pub id: &'a str,
    /// Where messages are posted (checked by the caller against the egress rules).
    pub url: &'a str,
    /// The event types, by name.
    pub events: &'a [String],
    /// The role it receives them as.
    pub role: Role,
    /// What it is for.
    pub description: &'a str,
    /// Its first secret (version 1), sealed.
    pub secret: &'a SealedBytes,
    /// Who makes it.
    pub created_by: &'a str,
}

/// Stores a new endpoint, enabled.
pub async fn create(
    tx: &mut TenantTx,
    new: &NewEndpoint<'_>,
    now: Timestamp,
) -> Result<Endpoint, StorageError> {
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, org_id, url, events, role, description, enabled, \
         secret_version, secret_sealed, created_by, created_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, 1, $7, $8, $9, $9)",
    )
    .bind(new.id)
    .bind(tx.org_key())
    .bind(new.url)
    .bind(new.events.join(" "))
    .bind(new.role.as_str())
    .bind(new.description)
    .bind(new.secret.as_bytes().to_vec())
    .bind(new.created_by)
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    get(tx, new.id).await
}

/// The organisation's endpoints (not deleted), oldest first.
pub async fn list(tx: &mut TenantTx) -> Result<Vec<Endpoint>, StorageError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
         WHERE org_id = $1 AND deleted_at_ms IS NULL ORDER BY created_at_ms, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(endpoint_from).collect()
}

/// One endpoint of the organisation (not deleted).
pub async fn get(tx: &mut TenantTx, id: &str) -> Result<Endpoint, StorageError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
         WHERE org_id = $1 AND id = $2 AND deleted_at_ms IS NULL"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StorageError::NotFound { entity: "webhook" })?;
    endpoint_from(&row)
}

/// What an update changes; `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct Changes<'a> {
    /// A new URL (checked by the caller).
    pub url: Option<&'a str>,
    /// New event types.
    pub events: Option<&'a [String]>,
    /// A new description.
    pub description: Option<&'a str>,
    /// Enabled or disabled.
    pub enabled: Option<bool>,
}

/// Changes an endpoint.
pub async fn update(
    tx: &mut TenantTx,
    id: &str,
    changes: &Changes<'_>,
    now: Timestamp,
) -> Result<Endpoint, StorageError> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET url = COALESCE($3, url), events = COALESCE($4, events), \
         description = COALESCE($5, description), enabled = COALESCE($6, enabled), \
         updated_at_ms = $7 WHERE org_id = $1 AND id = $2 AND deleted_at_ms IS NULL",
    )
    .bind(tx.org_key())
    .bind(id)
    .bind(changes.url)
    .bind(changes.events.map(|e| e.join(" ")))
    .bind(changes.description)
    .bind(changes.enabled.map(i64::from))
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound { entity: "webhook" });
    }
    if changes.enabled == Some(false) {
        cancel_pending(tx, id).await?;
    }
    get(tx, id).await
}

/// Deletes an endpoint: it receives nothing more, its pending deliveries are cancelled, and its
/// secrets are erased (its delivery log stays).
pub async fn delete(tx: &mut TenantTx, id: &str, now: Timestamp) -> Result<(), StorageError> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET deleted_at_ms = $3, enabled = 0, updated_at_ms = $3, \
         secret_sealed = $4, previous_secret_sealed = NULL, previous_expires_at_ms = NULL \
         WHERE org_id = $1 AND id = $2 AND deleted_at_ms IS NULL",
    )
    .bind(tx.org_key())
    .bind(id)
    .bind(now.as_millis())
    .bind(Vec::<u8>::new())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound { entity: "webhook" });
    }
    cancel_pending(tx, id).await
}

async fn cancel_pending(tx: &mut TenantTx, endpoint: &str) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at_ms = NULL \
         WHERE org_id = $1 AND endpoint_id = $2 AND status = 'pending'",
    )
    .bind(tx.org_key())
    .bind(endpoint)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces the endpoint's secret by `secret` (version `version`); the one it replaces,
/// `previous` (sealed again by the caller if need be), signs beside it until `previous_until`.
pub async fn rotate(
    tx: &mut TenantTx,
    id: &str,
    version: i64,
    secret: &SealedBytes,
    previous: &SealedBytes,
    previous_until: Timestamp,
    now: Timestamp,
) -> Result<Endpoint, StorageError> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET secret_version = $3, secret_sealed = $4, \
         previous_secret_sealed = $5, previous_expires_at_ms = $6, updated_at_ms = $7 \
         WHERE org_id = $1 AND id = $2 AND deleted_at_ms IS NULL AND secret_version = $3 - 1",
    )
    .bind(tx.org_key())
    .bind(id)
    .bind(version)
    .bind(secret.as_bytes().to_vec())
    .bind(previous.as_bytes().to_vec())
    .bind(previous_until.as_millis())
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::Conflict {
            entity: "webhook secret",
        });
    }
    get(tx, id).await
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for its next attempt.
    Pending,
    /// An attempt was answered with a 2xx status.
    Delivered,
    /// Three days of attempts failed.
    Failed,
    /// Its endpoint was disabled or deleted first.
    Cancelled,
}

impl Status {
    /// Its name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    /// The status named `text`.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Status::Pending,
            Status::Delivered,
            Status::Failed,
            Status::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One message to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its id, the message id (`msg_…`).
    pub id: String,
    /// Its organisation.
    pub org: OrgId,
    /// Its endpoint.
    pub endpoint: String,
    /// The event type, by name.
    pub event_type: String,
    /// The event it tells of (an audit event's or a signal's id).
    pub event_id: String,
    /// The body posted (JSON: ids and codes).
    pub payload: String,
    /// Where it stands.
    pub status: Status,
    /// Attempts made.
    pub attempts: i64,
    /// When it is tried next (pending only).
    pub next_attempt_at: Option<Timestamp>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it was last tried.
    pub last_attempt_at: Option<Timestamp>,
    /// The last answer's HTTP status.
    pub last_status: Option<i64>,
    /// The last failure's code (`status_503`, `timeout`, `refused_private`, …).
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<Timestamp>,
    /// Whether a person asked for the next attempt.
    pub manual: bool,
}

const DELIVERY_COLUMNS: &str = "d.id, d.org_id, d.endpoint_id, d.event_type, d.event_id, \
     d.payload, d.status, d.attempts, d.next_attempt_at_ms, d.created_at_ms, \
     d.last_attempt_at_ms, d.last_status, d.last_error, d.delivered_at_ms, d.manual";

fn delivery_from(row: &AnyRow) -> Result<Delivery, StorageError> {
    let org: String = row.try_get("org_id")?;
    let status: String = row.try_get("status")?;
    let at = |name: &str| -> Result<Option<Timestamp>, StorageError> {
        Ok(row
            .try_get::<Option<i64>, _>(name)?
            .map(Timestamp::from_millis))
    };
    Ok(Delivery {
        id: row.try_get("id")?,
        org: parse_id(&org, "organisation id", OrgId::parse)?,
        endpoint: row.try_get("endpoint_id")?,
        event_type: row.try_get("event_type")?,
        event_id: row.try_get("event_id")?,
        payload: row.try_get("payload")?,
        status: Status::parse(&status).ok_or(StorageError::Corrupt {
            what: "webhook delivery status",
        })?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: at("next_attempt_at_ms")?,
        created_at: Timestamp::from_millis(row.try_get("created_at_ms")?),
        last_attempt_at: at("last_attempt_at_ms")?,
        last_status: row.try_get("last_status")?,
        last_error: row.try_get("last_error")?,
        delivered_at: at("delivered_at_ms")?,
        manual: row.try_get::<i64, _>("manual")? != 0,
    })
}

/// A message to make.
#[derive(Debug, Clone)]
pub struct NewDelivery<'a> {
    /// Its id (`msg_…`).
    pub id: &'a str,
    /// The endpoint.
    pub endpoint: &'a str,
    /// The event type, by name.
    pub event_type: &'a str,
    /// The event's id.
    pub event_id: &'a str,
    /// The body.
    pub payload: &'a str,
}

/// Makes a delivery, due at once; `false` when this endpoint already has this event's message
/// (an event read twice makes one message).
pub async fn enqueue(
    tx: &mut TenantTx,
    new: &NewDelivery<'_>,
    now: Timestamp,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_type, event_id, payload, \
         status, attempts, next_attempt_at_ms, created_at_ms, manual) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, 0) \
         ON CONFLICT (endpoint_id, event_id, event_type) DO NOTHING",
    )
    .bind(new.id)
    .bind(tx.org_key())
    .bind(new.endpoint)
    .bind(new.event_type)
    .bind(new.event_id)
    .bind(new.payload)
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An endpoint's deliveries, newest first: those made before `before` (a delivery id, for the
/// next page), of `status` if given, at most `limit` (capped at 200).
pub async fn deliveries(
    tx: &mut TenantTx,
    endpoint: &str,
    status: Option<Status>,
    before: Option<&str>,
    limit: u32,
) -> Result<Vec<Delivery>, StorageError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d \
         WHERE d.org_id = $1 AND d.endpoint_id = $2 AND (CAST($3 AS TEXT) IS NULL OR d.status = $3) \
         AND (CAST($4 AS TEXT) IS NULL OR d.id < $4) ORDER BY d.id DESC LIMIT $5"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(endpoint)
        .bind(status.map(Status::as_str))
        .bind(before)
        .bind(i64::from(limit.clamp(1, 200)))
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(delivery_from).collect()
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// 1, 2, …
    pub attempt: i64,
    /// When it was made.
    pub at: Timestamp,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
    /// The answer's HTTP status, when there was an answer.
    pub status: Option<i64>,
    /// The failure's code, when it failed.
    pub error: Option<String>,
    /// Whether a person asked for it.
    pub manual: bool,
}

/// One delivery of an endpoint, with its attempts in order.
pub async fn delivery(
    tx: &mut TenantTx,
    endpoint: &str,
    id: &str,
) -> Result<(Delivery, Vec<Attempt>), StorageError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d \
         WHERE d.org_id = $1 AND d.endpoint_id = $2 AND d.id = $3"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org_key())
        .bind(endpoint)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StorageError::NotFound {
            entity: "webhook delivery",
        })?;
    let delivery = delivery_from(&row)?;
    let rows = sqlx::query(
        "SELECT attempt, at_ms, duration_ms, status, error, manual FROM webhook_attempts \
         WHERE org_id = $1 AND delivery_id = $2 ORDER BY attempt",
    )
    .bind(tx.org_key())
    .bind(id)
    .fetch_all(tx.conn())
    .await?;
    let attempts = rows
        .iter()
        .map(|r| {
            Ok(Attempt {
                attempt: r.try_get("attempt")?,
                at: Timestamp::from_millis(r.try_get("at_ms")?),
                duration_ms: r.try_get("duration_ms")?,
                status: r.try_get("status")?,
                error: r.try_get("error")?,
                manual: r.try_get::<i64, _>("manual")? != 0,
            })
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    Ok((delivery, attempts))
}

/// Asks for another attempt of a delivery at once (the same message, the same id), whatever it
/// stands at; a cancelled one is refused (its endpoint is disabled or gone).
pub async fn redeliver(
    tx: &mut TenantTx,
    endpoint: &str,
    id: &str,
    now: Timestamp,
) -> Result<Delivery, StorageError> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at_ms = $4, manual = 1 \
         WHERE org_id = $1 AND endpoint_id = $2 AND id = $3 AND status <> 'cancelled'",
    )
    .bind(tx.org_key())
    .bind(endpoint)
    .bind(id)
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        // Not there, or cancelled: tell which.
        let (d, _) = delivery(tx, endpoint, id).await?;
        if d.status == Status::Cancelled {
            return Err(StorageError::Conflict {
                entity: "cancelled webhook delivery",
            });
        }
    }
    Ok(delivery(tx, endpoint, id).await?.0)
}

/// The deliveries due at `now`, oldest due first, each with its endpoint (at most `limit`).
pub async fn due(
    tx: &mut OperatorTx,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<(Delivery, Endpoint)>, StorageError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d \
         JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.org_id = d.org_id \
         WHERE d.status = 'pending' AND d.next_attempt_at_ms <= $1 \
         AND e.enabled = 1 AND e.deleted_at_ms IS NULL \
         ORDER BY d.next_attempt_at_ms, d.id LIMIT $2"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now.as_millis())
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(tx.conn())
        .await?;
    let deliveries = rows
        .iter()
        .map(delivery_from)
        .collect::<Result<Vec<_>, _>>()?;
    let mut endpoints: std::collections::HashMap<String, Endpoint> =
        std::collections::HashMap::new();
    let mut out = Vec::with_capacity(deliveries.len());
    for d in deliveries {
        let endpoint = match endpoints.get(&d.endpoint) {
            Some(e) => e.clone(),
            None => {
                let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(d.endpoint.as_str())
                    .fetch_one(tx.conn())
                    .await?;
                let e = endpoint_from(&row)?;
                endpoints.insert(d.endpoint.clone(), e.clone());
                e
            }
        };
        out.push((d, endpoint));
    }
    Ok(out)
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    /// When it was made.
    pub at: Timestamp,
    /// How long it took.
    pub duration_ms: i64,
    /// The answer's status, when there was one.
    pub status: Option<u16>,
    /// The failure's code; `None` when delivered.
    pub error: Option<&'a str>,
    /// When to try again after a failure; `None` gives up (`failed`).
    pub retry_at: Option<Timestamp>,
}

/// Records an attempt of `delivery` (whose attempts so far were `attempts_before`) and moves
/// the delivery on: delivered, due again, or failed.
pub async fn record_attempt(
    tx: &mut OperatorTx,
    delivery: &Delivery,
    outcome: &Outcome<'_>,
) -> Result<(), StorageError> {
    let attempt = delivery.attempts + 1;
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, org_id, attempt, at_ms, duration_ms, status, \
         error, manual) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(delivery.id.as_str())
    .bind(delivery.org.to_string())
    .bind(attempt)
    .bind(outcome.at.as_millis())
    .bind(outcome.duration_ms)
    .bind(outcome.status.map(i64::from))
    .bind(outcome.error)
    .bind(i64::from(delivery.manual))
    .execute(tx.conn())
    .await?;
    let (status, next, delivered) = match (outcome.error, outcome.retry_at) {
        (None, _) => (Status::Delivered, None, Some(outcome.at.as_millis())),
        (Some(_), Some(t)) => (Status::Pending, Some(t.as_millis()), None),
        (Some(_), None) => (Status::Failed, None, None),
    };
    // Only a delivery still pending moves: one cancelled meanwhile stays cancelled.
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $2, attempts = $3, next_attempt_at_ms = $4, \
         last_attempt_at_ms = $5, last_status = $6, last_error = $7, \
         delivered_at_ms = COALESCE($8, delivered_at_ms), manual = 0 \
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(delivery.id.as_str())
    .bind(status.as_str())
    .bind(attempt)
    .bind(next)
    .bind(outcome.at.as_millis())
    .bind(outcome.status.map(i64::from))
    .bind(outcome.error)
    .bind(delivered)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Deletes deliveries that ended (delivered, failed or cancelled) before `before`, with their
/// attempts; returns how many.
pub async fn prune(tx: &mut OperatorTx, before: Timestamp) -> Result<u64, StorageError> {
    let ended =
        "SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND created_at_ms < $1";
    let attempts = format!("DELETE FROM webhook_attempts WHERE delivery_id IN ({ended})");
    sqlx::query(sqlx::AssertSqlSafe(attempts))
        .bind(before.as_millis())
        .execute(tx.conn())
        .await?;
    let done = sqlx::query(
        "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at_ms < $1",
    )
    .bind(before.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// The organisations that have an enabled endpoint.
pub async fn orgs_with_endpoints(tx: &mut OperatorTx) -> Result<Vec<OrgId>, StorageError> {
    let rows = sqlx::query(
        "SELECT DISTINCT org_id FROM webhook_endpoints \
         WHERE enabled = 1 AND deleted_at_ms IS NULL",
    )
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            let org: String = r.try_get(0)?;
            parse_id(&org, "organisation id", OrgId::parse)
        })
        .collect()
}
