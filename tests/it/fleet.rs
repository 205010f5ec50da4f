//! A CI fleet: 20 stacks with different names made at once in one Confluent organization and one
//! AWS and Snowflake account, under an organization-wide rate limit, each recorded under one
//! shared state location; then `gc`, once they have expired, removes them all.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use local_cloud::FaultConfig;

use crate::common;

use common::clouds::{self, OwnEmulators};
use common::{FULL, Test, census};

const STACKS: usize = 20;

fn name(i: usize) -> String {
    format!("fleet_{i:02}")
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_stacks_made_at_once_share_nothing_and_gc_removes_them_all() {
    let limit = FaultConfig {
        rate_limit_per_sec: 60.0,
        rate_limit_burst: 30,
        ..FaultConfig::default()
    };
    let own = OwnEmulators::start(clouds::delays(), limit).await;
    let pristine = census::of_own(&own).await;
    let states = tempfile::tempdir().unwrap();
    let location = format!("{}/", states.path().display());

    let runs = (0..STACKS).map(|i| {
        Test::new()
            .envs(own.env())
            .args(["create", "--stack-name", &name(i), "--ttl", "1s"])
            .args(["--state", &location])
            .args(FULL)
            .status(0)
            .stderr_has("create done")
            .run_async()
    });
    join_all(runs).await;
    assert!(
        own.cloud.faults.throttled() > 0,
        "the organization's limit never refused a call: the test proves nothing"
    );

    // One state per stack, each its own.
    let mut files: Vec<String> = std::fs::read_dir(states.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let expected: Vec<String> = (0..STACKS).map(|i| format!("{}.json", name(i))).collect();
    assert_eq!(files, expected, "no lock left, no state shared");
    for (i, file) in expected.iter().enumerate() {
        let text = std::fs::read_to_string(states.path().join(file)).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["stack"], name(i));
        assert!(doc["nodes"].as_object().unwrap().len() >= 70);
    }

    // Each stand-in holds the same number of each kind for every stack: 20 of each per-stack
    // resource, and none named after two stacks.
    let now = census::of_own(&own).await;
    let added = census::added(&now, &pristine);
    for (kind, items) in &added {
        assert_eq!(
            items.len() % STACKS,
            0,
            "{kind}: {} made for {STACKS} stacks: {items:?}",
            items.len()
        );
    }
    let mentions: BTreeMap<usize, usize> = (0..STACKS)
        .map(|i| {
            let n = name(i);
            let upper = n.to_uppercase();
            let count = added
                .values()
                .flatten()
                .filter(|item| item.contains(&n) || item.contains(&upper))
                .count();
            (i, count)
        })
        .collect();
    let first = mentions[&0];
    assert!(first > 0, "no resource is named after its stack: {added:?}");
    assert!(
        mentions.values().all(|&c| c == first),
        "stacks hold different numbers of named resources: {mentions:?}"
    );

    let (listed, _) = Test::new()
        .args(["list", "--state", &location, "--output", "json"])
        .status(0)
        .run_async()
        .await;
    let listed: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), STACKS, "{listed}");

    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    Test::new()
        .envs(own.env())
        .args(["gc", "--state", &location])
        .args(FULL)
        .status(0)
        .run_async()
        .await;
    let after = census::of_own(&own).await;
    census::assert_back_to(&after, &pristine, "after gc");
    let left: Vec<_> = std::fs::read_dir(states.path()).unwrap().collect();
    assert!(left.is_empty(), "gc left states behind: {left:?}");
}
