//! Crash and resume: the stand-ins hold the k-th mutating call unanswered, the test kills the
//! binary with SIGKILL at that moment, and the next `create` must finish the stack with exactly
//! one of each resource; `delete` then leaves nothing. No hook in the tool: the stand-in hangs.

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::clouds::{self, CONFLUENT_KEY, CONFLUENT_SECRET, emulators};
use common::{FULL, Test};
use local_cloud::snowflake::Kind;
use serde_json::Value;

/// A GET of the Confluent API, to count what the emulator holds.
fn get(path: &str) -> Value {
    use base64::Engine as _;
    use std::io::{Read as _, Write as _};
    let host = emulators().url.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    let token = base64::engine::general_purpose::STANDARD
        .encode(format!("{CONFLUENT_KEY}:{CONFLUENT_SECRET}"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAuthorization: Basic {token}\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap_or("null").trim())
        .unwrap_or(Value::Null)
}

/// Where a run is held: at local-cloud's emulators (Confluent, Snowflake) or at the AWS proxy.
#[derive(Clone, Copy, Debug)]
enum At {
    Emulators,
    Aws,
}

fn faults(at: At) -> &'static local_cloud::Faults {
    match at {
        At::Emulators => &emulators().faults,
        At::Aws => &clouds::moto_proxy().faults,
    }
}

fn set_hang(at: At, step: Option<u64>) {
    faults(at).set(local_cloud::FaultConfig {
        hang_at: step,
        ..local_cloud::FaultConfig::default()
    });
}

fn calls(at: At) -> (u64, bool) {
    let f = faults(at);
    (f.mutating(), f.hanging())
}

fn count(path: &str) -> usize {
    get(path)["data"].as_array().map_or(0, Vec::len)
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
    let config = common::clouds::moto_sdk().await;
    let s3 = common::clouds::moto_s3().await;
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
        ("glue tables".into(), glue_tables(&config).await),
        ("objects".into(), objects(&s3).await),
    ]
}

/// Tables in every Glue database: what Tableflow's catalog sync published.
async fn glue_tables(config: &aws_config::SdkConfig) -> usize {
    let glue = aws_sdk_glue::Client::new(config);
    let mut n = 0;
    for db in glue.get_databases().send().await.unwrap().database_list() {
        let tables = glue.get_tables().database_name(db.name()).send().await;
        n += 1 + tables.unwrap().table_list().len();
    }
    n
}

/// Objects in every bucket: what Tableflow wrote.
async fn objects(s3: &aws_sdk_s3::Client) -> usize {
    let mut n = 0;
    for b in s3.list_buckets().send().await.unwrap().buckets() {
        let listed = s3.list_objects_v2().bucket(b.name().unwrap()).send().await;
        n += listed.unwrap().contents().len();
    }
    n
}

/// The census once Tableflow's background work has caught up with `expected`, or as it stands
/// after a few seconds.
fn settled_census(expected: &[(String, usize)]) -> Vec<(String, usize)> {
    let mut now = census();
    for _ in 0..30 {
        if now == expected {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        now = census();
    }
    now
}

#[test]
fn a_create_killed_at_any_mutating_step_is_finished_by_the_next_with_one_of_each() {
    // Every run reaches AWS through the proxy, so AWS calls can be held too.
    let proxy = [("AWS_ENDPOINT_URL", clouds::moto_proxy().url.clone())];
    let run = |dir: Option<&std::path::Path>, command: &str| {
        let mut t = Test::new()
            .args([command])
            .args(FULL)
            .env(proxy[0].0, &proxy[0].1);
        if let Some(d) = dir {
            t = t.in_dir(d);
        }
        t.status(0).run()
    };
    // One full create first: how many mutating calls reach each stand-in, and what a stack holds.
    set_hang(At::Emulators, None);
    set_hang(At::Aws, None);
    let (_, dir) = run(None, "create");
    let totals = [calls(At::Emulators).0, calls(At::Aws).0];
    std::thread::sleep(Duration::from_millis(500));
    let whole = census();
    assert!(
        whole.contains(&("glue tables".into(), 3)) && whole.contains(&("objects".into(), 2)),
        "Tableflow's Glue database, two tables and their metadata files: {whole:?}"
    );
    run(Some(dir.path()), "delete");
    let empty = census();
    assert!(
        totals[0] > 40 && totals[1] > 20,
        "mutating calls: {totals:?}"
    );

    // A spread of steps across the whole create: 12 at Confluent and Snowflake, 8 at AWS.
    let mut steps: Vec<(At, u64)> = (0..12)
        .map(|i| (At::Emulators, 1 + i * (totals[0] - 1) / 11))
        .collect();
    steps.extend((0..8).map(|i| (At::Aws, 1 + i * (totals[1] - 1) / 7)));
    for (at, k) in steps {
        let dir = tempfile::tempdir().unwrap();
        set_hang(at, Some(k));
        let mut child = Command::new(env!("CARGO_BIN_EXE_kickstart"))
            .current_dir(dir.path())
            .args(["create"])
            .args(FULL)
            .envs(clouds::stand_in_env())
            .env(proxy[0].0, &proxy[0].1)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !calls(at).1 {
            assert!(
                Instant::now() < deadline,
                "step {k} at {at:?} was never reached"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "the run ended before step {k} at {at:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        set_hang(at, None);

        let (again, _) = run(Some(dir.path()), "create");
        assert_eq!(
            settled_census(&whole),
            whole,
            "after a kill at step {k} at {at:?}:\n{}",
            again.stderr
        );
        run(Some(dir.path()), "delete");
        assert_eq!(census(), empty, "delete after a kill at step {k} at {at:?}");
    }
}
