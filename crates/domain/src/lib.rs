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
pub mod webhook;

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

/// Bytes of hexadecimal text (either case); `None` for an odd length or a non-hex digit.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let value = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    digits
        .chunks_exact(2)
        .map(|pair| Some(value(pair[0])? << 4 | value(pair[1])?))
        .collect()
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xab, 0xff];
        assert_eq!(to_hex(&bytes), "00017f80abff");
        assert_eq!(from_hex("00017f80abff").unwrap(), bytes);
        assert_eq!(from_hex("00017F80ABFF").unwrap(), bytes);
        assert_eq!(from_hex("").unwrap(), Vec::<u8>::new());
        assert!(from_hex("abc").is_none());
        assert!(from_hex("zz").is_none());
        assert!(from_hex("+1").is_none());
    }
}
