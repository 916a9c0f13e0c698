//! MHP's application layer: what the platform does, apart from how it is asked.
//!
//! [`App`] holds what every edge shares (the system of record, the object store, the clock, the
//! data keys and PHI sealing, the document index, the pseudonymiser) and nothing of HTTP. Each
//! use case is one function taking an [`App`], an organisation scope, the [`Caller`] the audit
//! log names and typed input, and returning a typed result or an [`AppError`]. The API's
//! handlers parse, call and map; the pipelines' workers and the command line call the same
//! functions, so a rule (an audit event, a scoring run enqueued with an upload) lives once.

pub mod alerts;
pub mod artifacts;
pub mod assessments;
pub mod audit_log;
pub mod backup;
pub mod changes;
pub mod code;
pub mod compliance;
pub mod dashboard;
pub mod datasets;
pub mod import;
pub mod indexing;
pub mod injuries;
pub mod keys;
pub mod loads;
pub mod metrics;
pub mod monitoring;
pub mod notify;
pub mod org_move;
pub mod orgs;
pub mod phi;
pub mod preferences;
pub mod runs;
pub mod schedule;
pub mod scoring;
pub mod siem;
pub mod sso_domains;
pub mod subjects;
pub mod sweep;
pub mod teams;
pub mod webhooks;

use std::sync::Arc;

pub use code::Code;
use mhp_auth::events::Actor;
use mhp_domain::{Clock, Timestamp};
use mhp_storage::repo::audit::{self, AuditEvent, Outcome};
use mhp_storage::{Db, ObjectStore, StorageError, TenantTx};

/// What the build says about itself.
#[derive(Debug, Clone, Copy)]
pub struct BuildInfo {
    /// The version.
    pub version: &'static str,
}

/// The application's state: storage, time, keys and the index. Cheap to clone.
#[derive(Debug, Clone)]
pub struct App {
    /// The system of record.
    pub db: Db,
    /// Raw signals, artifacts, backups.
    pub objects: ObjectStore,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// Build information.
    pub build: BuildInfo,
    /// Seals and opens PHI, computes blind indexes; holds the data keys.
    pub phi: Arc<phi::Phi>,
    /// The assessment document index (search, analytics).
    pub index: Arc<mhp_index::DocumentIndex>,
    /// Keyed pseudonyms of the pipelines' de-identified view.
    pub pseudonyms: Arc<mhp_crypto::pseudonym::Pseudonymizer>,
    /// Where messages to people go.
    pub notifier: Arc<notify::Notifier>,
    /// Notified after a pipeline run is enqueued, so workers in this process start at once
    /// instead of at their next poll.
    pub pipeline_wakeup: Arc<tokio::sync::Notify>,
    /// The public halves of the keys that sign audit checkpoints (one per version of the
    /// installation root), to verify an organisation's chain.
    pub audit_public_keys: Vec<[u8; 32]>,
    /// Norms populations read lately (`monitoring::norms`).
    pub populations: Arc<monitoring::PopulationCache>,
    /// Security monitoring's figures (`siem::Monitor` updates them, `/metrics` shows them).
    pub security: Arc<siem::Status>,
    /// The audit events of reads, committed together with concurrent reads' events.
    pub read_events: Arc<mhp_storage::GroupCommit>,
    /// What the webhook dispatcher did (`/metrics`).
    pub webhooks: Arc<webhooks::Status>,
}

/// What an [`App`] is made from.
#[derive(Debug)]
pub struct AppParts<'a> {
    /// The system of record.
    pub db: Db,
    /// The object store.
    pub objects: ObjectStore,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// The installation root, from which the blind-index, legacy sealing, pseudonym and
    /// checkpoint keys derive.
    pub roots: &'a mhp_crypto::Roots,
    /// Where messages to people go.
    pub notifier: notify::Notifier,
    /// Build information.
    pub build: BuildInfo,
    /// The document index.
    pub index: mhp_index::DocumentIndex,
    /// The data keys of organisations and subjects.
    pub keys: Arc<keys::Keys>,
}

impl App {
    /// The application from its parts.
    pub fn new(parts: AppParts<'_>) -> Self {
        let AppParts {
            db,
            objects,
            clock,
            roots,
            notifier,
            build,
            index,
            keys,
        } = parts;
        Self {
            read_events: Arc::new(mhp_storage::GroupCommit::new(db.clone())),
            webhooks: Arc::default(),
            db,
            objects,
            clock,
            build,
            phi: Arc::new(phi::Phi::new(roots, keys)),
            index: Arc::new(index),
            pseudonyms: Arc::new(mhp_crypto::pseudonym::Pseudonymizer::derive(
                roots.index().1,
            )),
            notifier: Arc::new(notifier),
            pipeline_wakeup: Arc::default(),
            audit_public_keys: roots
                .versions()
                .map(|(_, k)| mhp_crypto::checkpoint::CheckpointKey::derive(k).public())
                .collect(),
            populations: Arc::default(),
            security: Arc::default(),
        }
    }

    /// Now, by the application's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Today (UTC), by the application's clock.
    pub fn today(&self) -> mhp_domain::CalendarDate {
        mhp_domain::CalendarDate::from_unix_millis(self.clock.now().as_millis())
    }
}

/// Who acts, as the audit log records them: the principal and the facts of the request that
/// carried the action (none for the command line and the workers).
#[derive(Debug, Clone)]
pub struct Caller {
    /// The principal as the audit log names it (`user:<id>`, `apikey:<id>`, `cli`, a worker's
    /// name).
    pub actor: String,
    /// Whether the principal is an API key (a device or integration rather than a person).
    pub api_key: bool,
    /// The request id.
    pub request_id: Option<String>,
    /// The peer's address.
    pub source_ip: Option<String>,
    /// The user agent, truncated.
    pub user_agent: Option<String>,
}

impl Caller {
    /// The command line on the server, or a worker acting for it.
    pub fn cli() -> Self {
        Self::system(&Actor::Cli.audit_name())
    }

    /// A part of the platform acting on its own (a pipeline worker), by its audit name.
    pub fn system(name: &str) -> Self {
        Self {
            actor: name.to_owned(),
            api_key: false,
            request_id: None,
            source_ip: None,
            user_agent: None,
        }
    }

    /// A principal acting through a request with these facts.
    pub fn acting(
        actor: &Actor,
        request_id: Option<String>,
        source_ip: Option<String>,
        user_agent: Option<String>,
    ) -> Self {
        Self {
            actor: actor.audit_name(),
            api_key: matches!(actor, Actor::ApiKey(_)),
            request_id,
            source_ip,
            user_agent,
        }
    }

    /// The audit event of a successful action by this caller.
    pub fn event(
        &self,
        action: &'static str,
        resource_type: &'static str,
        resource_id: Option<String>,
    ) -> AuditEvent {
        AuditEvent {
            actor: self.actor.clone(),
            action,
            resource_type,
            resource_id,
            outcome: Outcome::Success,
            request_id: self.request_id.clone(),
            source_ip: self.source_ip.clone(),
            user_agent: self.user_agent.clone(),
            detail: None,
        }
    }

    /// Appends the audit event of a successful action in `tx`, the transaction of the change
    /// it describes (so the two commit together or not at all).
    pub async fn record(
        &self,
        tx: &mut TenantTx,
        action: &'static str,
        resource_type: &'static str,
        resource_id: Option<String>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        audit::append(tx, &self.event(action, resource_type, resource_id), now).await
    }

    /// Appends the audit event of a read by this caller and returns once it has committed.
    /// The read's own transaction has ended by then (it reads beside other readers); the
    /// events of concurrent reads commit together ([`mhp_storage::GroupCommit`]). A change is
    /// recorded with [`Caller::record`], in its own transaction, instead.
    pub async fn record_read(
        &self,
        app: &App,
        scope: &mhp_domain::OrgScope,
        action: &'static str,
        resource_type: &'static str,
        resource_id: Option<String>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        app.read_events
            .append(scope, self.event(action, resource_type, resource_id), now)
            .await
    }
}

/// Why a use case failed. The edges map it: the API to a problem+json response, a worker to a
/// retry or a failed run ([`AppError::is_transient`]), the command line to a message.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such resource in the caller's scope.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value is taken.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The resource was erased (its keys destroyed); it will not come back.
    #[error("{0} erased")]
    Gone(&'static str),
    /// The input is malformed: a field that does not parse, out of its range, of an unknown
    /// value. The text says which field and what it must be, without echoing the content.
    #[error("malformed: {0}")]
    Malformed(String),
    /// The input is well-formed but cannot be accepted. `code` is stable; `detail` says what to
    /// fix without echoing the content.
    #[error("{code}: {detail}")]
    Invalid {
        /// Stable machine-readable reason.
        code: Code,
        /// What was wrong.
        detail: String,
    },
    /// A dependency is down or busy; the same call may succeed later.
    #[error("temporarily unavailable: {0}")]
    Unavailable(#[source] StorageError),
    /// A fault of ours. The cause is logged by the edge, never shown.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// Whether another attempt may succeed (a worker retries; the API answers 503).
    pub fn is_transient(&self) -> bool {
        matches!(self, AppError::Unavailable(_))
    }

    /// An internal error from any cause.
    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        AppError::Internal(e.into())
    }

    /// Malformed input: `detail` names the field and what it must be.
    pub fn malformed(detail: impl Into<String>) -> Self {
        AppError::Malformed(detail.into())
    }

    /// Invalid input with a stable code.
    pub fn invalid(code: Code, detail: impl Into<String>) -> Self {
        AppError::Invalid {
            code,
            detail: detail.into(),
        }
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound { entity } => AppError::NotFound(entity),
            StorageError::Conflict { entity } => AppError::Conflict(entity),
            e if e.is_transient() => AppError::Unavailable(e),
            e => AppError::Internal(Box::new(e)),
        }
    }
}

impl From<keys::KeysError> for AppError {
    fn from(e: keys::KeysError) -> Self {
        match e {
            keys::KeysError::Shredded => AppError::Gone("subject"),
            keys::KeysError::Store(e) => e.into(),
            e @ (keys::KeysError::Provider(_)
            | keys::KeysError::Seal
            | keys::KeysError::RootFileDiffers) => AppError::Internal(Box::new(e)),
        }
    }
}
