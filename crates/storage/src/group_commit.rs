//! Group commit of the audit events that record reads.
//!
//! A read of PHI (a roster, a subject, an assessment) is answered only after its audit event
//! has committed. Written one by one, each such event is a write transaction of its own
//! (`BEGIN IMMEDIATE`, the chain's head, the insert, `COMMIT`) and, on SQLite, a turn at the
//! single writer: under load the reads queue behind each other's audit events. Here the events
//! of concurrent reads are appended together: whoever finds no write in progress writes every
//! event queued so far in one transaction, while the next arrivals queue for the following
//! one. Each caller still returns only once its own event has committed, so "no answer without
//! its audit event" holds as before.
//!
//! Changes are not written here: their events commit in the transaction of the change they
//! describe.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mhp_domain::{OrgScope, Timestamp};
use tokio::sync::oneshot;

use crate::repo::audit::{self, AuditEvent};
use crate::{Access, Db, StorageError};

/// Most events written in one transaction; the rest wait for the next.
const MOST_PER_BATCH: usize = 1000;

/// An event waiting for its batch.
struct Pending {
    scope: OrgScope,
    event: AuditEvent,
    now: Timestamp,
    /// `Ok` once committed; the event back when its batch failed, to be written alone (so
    /// that its caller gets the error of its own write, and one bad batch fails no one else).
    done: oneshot::Sender<Result<(), AuditEvent>>,
}

/// The queue of read events of one process and the turn to write them.
pub struct GroupCommit {
    db: Db,
    queue: Mutex<Vec<Pending>>,
    turn: Arc<tokio::sync::Mutex<()>>,
    batches: AtomicU64,
    events: AtomicU64,
}

/// What group commit has done since start, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    /// Transactions that committed a batch.
    pub batches: u64,
    /// Events they committed.
    pub events: u64,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// Group commit over `db`.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            queue: Mutex::default(),
            turn: Arc::default(),
            batches: AtomicU64::new(0),
            events: AtomicU64::new(0),
        }
    }

    /// Batches and events committed so far.
    pub fn figures(&self) -> Figures {
        Figures {
            batches: self.batches.load(Ordering::Relaxed),
            events: self.events.load(Ordering::Relaxed),
        }
    }

    /// Events waiting for a writer's turn.
    pub fn queued(&self) -> usize {
        self.queue.lock().map_or(0, |q| q.len())
    }

    /// Appends `event` to the audit log of `scope`'s organisation and returns once it has
    /// committed, beside the events of other reads that arrived meanwhile.
    pub async fn append(
        self: &Arc<Self>,
        scope: &OrgScope,
        event: AuditEvent,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let (done, mut answer) = oneshot::channel();
        self.queue.lock().map_err(|_| poisoned())?.push(Pending {
            scope: *scope,
            event,
            now,
            done,
        });
        let outcome = loop {
            let turn = self.turn.clone().lock_owned().await;
            // The writer before may have taken this event with its batch.
            match answer.try_recv() {
                Ok(outcome) => break outcome,
                Err(oneshot::error::TryRecvError::Closed) => return Err(poisoned()),
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let batch = {
                let mut queue = self.queue.lock().map_err(|_| poisoned())?;
                let n = queue.len().min(MOST_PER_BATCH);
                queue.drain(..n).collect::<Vec<_>>()
            };
            // The write runs on a task of its own: a caller that gives up (its client went
            // away) does not cut the batch of the others short.
            let this = self.clone();
            let write = tokio::spawn(async move {
                let _turn = turn;
                this.write(batch).await;
            });
            if write.await.is_err() {
                return Err(poisoned());
            }
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(event) => {
                let mut tx = self.db.tenant(scope, Access::Write).await?;
                audit::append(&mut tx, &event, now).await?;
                tx.commit().await
            }
        }
    }

    /// Writes `batch` in one transaction and tells each caller how it went.
    async fn write(&self, batch: Vec<Pending>) {
        if batch.is_empty() {
            return;
        }
        let written = async {
            let events: Vec<_> = batch
                .iter()
                .map(|p| (Some(p.scope.org()), &p.event, p.now))
                .collect();
            let mut tx = self.db.operator(Access::Write).await?;
            audit::append_batch(&mut tx, &events).await?;
            tx.commit().await
        }
        .await;
        if written.is_ok() {
            self.batches.fetch_add(1, Ordering::Relaxed);
            self.events.fetch_add(
                u64::try_from(batch.len()).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
        }
        if let Err(e) = &written {
            tracing::warn!(events = batch.len(), error = %e,
                "a batch of read events failed; each is written alone");
        }
        for p in batch {
            let outcome = match written {
                Ok(()) => Ok(()),
                Err(_) => Err(p.event),
            };
            // A caller that went away no longer waits for the answer; its event is written.
            let _ = p.done.send(outcome);
        }
    }
}

/// What a caller gets when the writer before it panicked (a defect): its event may not have
/// been written, so the read must fail.
fn poisoned() -> StorageError {
    StorageError::Database(sqlx::Error::WorkerCrashed)
}
