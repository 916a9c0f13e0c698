//! Repositories: plain functions over a transaction, one SQL text for both backends.
//!
//! Tenant functions take a [`TenantTx`](crate::TenantTx) and filter by its organisation;
//! operator functions take an [`OperatorTx`](crate::OperatorTx). Times come in as arguments.

pub mod api_keys;
pub mod assessments;
pub mod audit;
pub mod backups;
pub mod compliance;
pub mod fhir_exports;
pub mod injuries;
pub mod invitations;
pub mod loads;
pub mod mail;
pub mod mfa;
pub mod models;
pub mod orgs;
pub mod pipelines;
pub mod risk;
pub mod security;
pub mod sessions;
pub mod sso;
pub mod subjects;
pub mod teams;
pub mod tokens;
pub mod users;
pub mod webhooks;

use mhp_domain::IdError;

use crate::StorageError;

/// Keyset pagination: rows after `after` (by id, which sorts by creation), at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page<Id> {
    /// The last id of the previous page.
    pub after: Option<Id>,
    /// Most rows to return (capped at 500).
    pub limit: u32,
}

impl<Id> Page<Id> {
    /// The first page of `limit` rows.
    pub fn first(limit: u32) -> Self {
        Self { after: None, limit }
    }

    pub(crate) fn capped_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, 500))
    }
}

/// Inserts use `ON CONFLICT DO NOTHING RETURNING`: a taken unique value yields no row instead of
/// an error, which on PostgreSQL would abort the whole transaction.
pub(crate) fn conflict_if_none<T>(
    inserted: Option<T>,
    entity: &'static str,
) -> Result<(), StorageError> {
    match inserted {
        Some(_) => Ok(()),
        None => Err(StorageError::Conflict { entity }),
    }
}

pub(crate) fn parse_id<T>(
    s: &str,
    what: &'static str,
    parse: fn(&str) -> Result<T, IdError>,
) -> Result<T, StorageError> {
    parse(s).map_err(|_| StorageError::Corrupt { what })
}
