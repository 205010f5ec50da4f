//! The one retry policy every cloud client uses for a single call: exponential backoff with full
//! jitter, bounded in attempts and in total time, and honouring the server's `Retry-After`.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable as _};
use tokio::time::Instant;

/// How an error tells the policy whether another attempt may help.
pub trait Transient {
    /// Throttling, a server error, a dropped connection: worth another attempt.
    fn is_transient(&self) -> bool;
    /// What the server asked us to wait, if it said.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
    /// The service said to slow down (429): many runs share its limit, so this is waited out for
    /// as long as [`RetryPolicy::throttle_window`], however many attempts that takes.
    fn is_throttle(&self) -> bool {
        false
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first backoff (before jitter).
    pub base: Duration,
    /// No single backoff is longer, unless the server asked for longer.
    pub cap: Duration,
    /// Attempts in all, the first one included.
    pub max_attempts: usize,
    /// No retry starts later than this after the first attempt.
    pub max_elapsed: Duration,
    /// Retries are logged at debug rather than as warnings (the preflight's: its error says it).
    pub quiet: bool,
    /// How long throttling is waited out: neither `max_attempts` nor `max_elapsed` count it.
    pub throttle_window: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(20),
            max_attempts: 8,
            max_elapsed: Duration::from_secs(120),
            quiet: false,
            throttle_window: Duration::from_secs(30 * 60),
        }
    }
}

impl RetryPolicy {
    /// For the checks before a run: a blip is retried, an endpoint that is not there fails in
    /// seconds rather than minutes. Five attempts (at most about 3 s of backoff): with three, a
    /// service answering one call in ten with a 5xx failed a run's start one time in a thousand.
    pub fn preflight() -> Self {
        RetryPolicy {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(2),
            max_attempts: 5,
            max_elapsed: Duration::from_secs(10),
            quiet: true,
            throttle_window: Duration::from_secs(10),
        }
    }

    /// Runs `op` until it succeeds, fails for good, or the bounds are reached; the last error is
    /// returned. `what` names the call in the log lines about retries.
    pub async fn run<T, E, F, Fut>(&self, what: &str, op: F) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Transient + std::fmt::Display,
    {
        // The schedule itself never ends; `adjust` applies the bounds, which differ for throttles.
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.base)
            .with_max_delay(self.cap)
            .without_max_times();
        let started = Instant::now();
        let (max_elapsed, window) = (self.max_elapsed, self.throttle_window);
        let max_retries = self.max_attempts.saturating_sub(1);
        let retries = std::sync::atomic::AtomicUsize::new(0);
        op.retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|e: &E| e.is_transient())
            .adjust(move |e: &E, next: Option<Duration>| {
                // Full jitter: anywhere between zero and the exponential step.
                let jittered = next?.mul_f64(fastrand::f64());
                // A server that says when to come back is believed: its wait, spread by up to as
                // much again so that a fleet told the same second does not return as one. The
                // exponential step alone would keep growing past what the server asked.
                let wait = match e.retry_after() {
                    Some(asked) if !asked.is_zero() => asked + jittered.min(asked),
                    _ => jittered,
                };
                let until = started.elapsed() + wait;
                if e.is_throttle() {
                    return (until <= window).then_some(wait);
                }
                let retried = retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                (retried < max_retries && until <= max_elapsed).then_some(wait)
            })
            .notify(|e: &E, wait: Duration| {
                let wait_ms = wait.as_millis() as u64;
                if self.quiet {
                    tracing::debug!(call = what, wait_ms, "retrying after: {e}");
                } else {
                    tracing::warn!(call = what, wait_ms, "retrying after: {e}");
                }
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[derive(Debug)]
    struct Busy(Option<Duration>);
    impl std::fmt::Display for Busy {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "busy")
        }
    }
    impl Transient for Busy {
        fn is_transient(&self) -> bool {
            true
        }
        fn retry_after(&self) -> Option<Duration> {
            self.0
        }
    }

    #[derive(Debug)]
    struct Denied;
    impl std::fmt::Display for Denied {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "denied")
        }
    }
    impl Transient for Denied {
        fn is_transient(&self) -> bool {
            false
        }
    }

    #[tokio::test(start_paused = true)]
    async fn honours_retry_after() {
        let calls = AtomicUsize::new(0);
        let started = Instant::now();
        let policy = RetryPolicy::default();
        let result = policy
            .run("test", || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(Busy(Some(Duration::from_secs(7))))
                } else {
                    Ok("done")
                }
            })
            .await;
        assert_eq!(result.unwrap(), "done");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Two waits of at least the 7 s the server asked for; the jittered step is far smaller.
        assert!(
            started.elapsed() >= Duration::from_secs(14),
            "{:?}",
            started.elapsed()
        );
        assert!(
            started.elapsed() < Duration::from_secs(16),
            "{:?}",
            started.elapsed()
        );
    }

    #[derive(Debug)]
    struct AskedOneSecond;
    impl std::fmt::Display for AskedOneSecond {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "429")
        }
    }
    impl Transient for AskedOneSecond {
        fn is_transient(&self) -> bool {
            true
        }
        fn retry_after(&self) -> Option<Duration> {
            Some(Duration::from_secs(1))
        }
        fn is_throttle(&self) -> bool {
            true
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_asking_one_second_each_time_is_not_outwaited_by_the_growing_step() {
        // Twenty throttles in a row: the exponential step alone would have reached its 20 s cap
        // by the eighth; each wait stays within twice what the server asked.
        let calls = AtomicUsize::new(0);
        let started = Instant::now();
        let result = RetryPolicy::default()
            .run("test", || async {
                match calls.fetch_add(1, Ordering::SeqCst) < 20 {
                    true => Err(AskedOneSecond),
                    false => Ok(()),
                }
            })
            .await;
        assert!(result.is_ok());
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(20), "{waited:?}");
        assert!(waited <= Duration::from_secs(40), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_attempt_bound() {
        let calls = AtomicUsize::new(0);
        let policy = RetryPolicy {
            max_attempts: 4,
            ..RetryPolicy::default()
        };
        let result: Result<(), _> = policy
            .run("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(Busy(None))
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_when_the_time_bound_would_be_passed() {
        let calls = AtomicUsize::new(0);
        let started = Instant::now();
        let policy = RetryPolicy {
            max_elapsed: Duration::from_secs(30),
            ..RetryPolicy::default()
        };
        let result: Result<(), _> = policy
            .run("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(Busy(Some(Duration::from_secs(12))))
            })
            .await;
        assert!(result.is_err());
        // Waits at 0 -> 12 -> 24; a third wait would end past 30 s, so it stops after 3 calls.
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(started.elapsed() <= Duration::from_secs(30));
    }

    #[derive(Debug)]
    struct Throttled;
    impl std::fmt::Display for Throttled {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "429 slow down")
        }
    }
    impl Transient for Throttled {
        fn is_transient(&self) -> bool {
            true
        }
        fn is_throttle(&self) -> bool {
            true
        }
        fn retry_after(&self) -> Option<Duration> {
            Some(Duration::from_secs(10))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_is_waited_out_past_the_attempt_and_time_bounds_within_its_window() {
        let calls = AtomicUsize::new(0);
        let started = Instant::now();
        // Backoff steps stay below what the server asks.
        let policy = RetryPolicy {
            cap: Duration::from_secs(1),
            max_attempts: 3,
            max_elapsed: Duration::from_secs(15),
            throttle_window: Duration::from_secs(95),
            ..RetryPolicy::default()
        };
        let result: Result<(), _> = policy
            .run("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(Throttled)
            })
            .await;
        assert!(result.is_err());
        // Asked to wait 10 s each time, spread by at most the 1 s step: calls 10 to 11 s apart,
        // so 9 or 10 of them before the next would end past 95 s (5 with no throttle window).
        let made = calls.load(Ordering::SeqCst);
        assert!((9..=10).contains(&made), "{made} calls");
        assert!(started.elapsed() <= Duration::from_secs(95));
    }

    #[tokio::test(start_paused = true)]
    async fn a_permanent_error_is_not_retried() {
        let calls = AtomicUsize::new(0);
        let result: Result<(), _> = RetryPolicy::default()
            .run("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(Denied)
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
