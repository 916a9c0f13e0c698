#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! mhp-federation against a real OpenID provider (panva/oidc-provider under Node, from
//! `tools/oidc-provider`), driven over plain HTTP with a cookie jar instead of a browser.

mod code_flow;
mod oidc_provider;
