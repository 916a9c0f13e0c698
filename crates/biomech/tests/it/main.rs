//! The crate's one integration-test binary (one binary links faster on 2 cores).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod balance;
mod c3d;
mod corpus;
mod inputs;
mod jumps;
mod kinds;
mod properties;
mod report;
mod reps;
mod robust;
mod vendor;
