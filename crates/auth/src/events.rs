//! Authentication and authorization events. Every sign-in, key issue or revocation and denied
//! access is described by one [`AuthEvent`]; the server writes each into the audit log (in the
//! transaction of the change) and onto the security-event stream that monitoring reads.

use mhp_domain::{OrgId, Permission, Role};

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user, by id.
    User(String),
    /// An API key, by its public id.
    ApiKey(String),
    /// The command line on the server.
    Cli,
    /// Nobody identified (a failed authentication).
    Anonymous,
}

impl Actor {
    /// The audit log's actor string: `user:<id>`, `apikey:<id>`, `cli`, `anonymous`.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::ApiKey(id) => format!("apikey:{id}"),
            Actor::Cli => "cli".to_owned(),
            Actor::Anonymous => "anonymous".to_owned(),
        }
    }
}

/// Why an authentication failed. Deliberately coarse: the caller never learns which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credentials, or credentials in an unknown form.
    Missing,
    /// Unknown key, wrong secret.
    Invalid,
    /// Expired or revoked.
    Expired,
    /// A forged bearer token (its code from `token::TokenError::forgery`).
    Forged(&'static str),
}

impl AuthFailure {
    /// A stable code for logs and the audit log.
    pub const fn code(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::Invalid => "invalid",
            AuthFailure::Expired => "expired_or_revoked",
            AuthFailure::Forged(code) => code,
        }
    }
}

/// One authentication or authorization event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthEvent {
    /// A request presented credentials that did not authenticate.
    AuthenticationFailed {
        /// Why.
        failure: AuthFailure,
        /// The key id presented, if any.
        key_id: Option<String>,
    },
    /// An authenticated caller was refused.
    AccessDenied {
        /// The organisation asked for.
        org: OrgId,
        /// What was asked.
        permission: Permission,
    },
    /// A user signed in with a password.
    SignInSucceeded,
    /// A sign-in was refused: wrong credentials, or throttled.
    SignInFailed {
        /// Whether it was refused unchecked because the account or address was locked.
        throttled: bool,
    },
    /// An account was locked for every source address after too many failed sign-ins (the
    /// account-wide cap; see `throttle`).
    AccountLocked {
        /// How long the lock lasts.
        seconds: u64,
    },
    /// A user signed out, here or everywhere.
    SignedOut {
        /// Whether every session of the user ended.
        everywhere: bool,
    },
    /// A user turned on a TOTP authenticator.
    MfaEnrolled,
    /// A second factor was checked at sign-in.
    MfaChecked {
        /// Whether it matched.
        passed: bool,
    },
    /// An organisation changed its MFA policy.
    MfaPolicyChanged {
        /// The new policy's name.
        policy: &'static str,
        /// Whether it asks less than the one it replaced.
        weakened: bool,
    },
    /// An access token (and refresh token) was issued.
    TokenIssued {
        /// Whether it replaced a refresh token rather than coming from a session.
        refreshed: bool,
    },
    /// A refresh token was presented a second time: its whole family was revoked.
    TokenReuseDetected,
    /// Someone was invited into an organisation.
    InvitationSent {
        /// The role offered.
        role: Role,
    },
    /// An invitation was used.
    InvitationAccepted,
    /// A password reset was asked for an existing account.
    PasswordResetRequested,
    /// A password was replaced through a reset token.
    PasswordReset,
    /// A member's roles changed.
    RolesChanged {
        /// The member.
        user: String,
        /// The roles given.
        added: Vec<Role>,
        /// The roles taken away.
        removed: Vec<Role>,
    },
    /// An API key was created.
    ApiKeyIssued {
        /// Its public id.
        key_id: String,
        /// Its role.
        role: Role,
    },
    /// An API key was revoked.
    ApiKeyRevoked {
        /// Its public id.
        key_id: String,
    },
    /// An API key was given a new secret (the previous one still works for the overlap).
    ApiKeyRotated {
        /// Its public id.
        key_id: String,
    },
    /// An access token was issued to an API key acting as an OAuth client (the client
    /// credentials grant).
    ClientTokenIssued {
        /// The key's public id (the client id).
        key_id: String,
    },
    /// An organisation set or changed its single sign-on configuration.
    SsoConfigured {
        /// Whether members must sign in through it (local passwords refused).
        required: bool,
        /// Whether it was required before and is no longer.
        weakened: bool,
    },
    /// A user signed in through their organisation's identity provider.
    SsoSignInSucceeded {
        /// Whether the account was created by this sign-in (just-in-time provisioning).
        provisioned: bool,
    },
    /// A single sign-on attempt was refused.
    SsoSignInFailed {
        /// A stable reason code (`sso_state_mismatch`, `sso_domain_not_allowed`, ...).
        reason: &'static str,
    },
    /// A password sign-in was refused because the user's organisation requires single sign-on.
    PasswordSignInRefused,
}

impl AuthEvent {
    /// What the event says beyond its action, as a short code for the audit log and the
    /// security stream (monitoring's rules match on it); `None` when the action says it all.
    pub fn detail(&self) -> Option<String> {
        let code = |c: &str| Some(c.to_owned());
        match self {
            AuthEvent::AuthenticationFailed { failure, .. } => code(failure.code()),
            AuthEvent::AccessDenied { permission, .. } => code(permission.as_str()),
            AuthEvent::ApiKeyIssued { role, .. } | AuthEvent::InvitationSent { role } => {
                code(role.as_str())
            }
            AuthEvent::MfaChecked { passed } => code(if *passed { "passed" } else { "failed" }),
            AuthEvent::MfaPolicyChanged { policy, weakened } => Some(if *weakened {
                format!("{policy} weakened")
            } else {
                (*policy).to_owned()
            }),
            AuthEvent::TokenIssued { refreshed } => {
                code(if *refreshed { "refresh" } else { "session" })
            }
            AuthEvent::TokenReuseDetected => code("refresh_token_reused"),
            AuthEvent::ClientTokenIssued { .. } => code("client_credentials"),
            AuthEvent::RolesChanged { added, removed, .. } => {
                Some(mhp_security::event::roles_detail(
                    added.iter().map(|r| r.as_str()),
                    removed.iter().map(|r| r.as_str()),
                ))
            }
            AuthEvent::SignInFailed { throttled } => code(if *throttled {
                "throttled"
            } else {
                "bad_credentials"
            }),
            AuthEvent::SsoConfigured { required, weakened } => code(match (required, weakened) {
                (true, _) => "sso_required",
                (false, true) => "sso_optional weakened",
                (false, false) => "sso_optional",
            }),
            AuthEvent::SsoSignInSucceeded { provisioned } => code(if *provisioned {
                "sso_provisioned"
            } else {
                "sso"
            }),
            AuthEvent::SsoSignInFailed { reason } => code(reason),
            AuthEvent::PasswordSignInRefused => code("sso_required"),
            AuthEvent::AccountLocked { seconds } => Some(format!("locked_{seconds}s")),
            AuthEvent::SignedOut { everywhere } => code(if *everywhere {
                "everywhere"
            } else {
                "this_session"
            }),
            AuthEvent::ApiKeyRevoked { .. }
            | AuthEvent::ApiKeyRotated { .. }
            | AuthEvent::SignInSucceeded
            | AuthEvent::MfaEnrolled
            | AuthEvent::InvitationAccepted
            | AuthEvent::PasswordResetRequested
            | AuthEvent::PasswordReset => None,
        }
    }

    /// The audit action name.
    pub const fn action(&self) -> &'static str {
        match self {
            AuthEvent::AuthenticationFailed { .. } => "auth.authenticate",
            AuthEvent::AccessDenied { .. } => "auth.authorize",
            AuthEvent::SignInSucceeded | AuthEvent::SignInFailed { .. } => "auth.sign_in",
            AuthEvent::AccountLocked { .. } => "auth.account_lock",
            AuthEvent::SignedOut { .. } => "auth.sign_out",
            AuthEvent::MfaEnrolled => "mfa.enrol",
            AuthEvent::TokenIssued { .. } | AuthEvent::ClientTokenIssued { .. } => "token.issue",
            AuthEvent::InvitationSent { .. } => "invitation.send",
            AuthEvent::RolesChanged { .. } => "membership.roles",
            AuthEvent::InvitationAccepted => "invitation.accept",
            AuthEvent::PasswordResetRequested => "password.reset_request",
            AuthEvent::PasswordReset => "password.reset",
            AuthEvent::TokenReuseDetected => "token.revoke",
            AuthEvent::MfaChecked { .. } => "mfa.verify",
            AuthEvent::MfaPolicyChanged { .. } => "organisation.mfa_policy",
            AuthEvent::ApiKeyIssued { .. } => "apikey.issue",
            AuthEvent::ApiKeyRevoked { .. } => "apikey.revoke",
            AuthEvent::ApiKeyRotated { .. } => "apikey.rotate",
            AuthEvent::SsoConfigured { .. } => "organisation.sso",
            AuthEvent::SsoSignInSucceeded { .. }
            | AuthEvent::SsoSignInFailed { .. }
            | AuthEvent::PasswordSignInRefused => "auth.sign_in",
        }
    }

    /// Whether the event records a refusal.
    pub const fn is_refusal(&self) -> bool {
        matches!(
            self,
            AuthEvent::AuthenticationFailed { .. }
                | AuthEvent::AccessDenied { .. }
                | AuthEvent::SignInFailed { .. }
                | AuthEvent::AccountLocked { .. }
                | AuthEvent::MfaChecked { passed: false }
                | AuthEvent::TokenReuseDetected
                | AuthEvent::SsoSignInFailed { .. }
                | AuthEvent::PasswordSignInRefused
        )
    }
}
