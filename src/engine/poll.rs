//! The one readiness poller: check, and while the cloud says "not yet", wait a little longer each
//! time (from about a second up to a cap), until the node's deadline.

use std::time::Duration;

use tokio::time::Instant;

use super::node::{NodeError, Readiness, Record};

#[derive(Clone, Debug, PartialEq)]
pub struct PollPolicy {
    pub first: Duration,
    pub cap: Duration,
    pub factor: f64,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            first: Duration::from_secs(1),
            cap: Duration::from_secs(30),
            factor: 1.5,
        }
    }
}

impl PollPolicy {
    /// The most checks one wait can make before `deadline`: the bound on polls per wait.
    pub fn max_polls(&self, deadline: Duration) -> usize {
        let (mut at, mut interval, mut polls) = (Duration::ZERO, self.first, 1);
        while at < deadline {
            at += interval.min(deadline - at);
            interval = interval.mul_f64(self.factor).min(self.cap);
            polls += 1;
        }
        polls
    }

    /// Calls `check` until it reports ready, or fails with [`NodeError::WaitTimedOut`] once
    /// `deadline` has passed. `pending` hears every phase the cloud reports on the way.
    pub async fn until_ready<F, Fut>(
        &self,
        deadline: Duration,
        mut check: F,
        mut pending: impl FnMut(&str),
    ) -> Result<Record, NodeError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Readiness, NodeError>>,
    {
        let started = Instant::now();
        let mut interval = self.first;
        loop {
            let phase = match check().await? {
                Readiness::Ready(record) => return Ok(record),
                Readiness::Pending { phase } => phase,
            };
            pending(&phase);
            let elapsed = started.elapsed();
            if elapsed >= deadline {
                return Err(NodeError::WaitTimedOut {
                    phase,
                    after: elapsed,
                });
            }
            tokio::time::sleep(interval.min(deadline - elapsed)).await;
            interval = interval.mul_f64(self.factor).min(self.cap);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn intervals_grow_to_the_cap_and_the_deadline_holds() {
        let seen = Mutex::new(Vec::new());
        let started = Instant::now();
        let policy = PollPolicy {
            first: Duration::from_secs(1),
            cap: Duration::from_secs(4),
            factor: 2.0,
        };
        let result = policy
            .until_ready(
                Duration::from_secs(20),
                || async {
                    seen.lock().unwrap().push(started.elapsed().as_secs());
                    Ok(Readiness::Pending {
                        phase: "PROVISIONING".into(),
                    })
                },
                |_| {},
            )
            .await;
        assert!(
            matches!(result, Err(NodeError::WaitTimedOut { ref phase, .. }) if phase == "PROVISIONING")
        );
        assert_eq!(*seen.lock().unwrap(), vec![0, 1, 3, 7, 11, 15, 19, 20]);
    }

    #[test]
    fn polls_per_wait_are_bounded() {
        let policy = PollPolicy {
            first: Duration::from_secs(1),
            cap: Duration::from_secs(4),
            factor: 2.0,
        };
        // The schedule of the test above: checks at 0, 1, 3, 7, 11, 15, 19 and 20 s.
        assert_eq!(policy.max_polls(Duration::from_secs(20)), 8);
        // An hour at the default policy: about two minutes of growing steps, then every 30 s.
        let hour = PollPolicy::default().max_polls(Duration::from_secs(3600));
        assert!((120..=130).contains(&hour), "{hour}");
    }

    #[tokio::test(start_paused = true)]
    async fn returns_the_ready_record() {
        let calls = Mutex::new(0);
        let record = PollPolicy::default()
            .until_ready(
                Duration::from_secs(60),
                || async {
                    let mut n = calls.lock().unwrap();
                    *n += 1;
                    Ok(if *n < 3 {
                        Readiness::Pending {
                            phase: "PENDING".into(),
                        }
                    } else {
                        Readiness::Ready(Record::new("x").with("path", "s3://b/v1/"))
                    })
                },
                |_| {},
            )
            .await
            .unwrap();
        assert_eq!(record.outputs["path"], "s3://b/v1/");
    }
}
