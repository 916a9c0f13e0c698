//! Protected health information at the edge: sealing and opening identifiers, notes and raw
//! signals, and the blind indexes that make sealed identifiers searchable. Handlers go through
//! here so that every ciphertext is bound to its organisation, table, column and row.
//!
//! PHI is sealed with its subject's data key ([`crate::keys`]): a handler first takes the
//! subject's [`SubjectPhi`] (one key store lookup, usually from memory), then seals and opens
//! synchronously. Values written before envelope encryption (format 1, keys derived from the
//! master key) still open, and are re-sealed under the subject key when next written.

use std::sync::Arc;

use mhp_crypto::Roots;
use mhp_crypto::blind::{BlindIndexer, Field};
use mhp_crypto::seal::{self, FORMAT_DATA_KEY, FORMAT_DERIVED, Place, Sealer};
use mhp_domain::{OrgId, SealedBytes, SubjectId};
use mhp_storage::repo::subjects::SearchKeys;

use crate::AppError;
use crate::keys::Keys;

/// Seals and opens PHI; computes blind indexes.
#[derive(Debug)]
pub struct Phi {
    legacy_fields: Sealer,
    legacy_raw: Sealer,
    blind: BlindIndexer,
    keys: Arc<Keys>,
}

/// Where a sealed field lives.
#[derive(Debug, Clone, Copy)]
pub struct FieldAt<'a> {
    /// Its organisation.
    pub org: OrgId,
    /// Its table.
    pub table: &'a str,
    /// Its column.
    pub column: &'a str,
    /// Its row id.
    pub row: &'a str,
}

impl FieldAt<'_> {
    fn place(&self) -> Place<'_> {
        Place {
            org: Some(self.org),
            table: self.table,
            column: self.column,
            row: self.row,
        }
    }
}

fn sealing_failed() -> AppError {
    AppError::Internal("sealing failed".into())
}

/// One subject's PHI: seals with the subject's key, opens what it (or the legacy derived key)
/// sealed.
#[derive(Debug)]
pub struct SubjectPhi<'p> {
    phi: &'p Phi,
    key: Option<(u32, Arc<Sealer>)>,
}

/// The blind indexes of a subject's name and external id under `blind`.
pub fn search_keys(
    blind: &BlindIndexer,
    org: OrgId,
    name: &str,
    external_id: Option<&str>,
) -> SearchKeys {
    SearchKeys {
        external_id: external_id.and_then(|e| blind.index(org, Field::ExternalId, e)),
        name: blind.index(org, Field::Name, name),
        name_words: blind.name_words(org, name),
    }
}

impl Phi {
    /// PHI sealing with keys from `keys`; legacy values open with keys derived from the
    /// installation root; blind indexes are keyed by the root's index version.
    pub fn new(roots: &Roots, keys: Arc<Keys>) -> Self {
        Self {
            legacy_fields: Sealer::derive_versions(roots, "phi.fields"),
            legacy_raw: Sealer::derive_versions(roots, "phi.raw_signals"),
            blind: BlindIndexer::derive(roots.index().1),
            keys,
        }
    }

    /// The data keys.
    pub fn keys(&self) -> &Arc<Keys> {
        &self.keys
    }

    /// A subject's PHI for writing (and reading): its key is made if it has none yet.
    pub async fn for_write(
        &self,
        org: OrgId,
        subject: SubjectId,
    ) -> Result<SubjectPhi<'_>, AppError> {
        let (version, key) = self.keys.subject_for_write(org, subject).await?;
        Ok(SubjectPhi {
            phi: self,
            key: Some((version, Arc::new(Sealer::with_data_key(&key, version)))),
        })
    }

    /// A subject's PHI for reading. Without a key (destroyed), only legacy values open.
    pub async fn for_read(
        &self,
        org: OrgId,
        subject: SubjectId,
    ) -> Result<SubjectPhi<'_>, AppError> {
        let key = self.keys.subject_sealer_for_read(org, subject).await?;
        Ok(SubjectPhi { phi: self, key })
    }

    /// The blind indexes of a subject's name and external id.
    pub fn subject_keys(&self, org: OrgId, name: &str, external_id: Option<&str>) -> SearchKeys {
        search_keys(&self.blind, org, name, external_id)
    }

    /// The indexes a search term is compared with: as an external id, a whole name and a word.
    /// `None` when the term is blank.
    pub fn search_term(&self, org: OrgId, term: &str) -> Option<SearchKeys> {
        let name = self.blind.index(org, Field::Name, term)?;
        Some(SearchKeys {
            external_id: self.blind.index(org, Field::ExternalId, term),
            name: Some(name),
            name_words: self
                .blind
                .index(org, Field::NameWord, term)
                .into_iter()
                .collect(),
        })
    }
}

fn raw_at(org: OrgId, assessment: &str) -> FieldAt<'_> {
    FieldAt {
        org,
        table: "assessments",
        column: "raw",
        row: assessment,
    }
}

impl SubjectPhi<'_> {
    fn sealer(&self) -> Result<&Sealer, AppError> {
        self.key
            .as_ref()
            .map(|(_, s)| s.as_ref())
            .ok_or(AppError::Gone("subject"))
    }

    fn open_bytes(
        &self,
        legacy: &Sealer,
        sealed: &SealedBytes,
        place: &Place<'_>,
    ) -> Result<Vec<u8>, AppError> {
        let opened = match seal::header(sealed) {
            Some((FORMAT_DERIVED, _)) => legacy.open(sealed, place),
            Some((FORMAT_DATA_KEY, v)) => match &self.key {
                Some((current, sealer)) if *current == v => sealer.open(sealed, place),
                // Subject keys are not rotated, so another version means a destroyed key.
                _ => return Err(AppError::Gone("subject")),
            },
            _ => return Err(AppError::Internal("a sealed value has no header".into())),
        };
        opened
            .map(|p| p.expose().clone())
            .map_err(|_| AppError::Internal("a sealed value did not open".into()))
    }

    /// Seals a text field.
    pub fn seal(&self, at: FieldAt<'_>, text: &str) -> Result<SealedBytes, AppError> {
        self.sealer()?
            .seal(text.as_bytes(), &at.place())
            .map_err(|_| sealing_failed())
    }

    /// Opens a text field. A value that does not open is a fault of ours (wrong key, moved or
    /// altered row), never shown; one whose key was destroyed is gone.
    pub fn open(&self, at: FieldAt<'_>, sealed: &SealedBytes) -> Result<String, AppError> {
        let plain = self.open_bytes(&self.phi.legacy_fields, sealed, &at.place())?;
        String::from_utf8(plain)
            .map_err(|_| AppError::Internal("a sealed field is not text".into()))
    }

    /// Opens an optional text field.
    pub fn open_opt(
        &self,
        at: FieldAt<'_>,
        sealed: Option<&SealedBytes>,
    ) -> Result<Option<String>, AppError> {
        sealed.map(|s| self.open(at, s)).transpose()
    }

    /// Seals a raw force-plate file for the object store.
    pub fn seal_raw(
        &self,
        org: OrgId,
        assessment: &str,
        bytes: &[u8],
    ) -> Result<Vec<u8>, AppError> {
        self.sealer()?
            .seal(bytes, &raw_at(org, assessment).place())
            .map(SealedBytes::into_bytes)
            .map_err(|_| sealing_failed())
    }

    /// Opens a raw force-plate file read back from the object store.
    pub fn open_raw(
        &self,
        org: OrgId,
        assessment: &str,
        sealed: Vec<u8>,
    ) -> Result<Vec<u8>, AppError> {
        self.open_bytes(
            &self.phi.legacy_raw,
            &SealedBytes::from_ciphertext(sealed),
            &raw_at(org, assessment).place(),
        )
    }
}
