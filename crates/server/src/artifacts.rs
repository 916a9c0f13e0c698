//! Organisation artifacts in the object store (pipeline datasets, model artifacts), sealed
//! with the organisation's current data key and bound to their object key, so an artifact
//! copied to another key or organisation does not open. Destroying the organisation's keys
//! makes every artifact unreadable, in backups too.

use mhp_crypto::seal::{self, FORMAT_DATA_KEY, Place, Sealer};
use mhp_domain::{OrgId, SealedBytes};
use mhp_storage::{ObjectKey, ObjectStore};

use crate::ApiError;
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
) -> Result<(), ApiError> {
    let (version, data_key) = keys.current_org(org).await?;
    let sealed = Sealer::with_data_key(&data_key, version)
        .seal(bytes, &place(org, key))
        .map_err(|_| ApiError::Internal("sealing failed".into()))?;
    objects.put(key, sealed.as_bytes()).await?;
    Ok(())
}

/// Reads and opens the artifact at `key`.
pub async fn get(
    keys: &Keys,
    objects: &ObjectStore,
    org: OrgId,
    key: &ObjectKey,
) -> Result<Vec<u8>, ApiError> {
    let sealed = SealedBytes::from_ciphertext(objects.get(key).await?);
    let Some((FORMAT_DATA_KEY, version)) = seal::header(&sealed) else {
        return Err(ApiError::Internal("an artifact has no key header".into()));
    };
    let data_key = keys.org_version(org, version).await?;
    Sealer::with_data_key(&data_key, version)
        .open(&sealed, &place(org, key))
        .map(|p| p.expose().clone())
        .map_err(|_| ApiError::Internal("an artifact did not open".into()))
}
