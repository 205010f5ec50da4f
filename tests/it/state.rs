//! The state file under stress: killed writers, competing runs, stale locks, and `status`.

use crate::common;

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{FULL, Test};
use kickstart::engine::Record;
use kickstart::state::{FileStore, LockHolder, StateDoc, Status};

const WRITER: &str = "KICKSTART_TEST_TORN_WRITER";

/// Not a test on its own: the child process of the test below, which kills it mid-write.
#[test]
#[ignore = "the child process of a_killed_writer_never_leaves_a_corrupt_file"]
fn torn_writer_child() {
    let path = std::env::var(WRITER).expect("run by the parent test only");
    let store = FileStore::new(path);
    let mut doc = StateDoc::new("torn");
    for i in 0u64.. {
        // Documents of growing size, so a torn write would show as invalid or short JSON.
        let record =
            Record::new(format!("id-{i}")).with("payload", "x".repeat((i % 4096) as usize));
        doc.put(&format!("node-{}", i % 200), record, Status::Ready)
            .unwrap();
        store.save(&doc).unwrap();
    }
}

#[test]
fn a_killed_writer_never_leaves_a_corrupt_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("torn.state.json");
    // libtest names a test by its path without the crate: `state::torn_writer_child`.
    let (_crate, module) = module_path!().split_once("::").unwrap();
    let writer = format!("{module}::torn_writer_child");
    for round in 0..12 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", &writer, "--ignored", "--nocapture"])
            .env(WRITER, &path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        while !path.exists() {
            let exited = child.try_wait().unwrap();
            assert!(
                exited.is_none(),
                "{writer} ended before writing: {exited:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(20 + 13 * round));
        // SIGKILL: no destructor, no flush, no chance to tidy up.
        child.kill().unwrap();
        child.wait().unwrap();
        let doc = FileStore::new(&path)
            .load("torn")
            .unwrap()
            .expect("the state is there");
        assert!(!doc.nodes.is_empty());
        for entry in doc.nodes.values() {
            let n: u64 = entry.record.id.trim_start_matches("id-").parse().unwrap();
            assert_eq!(entry.record.outputs["payload"].len(), (n % 4096) as usize);
        }
    }
}

fn write_state(dir: &Path, stack: &str) {
    let mut doc = StateDoc::new(stack);
    doc.put(
        "confluent.environment",
        Record::new("env-abc123").with("name", stack),
        Status::Ready,
    )
    .unwrap();
    doc.put(
        "confluent.kafka_cluster",
        Record::new("lkc-xyz789"),
        Status::Creating,
    )
    .unwrap();
    FileStore::new(dir.join("kickstart.state.json"))
        .save(&doc)
        .unwrap();
}

#[test]
fn a_second_run_is_refused_naming_the_holder() {
    let test = Test::new();
    write_state(test.dir(), "tableflow_kickstarter");
    let mut holder = Command::new("sleep").arg("30").spawn().unwrap();
    let lock = LockHolder {
        pid: holder.id(),
        ..LockHolder::for_this_process("create")
    };
    std::fs::write(
        test.path("kickstart.state.json.lock"),
        serde_json::to_vec(&lock).unwrap(),
    )
    .unwrap();
    let before = std::fs::read(test.path("kickstart.state.json")).unwrap();
    let (_, dir) = test
        .args(["create"])
        .args(FULL)
        .status(1)
        .stderr_has("is locked by `kickstart create` (pid [PID] on ")
        .stderr_has("--lock-timeout")
        .stderr_lines(1)
        .run();
    holder.kill().unwrap();
    holder.wait().unwrap();
    let after = std::fs::read(dir.path().join("kickstart.state.json")).unwrap();
    assert_eq!(before, after, "the refused run must not touch the state");
    assert!(
        dir.path().join("kickstart.state.json.lock").exists(),
        "nor the holder's lock"
    );
}

#[test]
fn a_lock_left_by_a_dead_run_is_taken_over_with_a_warning() {
    let test = Test::new();
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let lock = LockHolder {
        pid: dead,
        ..LockHolder::for_this_process("create")
    };
    std::fs::write(
        test.path("kickstart.state.json.lock"),
        serde_json::to_vec(&lock).unwrap(),
    )
    .unwrap();
    let (_, dir) = test
        .args(["create"])
        .args(FULL)
        .status(0)
        .stderr_has("taking over a stale lock")
        .stderr_has("create done")
        .run();
    assert!(
        !dir.path().join("kickstart.state.json.lock").exists(),
        "released on exit"
    );
}

#[test]
fn status_prints_the_state_as_a_table_and_as_json() {
    let test = Test::new();
    write_state(test.dir(), "tableflow_kickstarter");
    let (run, dir) = test
        .args(["status"])
        .status(0)
        .stdout_has("NODE")
        .stdout_has("env-abc123")
        .stdout_has("creating")
        .stdout_has("2 of ")
        .run();
    let env_row = run
        .stdout
        .lines()
        .position(|l| l.contains("confluent.environment"))
        .unwrap();
    let cluster_row = run
        .stdout
        .lines()
        .position(|l| l.contains("confluent.kafka_cluster"))
        .unwrap();
    assert!(env_row < cluster_row, "rows follow the stack's order");

    let out = Command::new(env!("CARGO_BIN_EXE_kickstart"))
        .current_dir(dir.path())
        .args(["status", "--output=json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stack"], "tableflow_kickstarter");
    assert_eq!(doc["nodes"][0]["id"], "env-abc123");
    assert_eq!(doc["nodes"][1]["status"], "creating");
}

#[test]
fn a_state_of_another_stack_or_garbage_is_refused_clearly() {
    let test = Test::new();
    write_state(test.dir(), "other_stack");
    test.args(["status"])
        .status(1)
        .stderr_has("belongs to stack 'other_stack'")
        .stderr_has("pass --stack-name other_stack")
        .run();
    let test = Test::new();
    std::fs::write(test.path("kickstart.state.json"), "{ not json").unwrap();
    test.args(["status"])
        .status(1)
        .stderr_has("is not a kickstart state document")
        .run();
}

#[cfg(unix)]
#[test]
fn the_state_file_is_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    write_state(dir.path(), "s");
    let mode = std::fs::metadata(dir.path().join("kickstart.state.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn status_refresh_asks_the_cloud_whether_each_resource_still_exists() {
    let test = Test::new();
    write_state(test.dir(), "tableflow_kickstarter");
    test.args([
        "status",
        "--refresh",
        "--confluent-api-key=CKEY123",
        "--confluent-api-secret=cloud-secret-do-not-print",
    ])
    .status(0)
    .stdout_has("EXISTS")
    .stdout_has("MISSING")
    .run();
}

/// Two real `create` runs started at the same moment on one state, local and in S3: one does the
/// work, the other is refused naming it, and the state the winner leaves is whole (a `plan`
/// reads it back with nothing to do).
#[test]
fn two_creates_at_once_one_runs_and_the_other_is_refused_naming_it() {
    use common::clouds;
    // Latency at the emulators keeps the winner busy for seconds, long after the loser has
    // passed its preflight (both start at once) and asked for the lock.
    clouds::emulators().faults.set(local_cloud::FaultConfig {
        min_latency_ms: 20,
        max_latency_ms: 40,
        ..local_cloud::FaultConfig::default()
    });
    let bucket = "race-state";
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let s3 = clouds::moto_s3().await;
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    });
    for state in [
        "--state=kickstart.state.json".to_string(),
        format!("--state=s3://{bucket}/race/state.json"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let start = || {
            Command::new(env!("CARGO_BIN_EXE_kickstart"))
                .current_dir(dir.path())
                .args(["create", &state])
                .args(FULL)
                .envs(clouds::stand_in_env())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let runs = [start(), start()];
        let pids: Vec<u32> = runs.iter().map(|c| c.id()).collect();
        let outputs: Vec<_> = runs
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let codes: Vec<i32> = outputs.iter().map(|o| o.status.code().unwrap()).collect();
        let stderr = |i: usize| String::from_utf8_lossy(&outputs[i].stderr).to_string();
        let winner = codes.iter().position(|&c| c == 0).unwrap_or_else(|| {
            panic!(
                "{state}: one run succeeds: {codes:?}\n{}\n{}",
                stderr(0),
                stderr(1)
            )
        });
        let loser = 1 - winner;
        assert_eq!(codes[loser], 1, "{state}: {}", stderr(loser));
        let named = format!("is locked by `kickstart create` (pid {} on ", pids[winner]);
        assert!(
            stderr(loser).contains(&named) && stderr(loser).lines().count() == 1,
            "{state}: the loser names the winner:\n{}",
            stderr(loser)
        );
        Test::new()
            .in_dir(dir.path())
            .args(["plan", &state])
            .args(FULL)
            .status(0)
            .stdout_has("plan: 0 to create, 0 to adopt, 0 to rotate, 0 to wait for, 74 unchanged")
            .run();
        Test::new()
            .in_dir(dir.path())
            .args(["delete", &state])
            .args(FULL)
            .status(0)
            .run();
    }
}
