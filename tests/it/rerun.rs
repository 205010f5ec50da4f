//! A `create` with nothing to do only reads, and at most once per node: the calls every stand-in
//! saw are counted (AWS's at the proxy in front of moto), not the tool's own account of them.

use crate::common;

use common::clouds::{emulators, moto_proxy};
use common::{FULL, Test};

/// Calls of any kind, and mutating calls, that the three stand-ins have seen.
fn seen() -> (u64, usize) {
    let (e, p) = (emulators(), moto_proxy());
    (
        e.faults.all() + p.faults.all(),
        e.journal.calls().len() + p.journal.calls().len(),
    )
}

#[test]
fn a_create_with_nothing_to_do_reads_at_most_once_per_node() {
    let proxy = moto_proxy().url.clone();
    let (_, dir) = Test::new()
        .env("AWS_ENDPOINT_URL", &proxy)
        .args(["create"])
        .args(FULL)
        .status(0)
        .run();
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("kickstart.state.json")).unwrap(),
    )
    .unwrap();
    let nodes = state["nodes"].as_object().unwrap().len() as u64;
    assert!(nodes >= 70, "every node of STACK.md is recorded: {nodes}");

    let (calls, mutating) = seen();
    let (again, _) = Test::new()
        .in_dir(dir.path())
        .env("AWS_ENDPOINT_URL", &proxy)
        .args(["create"])
        .args(FULL)
        .status(0)
        .stderr_has("create done")
        .run();
    let (calls_after, mutating_after) = seen();
    assert_eq!(
        mutating_after, mutating,
        "a re-run changed something: {}",
        again.stderr
    );
    let made = calls_after - calls;
    assert!(
        made <= nodes,
        "a re-run made {made} calls for {nodes} nodes"
    );
}
