//! Crash and resume: the stand-ins hold the k-th mutating call unanswered, the test kills the
//! binary with SIGKILL at that moment, and the next `create` must finish the stack with exactly
//! one of each resource; `delete` then leaves nothing. No hook in the tool: the stand-in hangs.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::clouds::{self, CONFLUENT_KEY, CONFLUENT_SECRET, emulators};
use common::{FULL, Test};
use local_cloud::snowflake::Kind;
use serde_json::{Value, json};

/// A plain HTTP call to local-cloud's control endpoints or Confluent API.
fn call(method: &str, path: &str, body: Option<&Value>, auth: bool) -> Value {
    use std::io::{Read as _, Write as _};
    let host = emulators().url.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let authorization = if auth {
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{CONFLUENT_KEY}:{CONFLUENT_SECRET}"));
        format!("Authorization: Basic {token}\r\n")
    } else {
        String::new()
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{authorization}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap_or("null").trim())
        .unwrap_or(Value::Null)
}

fn set_hang(at: Option<u64>) {
    call(
        "PUT",
        "/_local/faults",
        Some(&json!({"hang_at": at})),
        false,
    );
}

fn count(path: &str) -> usize {
    call("GET", path, None, true)["data"]
        .as_array()
        .map_or(0, Vec::len)
}

/// How many of each resource the stand-ins hold.
fn census() -> Vec<(String, usize)> {
    let sf = &emulators().snowflake;
    let mut out: Vec<(String, usize)> = vec![
        ("environments".into(), count("/org/v2/environments")),
        ("service accounts".into(), count("/iam/v2/service-accounts")),
        ("api keys".into(), count("/iam/v2/api-keys")),
        (
            "role bindings".into(),
            count("/iam/v2/role-bindings?crn_pattern=crn://confluent.cloud/"),
        ),
    ];
    for kind in [
        Kind::Warehouse,
        Kind::Database,
        Kind::Schema,
        Kind::Role,
        Kind::User,
        Kind::ExternalVolume,
        Kind::CatalogIntegration,
        Kind::IcebergTable,
    ] {
        out.push((format!("{kind:?}"), sf.names(kind).len()));
    }
    let aws = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(moto_census());
    out.extend(aws);
    out
}

async fn moto_census() -> Vec<(String, usize)> {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(clouds::moto())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let iam = aws_sdk_iam::Client::new(&config);
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    let local = aws_sdk_iam::types::PolicyScopeType::Local;
    vec![
        (
            "buckets".into(),
            s3.list_buckets().send().await.unwrap().buckets().len(),
        ),
        (
            "roles".into(),
            iam.list_roles().send().await.unwrap().roles().len(),
        ),
        (
            "policies".into(),
            iam.list_policies()
                .scope(local)
                .send()
                .await
                .unwrap()
                .policies()
                .len(),
        ),
        (
            "secrets".into(),
            sm.list_secrets().send().await.unwrap().secret_list().len(),
        ),
    ]
}

#[test]
fn a_create_killed_at_any_mutating_step_is_finished_by_the_next_with_one_of_each() {
    // One full create first: how many mutating calls reach the emulators, and what a stack holds.
    set_hang(None);
    let (_, dir) = Test::new().args(["create"]).args(FULL).status(0).run();
    let total = call("GET", "/_local/calls", None, false)["mutating"]
        .as_u64()
        .unwrap();
    let whole = census();
    Test::new()
        .in_dir(dir.path())
        .args(["delete"])
        .args(FULL)
        .status(0)
        .run();
    let empty = census();
    assert!(total > 40, "only {total} mutating calls");

    // A spread of 16 steps across the whole create, Confluent's and Snowflake's calls alike.
    let steps: Vec<u64> = (0..16).map(|i| 1 + i * (total - 1) / 15).collect();
    for k in steps {
        let dir = tempfile::tempdir().unwrap();
        set_hang(Some(k));
        let mut child = Command::new(env!("CARGO_BIN_EXE_kickstart"))
            .current_dir(dir.path())
            .args(["create"])
            .args(FULL)
            .envs(clouds::stand_in_env())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while call("GET", "/_local/calls", None, false)["hanging"] != true {
            assert!(Instant::now() < deadline, "step {k} was never reached");
            assert!(
                child.try_wait().unwrap().is_none(),
                "the run ended before step {k}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        set_hang(None);

        let (run, _) = Test::new()
            .in_dir(dir.path())
            .args(["create"])
            .args(FULL)
            .status(0)
            .run();
        assert_eq!(
            census(),
            whole,
            "after a kill at step {k} of {total}:\n{}",
            run.stderr
        );
        Test::new()
            .in_dir(dir.path())
            .args(["delete"])
            .args(FULL)
            .status(0)
            .run();
        assert_eq!(census(), empty, "delete after a kill at step {k}");
    }
}
