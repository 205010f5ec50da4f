//! Many stacks under one state place (a folder): each picked by `--stack-name`, each recording
//! its lifetime and last run, and `list` showing them all.

use std::path::Path;

use jiff::{Timestamp, ToSpan as _};
use kickstart::engine::Record;
use kickstart::state::{FileStore, LastRun, RunResult, StateDoc, Status};

use crate::common::{FULL, Test};

/// A stack's state as a run would have left it, written straight into `dir`.
pub fn recorded(dir: &Path, stack: &str, expires_at: Option<Timestamp>, nodes: usize) {
    let mut doc = StateDoc::new(stack);
    doc.created_at = Some("2026-01-02T03:04:05Z".parse().unwrap());
    doc.expires_at = expires_at;
    doc.last_run = Some(LastRun {
        command: "create".into(),
        at: "2026-01-02T03:14:05Z".parse().unwrap(),
        result: RunResult::Ok,
    });
    for i in 0..nodes {
        doc.put(
            &format!("n{i}"),
            Record::new(format!("id-{i}")),
            Status::Ready,
        )
        .unwrap();
    }
    FileStore::new(dir.join(format!("{stack}.json")))
        .save(&doc)
        .unwrap();
}

fn folder(dir: &Path) -> String {
    format!("{}/", dir.display())
}

#[test]
fn list_shows_every_stack_in_a_folder_for_people_and_as_one_json_array() {
    let states = tempfile::tempdir().unwrap();
    let past = Timestamp::now() - 1.hour();
    recorded(states.path(), "ci_one", Some(past), 3);
    recorded(states.path(), "ci_two", None, 0);
    // Neither a lock nor anything else in the folder is a stack.
    std::fs::write(states.path().join("ci_two.json.lock"), "{}").unwrap();
    std::fs::write(states.path().join("README.txt"), "hello").unwrap();
    let place = folder(states.path());

    let (run, _) = Test::new()
        .args(["list", "--state", &place])
        .status(0)
        .run();
    assert_eq!(
        run.stdout,
        // Columns as wide as the times were before the harness shortened them.
        "NAME    CREATED               LAST RUN                     RESULT  EXPIRES                         RESOURCES\n\
         ci_one  [TIMESTAMP]  create [TIMESTAMP]  ok      [TIMESTAMP] (expired)  3\n\
         ci_two  [TIMESTAMP]  create [TIMESTAMP]  ok      never                           0\n",
        "{}",
        run.stderr
    );

    let (run, _) = Test::new()
        .args(["list", "--state", &place, "--output", "json"])
        .status(0)
        .run();
    // The harness filters times to [TIMESTAMP]; the array stays one JSON document.
    let listed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let listed = listed.as_array().expect("one array");
    assert_eq!(listed.len(), 2, "{}", run.stdout);
    assert_eq!(listed[0]["name"], "ci_one");
    assert_eq!(listed[0]["expired"], true);
    assert_eq!(listed[0]["resources"], 3);
    assert_eq!(listed[0]["last_run"]["command"], "create");
    assert_eq!(listed[0]["last_run"]["result"], "ok");
    assert_eq!(listed[0]["created_at"], "[TIMESTAMP]");
    assert_eq!(listed[1]["name"], "ci_two");
    assert_eq!(listed[1]["expires_at"], serde_json::Value::Null);
    assert_eq!(listed[1]["expired"], false);
}

#[test]
fn an_empty_place_says_so_and_one_file_is_refused() {
    let states = tempfile::tempdir().unwrap();
    let place = folder(states.path());
    Test::new()
        .args(["list", "--state", &place])
        .status(0)
        .stdout_has(&format!("no stacks under {place}"))
        .run();
    Test::new()
        .args(["list", "--state", &format!("{place}missing/")])
        .status(0)
        .stdout_has("no stacks under")
        .run();
    Test::new()
        .args(["list", "--state", "kickstart.state.json"])
        .status(2)
        .stderr_has("names one stack's state")
        .stderr_lines(1)
        .run();
}

#[test]
fn a_ttl_that_is_past_or_unreadable_is_refused_before_anything_is_touched() {
    let states = tempfile::tempdir().unwrap();
    let place = folder(states.path());
    for (ttl, says) in [
        ("2020-01-01", "not in the future"),
        ("2020-01-01T00:00:00Z", "not in the future"),
        ("soon", "give --ttl as a duration"),
        ("4w", "give --ttl as a duration"),
    ] {
        Test::new()
            .args(["create", "--stack-name", "ttl_stack", "--state", &place])
            .args(["--ttl", ttl])
            .args(FULL)
            .status(2)
            .stderr_has(says)
            .stderr_lines(1)
            .run();
    }
    assert_eq!(std::fs::read_dir(states.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_stack_in_a_folder_records_its_lifetime_and_keeps_its_expiry() {
    let root = tempfile::tempdir().unwrap();
    // A fresh CI runner: the shared folder does not exist yet.
    let states = root.path().join("states");
    let place = folder(&states);
    let stack = ["--stack-name", "folder_stack", "--state", &place];
    let before = Timestamp::now();
    Test::new()
        .args(["create"])
        .args(stack)
        .args(["--ttl", "4h"])
        .args(FULL)
        .status(0)
        .stderr_has("create done")
        .run_async()
        .await;
    let path = states.join("folder_stack.json");
    let doc = FileStore::new(&path).load("folder_stack").unwrap().unwrap();
    let expires = doc.expires_at.expect("--ttl records an expiry");
    assert!(expires >= before + 4.hours() && expires <= Timestamp::now() + 4.hours());
    let created = doc.created_at.expect("create records when");
    let run = doc.last_run.expect("create records its run");
    assert_eq!(
        (run.command.as_str(), run.result),
        ("create", RunResult::Ok)
    );
    assert!(!doc.nodes.is_empty());

    // A create without --ttl keeps the expiry, and when the stack was made.
    Test::new()
        .args(["create"])
        .args(stack)
        .args(FULL)
        .status(0)
        .run_async()
        .await;
    let again = FileStore::new(&path).load("folder_stack").unwrap().unwrap();
    assert_eq!(again.expires_at, Some(expires));
    assert_eq!(again.created_at, Some(created));
    assert!(again.last_run.unwrap().at > run.at);

    // A run that fails before its first node (a client secret it cannot read: marked for
    // deletion) is still the last run `list` shows.
    let secrets = aws_sdk_secretsmanager::Client::new(&crate::common::clouds::moto_sdk().await);
    let names = secrets.list_secrets().send().await.unwrap();
    let client = names
        .secret_list()
        .iter()
        .filter_map(|s| s.name())
        .find(|n| n.contains("folder_stack") && n.ends_with("python_client"))
        .expect("the stack holds a client secret")
        .to_string();
    secrets
        .delete_secret()
        .secret_id(&client)
        .send()
        .await
        .unwrap();
    Test::new()
        .args(["create"])
        .args(stack)
        .args(FULL)
        .status(2)
        .stderr_has("GetSecretValue")
        .run_async()
        .await;
    let failed = FileStore::new(&path).load("folder_stack").unwrap().unwrap();
    let last = failed.last_run.expect("the failed run is recorded");
    assert_eq!(
        (last.command.as_str(), last.result),
        ("create", RunResult::Failed)
    );
    assert_eq!(
        failed.nodes.len(),
        again.nodes.len(),
        "nothing else changed"
    );
    secrets
        .restore_secret()
        .secret_id(&client)
        .send()
        .await
        .unwrap();

    // Another stack's name is another state beside it; delete finds this one by name alone.
    let (listed, _) = Test::new()
        .args(["list", "--state", &place])
        .status(0)
        .run_async()
        .await;
    assert!(listed.stdout.contains("folder_stack"), "{}", listed.stdout);
    Test::new()
        .args(["delete"])
        .args(stack)
        .args(FULL)
        .status(0)
        .stderr_has("delete done")
        .run_async()
        .await;
    assert!(!path.exists(), "a stack fully deleted leaves no state");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_s3_prefix_lists_its_own_states_and_gc_reads_them() {
    let bucket = format!("fleet-states-{}", std::process::id());
    let s3 = crate::common::clouds::moto_s3().await;
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let doc = |stack: &str, expires_at: Option<Timestamp>| {
        let mut doc = StateDoc::new(stack);
        doc.expires_at = expires_at;
        serde_json::to_vec(&doc).unwrap()
    };
    let objects = [
        (
            "ci/a_one.json",
            doc("a_one", Some(Timestamp::now() - 1.minute())),
        ),
        ("ci/b_two.json", doc("b_two", None)),
        ("ci/b_two.json.lock", b"{}".to_vec()),
        ("ci/deeper/c_three.json", doc("c_three", None)),
        ("elsewhere/d_four.json", doc("d_four", None)),
    ];
    for (key, body) in objects {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }
    let place = format!("s3://{bucket}/ci/");
    let (run, _) = Test::new()
        .args(["list", "--state", &place, "--output", "json"])
        .status(0)
        .run_async()
        .await;
    let listed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a_one", "b_two"], "{}", run.stderr);

    let (run, _) = Test::new()
        .args(["gc", "--dry-run", "--state", &place])
        .args(FULL)
        .status(0)
        .stdout_has("would remove a_one")
        .run_async()
        .await;
    assert!(!run.stdout.contains("b_two"), "{}", run.stdout);
}
