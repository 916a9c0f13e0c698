//! The crate's one integration-test binary (one binary links faster on 2 cores).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixtures;
mod odd_inputs;
mod peaks;
mod svg;
