//! The organisation scope. Storage functions that touch tenant rows take one, so a query that
//! forgot which organisation it serves cannot be written.
//!
//! There is no general constructor: each names who may make a scope, so a search for it
//! finds every place that acts inside an organisation without a request that the gate checked.

use crate::OrgId;

/// Proof that the caller acts inside one organisation. The authorization gate creates it after
/// checking the caller's membership; storage derives every tenant filter from it (and, on
/// PostgreSQL, the row-level security setting of the transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgScope {
    org: OrgId,
    origin: ScopeOrigin,
}

/// Who established the right to act in the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeOrigin {
    /// The authorization gate, after checking the caller's membership and permission.
    Gate,
    /// A pipeline run the organisation owns (enqueued through the gate, a schedule of the
    /// organisation, or an event in its data).
    PipelineRun,
    /// The command line on the server, run by an operator at its console.
    CommandLine,
    /// The platform's own upkeep across organisations, with the reason.
    Operator(&'static str),
}

impl OrgScope {
    /// For the authorization gate only: the caller's membership in `org` and the route's
    /// permission have been checked.
    pub const fn for_gate(org: OrgId) -> Self {
        Self {
            org,
            origin: ScopeOrigin::Gate,
        }
    }

    /// For a worker running a job of a pipeline run that `org` owns.
    pub const fn for_pipeline_run(org: OrgId) -> Self {
        Self {
            org,
            origin: ScopeOrigin::PipelineRun,
        }
    }

    /// For the command line on the server (`mhp admin …`, `mhp reanalyze`, `mhp demo`): whoever
    /// runs it holds the server's configuration and keys already.
    pub const fn for_command_line(org: OrgId) -> Self {
        Self {
            org,
            origin: ScopeOrigin::CommandLine,
        }
    }

    /// For the platform's upkeep (sweeps, key re-wrapping), naming why it acts in `org`.
    pub const fn for_operator(org: OrgId, reason: &'static str) -> Self {
        Self {
            org,
            origin: ScopeOrigin::Operator(reason),
        }
    }

    /// The organisation this scope is for.
    pub const fn org(&self) -> OrgId {
        self.org
    }

    /// Who established the right to act in it.
    pub const fn origin(&self) -> ScopeOrigin {
        self.origin
    }
}
