//! The closed sets of values the API reads and writes (sex, side, stage, role, …), so the
//! OpenAPI document states each as an `enum` and a client learns the values from it rather than
//! from 400 answers. A field names its set with
//! `#[schemars(schema_with = "sets::one::<sets::Side>")]` (`maybe` when it may be null, `many`
//! for a list). Each set is the platform's own list where one exists (`Role::ALL`, the
//! injury codes), and a test holds the rest to the types that parse them.

use mhp_domain::pipeline::Trigger as T;
use mhp_domain::{MfaPolicy, Role, Sex};
use mhp_storage::repo::audit::Outcome as O;
use mhp_storage::repo::models::Stage;
use mhp_storage::repo::pipelines::RunStatus as Status;
use schemars::{Schema, SchemaGenerator, json_schema};

use super::injuries;

/// A closed set of strings.
pub(crate) trait ClosedSet {
    /// Every value, in the order the API documents them.
    fn values() -> Vec<&'static str>;
}

/// Exactly one value of the set.
pub(crate) fn one<T: ClosedSet>(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "enum": T::values()})
}

/// One value of the set, or null.
pub(crate) fn maybe<T: ClosedSet>(_: &mut SchemaGenerator) -> Schema {
    let mut values: Vec<serde_json::Value> = T::values().into_iter().map(Into::into).collect();
    values.push(serde_json::Value::Null);
    json_schema!({"type": ["string", "null"], "enum": values})
}

/// A list of values of the set.
pub(crate) fn many<T: ClosedSet>(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "array", "items": {"type": "string", "enum": T::values()}})
}

/// A list of values of the set, or null.
pub(crate) fn maybe_many<T: ClosedSet>(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["array", "null"], "items": {"type": "string", "enum": T::values()}})
}

macro_rules! set {
    ($(#[$doc:meta])* $name:ident => $values:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub(crate) enum $name {}

        impl ClosedSet for $name {
            fn values() -> Vec<&'static str> {
                $values
            }
        }
    };
}

set!(
    /// A role in an organisation.
    RoleSet => Role::ALL.iter().map(|r| r.as_str()).collect()
);
set!(
    /// An event an organisation's webhook may receive.
    WebhookEventSet => mhp_domain::webhook::EventType::ALL.iter().map(|e| e.as_str()).collect()
);
set!(
    /// Where a webhook delivery stands.
    DeliveryStatusSet => vec!["pending", "delivered", "failed", "cancelled"]
);
set!(
    /// A resource kind of the change feed.
    ChangeKindSet => mhp_app::changes::KINDS.to_vec()
);
set!(
    /// What a change did.
    ChangeSet => vec!["created", "updated", "archived", "erased"]
);
set!(
    /// Sex as recorded for norms and group fairness.
    SexSet => vec![
        Sex::Female.as_str(),
        Sex::Male.as_str(),
        Sex::Other.as_str(),
        Sex::Unknown.as_str(),
    ]
);
set!(
    /// An organisation's second-factor policy.
    MfaPolicySet => vec![
        MfaPolicy::Optional.as_str(),
        MfaPolicy::Privileged.as_str(),
        MfaPolicy::Everyone.as_str(),
    ]
);
set!(
    /// The side of the body an injury affects.
    Side => injuries::SIDES.to_vec()
);
set!(
    /// Injury severity by time loss (IOC consensus bands).
    Severity => injuries::SEVERITIES.to_vec()
);
set!(
    /// How an injury happened.
    Mechanism => injuries::MECHANISMS.to_vec()
);
set!(
    /// A return-to-duty stage, as a decision records it.
    DecisionStage => injuries::STAGES.to_vec()
);
set!(
    /// An injury's stage today: `reported` before any decision, then the latest decision's.
    InjuryStage => std::iter::once("reported").chain(injuries::STAGES.iter().copied()).collect()
);
set!(
    /// What a person may do today, from their open injuries.
    Availability => vec!["available", "full_training", "modified_duty", "unavailable"]
);
set!(
    /// Who uploaded an assessment: a person, or a device or integration with an API key.
    Source => vec!["user", "device"]
);
set!(
    /// The format of a stored force-plate file, as detected.
    RecordingFormat => vec!["csv", "json", "c3d"]
);
set!(
    /// What an upload is analysed as, when the file does not say.
    UploadKind => mhp_biomech::TrialKind::ALL.iter().map(|k| k.code()).collect()
);
set!(
    /// What started a pipeline run.
    Trigger => [T::Schedule, T::Api, T::Cli, T::Event].iter().map(|t| t.as_str()).collect()
);
set!(
    /// A pipeline run's or job's status.
    RunStatus => [
        Status::Queued,
        Status::Running,
        Status::Succeeded,
        Status::Failed,
        Status::Cancelled,
    ]
    .iter()
    .map(|s| s.as_str())
    .collect()
);
set!(
    /// A model version's stage in the registry.
    ModelStage => [Stage::Candidate, Stage::Staging, Stage::Production, Stage::Archived]
        .iter()
        .map(|s| s.as_str())
        .collect()
);
set!(
    /// A stage a person may move a model version to.
    TargetStage => vec!["staging", "production", "archived"]
);
set!(
    /// Where a model version came from.
    ModelKind => vec!["native", "onnx"]
);
set!(
    /// A risk band.
    Band => vec!["low", "moderate", "high"]
);
set!(
    /// The outcome of an audited action.
    Outcome => [O::Success, O::Failure, O::Denied].iter().map(|o| o.as_str()).collect()
);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The sets written here as lists are the values the platform's own types parse, and
    /// nothing else parses.
    #[test]
    fn the_written_sets_are_the_types_values() {
        for v in SexSet::values() {
            assert_eq!(Sex::parse(v).map(Sex::as_str), Some(v));
        }
        for v in MfaPolicySet::values() {
            assert_eq!(MfaPolicy::parse(v).map(MfaPolicy::as_str), Some(v));
        }
        for v in Trigger::values() {
            assert_eq!(T::parse(v).map(|t| t.as_str()), Some(v));
        }
        for v in ModelStage::values() {
            assert_eq!(Stage::parse(v).map(Stage::as_str), Some(v));
        }
        for v in RecordingFormat::values() {
            assert!(
                mhp_biomech::Format::from_name(&format!("x.{v}")).is_some(),
                "{v}"
            );
        }
        let kinds = [
            mhp_app::changes::ChangeKind::Created,
            mhp_app::changes::ChangeKind::Updated,
            mhp_app::changes::ChangeKind::Archived,
            mhp_app::changes::ChangeKind::Erased,
        ];
        assert_eq!(
            ChangeSet::values(),
            kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>()
        );
        for v in DeliveryStatusSet::values() {
            let status = mhp_storage::repo::webhooks::Status::parse(v);
            assert_eq!(status.map(|s| s.as_str()), Some(v));
        }
        for v in ["nonsense", "", "FEMALE"] {
            assert!(Sex::parse(v).is_none());
            assert!(Stage::parse(v).is_none());
        }
        assert_eq!(
            TargetStage::values(),
            ModelStage::values()
                .into_iter()
                .filter(|s| *s != "candidate")
                .collect::<Vec<_>>()
        );
    }
}
