//! Audit events, written in the same transaction as the change they describe, so that a change
//! without its audit record cannot be committed. The table is append-only (database triggers).
//!
//! Every event belongs to a chain (its organisation's, or the platform's) and commits to the
//! previous event of that chain: `hash = SHA-256(prev_hash ‖ fields)`, with a gap-free
//! `chain_index`. Checkpoints sign the head of each chain with an Ed25519 key derived from the
//! master key. [`verify`] recomputes every chain and names the first event that was altered,
//! removed or reordered, and any checkpoint that no longer matches.

use mhp_crypto::checkpoint::{self, CheckpointKey};
use mhp_domain::{OrgId, Timestamp};
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;
use uuid::Uuid;

use crate::db::Backend;
use crate::{OperatorTx, StorageError, TenantTx};

/// The chain of events that belong to no organisation.
pub const PLATFORM_CHAIN: &str = "platform";

/// How the audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It was done.
    Success,
    /// It was tried and failed.
    Failure,
    /// It was refused by access control.
    Denied,
}

impl Outcome {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

/// One audited action. Fields hold ids and codes only, never PHI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Who acted: `user:<id>`, `apikey:<prefix>`, `cli`, `system`.
    pub actor: String,
    /// What was done, dotted: `subject.create`, `platform.bootstrap`.
    pub action: &'static str,
    /// The kind of resource touched.
    pub resource_type: &'static str,
    /// Its id, when there is one.
    pub resource_id: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// The request that did it.
    pub request_id: Option<String>,
    /// The client's address.
    pub source_ip: Option<String>,
    /// The client's user agent (truncated).
    pub user_agent: Option<String>,
    /// What the event says beyond its action, as a short code (a policy's name, a role, a
    /// reason): never PHI or a secret. Hashed into the chain when present.
    pub detail: Option<String>,
}

impl AuditEvent {
    /// A successful action outside any request (the command line, a background job): no
    /// request id, address or user agent.
    pub fn outside_request(
        actor: &str,
        action: &'static str,
        resource_type: &'static str,
        resource_id: Option<String>,
    ) -> Self {
        Self {
            actor: actor.to_owned(),
            action,
            resource_type,
            resource_id,
            outcome: Outcome::Success,
            request_id: None,
            source_ip: None,
            user_agent: None,
            detail: None,
        }
    }

    /// The same event with a detail code.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Appends an event for the transaction's organisation.
pub async fn append(
    tx: &mut TenantTx,
    event: &AuditEvent,
    now: Timestamp,
) -> Result<(), StorageError> {
    let org = Some(tx.org());
    let backend = tx.backend();
    insert(tx.conn(), backend, org, event, now).await
}

/// Appends an event from an operator function, for one organisation or for the platform.
pub async fn append_as_operator(
    tx: &mut OperatorTx,
    org: Option<OrgId>,
    event: &AuditEvent,
    now: Timestamp,
) -> Result<(), StorageError> {
    let backend = tx.backend();
    insert(tx.conn(), backend, org, event, now).await
}

/// The number of audit events visible to the transaction (its organisation's).
pub async fn count(tx: &mut TenantTx) -> Result<i64, StorageError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE org_id = $1")
            .bind(tx.org_key())
            .fetch_one(tx.conn())
            .await?,
    )
}

/// Filters of an auditor's query; all given ones must hold.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The actor, exactly (`user:<id>`, `apikey:<id>`, `cli`).
    pub actor: Option<String>,
    /// The action, exactly (`subject.read`), or a family when it ends with a dot (`subject.`).
    pub action: Option<String>,
    /// The kind of resource.
    pub resource_type: Option<String>,
    /// The resource's id (a subject, an assessment, a user).
    pub resource_id: Option<String>,
    /// From this time (inclusive), ms since the epoch.
    pub from_ms: Option<i64>,
    /// Before this time (exclusive).
    pub to_ms: Option<i64>,
}

/// An audit event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Position in the log (cursor of pages).
    pub seq: i64,
    /// Its id.
    pub id: String,
    /// When.
    pub at_ms: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what kind of resource.
    pub resource_type: String,
    /// Which one.
    pub resource_id: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    /// The request.
    pub request_id: Option<String>,
    /// The client's address.
    pub source_ip: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// Its detail code.
    pub detail: Option<String>,
    /// Position in the organisation's hash chain.
    pub chain_index: Option<i64>,
    /// The event's chain hash, hex.
    pub hash: Option<String>,
}

/// The organisation's events matching `filter`, oldest first, after `after_seq`, at most
/// `limit` (capped at 1000).
pub async fn search(
    tx: &mut TenantTx,
    filter: &Filter,
    after_seq: Option<i64>,
    limit: u32,
) -> Result<Vec<StoredEvent>, StorageError> {
    let (action_exact, action_prefix) = match filter.action.as_deref() {
        Some(a) if a.ends_with('.') => (None, Some(format!("{a}%"))),
        Some(a) => (Some(a.to_owned()), None),
        None => (None, None),
    };
    let rows = sqlx::query(
        "SELECT seq, id, at_ms, actor, action, resource_type, resource_id, outcome, request_id, \
         source_ip, user_agent, detail, chain_index, hash FROM audit_events \
         WHERE org_id = $1 AND seq > $2 \
           AND (CAST($3 AS TEXT) IS NULL OR actor = $3) \
           AND (CAST($4 AS TEXT) IS NULL OR action = $4) \
           AND (CAST($5 AS TEXT) IS NULL OR action LIKE $5) \
           AND (CAST($6 AS TEXT) IS NULL OR resource_type = $6) \
           AND (CAST($7 AS TEXT) IS NULL OR resource_id = $7) \
           AND at_ms >= $8 AND at_ms < $9 \
         ORDER BY seq LIMIT $10",
    )
    .bind(tx.org_key())
    .bind(after_seq.unwrap_or(0))
    .bind(filter.actor.clone())
    .bind(action_exact)
    .bind(action_prefix)
    .bind(filter.resource_type.clone())
    .bind(filter.resource_id.clone())
    .bind(filter.from_ms.unwrap_or(i64::MIN))
    .bind(filter.to_ms.unwrap_or(i64::MAX))
    .bind(i64::from(limit.clamp(1, 1000)))
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let hash: Option<Vec<u8>> = row.try_get("hash")?;
            Ok(StoredEvent {
                seq: row.try_get("seq")?,
                id: row.try_get("id")?,
                at_ms: row.try_get("at_ms")?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                resource_type: row.try_get("resource_type")?,
                resource_id: row.try_get("resource_id")?,
                outcome: row.try_get("outcome")?,
                request_id: row.try_get("request_id")?,
                source_ip: row.try_get("source_ip")?,
                user_agent: row.try_get("user_agent")?,
                detail: row.try_get("detail")?,
                chain_index: row.try_get("chain_index")?,
                hash: hash.as_deref().map(mhp_domain::to_hex),
            })
        })
        .collect()
}

/// One change in an organisation's feed: the audit event that recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its position: the writing transaction (0 on SQLite) and the row.
    pub position: (i64, i64),
    /// When.
    pub at_ms: i64,
    /// The action (`subject.update`).
    pub action: String,
    /// The kind of resource.
    pub resource_type: String,
    /// Which one.
    pub resource_id: Option<String>,
}

/// The organisation's successful events of `actions` after `after` (a position from an
/// earlier call, `(0, 0)` for the beginning), in delivery order, at most `limit` (capped at
/// 1000). As the security monitor's cursors (`repo::security::read_after`), only transactions
/// older than every one still running are read on PostgreSQL, so a change that commits late
/// is still ahead of a client's cursor when it becomes visible.
pub async fn changes_after(
    tx: &mut TenantTx,
    after: (i64, i64),
    actions: &[&str],
    limit: u32,
) -> Result<Vec<Change>, StorageError> {
    let backend = tx.backend();
    let horizon = crate::repo::security::snapshot_horizon(tx.conn(), backend).await?;
    let limit = i64::from(limit.clamp(1, 1000));
    // The actions are bound; only their placeholders are formatted in.
    let placeholders: Vec<String> = (0..actions.len()).map(|i| format!("${}", i + 5)).collect();
    let columns = "tx_id, seq, at_ms, action, resource_type, resource_id";
    let mut out = Vec::new();
    let ranges = [
        (after.1, "tx_id = $2 AND seq > $3 ORDER BY seq"),
        (horizon, "tx_id > $2 AND tx_id < $3 ORDER BY tx_id, seq"),
    ];
    for (i, (third, range)) in ranges.into_iter().enumerate() {
        if (i == 0 && after.0 >= horizon) || out.len() as i64 >= limit {
            continue;
        }
        let (range, order) = range.split_once(" ORDER BY ").unwrap_or((range, "seq"));
        let sql = format!(
            "SELECT {columns} FROM audit_events WHERE org_id = $1 AND {range} \
             AND outcome = 'success' AND action IN ({}) ORDER BY {order} LIMIT $4",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tx.org_key())
            .bind(after.0)
            .bind(third)
            .bind(limit - out.len() as i64);
        for a in actions {
            q = q.bind(*a);
        }
        for row in q.fetch_all(tx.conn()).await? {
            out.push(Change {
                position: (row.try_get("tx_id")?, row.try_get("seq")?),
                at_ms: row.try_get("at_ms")?,
                action: row.try_get("action")?,
                resource_type: row.try_get("resource_type")?,
                resource_id: row.try_get("resource_id")?,
            });
        }
    }
    Ok(out)
}

async fn insert(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    org: Option<OrgId>,
    event: &AuditEvent,
    now: Timestamp,
) -> Result<(), StorageError> {
    let chain = chain_of(org);
    if backend == Backend::Postgres {
        lock_chain(conn, &chain).await?;
    }
    let (index, prev) = chain_head(conn, &chain).await?;
    let record = Record::new(org, event, now, chain, index);
    let hash = record.hash(&prev);
    insert_rows(conn, backend, &[(record, prev, hash)]).await
}

/// Appends events from an operator transaction, each to its chain (its organisation's, or the
/// platform's), in the order given: what [`append`] and [`append_as_operator`] would store one
/// by one, with one head lookup per chain and one `INSERT` per 200 events. Group commit of
/// read events uses it.
pub async fn append_batch(
    tx: &mut OperatorTx,
    events: &[(Option<OrgId>, &AuditEvent, Timestamp)],
) -> Result<(), StorageError> {
    let backend = tx.backend();
    let conn = tx.conn();
    let mut chains: Vec<String> = events.iter().map(|(org, ..)| chain_of(*org)).collect();
    chains.sort_unstable();
    chains.dedup();
    // Heads of every chain touched, each locked first on PostgreSQL (in name order, so two
    // batches cannot wait on each other).
    let mut heads = std::collections::HashMap::with_capacity(chains.len());
    for chain in chains {
        if backend == Backend::Postgres {
            lock_chain(conn, &chain).await?;
        }
        let head = chain_head(conn, &chain).await?;
        heads.insert(chain, head);
    }
    let mut rows = Vec::with_capacity(events.len());
    for (org, event, now) in events {
        let chain = chain_of(*org);
        let Some((index, prev)) = heads.get_mut(&chain) else {
            return Err(StorageError::Corrupt {
                what: "audit chain head",
            });
        };
        let record = Record::new(*org, event, *now, chain, *index);
        let hash = record.hash(prev);
        *index += 1;
        let link = std::mem::replace(prev, hash.to_vec());
        rows.push((record, link, hash));
    }
    for chunk in rows.chunks(INSERT_ROWS) {
        insert_rows(conn, backend, chunk).await?;
    }
    Ok(())
}

/// Events per `INSERT` of a batch: 16 values each, well under SQLite's 32,766 variables and
/// PostgreSQL's 65,535 parameters.
const INSERT_ROWS: usize = 200;

fn chain_of(org: Option<OrgId>) -> String {
    org.map_or_else(|| PLATFORM_CHAIN.to_owned(), |o| o.to_string())
}

/// Appends to one chain queue; other chains go on (SQLite has one writer anyway).
async fn lock_chain(conn: &mut sqlx::AnyConnection, chain: &str) -> Result<(), StorageError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7240531))")
        .bind(chain)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The next index of `chain` and the hash its next event links to.
async fn chain_head(
    conn: &mut sqlx::AnyConnection,
    chain: &str,
) -> Result<(i64, Vec<u8>), StorageError> {
    let head = sqlx::query(
        "SELECT chain_index, hash FROM audit_events WHERE chain = $1 \
         ORDER BY chain_index DESC LIMIT 1",
    )
    .bind(chain)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match head {
        Some(row) => (row.try_get::<i64, _>(0)? + 1, row.try_get::<Vec<u8>, _>(1)?),
        None => (0, vec![0u8; 32]),
    })
}

/// Inserts records with their links and hashes, in one statement.
async fn insert_rows(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    rows: &[(Record, Vec<u8>, [u8; 32])],
) -> Result<(), StorageError> {
    const COLUMNS: usize = 16;
    let mut sql = String::from(
        "INSERT INTO audit_events (id, at_ms, org_id, actor, action, resource_type, \
         resource_id, outcome, request_id, source_ip, user_agent, chain, chain_index, \
         prev_hash, hash, detail) VALUES ",
    );
    sql.push_str(&super::value_rows(backend, rows.len(), COLUMNS));
    // Only placeholders are built into the text; every value is bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (record, prev, hash) in rows {
        query = query
            .bind(record.id.as_str())
            .bind(record.at_ms)
            .bind(record.org.as_deref())
            .bind(record.actor.as_str())
            .bind(record.action.as_str())
            .bind(record.resource_type.as_str())
            .bind(record.resource_id.as_deref())
            .bind(record.outcome.as_str())
            .bind(record.request_id.as_deref())
            .bind(record.source_ip.as_deref())
            .bind(record.user_agent.as_deref())
            .bind(record.chain.as_str())
            .bind(record.chain_index)
            .bind(prev.as_slice())
            .bind(hash.to_vec())
            .bind(record.detail.as_deref());
    }
    query.execute(conn).await?;
    Ok(())
}

/// An event as stored, the unit that is hashed.
#[derive(Debug, Clone)]
struct Record {
    id: String,
    at_ms: i64,
    org: Option<String>,
    actor: String,
    action: String,
    resource_type: String,
    resource_id: Option<String>,
    outcome: String,
    request_id: Option<String>,
    source_ip: Option<String>,
    user_agent: Option<String>,
    detail: Option<String>,
    chain: String,
    chain_index: i64,
}

impl Record {
    /// The record of `event` at position `chain_index` of `chain`, with a fresh id.
    fn new(
        org: Option<OrgId>,
        event: &AuditEvent,
        now: Timestamp,
        chain: String,
        chain_index: i64,
    ) -> Self {
        Self {
            id: Uuid::now_v7().to_string(),
            at_ms: now.as_millis(),
            org: org.map(|o| o.to_string()),
            actor: event.actor.clone(),
            action: event.action.to_owned(),
            resource_type: event.resource_type.to_owned(),
            resource_id: event.resource_id.clone(),
            outcome: event.outcome.as_str().to_owned(),
            request_id: event.request_id.clone(),
            source_ip: event.source_ip.clone(),
            user_agent: event
                .user_agent
                .as_deref()
                .map(|ua| ua.chars().take(256).collect::<String>()),
            detail: event.detail.clone(),
            chain,
            chain_index,
        }
    }

    /// SHA-256 of the previous hash and every field, each length-prefixed (absent fields are
    /// marked apart from empty ones), so no two events encode alike.
    fn hash(&self, prev: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"mhp-audit-v1");
        h.update(prev);
        let mut field = |v: Option<&str>| match v {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
        };
        // The position is not hashed: the link to the previous hash fixes the order, so a moved
        // event is reported as moved (its link breaks) rather than as altered.
        field(Some(&self.chain));
        field(Some(&self.id));
        field(Some(&self.at_ms.to_string()));
        field(self.org.as_deref());
        field(Some(&self.actor));
        field(Some(&self.action));
        field(Some(&self.resource_type));
        field(self.resource_id.as_deref());
        field(Some(&self.outcome));
        field(self.request_id.as_deref());
        field(self.source_ip.as_deref());
        field(self.user_agent.as_deref());
        // Added with security monitoring: events without a detail hash as they always did.
        if let Some(detail) = self.detail.as_deref() {
            field(Some("detail"));
            field(Some(detail));
        }
        h.finalize().into()
    }

    fn from_row(row: &sqlx::any::AnyRow) -> Result<Self, StorageError> {
        Ok(Self {
            id: row.try_get("id")?,
            at_ms: row.try_get("at_ms")?,
            org: row.try_get("org_id")?,
            actor: row.try_get("actor")?,
            action: row.try_get("action")?,
            resource_type: row.try_get("resource_type")?,
            resource_id: row.try_get("resource_id")?,
            outcome: row.try_get("outcome")?,
            request_id: row.try_get("request_id")?,
            source_ip: row.try_get("source_ip")?,
            user_agent: row.try_get("user_agent")?,
            detail: row.try_get("detail")?,
            chain: row.try_get("chain")?,
            chain_index: row.try_get("chain_index")?,
        })
    }
}

fn checkpoint_message(chain: &str, index: i64, hash: &[u8]) -> Vec<u8> {
    let mut m = b"mhp-audit-checkpoint-v1\0".to_vec();
    m.extend_from_slice(chain.as_bytes());
    m.push(0);
    m.extend_from_slice(&index.to_be_bytes());
    m.extend_from_slice(hash);
    m
}

/// Signs the head of every chain that moved since its last checkpoint; returns how many
/// checkpoints were written.
pub async fn checkpoint(
    tx: &mut OperatorTx,
    key: &CheckpointKey,
    key_version: u32,
    now: Timestamp,
) -> Result<usize, StorageError> {
    let heads = sqlx::query(
        "SELECT e.chain, e.chain_index, e.hash FROM audit_events e \
         WHERE e.hash IS NOT NULL AND e.chain_index = \
           (SELECT max(chain_index) FROM audit_events WHERE chain = e.chain) \
         AND NOT EXISTS (SELECT 1 FROM audit_checkpoints c \
           WHERE c.chain = e.chain AND c.chain_index = e.chain_index) \
         ORDER BY e.chain",
    )
    .fetch_all(tx.conn())
    .await?;
    for row in &heads {
        let chain: String = row.try_get(0)?;
        let index: i64 = row.try_get(1)?;
        let hash: Vec<u8> = row.try_get(2)?;
        sign_at(tx, &chain, index, hash, key, key_version, now).await?;
    }
    Ok(heads.len())
}

/// Writes the checkpoint that signs `chain` at `index`, whose event (or anchor) has `hash`.
async fn sign_at(
    tx: &mut OperatorTx,
    chain: &str,
    index: i64,
    hash: Vec<u8>,
    key: &CheckpointKey,
    key_version: u32,
    now: Timestamp,
) -> Result<(), StorageError> {
    let signature = key.sign(&checkpoint_message(chain, index, &hash));
    sqlx::query(
        "INSERT INTO audit_checkpoints (chain, chain_index, hash, signed_at_ms, public_key, \
         signature, key_version) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(chain)
    .bind(index)
    .bind(hash)
    .bind(now.as_millis())
    .bind(key.public().to_vec())
    .bind(signature.to_vec())
    .bind(i64::from(key_version))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Signs the newest anchor of `chain` (where it resumes after pruning), when it has one and no
/// checkpoint of this installation's signs it yet: an organisation imported from another
/// installation brings its anchor, which the source's checkpoints vouched for; after checking
/// them, this installation vouches for it in its own name. Returns whether it signed.
pub async fn checkpoint_anchor(
    tx: &mut OperatorTx,
    chain: &str,
    key: &CheckpointKey,
    key_version: u32,
    now: Timestamp,
) -> Result<bool, StorageError> {
    let anchor = sqlx::query(
        "SELECT chain_index, hash FROM audit_anchors WHERE chain = $1 \
         ORDER BY chain_index DESC LIMIT 1",
    )
    .bind(chain)
    .fetch_optional(tx.conn())
    .await?;
    let Some(anchor) = anchor else {
        return Ok(false);
    };
    sign_at(
        tx,
        chain,
        anchor.try_get(0)?,
        anchor.try_get(1)?,
        key,
        key_version,
        now,
    )
    .await?;
    Ok(true)
}

/// The minimum retention the database enforces: six years, in milliseconds (2190 days). The
/// triggers of migration 12 use the same figure.
pub const RETENTION_FLOOR_MS: i64 = 2190 * 86_400_000;

/// An event leaving the database for an archive, with its chain hashes (hex), so the archive
/// verifies on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedEvent {
    /// Its id.
    pub id: String,
    /// When.
    pub at_ms: i64,
    /// Its organisation, if any.
    pub org: Option<String>,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what kind of resource.
    pub resource_type: String,
    /// Which one.
    pub resource_id: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    /// The request.
    pub request_id: Option<String>,
    /// The client's address.
    pub source_ip: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// Its detail code.
    pub detail: Option<String>,
    /// Its chain.
    pub chain: String,
    /// Its position in the chain.
    pub chain_index: i64,
    /// The previous event's hash, hex.
    pub prev_hash: String,
    /// Its hash, hex.
    pub hash: String,
}

/// What pruning one chain removes: events up to `through_index`, anchored at the last one's
/// hash, which a signed checkpoint vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrunePlan {
    /// The chain.
    pub chain: String,
    /// The last position removed.
    pub through_index: i64,
    /// That event's hash, the anchor from which verification resumes.
    pub anchor_hash: Vec<u8>,
    /// The events removed, oldest first.
    pub events: Vec<ArchivedEvent>,
}

/// The events every chain may shed: older than `cutoff_ms` (never younger than
/// [`RETENTION_FLOOR_MS`] before `now`), up to the newest checkpointed event before the first
/// younger one, and never a chain's newest event. At most `limit` events per chain.
pub async fn prune_plan(
    tx: &mut OperatorTx,
    cutoff_ms: i64,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<PrunePlan>, StorageError> {
    let cutoff = cutoff_ms.min(now.as_millis() - RETENTION_FLOOR_MS);
    let chains = sqlx::query(
        "SELECT chain, min(chain_index) AS first, max(chain_index) AS last FROM audit_events \
         WHERE hash IS NOT NULL GROUP BY chain ORDER BY chain",
    )
    .fetch_all(tx.conn())
    .await?;
    let mut plans = Vec::new();
    for row in &chains {
        let chain: String = row.try_get("chain")?;
        let first: i64 = row.try_get("first")?;
        let last: i64 = row.try_get("last")?;
        let young: Option<i64> = sqlx::query_scalar(
            "SELECT min(chain_index) FROM audit_events WHERE chain = $1 AND at_ms >= $2",
        )
        .bind(chain.as_str())
        .bind(cutoff)
        .fetch_one(tx.conn())
        .await?;
        let bound = young
            .unwrap_or(last)
            .min(last)
            .min(first.saturating_add(limit));
        let anchor = sqlx::query(
            "SELECT chain_index, hash FROM audit_checkpoints WHERE chain = $1 \
             AND chain_index >= $2 AND chain_index < $3 ORDER BY chain_index DESC LIMIT 1",
        )
        .bind(chain.as_str())
        .bind(first)
        .bind(bound)
        .fetch_optional(tx.conn())
        .await?;
        let Some(anchor) = anchor else { continue };
        let through: i64 = anchor.try_get(0)?;
        let anchor_hash: Vec<u8> = anchor.try_get(1)?;
        let rows = sqlx::query(
            "SELECT id, at_ms, org_id, actor, action, resource_type, resource_id, outcome, \
             request_id, source_ip, user_agent, detail, chain, chain_index, prev_hash, hash \
             FROM audit_events WHERE chain = $1 AND chain_index <= $2 ORDER BY chain_index",
        )
        .bind(chain.as_str())
        .bind(through)
        .fetch_all(tx.conn())
        .await?;
        let mut events = Vec::with_capacity(rows.len());
        for r in &rows {
            let rec = Record::from_row(r)?;
            let prev: Vec<u8> = r.try_get("prev_hash")?;
            let hash: Vec<u8> = r.try_get("hash")?;
            events.push(ArchivedEvent {
                id: rec.id,
                at_ms: rec.at_ms,
                org: rec.org,
                actor: rec.actor,
                action: rec.action,
                resource_type: rec.resource_type,
                resource_id: rec.resource_id,
                outcome: rec.outcome,
                request_id: rec.request_id,
                source_ip: rec.source_ip,
                user_agent: rec.user_agent,
                detail: rec.detail,
                chain: rec.chain,
                chain_index: rec.chain_index,
                prev_hash: mhp_domain::to_hex(&prev),
                hash: mhp_domain::to_hex(&hash),
            });
        }
        plans.push(PrunePlan {
            chain,
            through_index: through,
            anchor_hash,
            events,
        });
    }
    Ok(plans)
}

/// Carries out a plan (after its events were archived): records the anchor and removes the
/// events, in the caller's transaction. The database refuses to remove anything younger than
/// six years whatever the plan says.
pub async fn prune(
    tx: &mut OperatorTx,
    plan: &PrunePlan,
    now: Timestamp,
) -> Result<u64, StorageError> {
    sqlx::query(
        "INSERT INTO audit_anchors (chain, chain_index, hash, events, pruned_at_ms) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(plan.chain.as_str())
    .bind(plan.through_index)
    .bind(plan.anchor_hash.clone())
    .bind(i64::try_from(plan.events.len()).unwrap_or(i64::MAX))
    .bind(now.as_millis())
    .execute(tx.conn())
    .await?;
    let done = sqlx::query("DELETE FROM audit_events WHERE chain = $1 AND chain_index <= $2")
        .bind(plan.chain.as_str())
        .bind(plan.through_index)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected())
}

/// What is wrong with a chain, at its first bad place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The event's content no longer matches its hash.
    Altered {
        /// Chain.
        chain: String,
        /// Position in the chain.
        index: i64,
        /// The event's id.
        id: String,
    },
    /// Events are missing before this position (a gap), or after the last checkpoint.
    Removed {
        /// Chain.
        chain: String,
        /// The first position missing.
        index: i64,
    },
    /// The event sits at a position that is not its own (its link to the previous one breaks).
    Reordered {
        /// Chain.
        chain: String,
        /// Position in the chain.
        index: i64,
        /// The event's id.
        id: String,
    },
    /// A checkpoint's signature does not verify with the expected key, or its hash differs from
    /// the event it names.
    BadCheckpoint {
        /// Chain.
        chain: String,
        /// The position it signs.
        index: i64,
    },
    /// A pruned chain resumes from an anchor no signed checkpoint vouches for.
    UnprovenAnchor {
        /// Chain.
        chain: String,
        /// The anchor's position.
        index: i64,
    },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Altered { chain, index, id } => {
                write!(f, "chain {chain}: event {index} ({id}) was altered")
            }
            Finding::Removed { chain, index } => {
                write!(
                    f,
                    "chain {chain}: event {index} and perhaps more were removed"
                )
            }
            Finding::Reordered { chain, index, id } => {
                write!(f, "chain {chain}: event {index} ({id}) is out of order")
            }
            Finding::UnprovenAnchor { chain, index } => write!(
                f,
                "chain {chain}: it resumes after pruning at event {index}, which no signed \
                 checkpoint vouches for"
            ),
            Finding::BadCheckpoint { chain, index } => {
                write!(
                    f,
                    "chain {chain}: the checkpoint at event {index} does not verify"
                )
            }
        }
    }
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// Chains checked.
    pub chains: usize,
    /// Chained events checked.
    pub events: usize,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// Events from before chaining began.
    pub unchained: usize,
    /// The first problem of each damaged chain, and every bad checkpoint.
    pub findings: Vec<Finding>,
}

/// Recomputes every chain and checks every checkpoint against `public_keys` (one per version
/// of the installation root: a checkpoint verifies under any of them).
pub async fn verify(tx: &mut OperatorTx, public_keys: &[[u8; 32]]) -> Result<Report, StorageError> {
    verify_chains(tx.conn(), public_keys, None).await
}

/// Recomputes the transaction's organisation's chain and checks its checkpoints against
/// `public_keys` (what an auditor of one organisation may run; other chains are not read).
pub async fn verify_own_chain(
    tx: &mut TenantTx,
    public_keys: &[[u8; 32]],
) -> Result<Report, StorageError> {
    let org = tx.org_key();
    verify_chains(tx.conn(), public_keys, Some(&org)).await
}

/// Recomputes the chains (one when `only` names it, else all) and checks their checkpoints.
async fn verify_chains(
    conn: &mut sqlx::AnyConnection,
    public_keys: &[[u8; 32]],
    only: Option<&str>,
) -> Result<Report, StorageError> {
    let mut report = Report {
        unchained: usize::try_from(
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM audit_events WHERE hash IS NULL \
                 AND (CAST($1 AS TEXT) IS NULL OR org_id = $1)",
            )
            .bind(only)
            .fetch_one(&mut *conn)
            .await?,
        )
        .unwrap_or(0),
        ..Report::default()
    };
    let rows = sqlx::query(
        "SELECT id, at_ms, org_id, actor, action, resource_type, resource_id, outcome, \
         request_id, source_ip, user_agent, detail, chain, chain_index, prev_hash, hash \
         FROM audit_events WHERE hash IS NOT NULL \
         AND (CAST($1 AS TEXT) IS NULL OR chain = $1) ORDER BY chain, chain_index",
    )
    .bind(only)
    .fetch_all(&mut *conn)
    .await?;
    // Where pruned chains resume: the newest anchor of each.
    let mut anchors: std::collections::BTreeMap<String, (i64, Vec<u8>)> = Default::default();
    for row in sqlx::query(
        "SELECT chain, chain_index, hash FROM audit_anchors \
         WHERE CAST($1 AS TEXT) IS NULL OR chain = $1 ORDER BY chain_index",
    )
    .bind(only)
    .fetch_all(&mut *conn)
    .await?
    {
        anchors.insert(row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?));
    }
    let mut heads: std::collections::BTreeMap<String, (i64, Vec<u8>)> = Default::default();
    let mut damaged: std::collections::BTreeSet<String> = Default::default();
    let mut current: Option<(String, i64, Vec<u8>)> = None;
    for row in &rows {
        report.events += 1;
        let rec = Record::from_row(row)?;
        let stored: Vec<u8> = row.try_get("hash")?;
        let stored_prev: Vec<u8> = row.try_get("prev_hash")?;
        let (expected_index, prev) = match &current {
            Some((chain, index, hash)) if *chain == rec.chain => (index + 1, hash.clone()),
            _ => {
                report.chains += 1;
                match anchors.get(&rec.chain) {
                    Some((index, hash)) => (index + 1, hash.clone()),
                    None => (0, vec![0u8; 32]),
                }
            }
        };
        current = Some((rec.chain.clone(), rec.chain_index, stored.clone()));
        heads.insert(rec.chain.clone(), (rec.chain_index, stored.clone()));
        if damaged.contains(&rec.chain) {
            continue;
        }
        let finding = if rec.chain_index != expected_index {
            Some(Finding::Removed {
                chain: rec.chain.clone(),
                index: expected_index,
            })
        } else if rec.hash(&stored_prev).as_slice() != stored.as_slice() {
            Some(Finding::Altered {
                chain: rec.chain.clone(),
                index: rec.chain_index,
                id: rec.id.clone(),
            })
        } else if stored_prev != prev {
            Some(Finding::Reordered {
                chain: rec.chain.clone(),
                index: rec.chain_index,
                id: rec.id.clone(),
            })
        } else {
            None
        };
        if let Some(f) = finding {
            damaged.insert(rec.chain.clone());
            report.findings.push(f);
        }
    }
    let checkpoints = sqlx::query(
        "SELECT chain, chain_index, hash, signature FROM audit_checkpoints \
         WHERE CAST($1 AS TEXT) IS NULL OR chain = $1 ORDER BY seq",
    )
    .bind(only)
    .fetch_all(&mut *conn)
    .await?;
    let mut proven: std::collections::BTreeSet<String> = Default::default();
    for row in &checkpoints {
        report.checkpoints += 1;
        let chain: String = row.try_get(0)?;
        let index: i64 = row.try_get(1)?;
        let hash: Vec<u8> = row.try_get(2)?;
        let signature: Vec<u8> = row.try_get(3)?;
        let message = checkpoint_message(&chain, index, &hash);
        let signed = public_keys
            .iter()
            .any(|key| checkpoint::verify(key, &message, &signature));
        let event_hash = rows
            .iter()
            .find(|r| {
                r.try_get::<String, _>("chain").is_ok_and(|c| c == chain)
                    && r.try_get::<i64, _>("chain_index").is_ok_and(|i| i == index)
            })
            .and_then(|r| r.try_get::<Vec<u8>, _>("hash").ok());
        let head = heads.get(&chain).map_or(-1, |(i, _)| *i);
        let anchor = anchors.get(&chain);
        if signed && anchor.is_some_and(|(a, _)| index < *a) {
            // Vouched for events that were pruned, since anchored.
            continue;
        }
        if signed && let Some((a, anchor_hash)) = anchor.filter(|(a, _)| index == *a) {
            if *anchor_hash == hash {
                proven.insert(chain);
            } else {
                report
                    .findings
                    .push(Finding::BadCheckpoint { chain, index: *a });
            }
            continue;
        }
        if !signed {
            report
                .findings
                .push(Finding::BadCheckpoint { chain, index });
        } else if head < index {
            // Events the checkpoint vouched for are gone from the end of the chain.
            if !damaged.contains(&chain) {
                report.findings.push(Finding::Removed {
                    chain: chain.clone(),
                    index: head + 1,
                });
                damaged.insert(chain);
            }
        } else if event_hash.as_deref() != Some(hash.as_slice()) && !damaged.contains(&chain) {
            report
                .findings
                .push(Finding::BadCheckpoint { chain, index });
        }
    }
    for (chain, (index, _)) in anchors {
        if !proven.contains(&chain) {
            report
                .findings
                .push(Finding::UnprovenAnchor { chain, index });
        }
    }
    Ok(report)
}
