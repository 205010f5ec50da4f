//! Confluent Cloud limits requests per organization, and every run in it shares the limit. A
//! whole stack made and deleted under a tight limit, told as an HTTP-date, still succeeds.

use crate::common;

use common::Test;
use common::clouds::{self, OwnEmulators};
use local_cloud::FaultConfig;

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_stack_is_made_and_deleted_under_an_organization_wide_rate_limit() {
    let limit = FaultConfig {
        rate_limit_per_sec: 25.0,
        rate_limit_burst: 5,
        retry_after_as_date: true,
        ..FaultConfig::default()
    };
    let own = OwnEmulators::start(clouds::delays(), limit).await;
    let (_, dir) = Test::new()
        .envs(own.env())
        .whole_stack("create", None)
        .await;
    let throttled = own.cloud.faults.throttled();
    assert!(throttled > 0, "the limit never refused a call");
    Test::new()
        .envs(own.env())
        .whole_stack("delete", Some(dir.path()))
        .await;
    eprintln!(
        "throttled {throttled} calls during create, {} in all",
        own.cloud.faults.throttled()
    );
}
