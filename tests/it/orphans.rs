//! `gc --orphans`: a stack whose state was deleted by hand is found from the marks its resources
//! carry, and removed with the same leak-free delete; a stack that still has its state is left.

use local_cloud::FaultConfig;

use crate::common;

use common::clouds::{self, OwnEmulators};
use common::{FULL, Test, census};

#[tokio::test(flavor = "multi_thread")]
async fn gc_orphans_finds_and_removes_a_stack_whose_state_was_deleted() {
    let own = OwnEmulators::start(clouds::delays(), FaultConfig::default()).await;
    let pristine = census::of_own(&own).await;
    let states = tempfile::tempdir().unwrap();
    let place = format!("{}/", states.path().display());
    let run = |args: &[&str]| {
        Test::new()
            .envs(own.env())
            .args(args)
            .args(["--state", &place])
            .args(FULL)
    };

    // A stack that keeps its state (expired too: only --orphans' own finds are at stake).
    run(&["create", "--stack-name", "kept_b", "--ttl", "2d"])
        .status(0)
        .run_async()
        .await;
    let only_kept = census::of_own(&own).await;
    run(&["create", "--stack-name", "orphan_a", "--ttl", "1s"])
        .status(0)
        .run_async()
        .await;
    std::fs::remove_file(states.path().join("orphan_a.json")).unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;

    // Without --orphans gc sees no stack due: kept_b has not expired, orphan_a has no state.
    run(&["gc"]).status(0).run_async().await;
    assert!(
        census::of_own(&own).await != only_kept,
        "plain gc removed the orphan"
    );
    // --dry-run names the orphan and removes nothing.
    let before = census::of_own(&own).await;
    run(&["gc", "--orphans", "--dry-run"])
        .status(0)
        .stdout_has("orphan_a")
        .run_async()
        .await;
    census::assert_back_to(
        &census::of_own(&own).await,
        &before,
        "after gc --orphans --dry-run",
    );

    run(&["gc", "--orphans"]).status(0).run_async().await;
    census::assert_back_to(
        &census::of_own(&own).await,
        &only_kept,
        "after gc --orphans",
    );
    assert!(
        states.path().join("kept_b.json").exists(),
        "gc removed a recorded stack"
    );

    run(&["delete", "--stack-name", "kept_b"])
        .status(0)
        .run_async()
        .await;
    census::assert_back_to(
        &census::of_own(&own).await,
        &pristine,
        "after deleting the kept stack",
    );
}
