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

/// The placeholders of a multi-row `VALUES` list: `rows` groups of `columns`, the whole
/// statement's parameters in order. Only placeholders go into the text; every value is bound.
/// One statement for many rows is one round trip to the database's connection instead of one
/// per row.
///
/// On SQLite they are anonymous (`(?, ?), (?, ?)`): sqlx looks up each parameter's name to
/// learn its number, and SQLite finds a name by walking the list of named parameters, so
/// `$N` names made binding quadratic (a batch of 30 audit events, 480 parameters, spent more
/// on that walk than on the insert). Anonymous parameters have no name to walk to. On
/// PostgreSQL they are numbered (`($1, $2), ($3, $4)`).
pub(crate) fn value_rows(backend: crate::Backend, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            match backend {
                crate::Backend::Sqlite => sql.push('?'),
                crate::Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::value_rows;
    use crate::Backend;

    #[test]
    fn value_rows_number_every_placeholder_once_in_order() {
        assert_eq!(
            value_rows(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(value_rows(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(value_rows(Backend::Postgres, 0, 2), "");
    }
}
