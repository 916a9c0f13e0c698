//! Pipeline tests: the engine with test pipelines, the de-identified view and the injury-risk
//! pipelines over a seeded demo organisation, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod deid;
mod engine;
#[cfg(feature = "onnx")]
mod onnx;
mod risk;
mod seed;

mod support;

pub use support::{Backend, Env, TestClock, env, env_on};

/// Generates `NAME::sqlite` and `NAME::postgres` from `async fn NAME(backend: Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$case($crate::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if mhp_test_support::postgres_admin_url().is_none() {
                        return;
                    }
                    super::$case($crate::Backend::Postgres).await;
                }
            }
        )*
    };
}
