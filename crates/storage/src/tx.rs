use mhp_domain::{OrgId, OrgScope};
use sqlx::{Any, AnyConnection, AnyPool, Transaction};

use std::sync::Arc;

use crate::credentials::CredentialChanges;
use crate::db::Backend;
use crate::error::StorageError;

/// Whether a transaction will write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only. PostgreSQL enforces it (`READ ONLY`); on SQLite it lets readers run beside
    /// the writer.
    Read,
    /// Reads and writes. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`), so two
    /// writers queue instead of failing with "database is locked" half-way.
    Write,
}

async fn begin(
    pool: &AnyPool,
    backend: Backend,
    access: Access,
) -> Result<Transaction<'static, Any>, StorageError> {
    let statement = match (backend, access) {
        (Backend::Sqlite, Access::Read) => "BEGIN",
        (Backend::Sqlite, Access::Write) => "BEGIN IMMEDIATE",
        (Backend::Postgres, Access::Read) => "BEGIN READ ONLY",
        (Backend::Postgres, Access::Write) => "BEGIN",
    };
    Ok(pool.begin_with(statement).await?)
}

/// Commits, refusing a PostgreSQL transaction that an earlier statement aborted: there, COMMIT
/// would quietly roll back and the caller would believe its change was saved. A transaction
/// that changed credentials announces it once the commit is done ([`crate::credentials`]).
async fn commit(
    mut tx: Transaction<'static, Any>,
    backend: Backend,
    announce: Option<&CredentialChanges>,
) -> Result<(), StorageError> {
    if backend == Backend::Postgres
        && let Err(e) = sqlx::query("SELECT 1").execute(&mut *tx).await
    {
        return Err(StorageError::Aborted(e));
    }
    tx.commit().await?;
    if let Some(changes) = announce {
        changes.committed();
    }
    Ok(())
}

/// A transaction's link to the credential-change announcements, and whether it has changed
/// credentials.
#[derive(Debug, Default)]
struct Announce {
    changes: Option<Arc<CredentialChanges>>,
    changed: bool,
}

impl Announce {
    /// What the commit announces: the changes, if credentials changed.
    fn due(&self) -> Option<&CredentialChanges> {
        self.changed.then_some(self.changes.as_deref()).flatten()
    }
}

/// The span of one transaction, from asking the pool for a connection to the end (commit or
/// drop), for traces: debug level, so it is made only when spans are exported, and only under
/// another span.
fn span(backend: Backend, access: Access, scope: &'static str) -> tracing::Span {
    // Only inside a traced piece of work (a request, a pipeline step): the queue's polls and
    // the background loops would otherwise each make a trace of one span.
    if tracing::Span::current().is_none() {
        return tracing::Span::none();
    }
    let access = match access {
        Access::Read => "read",
        Access::Write => "write",
    };
    tracing::debug_span!(target: "mhp::trace", "db.transaction", otel.kind = "client",
        db.system.name = backend.as_str(), access, scope)
}

/// A transaction serving one organisation. Tenant repositories take it and filter by its
/// organisation; on PostgreSQL it also sets `mhp.org_id` for row-level security.
#[derive(Debug)]
pub struct TenantTx {
    tx: Transaction<'static, Any>,
    scope: OrgScope,
    backend: Backend,
    announce: Announce,
    // Held until the transaction ends (SQLite writes only); dropped after `tx`.
    _writer: Option<tokio::sync::OwnedSemaphorePermit>,
    _span: tracing::Span,
}

impl TenantTx {
    pub(crate) async fn begin(
        pool: &AnyPool,
        backend: Backend,
        scope: OrgScope,
        access: Access,
        writer: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Result<Self, StorageError> {
        let span = span(backend, access, "tenant");
        let mut tx = begin(pool, backend, access).await?;
        if backend == Backend::Postgres {
            sqlx::query("SELECT set_config('mhp.org_id', $1, true)")
                .bind(scope.org().to_string())
                .execute(&mut *tx)
                .await?;
        }
        Ok(Self {
            tx,
            scope,
            backend,
            announce: Announce::default(),
            _writer: writer,
            _span: span,
        })
    }

    pub(crate) fn announcing(mut self, changes: &Arc<CredentialChanges>) -> Self {
        self.announce.changes = Some(Arc::clone(changes));
        self
    }

    /// Records that this transaction changes what authentication looks up (a key revoked or
    /// rotated): its commit tells every cache ([`crate::credentials`]).
    pub(crate) fn credentials_changed(&mut self) {
        self.announce.changed = true;
    }

    /// The organisation this transaction serves.
    pub fn org(&self) -> OrgId {
        self.scope.org()
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// The organisation id as stored.
    pub(crate) fn org_key(&self) -> String {
        self.scope.org().to_string()
    }

    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Makes the transaction's changes permanent. Dropping it instead rolls them back.
    pub async fn commit(self) -> Result<(), StorageError> {
        commit(self.tx, self.backend, self.announce.due()).await
    }
}

/// A transaction for named cross-organisation operator functions. On PostgreSQL it sets
/// `mhp.operator`, which row-level security honours for organisations, users, memberships and
/// audit events only.
#[derive(Debug)]
pub struct OperatorTx {
    held: Held,
    backend: Backend,
    announce: Announce,
    _writer: Option<tokio::sync::OwnedSemaphorePermit>,
    _span: tracing::Span,
}

/// What an [`OperatorTx`] runs its statements on.
#[derive(Debug)]
enum Held {
    /// A transaction: everything it reads is one snapshot, its writes commit together.
    Tx(Transaction<'static, Any>),
    /// One SQLite connection in autocommit mode, for a lookup of a single statement: that one
    /// statement is its own snapshot, so BEGIN and ROLLBACK (two round trips to the
    /// connection's thread) would add nothing.
    Single(sqlx::pool::PoolConnection<Any>),
}

impl OperatorTx {
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) async fn begin(
        pool: &AnyPool,
        backend: Backend,
        access: Access,
        writer: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Result<Self, StorageError> {
        let span = span(backend, access, "operator");
        let mut tx = begin(pool, backend, access).await?;
        if backend == Backend::Postgres {
            sqlx::query("SELECT set_config('mhp.operator', 'on', true)")
                .execute(&mut *tx)
                .await?;
        }
        Ok(Self {
            held: Held::Tx(tx),
            backend,
            announce: Announce::default(),
            _writer: writer,
            _span: span,
        })
    }

    pub(crate) fn announcing(mut self, changes: &Arc<CredentialChanges>) -> Self {
        self.announce.changes = Some(Arc::clone(changes));
        self
    }

    /// Records that this transaction changes what authentication looks up (a session revoked,
    /// a user's password or second factor changed): its commit tells every cache
    /// ([`crate::credentials`]).
    pub(crate) fn credentials_changed(&mut self) {
        self.announce.changed = true;
    }

    /// A lookup of one statement: on SQLite, a connection in autocommit mode; on PostgreSQL,
    /// a read-only transaction as [`OperatorTx::begin`] opens it (row-level security needs
    /// the setting it makes).
    pub(crate) async fn single_read(
        pool: &AnyPool,
        backend: Backend,
    ) -> Result<Self, StorageError> {
        match backend {
            Backend::Sqlite => Ok(Self {
                _span: span(backend, Access::Read, "operator"),
                held: Held::Single(pool.acquire().await?),
                backend,
                announce: Announce::default(),
                _writer: None,
            }),
            Backend::Postgres => Self::begin(pool, backend, Access::Read, None).await,
        }
    }

    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        match &mut self.held {
            Held::Tx(tx) => tx,
            Held::Single(conn) => conn,
        }
    }

    /// Makes the transaction's changes permanent. Dropping it instead rolls them back.
    pub async fn commit(self) -> Result<(), StorageError> {
        match self.held {
            Held::Tx(tx) => commit(tx, self.backend, self.announce.due()).await,
            Held::Single(_) => Ok(()),
        }
    }
}
