//! Organisation artifacts in the object store (pipeline datasets, model artifacts), sealed
//! with the organisation's current data key and bound to their object key, so an artifact
//! copied to another key or organisation does not open. Destroying the organisation's keys
//! makes every artifact unreadable, in backups too.

use mhp_crypto::seal::Place;
use mhp_domain::{OrgId, SealedBytes};
use mhp_storage::{ObjectKey, ObjectStore};

use crate::AppError;
use crate::keys::Keys;

fn place<'a>(org: OrgId, key: &'a ObjectKey) -> Place<'a> {
    Place {
        org: Some(org),
        table: "objects",
        column: "artifact",
        row: key.as_str(),
    }
}

/// Seals `bytes` with the organisation's current key and writes them at `key` (replacing
/// what was there: writing the same artifact twice leaves one).
pub async fn put(
    keys: &Keys,
    objects: &ObjectStore,
    org: OrgId,
    key: &ObjectKey,
    bytes: &[u8],
) -> Result<(), AppError> {
    let sealed = keys.seal_for_org(bytes, &place(org, key)).await?;
    objects.put(key, sealed.as_bytes()).await?;
    Ok(())
}

/// Reads and opens the artifact at `key`.
pub async fn get(
    keys: &Keys,
    objects: &ObjectStore,
    org: OrgId,
    key: &ObjectKey,
) -> Result<Vec<u8>, AppError> {
    let sealed = SealedBytes::from_ciphertext(objects.get(key).await?);
    let opened = keys.open_for_org(&sealed, &place(org, key)).await?;
    Ok(opened.expose().clone())
}
