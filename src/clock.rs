//! What time it is, for rotation decisions. Injectable, so tests can move it by days.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until moved.
pub struct TestClock(Mutex<Timestamp>);

impl TestClock {
    pub fn new(at: Timestamp) -> Self {
        TestClock(Mutex::new(at))
    }

    pub fn advance_days(&self, days: i64) {
        let mut now = self.0.lock().unwrap();
        *now += SignedDuration::from_hours(24 * days);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}
