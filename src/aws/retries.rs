//! How every AWS client kickstart builds retries, driven by the engine's [`RetryPolicy`] so that
//! AWS is retried as the other clouds are. IAM and Secrets Manager throttle per account, so when
//! twenty runs share an account a throttle is normal traffic: it is waited out (with the SDK's
//! exponential backoff and full jitter, capped at the policy's `cap`) for as long as the policy's
//! `throttle_window`, however many attempts that takes; any other retryable error keeps the
//! policy's bounds (`max_attempts`, `max_elapsed`).
//!
//! Built from the SDK's own extension points rather than a loop around each call:
//! - a retry partition whose token bucket is unlimited: the standard strategy's retry quota
//!   otherwise stops retrying altogether under sustained throttling;
//! - the standard strategy with the policy's backoff, whose attempt bound [`Patience`] (an
//!   interceptor) sets per attempt, after the SDK's classifiers have told what the error was.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use aws_smithy_runtime::client::retries::classifiers::run_classifiers_on_ctx;
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextMut,
};
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::retries::classifiers::{RetryAction, RetryReason};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::retry::{ErrorKind, RetryConfig};

use crate::engine::RetryPolicy;

/// The standard strategy with the policy's backoff; its attempt bound is the policy's until
/// [`Patience`] raises it for a throttle.
pub fn retry_config(policy: &RetryPolicy) -> RetryConfig {
    RetryConfig::standard()
        .with_initial_backoff(policy.base)
        .with_max_backoff(policy.cap)
        .with_max_attempts(attempts(policy.max_attempts))
}

fn attempts(n: usize) -> u32 {
    u32::try_from(n.max(1)).unwrap_or(u32::MAX)
}

/// A retry partition of kickstart's own whose quota never runs out.
pub fn partition() -> RetryPartition {
    RetryPartition::custom("kickstart")
        .token_bucket(TokenBucket::unlimited())
        .build()
}

/// What a failed attempt was, as the SDK's classifiers tell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    Throttle,
    Other,
    /// Not worth another attempt (or no failure at all).
    Final,
}

fn failure(action: &RetryAction) -> Failure {
    match action {
        RetryAction::RetryIndicated(RetryReason::RetryableError {
            kind: ErrorKind::ThrottlingError,
            ..
        }) => Failure::Throttle,
        RetryAction::RetryIndicated(_) => Failure::Other,
        _ => Failure::Final,
    }
}

/// Whether another attempt may follow, `elapsed` after the call began and with `others`
/// non-throttle failures so far, this one included.
fn another(policy: &RetryPolicy, failure: Failure, elapsed: Duration, others: u32) -> bool {
    match failure {
        Failure::Throttle => elapsed < policy.throttle_window,
        Failure::Other => others < attempts(policy.max_attempts) && elapsed < policy.max_elapsed,
        Failure::Final => false,
    }
}

/// When one call (all its attempts) began, and how many of its attempts failed other than by a
/// throttle.
#[derive(Debug)]
struct Call {
    began: Instant,
    others: AtomicU32,
}

impl Storable for Call {
    type Storer = StoreReplace<Self>;
}

/// Sets, after each attempt, whether the standard strategy may make another: the attempt bound
/// it reads is raised past this attempt for a throttle within the window, and for another
/// retryable error within the policy's bounds; else it is this attempt, and the call ends.
#[derive(Debug)]
pub struct Patience {
    policy: RetryPolicy,
}

impl Patience {
    pub fn new(policy: RetryPolicy) -> Self {
        Patience { policy }
    }
}

impl Intercept for Patience {
    fn name(&self) -> &'static str {
        "kickstart::Patience"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Call {
            began: Instant::now(),
            others: AtomicU32::new(0),
        });
        Ok(())
    }

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let action =
            run_classifiers_on_ctx(runtime_components.retry_classifiers(), context.inner());
        let failed = failure(&action);
        let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        let (elapsed, others) = match cfg.load::<Call>() {
            Some(call) => {
                let others =
                    call.others.load(Ordering::Relaxed) + u32::from(failed == Failure::Other);
                call.others.store(others, Ordering::Relaxed);
                (call.began.elapsed(), others)
            }
            None => (Duration::ZERO, u32::from(failed == Failure::Other)),
        };
        let Some(retry) = cfg.load::<RetryConfig>().cloned() else {
            return Ok(());
        };
        let bound = if another(&self.policy, failed, elapsed, others) {
            if failed == Failure::Throttle {
                tracing::debug!(
                    attempt,
                    elapsed_ms = elapsed.as_millis() as u64,
                    "AWS throttled the call; waiting it out"
                );
            }
            attempt.saturating_add(1)
        } else {
            attempt
        };
        cfg.interceptor_state()
            .store_put(retry.with_max_attempts(bound));
        Ok(())
    }
}

/// Clients of each AWS service kickstart uses, with this retrying.
macro_rules! patient_client {
    ($name:ident, $sdk:ident) => {
        pub fn $name(builder: $sdk::config::Builder, policy: &RetryPolicy) -> $sdk::Client {
            $sdk::Client::from_conf(
                builder
                    .retry_config(retry_config(policy))
                    .retry_partition(partition())
                    .interceptor(Patience::new(policy.clone()))
                    .build(),
            )
        }
    };
}

patient_client!(s3, aws_sdk_s3);
patient_client!(iam, aws_sdk_iam);
patient_client!(secrets_manager, aws_sdk_secretsmanager);
patient_client!(glue, aws_sdk_glue);
patient_client!(lakeformation, aws_sdk_lakeformation);

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> RetryAction {
        RetryAction::throttling_error()
    }

    #[test]
    fn the_sdks_classification_tells_a_throttle_from_other_errors() {
        assert_eq!(failure(&throttle()), Failure::Throttle);
        assert_eq!(failure(&RetryAction::server_error()), Failure::Other);
        assert_eq!(failure(&RetryAction::transient_error()), Failure::Other);
        assert_eq!(failure(&RetryAction::NoActionIndicated), Failure::Final);
        assert_eq!(failure(&RetryAction::RetryForbidden), Failure::Final);
    }

    #[test]
    fn a_throttle_is_waited_out_within_the_window_however_many_attempts_it_takes() {
        let policy = RetryPolicy::default();
        let minute = Duration::from_secs(60);
        assert!(another(&policy, Failure::Throttle, minute, 0));
        assert!(another(
            &policy,
            Failure::Throttle,
            policy.throttle_window - minute,
            0
        ));
        assert!(!another(
            &policy,
            Failure::Throttle,
            policy.throttle_window,
            0
        ));
    }

    #[test]
    fn other_errors_keep_the_policys_bounds() {
        let policy = RetryPolicy {
            max_attempts: 3,
            max_elapsed: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        let now = Duration::from_secs(1);
        assert!(another(&policy, Failure::Other, now, 1));
        assert!(another(&policy, Failure::Other, now, 2));
        assert!(!another(&policy, Failure::Other, now, 3));
        assert!(!another(
            &policy,
            Failure::Other,
            Duration::from_secs(10),
            1
        ));
        assert!(!another(&policy, Failure::Final, now, 0));
    }

    #[test]
    fn the_backoff_is_the_policys_and_the_quota_unlimited() {
        let policy = RetryPolicy::default();
        let config = retry_config(&policy);
        assert_eq!(config.initial_backoff(), policy.base);
        assert_eq!(config.max_backoff(), policy.cap);
        assert_eq!(config.max_attempts(), 8);
        assert_eq!(partition().to_string(), "kickstart");
    }
}
