//! The one test clock: real time from a chosen start, which a test moves forward.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use mhp_domain::{Clock, SystemClock, Timestamp};

/// A clock that runs with real time from its start (the wall clock by default) and that the
/// test can move on.
#[derive(Debug)]
pub struct TestClock {
    base_ms: AtomicI64,
    started: Instant,
}

impl Default for TestClock {
    fn default() -> Self {
        Self::starting_at(SystemClock.now())
    }
}

impl TestClock {
    /// A clock that reads `now` at once and runs on from there.
    pub fn starting_at(now: Timestamp) -> Self {
        Self {
            base_ms: AtomicI64::new(now.as_millis()),
            started: Instant::now(),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.advance_ms(i64::try_from(by.as_millis()).unwrap());
    }

    /// Moves the clock forward by `ms` milliseconds.
    pub fn advance_ms(&self, ms: i64) {
        self.base_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Moves the clock forward by `m` minutes.
    pub fn advance_minutes(&self, m: i64) {
        self.advance_ms(m * 60_000);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        let elapsed = i64::try_from(self.started.elapsed().as_millis()).unwrap();
        Timestamp::from_millis(self.base_ms.load(Ordering::SeqCst) + elapsed)
    }
}
