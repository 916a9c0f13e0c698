//! Identifier newtypes. Every id is a UUID (version 7 when we mint it, so ids sort by creation
//! time), and each kind of id is its own type so that a team id can never be passed where a
//! subject id is expected.

use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// An id string that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} is not a valid id")]
pub struct IdError {
    /// Which kind of id was expected ("organisation id", ...).
    pub kind: &'static str,
}

macro_rules! id_type {
    ($name:ident, $kind:literal) => {
        #[doc = concat!("The id of a ", $kind, ".")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// Mints a new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses the canonical hyphenated form.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                Uuid::try_parse(s).map(Self).map_err(|_| IdError {
                    kind: concat!($kind, " id"),
                })
            }

            /// Wraps an existing UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

id_type!(OrgId, "organisation");
id_type!(UserId, "user");
id_type!(TeamId, "team");
id_type!(SubjectId, "subject");
id_type!(AssessmentId, "assessment");
id_type!(InjuryId, "injury");
id_type!(RunId, "pipeline run");
id_type!(ModelVersionId, "model version");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text_form() {
        let id = SubjectId::new();
        assert_eq!(SubjectId::parse(&id.to_string()), Ok(id));
    }

    #[test]
    fn garbage_is_rejected_with_the_kind_named() {
        let err = TeamId::parse("not-a-uuid").unwrap_err();
        assert_eq!(err.to_string(), "team id is not a valid id");
    }

    #[test]
    fn new_ids_sort_by_creation() {
        let a = OrgId::new();
        let b = OrgId::new();
        assert!(a < b);
    }
}
