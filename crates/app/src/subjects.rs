//! Subjects: the use cases that act on a person's whole record.

use mhp_domain::{OrgScope, SubjectId};
use mhp_storage::repo::assessments::{self, Assessment};
use mhp_storage::repo::{Page, subjects};
use mhp_storage::{Access, ObjectKey, StorageError, TenantTx};

use crate::{App, AppError, Caller};

/// Every assessment of a subject, oldest page first (newest first within the listing order).
pub async fn all_assessments(
    tx: &mut TenantTx,
    subject: SubjectId,
) -> Result<Vec<Assessment>, StorageError> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = assessments::list_for_subject(tx, subject, Page { after, limit: 500 }).await?;
        let done = page.len() < 500;
        after = page.last().map(|a| a.id);
        out.extend(page);
        if done {
            return Ok(out);
        }
    }
}

/// What an erasure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erasure {
    /// Key versions destroyed in the key store (0 when a background sweep finishes the job).
    pub keys_destroyed: u64,
    /// Raw recordings removed from the object store.
    pub raw_objects_deleted: u64,
}

/// Erases a subject for good. The row is marked erased (out of every listing, team and
/// search) with its audit event in one transaction; then the subject's key is destroyed, so
/// its identifiers, notes and raw signals can never be read again, in this database or in any
/// backup of it; then the raw files go.
pub async fn erase(
    app: &App,
    scope: &OrgScope,
    caller: &Caller,
    id: SubjectId,
) -> Result<Erasure, AppError> {
    let org = scope.org();
    let now = app.now();
    let mut tx = app.db.tenant(scope, Access::Write).await?;
    let raw: Vec<String> = all_assessments(&mut tx, id)
        .await?
        .into_iter()
        .map(|a| a.raw_object_key)
        .collect();
    subjects::erase(&mut tx, id, now).await?;
    caller
        .record(
            &mut tx,
            "subject.erase",
            "subject",
            Some(id.to_string()),
            now,
        )
        .await?;
    tx.commit().await?;
    // Committed: from here the subject reads as erased. Should destroying the key fail, the
    // background sweep ([`crate::keys::sweep_erased`]) destroys it on its next pass.
    let keys_destroyed = app.phi.keys().shred_subject(org, id).await?;
    let mut raw_objects_deleted = 0;
    for key in raw {
        let deleted = match ObjectKey::parse(&key) {
            Ok(k) => app.objects.delete(&k).await,
            Err(e) => Err(e),
        };
        match deleted {
            Ok(()) => raw_objects_deleted += 1,
            // Unreadable already (its key is gone); logged without the key's path.
            Err(e) => tracing::warn!(error = %e, "a raw file of an erased subject stays"),
        }
    }
    Ok(Erasure {
        keys_destroyed,
        raw_objects_deleted,
    })
}
