//! Security monitoring's tables: the two event streams read by cursor (the audit log and
//! `security_signals`), each consumer's cursor, the lease that lets one instance ship at a
//! time, the rules' state, what the rules remember, and the alerts.
//!
//! A consumer reads events in `(tx_id, seq)` order after its cursor, and only events of
//! transactions older than every transaction still running (PostgreSQL's snapshot `xmin`): an
//! event whose transaction commits late is still ahead of the cursor when it becomes visible.
//! SQLite has one writer, which commits in `seq` order; there `tx_id` is always 0.

use mhp_domain::{OrgId, Timestamp};
use mhp_security::event::{Outcome, SecurityEvent, Stream};
use sqlx::Row as _;
use uuid::Uuid;

use crate::db::Backend;
use crate::repo::audit::AuditEvent;
use crate::{OperatorTx, StorageError, TenantTx};

/// A position in a stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    /// The writing transaction (0 on SQLite).
    pub tx_id: i64,
    /// The row.
    pub seq: i64,
}

/// The newest transaction id whose events are final: every one below it has ended.
async fn horizon(tx: &mut OperatorTx) -> Result<i64, StorageError> {
    let backend = tx.backend();
    snapshot_horizon(tx.conn(), backend).await
}

/// [`horizon`] on any connection (an organisation's change feed reads its own events by it).
pub(crate) async fn snapshot_horizon(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
) -> Result<i64, StorageError> {
    if backend != Backend::Postgres {
        return Ok(i64::MAX);
    }
    let row = sqlx::query("SELECT CAST(pg_snapshot_xmin(pg_current_snapshot()) AS TEXT)")
        .fetch_one(conn)
        .await?;
    let xmin: String = row.try_get(0)?;
    xmin.parse::<i64>().map_err(|_| StorageError::Corrupt {
        what: "snapshot xmin",
    })
}

fn table(stream: Stream) -> &'static str {
    match stream {
        Stream::Audit => "audit_events",
        Stream::Signals => "security_signals",
    }
}

/// At most `limit` events of `stream` after `after`, in delivery order, each with its position.
///
/// Read in two index ranges, not one `OR`: the rest of the cursor's own transaction, then the
/// transactions after it. (SQLite cannot use the index for the disjunction and would read the
/// whole log at every pass.) Each range comes back as one JSON array, one row: the driver hands
/// rows over one at a time between threads, and row by row a batch would cost the requests
/// beside it more than everything else the monitor does.
pub async fn read_after(
    tx: &mut OperatorTx,
    stream: Stream,
    after: Cursor,
    limit: u32,
) -> Result<Vec<(Cursor, SecurityEvent)>, StorageError> {
    let horizon = horizon(tx).await?;
    let limit = i64::from(limit.clamp(1, 10_000));
    let mut out = Vec::new();
    if after.tx_id < horizon {
        let range = "tx_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";
        out.extend(read_range(tx, stream, range, after.tx_id, after.seq, limit).await?);
    }
    let left = limit - i64::try_from(out.len()).unwrap_or(limit);
    if left > 0 {
        let range = "tx_id > $1 AND tx_id < $2 ORDER BY tx_id, seq LIMIT $3";
        out.extend(read_range(tx, stream, range, after.tx_id, horizon, left).await?);
    }
    Ok(out)
}

/// One event as the aggregate query writes it.
type EventRow = (
    i64,
    i64,
    String,
    i64,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn read_range(
    tx: &mut OperatorTx,
    stream: Stream,
    range: &str,
    a: i64,
    b: i64,
    limit: i64,
) -> Result<Vec<(Cursor, SecurityEvent)>, StorageError> {
    let columns = "seq, tx_id, id, at_ms, org_id, actor, action, resource_type, resource_id, \
         outcome, detail, request_id, source_ip, user_agent";
    let aggregate = match tx.backend() {
        Backend::Postgres => format!("CAST(json_agg(json_build_array({columns})) AS TEXT)"),
        Backend::Sqlite => format!("json_group_array(json_array({columns}))"),
    };
    // Only constants are formatted in: the table from `table`, the ranges and columns above.
    let sql = format!(
        "SELECT {aggregate} FROM (SELECT {columns} FROM {} WHERE {range}) AS batch",
        table(stream)
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(a)
        .bind(b)
        .bind(limit)
        .fetch_one(tx.conn())
        .await?;
    let Some(json) = row.try_get::<Option<String>, _>(0)? else {
        return Ok(Vec::new());
    };
    let mut rows: Vec<EventRow> =
        serde_json::from_str(&json).map_err(|_| StorageError::Corrupt {
            what: "security event",
        })?;
    // The aggregate's order is the engine's to choose; delivery order is (tx_id, seq).
    rows.sort_unstable_by_key(|r| (r.1, r.0));
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                Cursor {
                    tx_id: r.1,
                    seq: r.0,
                },
                SecurityEvent {
                    stream,
                    id: r.2,
                    at_ms: r.3,
                    org: r.4,
                    actor: r.5,
                    action: r.6,
                    resource_type: r.7,
                    resource_id: r.8,
                    outcome: Outcome::parse(&r.9),
                    detail: r.10,
                    request_id: r.11,
                    source_ip: r.12,
                    user_agent: r.13,
                },
            )
        })
        .collect())
}

/// How many events of `stream` lie after `after` (visible ones, final or not), counted in the
/// same two index ranges as [`read_after`] reads.
pub async fn backlog(
    tx: &mut OperatorTx,
    stream: Stream,
    after: Cursor,
) -> Result<i64, StorageError> {
    // Only constants are formatted in: a table name from `table`.
    let sql = format!(
        "SELECT (SELECT count(*) FROM {t} WHERE tx_id = $1 AND seq > $2) \
         + (SELECT count(*) FROM {t} WHERE tx_id > $1)",
        t = table(stream)
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(after.tx_id)
        .bind(after.seq)
        .fetch_one(tx.conn())
        .await?;
    Ok(row.try_get(0)?)
}

/// Records a signal: a security event that is not an audit record.
pub async fn append_signal(
    tx: &mut OperatorTx,
    org: Option<OrgId>,
    event: &AuditEvent,
    now: Timestamp,
) -> Result<String, StorageError> {
    let id = Uuid::now_v7().to_string();
    let user_agent = event
        .user_agent
        .as_deref()
        .map(|ua| ua.chars().take(256).collect::<String>());
    sqlx::query(
        "INSERT INTO security_signals (id, at_ms, org_id, actor, action, resource_type, \
         resource_id, outcome, detail, request_id, source_ip, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id.as_str())
    .bind(now.as_millis())
    .bind(org.map(|o| o.to_string()))
    .bind(event.actor.as_str())
    .bind(event.action)
    .bind(event.resource_type)
    .bind(event.resource_id.as_deref())
    .bind(event.outcome.as_str())
    .bind(event.detail.as_deref())
    .bind(event.request_id.as_deref())
    .bind(event.source_ip.as_deref())
    .bind(user_agent)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Removes signals older than `before` that every consumer has passed.
pub async fn prune_signals(
    tx: &mut OperatorTx,
    consumers: &[&str],
    before: Timestamp,
) -> Result<u64, StorageError> {
    let mut lowest: Option<Cursor> = None;
    for c in consumers {
        let at = cursor(tx, c, Stream::Signals).await?.unwrap_or_default();
        lowest = Some(lowest.map_or(at, |l| l.min(at)));
    }
    let Some(lowest) = lowest else { return Ok(0) };
    let done = sqlx::query(
        "DELETE FROM security_signals WHERE at_ms < $1 \
         AND (tx_id < $2 OR (tx_id = $2 AND seq <= $3))",
    )
    .bind(before.as_millis())
    .bind(lowest.tx_id)
    .bind(lowest.seq)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// Where `consumer` stands in `stream` (none: at the start).
pub async fn cursor(
    tx: &mut OperatorTx,
    consumer: &str,
    stream: Stream,
) -> Result<Option<Cursor>, StorageError> {
    let row =
        sqlx::query("SELECT tx_id, seq FROM security_cursors WHERE consumer = $1 AND stream = $2")
            .bind(consumer)
            .bind(stream.as_str())
            .fetch_optional(tx.conn())
            .await?;
    row.map(|r| {
        Ok(Cursor {
            tx_id: r.try_get(0)?,
            seq: r.try_get(1)?,
        })
    })
    .transpose()
}

/// Moves `consumer`'s cursor in `stream`.
pub async fn set_cursor(
    tx: &mut OperatorTx,
    consumer: &str,
    stream: Stream,
    at: Cursor,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO security_cursors (consumer, stream, tx_id, seq, moved_at_ms) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (consumer, stream) DO UPDATE \
         SET tx_id = excluded.tx_id, seq = excluded.seq, moved_at_ms = excluded.moved_at_ms",
    )
    .bind(consumer)
    .bind(stream.as_str())
    .bind(at.tx_id)
    .bind(at.seq)
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Takes or renews the lease `name` for `holder` until `until`; false when another holder's
/// lease has not expired.
pub async fn take_lease(
    tx: &mut OperatorTx,
    name: &str,
    holder: &str,
    now: Timestamp,
    until: Timestamp,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO security_leases (name, holder, until_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms \
         WHERE security_leases.holder = excluded.holder OR security_leases.until_ms < $4",
    )
    .bind(name)
    .bind(holder)
    .bind(until.as_millis())
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The rules' saved state (JSON), if any.
pub async fn rule_state(
    tx: &mut OperatorTx,
    consumer: &str,
) -> Result<Option<String>, StorageError> {
    let row = sqlx::query("SELECT state_json FROM security_rule_state WHERE consumer = $1")
        .bind(consumer)
        .fetch_optional(tx.conn())
        .await?;
    row.map(|r| r.try_get(0).map_err(StorageError::from))
        .transpose()
}

/// Saves the rules' state.
pub async fn put_rule_state(
    tx: &mut OperatorTx,
    consumer: &str,
    state_json: &str,
    now: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO security_rule_state (consumer, state_json, updated_at_ms) \
         VALUES ($1, $2, $3) ON CONFLICT (consumer) DO UPDATE \
         SET state_json = excluded.state_json, updated_at_ms = excluded.updated_at_ms",
    )
    .bind(consumer)
    .bind(state_json)
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One remembered row: (kind, entity, value) first and last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRow {
    /// Its kind.
    pub kind: String,
    /// Its entity.
    pub entity: String,
    /// Its value.
    pub value: String,
    /// First seen, ms.
    pub first_ms: i64,
    /// Last seen, ms.
    pub last_ms: i64,
}

/// The remembered row of a key, if any.
pub async fn seen(
    tx: &mut OperatorTx,
    kind: &str,
    entity: &str,
    value: &str,
) -> Result<Option<(i64, i64)>, StorageError> {
    let row = sqlx::query(
        "SELECT first_ms, last_ms FROM security_seen \
         WHERE kind = $1 AND entity = $2 AND value = $3",
    )
    .bind(kind)
    .bind(entity)
    .bind(value)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
}

/// Saves a remembered row.
pub async fn put_seen(tx: &mut OperatorTx, row: &SeenRow) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO security_seen (kind, entity, value, first_ms, last_ms) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, entity, value) DO UPDATE \
         SET first_ms = excluded.first_ms, last_ms = excluded.last_ms",
    )
    .bind(row.kind.as_str())
    .bind(row.entity.as_str())
    .bind(row.value.as_str())
    .bind(row.first_ms)
    .bind(row.last_ms)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// An alert's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertStatus {
    /// Raised, nobody has looked.
    Open,
    /// Someone is on it.
    Acknowledged,
    /// Dealt with.
    Resolved,
}

impl AlertStatus {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Resolved => "resolved",
        }
    }

    /// Reads a stored or requested name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(AlertStatus::Open),
            "acknowledged" => Some(AlertStatus::Acknowledged),
            "resolved" => Some(AlertStatus::Resolved),
            _ => None,
        }
    }
}

/// An alert as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Its id.
    pub id: String,
    /// The rule that raised it.
    pub rule_id: String,
    /// The organisation whose members see it (none: the platform's).
    pub org: Option<String>,
    /// What it is about (`user.uid=…`, `src_endpoint.ip=…`).
    pub entity: String,
    /// `low` … `critical`.
    pub severity: String,
    /// The ATT&CK technique.
    pub technique: Option<String>,
    /// The rule's title.
    pub title: String,
    /// Its first event.
    pub first_at: Timestamp,
    /// Its latest event.
    pub last_at: Timestamp,
    /// How many events it stands on.
    pub event_count: i64,
    /// Its status.
    pub status: AlertStatus,
    /// Who set the status.
    pub status_by: Option<String>,
    /// When.
    pub status_at: Option<Timestamp>,
    /// Why.
    pub status_reason: Option<String>,
}

/// A new alert to store.
#[derive(Debug, Clone)]
pub struct NewAlert<'a> {
    /// The rule.
    pub rule_id: &'a str,
    /// Its organisation.
    pub org: Option<&'a str>,
    /// Its entity.
    pub entity: &'a str,
    /// Its severity.
    pub severity: &'a str,
    /// Its technique.
    pub technique: Option<&'a str>,
    /// Its title.
    pub title: &'a str,
    /// Its first event's time.
    pub first_at: Timestamp,
    /// How many events.
    pub event_count: i64,
}

/// Stores a new alert; `None` when it was stored already (a batch evaluated again after a
/// crash).
pub async fn insert_alert(
    tx: &mut OperatorTx,
    alert: &NewAlert<'_>,
) -> Result<Option<String>, StorageError> {
    let id = Uuid::now_v7().to_string();
    let done = sqlx::query(
        "INSERT INTO security_alerts (id, rule_id, org_id, entity, severity, technique, title, \
         first_at_ms, last_at_ms, event_count, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, 'open') \
         ON CONFLICT (rule_id, entity, first_at_ms) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(alert.rule_id)
    .bind(alert.org)
    .bind(alert.entity)
    .bind(alert.severity)
    .bind(alert.technique)
    .bind(alert.title)
    .bind(alert.first_at.as_millis())
    .bind(alert.event_count)
    .execute(tx.conn())
    .await?;
    Ok((done.rows_affected() == 1).then_some(id))
}

/// Adds an event to an open alert.
pub async fn extend_alert(
    tx: &mut OperatorTx,
    rule_id: &str,
    entity: &str,
    first_at: Timestamp,
    last_at: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE security_alerts SET event_count = event_count + 1, \
         last_at_ms = CASE WHEN last_at_ms > $4 THEN last_at_ms ELSE $4 END \
         WHERE rule_id = $1 AND entity = $2 AND first_at_ms = $3",
    )
    .bind(rule_id)
    .bind(entity)
    .bind(first_at.as_millis())
    .bind(last_at.as_millis())
    .execute(tx.conn())
    .await?;
    Ok(())
}

const ALERT_COLUMNS: &str = "id, rule_id, org_id, entity, severity, technique, title, \
     first_at_ms, last_at_ms, event_count, status, status_by, status_at_ms, status_reason";

fn alert_from(row: &sqlx::any::AnyRow) -> Result<Alert, StorageError> {
    let status: String = row.try_get("status")?;
    Ok(Alert {
        id: row.try_get("id")?,
        rule_id: row.try_get("rule_id")?,
        org: row.try_get("org_id")?,
        entity: row.try_get("entity")?,
        severity: row.try_get("severity")?,
        technique: row.try_get("technique")?,
        title: row.try_get("title")?,
        first_at: Timestamp::from_millis(row.try_get("first_at_ms")?),
        last_at: Timestamp::from_millis(row.try_get("last_at_ms")?),
        event_count: row.try_get("event_count")?,
        status: AlertStatus::parse(&status).ok_or_else(|| StorageError::Corrupt {
            what: "alert status",
        })?,
        status_by: row.try_get("status_by")?,
        status_at: row
            .try_get::<Option<i64>, _>("status_at_ms")?
            .map(Timestamp::from_millis),
        status_reason: row.try_get("status_reason")?,
    })
}

/// Filters of an alert listing.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only this status.
    pub status: Option<AlertStatus>,
    /// Only this rule.
    pub rule_id: Option<String>,
    /// Only alerts whose first event is at or after this.
    pub since: Option<Timestamp>,
}

/// The organisation's alerts, newest first, at most `limit`.
pub async fn org_alerts(
    tx: &mut TenantTx,
    filter: &AlertFilter,
    limit: u32,
) -> Result<Vec<Alert>, StorageError> {
    let org = tx.org_key();
    list(tx.conn(), Some(org), filter, limit).await
}

/// Every alert (the platform's and every organisation's), newest first, at most `limit`.
pub async fn all_alerts(
    tx: &mut OperatorTx,
    filter: &AlertFilter,
    limit: u32,
) -> Result<Vec<Alert>, StorageError> {
    list(tx.conn(), None, filter, limit).await
}

async fn list(
    conn: &mut sqlx::AnyConnection,
    org: Option<String>,
    filter: &AlertFilter,
    limit: u32,
) -> Result<Vec<Alert>, StorageError> {
    // Only constants are formatted in: a table name from `table` and the column list.
    let sql = format!(
        "SELECT {ALERT_COLUMNS} FROM security_alerts \
         WHERE (CAST($1 AS TEXT) IS NULL OR org_id = $1) \
           AND (CAST($2 AS TEXT) IS NULL OR status = $2) \
           AND (CAST($3 AS TEXT) IS NULL OR rule_id = $3) \
           AND first_at_ms >= $4 \
         ORDER BY first_at_ms DESC, id DESC LIMIT $5"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(filter.status.map(AlertStatus::as_str))
        .bind(filter.rule_id.clone())
        .bind(filter.since.map_or(i64::MIN, Timestamp::as_millis))
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(conn)
        .await?;
    rows.iter().map(alert_from).collect()
}

/// One alert of the organisation.
pub async fn org_alert(tx: &mut TenantTx, id: &str) -> Result<Alert, StorageError> {
    // Only constants are formatted in: a table name from `table` and the column list.
    let sql = format!("SELECT {ALERT_COLUMNS} FROM security_alerts WHERE id = $1 AND org_id = $2");
    let org = tx.org_key();
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(org)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StorageError::NotFound { entity: "alert" })?;
    alert_from(&row)
}

/// Sets an organisation's alert's status.
pub async fn set_org_alert_status(
    tx: &mut TenantTx,
    id: &str,
    status: AlertStatus,
    by: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<(), StorageError> {
    let org = tx.org_key();
    let done = sqlx::query(
        "UPDATE security_alerts SET status = $1, status_by = $2, status_at_ms = $3, \
         status_reason = $4 WHERE id = $5 AND org_id = $6",
    )
    .bind(status.as_str())
    .bind(by)
    .bind(now.as_millis())
    .bind(reason)
    .bind(id)
    .bind(org)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound { entity: "alert" });
    }
    Ok(())
}

/// Sets any alert's status (the platform operator).
pub async fn set_alert_status(
    tx: &mut OperatorTx,
    id: &str,
    status: AlertStatus,
    by: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<Alert, StorageError> {
    let done = sqlx::query(
        "UPDATE security_alerts SET status = $1, status_by = $2, status_at_ms = $3, \
         status_reason = $4 WHERE id = $5",
    )
    .bind(status.as_str())
    .bind(by)
    .bind(now.as_millis())
    .bind(reason)
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound { entity: "alert" });
    }
    // Only constants are formatted in: a table name from `table` and the column list.
    let sql = format!("SELECT {ALERT_COLUMNS} FROM security_alerts WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    alert_from(&row)
}

/// Alert counts by rule, severity and status.
pub async fn alert_counts(
    tx: &mut OperatorTx,
) -> Result<Vec<(String, String, String, i64)>, StorageError> {
    let rows = sqlx::query(
        "SELECT rule_id, severity, status, count(*) FROM security_alerts \
         GROUP BY rule_id, severity, status ORDER BY rule_id, severity, status",
    )
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect()
}
