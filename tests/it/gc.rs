//! `gc` under a folder of states: only expired stacks, each under its own lock, by the same
//! delete as `kickstart delete`; `--dry-run` touches nothing.

use std::path::Path;
use std::process::Command;

use jiff::{Timestamp, ToSpan as _};
use kickstart::state::LockHolder;

use crate::common::clouds::OwnEmulators;
use crate::common::{FULL, Test, census};
use crate::fleet_state::recorded;

fn folder(dir: &Path) -> String {
    format!("{}/", dir.display())
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_dry_run_names_the_expired_stacks_and_touches_nothing() {
    let states = tempfile::tempdir().unwrap();
    recorded(
        states.path(),
        "old_stack",
        Some(Timestamp::now() - 1.minute()),
        2,
    );
    recorded(
        states.path(),
        "new_stack",
        Some(Timestamp::now() + 1.hour()),
        2,
    );
    recorded(states.path(), "kept_stack", None, 2);
    let before: Vec<Vec<u8>> = names_in(states.path())
        .iter()
        .map(|n| std::fs::read(states.path().join(n)).unwrap())
        .collect();
    let (run, _) = Test::new()
        .args(["gc", "--dry-run", "--state", &folder(states.path())])
        .args(FULL)
        .status(0)
        .stdout_has("would remove old_stack (expired [TIMESTAMP])")
        .run();
    assert!(!run.stdout.contains("new_stack"), "{}", run.stdout);
    assert!(!run.stdout.contains("kept_stack"), "{}", run.stdout);
    let after: Vec<Vec<u8>> = names_in(states.path())
        .iter()
        .map(|n| std::fs::read(states.path().join(n)).unwrap())
        .collect();
    assert_eq!(
        names_in(states.path()).len(),
        3,
        "no lock taken, nothing removed"
    );
    assert_eq!(before, after);
}

#[test]
fn a_locked_stack_is_skipped_and_the_others_are_still_removed() {
    let states = tempfile::tempdir().unwrap();
    // Stacks that were never built: delete finds nothing by their names, and their states go.
    recorded(
        states.path(),
        "busy_stack",
        Some(Timestamp::now() - 1.minute()),
        0,
    );
    recorded(
        states.path(),
        "idle_stack",
        Some(Timestamp::now() - 1.minute()),
        0,
    );
    let mut holder = Command::new("sleep").arg("60").spawn().unwrap();
    let lock = LockHolder {
        pid: holder.id(),
        ..LockHolder::for_this_process("create")
    };
    std::fs::write(
        states.path().join("busy_stack.json.lock"),
        serde_json::to_vec(&lock).unwrap(),
    )
    .unwrap();
    let (run, _) = Test::new()
        .args(["gc", "--state", &folder(states.path())])
        .args(FULL)
        .status(0)
        .stderr_has("gc: skipped busy_stack: locked by `kickstart create` (pid [PID]")
        .stderr_has("gc: removed idle_stack")
        .stderr_has("idle_stack: delete done in")
        .run();
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(
        names_in(states.path()),
        ["busy_stack.json", "busy_stack.json.lock"],
        "{}",
        run.stderr
    );
}

/// Stacks are removed several at once, and share node ids: each one's events are its own.
#[test]
fn each_stack_removed_at_once_tells_of_itself_by_name() {
    let states = tempfile::tempdir().unwrap();
    let stacks = ["one_stack", "two_stack", "three_stack"];
    for stack in stacks {
        recorded(states.path(), stack, Some(Timestamp::now() - 1.minute()), 0);
    }
    let (run, _) = Test::new()
        .args(["gc", "--output", "json", "--state", &folder(states.path())])
        .args(FULL)
        .status(0)
        .run();
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let mut summaries: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "summary")
        .map(|e| e["stack"].as_str().expect("a summary names its stack"))
        .collect();
    summaries.sort();
    assert_eq!(summaries, ["one_stack", "three_stack", "two_stack"]);
    let about_nodes: Vec<_> = events.iter().filter(|e| e.get("node").is_some()).collect();
    assert!(!about_nodes.is_empty(), "{}", run.stdout);
    for event in about_nodes {
        let stack = event["stack"].as_str().expect("an event names its stack");
        assert!(stacks.contains(&stack), "{event}");
    }
}

#[test]
fn a_stack_that_cannot_be_removed_fails_the_run_by_name_and_keeps_its_state() {
    let states = tempfile::tempdir().unwrap();
    recorded(
        states.path(),
        "stuck_stack",
        Some(Timestamp::now() - 1.minute()),
        0,
    );
    // The organization refuses this secret, so the delete cannot start.
    let args = FULL
        .iter()
        .map(|a| match a.starts_with("--confluent-api-secret=") {
            true => "--confluent-api-secret=not-the-secret",
            false => a,
        });
    Test::new()
        .args(["gc", "--state", &folder(states.path())])
        .args(args)
        .status(1)
        .stderr_has("gc: failed stuck_stack: ")
        .stderr_has("gc could not remove 1 stack(s): stuck_stack;")
        .run();
    assert_eq!(names_in(states.path()), ["stuck_stack.json"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn gc_removes_an_expired_stack_and_leaves_an_unexpired_one() {
    let own = OwnEmulators::fresh().await;
    let pristine = census::of_own(&own).await;
    let states = tempfile::tempdir().unwrap();
    let place = folder(states.path());
    for (stack, ttl) in [("gc_short", "1s"), ("gc_long", "4h")] {
        Test::new()
            .envs(own.env())
            .args([
                "create",
                "--stack-name",
                stack,
                "--ttl",
                ttl,
                "--state",
                &place,
            ])
            .args(FULL)
            .status(0)
            .stderr_has("create done")
            .run_async()
            .await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    Test::new()
        .envs(own.env())
        .args(["gc", "--state", &place])
        .args(FULL)
        .status(0)
        .stderr_has("gc: removed gc_short")
        .run_async()
        .await;
    assert_eq!(names_in(states.path()), ["gc_long.json"]);
    let added = census::added(&census::of_own(&own).await, &pristine);
    let named = |name: &str| -> Vec<&String> {
        let upper = name.to_uppercase();
        added
            .values()
            .flatten()
            .filter(|item| item.contains(name) || item.contains(&upper))
            .collect()
    };
    assert!(
        named("gc_short").is_empty(),
        "gc left {:?}",
        named("gc_short")
    );
    assert!(
        !named("gc_long").is_empty(),
        "gc took the unexpired stack too"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_that_failed_half_way_records_its_run_and_gc_still_collects_it() {
    let own = OwnEmulators::fresh().await;
    let states = tempfile::tempdir().unwrap();
    let place = folder(states.path());
    // No time to wait for anything: the first node that must wait fails, others are made.
    Test::new()
        .envs(own.env())
        .args(["create", "--wait-timeout=0s", "--stack-name", "half_made"])
        .args(["--ttl", "1s", "--state", &place])
        .args(FULL)
        .status(1)
        .run_async()
        .await;
    let doc = kickstart::state::FileStore::new(states.path().join("half_made.json"))
        .load("half_made")
        .unwrap()
        .expect("a failed create leaves its state");
    let run = doc.last_run.as_ref().expect("and records its run");
    assert_eq!(
        (run.command.as_str(), run.result),
        ("create", kickstart::state::RunResult::Failed)
    );
    assert!(doc.expires_at.is_some() && doc.created_at.is_some());
    assert!(!doc.nodes.is_empty(), "some nodes were made");

    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    Test::new()
        .envs(own.env())
        .args(["gc", "--state", &place])
        .args(FULL)
        .status(0)
        .stderr_has("gc: removed half_made")
        .run_async()
        .await;
    assert!(names_in(states.path()).is_empty());
    let now = census::of_own(&own).await;
    let left: Vec<&String> = now
        .values()
        .flatten()
        .filter(|item| item.contains("half_made") || item.contains("HALF_MADE"))
        .collect();
    assert!(left.is_empty(), "gc left {left:?}");
}
