//! The newest deploy.sh command line and its admin secret: `deploy.sh` replaced by `kickstart`,
//! both forms run the whole stack; the admin secret in the seed's layout is read; a secret that
//! lacks keys, or a bad value, ends the run with exit 2 before anything is touched.

use crate::common;

use base64::Engine as _;
use common::clouds::{self, emulators};
use common::{FULL, Test};
use serde_json::json;

const ADMIN_SECRET: &str = "/snowflake_admin_service_user/tableflow";

/// The newest deploy.sh's flags, without the admin connection's variables of the stand-ins.
fn newest(verb: &str) -> Test {
    Test::new()
        .args([
            verb,
            "--profile=dev",
            "--confluent-api-key=CKEY123",
            "--confluent-api-secret=cloud-secret-do-not-print",
            "--snowflake-warehouse=COMPUTE_WH",
        ])
        .args([format!(
            "--admin-service-user-secrets-root-path={ADMIN_SECRET}"
        )])
        .without("SNOWFLAKE_ACCOUNT")
        .without("SNOWFLAKE_USER")
        .without("SNOWFLAKE_PRIVATE_KEY_FILE")
}

/// The admin secret as the seed keeps it (its keys as the issue lists them), minus `leave_out`.
async fn put_admin_secret(leave_out: &[&str]) {
    let pem = std::fs::read_to_string(&emulators().admin_key_file).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
    let mut v = json!({
        "snowflake_account_identifier": clouds::SNOWFLAKE_ACCOUNT,
        "snowflake_organization_name": "LOCALORG", "snowflake_account_name": "TESTS",
        "admin_service_user": "ADMIN", "active_key_number": 1,
        "snowflake_rsa_public_key_1_pem": "unused", "snowflake_rsa_public_key_2_pem": "unused",
        "snowflake_rsa_private_key_1_pem": b64, "snowflake_rsa_private_key_2_pem": "",
    });
    for k in leave_out {
        v.as_object_mut().unwrap().remove(*k);
    }
    let sm = aws_sdk_secretsmanager::Client::new(&clouds::moto_sdk().await);
    sm.create_secret()
        .name(ADMIN_SECRET)
        .secret_string(v.to_string())
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_newest_command_line_reads_the_seeds_admin_secret_and_runs_the_stack() {
    put_admin_secret(&[]).await;
    let (run, dir) = tokio::task::spawn_blocking(|| {
        newest("create")
            .args(["--day-count=30", "--debug"])
            .status(0)
            .stderr_has("create done")
            .run()
    })
    .await
    .unwrap();
    assert!(run.stderr.contains("DEBUG"), "--debug logs in detail");
    let d = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        newest("delete")
            .in_dir(&d)
            .status(0)
            .stderr_has("delete done")
            .run()
    })
    .await
    .unwrap();
}

#[test]
fn the_older_command_line_runs_the_stack_unchanged_and_adopts_a_stack_by_name() {
    let (run, dir) = Test::new()
        .args(["create"])
        .args(FULL)
        .status(0)
        .stderr_has("create done")
        .run();
    // A stack made from nothing has nothing of deploy.sh's to point out.
    assert!(!run.stderr.contains("could not identify"), "{}", run.stderr);
    // Without any state (as after deploy.sh without its Terraform state), create adopts the
    // stack by name, makes nothing, and says what it could not identify.
    std::fs::remove_file(dir.path().join("kickstart.state.json")).unwrap();
    let (again, _) = Test::new()
        .in_dir(dir.path())
        .args(["create"])
        .args(FULL)
        .status(0)
        .stderr_has("could not identify")
        .stderr_has("key-pair rotation Lambda `tableflow_kickstarter`")
        .run();
    assert!(!again.stderr.contains("created "), "{}", again.stderr);
    Test::new()
        .in_dir(dir.path())
        .args(["delete"])
        .args(FULL)
        .status(0)
        .stderr_has("delete done")
        .run();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_secret_lacking_keys_is_refused_naming_them_with_nothing_touched() {
    put_admin_secret(&[
        "snowflake_account_identifier",
        "snowflake_organization_name",
        "active_key_number",
    ])
    .await;
    let (run, dir) =
        tokio::task::spawn_blocking(|| newest("create").status(2).stderr_lines(1).run())
            .await
            .unwrap();
    assert!(
        run.stderr
            .contains("lacks snowflake_account_identifier, active_key_number"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("BEGIN PRIVATE KEY"));
    assert!(!dir.path().join("kickstart.state.json").exists());
    // The journal keeps the mutating calls: the preflight only reads.
    assert!(
        emulators().journal.calls().is_empty(),
        "no call changed a stand-in"
    );
}

#[test]
fn bad_values_of_the_new_flags_exit_2_with_nothing_touched() {
    for bad in [
        "--admin-service-user-secrets-root-path=",
        "--admin-service-user-secrets-root-path=has spaces",
        "--day-count=0",
    ] {
        let (run, dir) = newest("create").args([bad]).status(2).stderr_lines(1).run();
        assert!(run.stdout.is_empty(), "{bad}");
        assert!(!dir.path().join("kickstart.state.json").exists(), "{bad}");
    }
}
