//! Protected health information at the edge: sealing and opening identifiers, notes and raw
//! signals, and the blind indexes that make sealed identifiers searchable. Handlers go through
//! here so that every ciphertext is bound to its organisation, table, column and row.
//!
//! The keys are derived from the master key per purpose today; per-organisation and
//! per-subject data keys (envelope encryption, crypto-shredding) replace them behind this
//! same interface.

use mhp_crypto::MasterKey;
use mhp_crypto::blind::{BlindIndexer, Field};
use mhp_crypto::seal::{Place, Sealer};
use mhp_domain::{OrgId, SealedBytes};
use mhp_storage::repo::subjects::SearchKeys;

use crate::ApiError;

/// Seals and opens PHI; computes blind indexes.
#[derive(Debug)]
pub struct Phi {
    fields: Sealer,
    raw: Sealer,
    blind: BlindIndexer,
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

fn sealing_failed() -> ApiError {
    ApiError::Internal("sealing failed".into())
}

impl Phi {
    /// Derives the keys from the master key.
    pub fn new(master: &MasterKey) -> Self {
        Self {
            fields: Sealer::derive(master, "phi.fields"),
            raw: Sealer::derive(master, "phi.raw_signals"),
            blind: BlindIndexer::derive(master),
        }
    }

    /// Seals a text field.
    pub fn seal(&self, at: FieldAt<'_>, text: &str) -> Result<SealedBytes, ApiError> {
        self.fields
            .seal(text.as_bytes(), &at.place())
            .map_err(|_| sealing_failed())
    }

    /// Opens a text field. A value that does not open is a fault of ours (wrong key, moved or
    /// altered row), never shown.
    pub fn open(&self, at: FieldAt<'_>, sealed: &SealedBytes) -> Result<String, ApiError> {
        let plain = self
            .fields
            .open(sealed, &at.place())
            .map_err(|_| ApiError::Internal("a sealed field did not open".into()))?;
        String::from_utf8(plain.expose().clone())
            .map_err(|_| ApiError::Internal("a sealed field is not text".into()))
    }

    /// Opens an optional text field.
    pub fn open_opt(
        &self,
        at: FieldAt<'_>,
        sealed: Option<&SealedBytes>,
    ) -> Result<Option<String>, ApiError> {
        sealed.map(|s| self.open(at, s)).transpose()
    }

    /// Seals a raw force-plate file for the object store.
    pub fn seal_raw(
        &self,
        org: OrgId,
        assessment: &str,
        bytes: &[u8],
    ) -> Result<Vec<u8>, ApiError> {
        let at = FieldAt {
            org,
            table: "assessments",
            column: "raw",
            row: assessment,
        };
        self.raw
            .seal(bytes, &at.place())
            .map(|s| s.as_bytes().to_vec())
            .map_err(|_| sealing_failed())
    }

    /// Opens a raw force-plate file read back from the object store.
    pub fn open_raw(
        &self,
        org: OrgId,
        assessment: &str,
        sealed: Vec<u8>,
    ) -> Result<Vec<u8>, ApiError> {
        let at = FieldAt {
            org,
            table: "assessments",
            column: "raw",
            row: assessment,
        };
        self.raw
            .open(&SealedBytes::from_ciphertext(sealed), &at.place())
            .map(|p| p.expose().clone())
            .map_err(|_| ApiError::Internal("a raw signal did not open".into()))
    }

    /// The blind indexes of a subject's name and external id.
    pub fn subject_keys(&self, org: OrgId, name: &str, external_id: Option<&str>) -> SearchKeys {
        SearchKeys {
            external_id: external_id.and_then(|e| self.blind.index(org, Field::ExternalId, e)),
            name: self.blind.index(org, Field::Name, name),
            name_words: self.blind.name_words(org, name),
        }
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
