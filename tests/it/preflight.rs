//! Bad input that only the clouds can reveal (an endpoint that is not there, a credential they
//! refuse) and bad input they never see: each gives a one-line message, exit 2, and not one
//! mutating call in any of the three journals (Confluent and Snowflake at local-cloud, AWS at the
//! proxy in front of moto). No lock or state file is left either.

use crate::common;

use common::clouds::{self, emulators};
use common::{FULL, Test};
use secrecy::ExposeSecret as _;

/// The mutating calls each stand-in has seen.
fn journals() -> (Vec<local_cloud::Call>, Vec<local_cloud::Call>) {
    (
        emulators().journal.calls(),
        clouds::moto_proxy().journal.calls(),
    )
}

/// A loopback port nobody listens on.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_endpoints_and_refused_credentials_touch_nothing() {
    let proxy = tokio::task::spawn_blocking(|| clouds::moto_proxy().url.clone())
        .await
        .unwrap();
    let other_key = kickstart::snowflake::KeyPair::generate().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let other_key_file = keys.path().join("other.p8");
    std::fs::write(&other_key_file, other_key.private_pem.expose_secret()).unwrap();
    let other_key_file = other_key_file.display().to_string();

    // (what is changed, the variable or flag, the message's start)
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "AWS_ENDPOINT_URL",
            closed_port(),
            "cannot reach AWS STS at http://127.0.0.1:",
        ),
        (
            "CONFLUENT_CLOUD_ENDPOINT",
            closed_port(),
            "cannot reach Confluent Cloud at http://127.0.0.1:",
        ),
        (
            "SNOWFLAKE_ENDPOINT",
            closed_port(),
            "cannot reach Snowflake account LOCALORG-TESTS",
        ),
        (
            "--confluent-api-secret",
            "wrong".into(),
            "Confluent Cloud refused the Cloud API key CKEY123 (401",
        ),
        (
            "--confluent-api-key",
            "NOSUCHKEY".into(),
            "Confluent Cloud refused the Cloud API key NOSUCHKEY (401",
        ),
        (
            "SNOWFLAKE_PRIVATE_KEY_FILE",
            other_key_file,
            "Snowflake refused the admin login of ADMIN to LOCALORG-TESTS",
        ),
        (
            "SNOWFLAKE_USER",
            "NOBODY".into(),
            "Snowflake refused the admin login of NOBODY",
        ),
        (
            "SNOWFLAKE_ACCOUNT",
            "OTHERORG-OTHER".into(),
            "Snowflake refused the admin login of ADMIN to OTHERORG-OTHER",
        ),
        ("--day-count", "0".into(), "from 1 to 3650"),
        (
            "--profile",
            "nosuchprofile".into(),
            "AWS profile 'nosuchprofile' is not in",
        ),
        (
            "--snowflake-warehouse",
            String::new(),
            "pass --snowflake-warehouse NAME",
        ),
    ];
    for (command, (what, value, message)) in ["create", "delete", "plan"]
        .iter()
        .flat_map(|c| cases.iter().map(move |case| (*c, case)))
    {
        if command == "delete" && what == &"--snowflake-warehouse" {
            continue; // delete needs no warehouse
        }
        let (what, value, message) = (what.to_string(), value.clone(), message.to_string());
        let proxy = proxy.clone();
        let shown = message.clone();
        let (run, dir) = tokio::task::spawn_blocking(move || {
            let mut t = Test::new()
                .args([command])
                .env("AWS_ENDPOINT_URL", &proxy)
                .status(2)
                .stderr_has(&message)
                .stderr_lines(1);
            if what.starts_with("--") {
                let flag = format!("{what}=");
                t = t.args(FULL.iter().filter(|f| !f.starts_with(&flag)));
                if !value.is_empty() {
                    t = t.args([format!("{flag}{value}")]);
                }
            } else {
                t = t.args(FULL).env(&what, &value);
            }
            t.run()
        })
        .await
        .unwrap();
        assert!(run.stdout.is_empty(), "{command} {shown}: {}", run.stdout);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{command} {shown} left {left:?}");
        let (at_emulators, at_aws) = journals();
        assert!(
            at_emulators.is_empty() && at_aws.is_empty(),
            "{command} with {shown}: mutating calls {at_emulators:?} {at_aws:?}"
        );
    }
    // With nothing changed the same stand-ins take the run: each refusal above was about the one
    // input it changed. plan only reads, so the journals stay empty.
    Test::new()
        .args(["plan"])
        .args(FULL)
        .env("AWS_ENDPOINT_URL", &proxy)
        .status(0)
        .stdout_has("plan: 74 to create")
        .run_async()
        .await;
    let (at_emulators, at_aws) = journals();
    assert!(at_emulators.is_empty() && at_aws.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_refusing_the_credentials_touches_nothing() {
    let proxy = tokio::task::spawn_blocking(|| clouds::moto_proxy().url.clone())
        .await
        .unwrap();
    // moto checks credentials once told to, as AWS does: our key is no IAM user's there.
    let auth = reqwest::Client::new()
        .post(format!("{}/moto-api/reset-auth", clouds::moto()))
        .body("0")
        .send()
        .await
        .unwrap();
    assert!(auth.status().is_success());
    for command in ["create", "delete", "plan"] {
        let proxy = proxy.clone();
        let (run, dir) = Test::new()
            .args([command])
            .args(FULL)
            .env("AWS_ENDPOINT_URL", &proxy)
            .status(2)
            .stderr_has("AWS refused the credentials (InvalidClientTokenId: ")
            .stderr_has("check --profile or the AWS environment")
            .stderr_lines(1)
            .run_async()
            .await;
        assert!(!run.stderr.contains("sso login"), "{}", run.stderr);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{command} left {left:?}");
        let (at_emulators, at_aws) = journals();
        assert!(
            at_emulators.is_empty() && at_aws.is_empty(),
            "{command}: mutating calls {at_emulators:?} {at_aws:?}"
        );
    }
}
