//! What can go wrong talking to a cloud service. Messages name the service, an HTTP status and
//! the service's error code (`AccessDeniedException`, Vault's `permission denied`), never a
//! request body, a plaintext, a token or a secret value, so they are safe to log.

use std::fmt;

/// A call to a cloud service failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CloudError {
    /// The client's settings are unusable: a missing credential, an endpoint that is not https,
    /// a name that cannot be put in a URL or a header. Names the setting, never its value.
    #[error("invalid cloud client configuration: {0}")]
    Config(&'static str),
    /// The service could not be reached: connection refused, time-out, TLS failure.
    #[error("{service} could not be reached ({kind})")]
    Transport {
        /// The service (`kms`, `secretsmanager`, `ssm`, `vault`).
        service: String,
        /// What failed, in fixed words (`connect`, `timeout`, `body`, `request`).
        kind: &'static str,
        /// The HTTP client's error, without the URL.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The service answered with an error status.
    #[error("{service} answered HTTP {status}{}", Code(code.as_deref()))]
    Http {
        /// The service.
        service: String,
        /// HTTP status.
        status: u16,
        /// The service's error code: AWS's `__type` without its namespace
        /// (`InvalidSignatureException`), or Vault's `errors` joined by `; ` with anything the
        /// client sent as a secret cut out. The free-text `message` of AWS is left out because
        /// validation messages quote request values.
        code: Option<String>,
    },
    /// The key, secret, parameter or path does not exist (AWS `ResourceNotFoundException`,
    /// `NotFoundException`, `ParameterNotFound`; Vault HTTP 404).
    #[error("{service} has no such resource{}", Code(code.as_deref()))]
    NotFound {
        /// The service.
        service: String,
        /// The service's error code, as for [`CloudError::Http`].
        code: Option<String>,
    },
    /// The service answered success with a body that is not what its API documents.
    #[error("{service} sent a malformed response: {what}")]
    Malformed {
        /// The service.
        service: String,
        /// What is wrong, in fixed words.
        what: &'static str,
    },
}

impl CloudError {
    /// Whether the service said the thing asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// The service's error code, when it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Http { code, .. } | Self::NotFound { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status, when the service answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Formats an optional error code as ` (code)`.
struct Code<'a>(Option<&'a str>);

impl fmt::Display for Code<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(code) => write!(f, " ({code})"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_service_status_and_code() {
        let e = CloudError::Http {
            service: "kms".into(),
            status: 400,
            code: Some("InvalidCiphertextException".into()),
        };
        assert_eq!(
            e.to_string(),
            "kms answered HTTP 400 (InvalidCiphertextException)"
        );
        assert_eq!(e.code(), Some("InvalidCiphertextException"));
        assert_eq!(e.status(), Some(400));
        assert!(!e.is_not_found());

        let e = CloudError::NotFound {
            service: "vault".into(),
            code: None,
        };
        assert_eq!(e.to_string(), "vault has no such resource");
        assert!(e.is_not_found());
    }
}
