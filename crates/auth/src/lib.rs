//! Identity: passwords for now (hashing and policy). MFA, sessions, tokens, API keys and SSO
//! federation build on this crate.

pub mod password;
