//! `kickstart state forget`: drops one resource from the state, touching no cloud, and says what
//! stays behind.

use crate::common;

use common::Test;
use serde_json::json;

/// A state with the built-in stack's topic (recorded by an earlier version: no spec) and a topic
/// the file no longer declares (recorded with its spec).
fn state() -> serde_json::Value {
    let at = "2026-12-01T10:00:00Z";
    let old_spec = json!({"reference": "C6", "spec": {"cloud": "confluent", "spec": {
        "kind": "topic", "name": "old_trades", "partitions": 6,
        "admin": {"cluster": "confluent.kafka_cluster", "key": "confluent.api_key.app_manager_kafka",
                  "binding": "confluent.role_binding.app_manager_cluster_admin"}}}});
    json!({"version": 1, "stack": "tableflow_kickstarter", "nodes": {
        "confluent.topic.stock_trades": {"id": "stock_trades", "status": "ready", "created_at": at, "updated_at": at},
        "confluent.topic.old_trades": {"id": "old_trades", "spec": old_spec, "status": "ready", "created_at": at, "updated_at": at},
    }})
}

#[test]
fn forget_drops_one_node_and_says_what_stays_in_the_cloud() {
    let t = Test::new();
    let path = t.path("kickstart.state.json");
    std::fs::write(&path, state().to_string()).unwrap();
    let forget = |t: Test, id: &str| {
        let state = format!("--state={}", path.display());
        t.args(["state", "forget", id, state.as_str()])
    };

    let (run, _dir) = forget(Test::new().in_dir(t.dir()), "confluent.topic.old_trades")
        .status(0)
        .stdout_has("forgot confluent.topic.old_trades (topic old_trades, in confluent; its id there: old_trades)")
        .stdout_has("Nothing was deleted")
        .run();
    assert!(!run.stdout.contains("still declares"), "{}", run.stdout);
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(after["nodes"].get("confluent.topic.old_trades").is_none());
    assert!(after["nodes"].get("confluent.topic.stock_trades").is_some());

    // A node the file still declares, recorded without its spec: named from the file, with what
    // the next create does about it.
    forget(Test::new().in_dir(t.dir()), "confluent.topic.stock_trades")
        .status(0)
        .stdout_has("forgot confluent.topic.stock_trades (topic stock_trades, in confluent")
        .stdout_has("the stack file still declares it")
        .run();

    // Forgetting it again: nothing to forget, exit 2, the state untouched.
    let before = std::fs::read_to_string(&path).unwrap();
    forget(Test::new().in_dir(t.dir()), "confluent.topic.stock_trades")
        .status(2)
        .stderr_has("records no resource confluent.topic.stock_trades")
        .stderr_has("kickstart status")
        .stderr_lines(1)
        .run();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
}
