//! The organisation scope. Storage functions that touch tenant rows take one, so a query that
//! forgot which organisation it serves cannot be written.

use crate::OrgId;

/// Proof that the caller acts inside one organisation. The authorization gate creates it after
/// checking the caller's membership; storage derives every tenant filter from it (and, on
/// PostgreSQL, the row-level security setting of the transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgScope {
    org: OrgId,
}

impl OrgScope {
    /// A scope for one organisation. Call only after the caller's right to act in `org` has
    /// been established (authorization gate, bootstrap, a pipeline run owned by the org).
    pub const fn for_org(org: OrgId) -> Self {
        Self { org }
    }

    /// The organisation this scope is for.
    pub const fn org(&self) -> OrgId {
        self.org
    }
}
