//! MHP's domain vocabulary: typed ids, roles, validated values, the access policy and the
//! organisation scope that every tenant-data access must carry.
//!
//! This crate is pure: no I/O, no async, no serde. Storage, HTTP and the command line depend on
//! it; it depends on nothing of theirs.

pub mod availability;
mod date;
pub mod display;
mod ids;
pub mod pipeline;
mod policy;
mod role;
mod scope;
mod secret;
mod time;
mod values;

pub use date::{CalendarDate, DateError};
pub use ids::{
    AssessmentId, IdError, InjuryId, ModelVersionId, OrgId, RunId, SubjectId, TeamId, UserId,
};
pub use policy::{Permission, Reach, reach_of, role_allows, widest_reach};
pub use role::{MfaPolicy, PlatformRole, Role, RoleError};
pub use scope::{OrgScope, ScopeOrigin};
pub use secret::{SealedBytes, Secret};
pub use time::{Clock, FixedClock, SystemClock, Timestamp};
pub use values::{DisplayName, Email, KeyName, NameError, OrgName, Sex, TeamName, ValueError};

/// Lower-case hexadecimal of bytes (hashes, digests, key fingerprints).
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
