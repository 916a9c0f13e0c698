//! The clients against the crate's stand-ins (`mhp_cloud::standin`) over real HTTP on
//! 127.0.0.1 ephemeral ports: AWS and Vault cannot run on the build machine. These tests show
//! that the clients and the stand-ins agree, and that the stand-ins refuse what the real
//! services refuse; the signer's agreement with AWS itself rests on the published test vectors
//! in `src/aws/sigv4.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod adapters;
mod aws;
mod vault;

/// Asserts that an error, printed either way, contains none of `secrets`.
#[track_caller]
fn assert_reveals_nothing(error: &mhp_cloud::CloudError, secrets: &[&str]) {
    let shown = format!("{error} | {error:?}");
    for secret in secrets {
        assert!(
            !shown.contains(secret),
            "error reveals a secret ({secret}): {shown}"
        );
    }
}
