//! The stable machine-readable names of why a request failed: the `code` of every problem
//! details body, and what an [`crate::AppError::Invalid`] carries. Clients branch on these;
//! renaming one is a breaking change (the OpenAPI document lists them all).

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// The request is malformed (a field that does not parse, an unknown value).
    BadRequest,
    /// No credentials, or credentials that do not authenticate.
    Unauthenticated,
    /// Authenticated, but not allowed.
    Forbidden,
    /// A second factor is due.
    MfaRequired,
    /// A cookie-authenticated write without the session's CSRF token.
    Csrf,
    /// The organisation requires single sign-on.
    SsoRequired,
    /// Single sign-on failed.
    SsoFailed,
    /// No such resource in the caller's scope.
    NotFound,
    /// The path does not take this method.
    MethodNotAllowed,
    /// No representation the client accepts.
    NotAcceptable,
    /// The request took too long.
    Timeout,
    /// A unique value is taken.
    Conflict,
    /// The resource was erased; its data can no longer be read.
    Erased,
    /// The body is over the size limit.
    PayloadTooLarge,
    /// The body is not of a media type the route takes.
    UnsupportedMediaType,
    /// The content cannot be accepted (no more specific code applies).
    Invalid,
    /// A date that does not exist, or one out of its range.
    InvalidDate,
    /// A force-plate recording that cannot be read or analysed.
    InvalidRecording,
    /// An assessment kind that is not known, or does not fit the recording.
    InvalidKind,
    /// A pipeline schedule that does not parse or never fires.
    InvalidSchedule,
    /// Pipeline parameters that the pipeline does not declare or accept.
    InvalidParams,
    /// A model file or configuration that cannot be used.
    InvalidModel,
    /// Single sign-on settings that cannot be used.
    InvalidSsoConfig,
    /// An Idempotency-Key used before for other content.
    IdempotencyKeyReused,
    /// An address confusable with a member's.
    EmailConfusable,
    /// A tenant-chosen address the platform does not connect to.
    EgressRefused,
    /// A domain whose proof of ownership is not published (or another organisation's).
    DomainNotProven,
    /// ONNX import is not built into this binary.
    OnnxUnavailable,
    /// Too many requests; try again later.
    RateLimited,
    /// A dependency is down or busy; try again later.
    Unavailable,
    /// A fault of ours.
    Internal,
    /// Failed for a reason no other code names.
    Error,
}

impl Code {
    /// Every code, for documents that list them.
    pub const ALL: [Code; 32] = [
        Code::BadRequest,
        Code::Unauthenticated,
        Code::Forbidden,
        Code::MfaRequired,
        Code::Csrf,
        Code::SsoRequired,
        Code::SsoFailed,
        Code::NotFound,
        Code::MethodNotAllowed,
        Code::NotAcceptable,
        Code::Timeout,
        Code::Conflict,
        Code::Erased,
        Code::PayloadTooLarge,
        Code::UnsupportedMediaType,
        Code::Invalid,
        Code::InvalidDate,
        Code::InvalidRecording,
        Code::InvalidKind,
        Code::InvalidSchedule,
        Code::InvalidParams,
        Code::InvalidModel,
        Code::InvalidSsoConfig,
        Code::IdempotencyKeyReused,
        Code::EmailConfusable,
        Code::EgressRefused,
        Code::DomainNotProven,
        Code::OnnxUnavailable,
        Code::RateLimited,
        Code::Unavailable,
        Code::Internal,
        Code::Error,
    ];

    /// The code as clients see it (`invalid-recording`).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadRequest => "bad-request",
            Code::Unauthenticated => "unauthenticated",
            Code::Forbidden => "forbidden",
            Code::MfaRequired => "mfa-required",
            Code::Csrf => "csrf",
            Code::SsoRequired => "sso-required",
            Code::SsoFailed => "sso-failed",
            Code::NotFound => "not-found",
            Code::MethodNotAllowed => "method-not-allowed",
            Code::NotAcceptable => "not-acceptable",
            Code::Timeout => "timeout",
            Code::Conflict => "conflict",
            Code::Erased => "erased",
            Code::PayloadTooLarge => "payload-too-large",
            Code::UnsupportedMediaType => "unsupported-media-type",
            Code::Invalid => "invalid",
            Code::InvalidDate => "invalid-date",
            Code::InvalidRecording => "invalid-recording",
            Code::InvalidKind => "invalid-kind",
            Code::InvalidSchedule => "invalid-schedule",
            Code::InvalidParams => "invalid-params",
            Code::InvalidModel => "invalid-model",
            Code::InvalidSsoConfig => "invalid-sso-config",
            Code::IdempotencyKeyReused => "idempotency-key-reused",
            Code::EmailConfusable => "email-confusable",
            Code::EgressRefused => "egress-refused",
            Code::DomainNotProven => "domain-not-proven",
            Code::OnnxUnavailable => "onnx-unavailable",
            Code::RateLimited => "rate-limited",
            Code::Unavailable => "unavailable",
            Code::Internal => "internal",
            Code::Error => "error",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_in_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{s}"
            );
        }
    }
}
