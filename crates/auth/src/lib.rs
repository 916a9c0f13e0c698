//! Identity: passwords, API keys and the security events they raise. MFA, sessions, tokens and
//! SSO federation build on this crate.

pub mod api_key;
mod common;
pub mod events;
pub mod password;
pub mod session;
pub mod throttle;
pub mod token;
pub mod totp;
