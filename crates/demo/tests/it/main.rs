#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod determinism;
mod hazard;
mod recording;
mod shape;

use std::sync::OnceLock;

use mhp_demo::{DemoOrg, DemoSpec};

/// The default organisation for seeds 1–4, planned once for the whole test binary.
fn orgs() -> &'static [DemoOrg] {
    static ORGS: OnceLock<Vec<DemoOrg>> = OnceLock::new();
    ORGS.get_or_init(|| {
        (1..=4)
            .map(|seed| {
                mhp_demo::plan(&DemoSpec {
                    seed,
                    ..DemoSpec::default()
                })
                .unwrap()
            })
            .collect()
    })
}
