//! The clients over real HTTP on 127.0.0.1: S3 and the AWS credential chain against moto
//! (`moto.rs`, an independent implementation of AWS that checks every signature), and the
//! key and secret clients against the crate's stand-ins (`mhp_cloud::standin`), which show
//! that the clients and the stand-ins agree and that the stand-ins refuse what the real
//! services refuse; the signer's agreement with AWS itself also rests on the published test
//! vectors in `src/aws/sigv4.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod adapters;
mod aws;
mod moto;
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
