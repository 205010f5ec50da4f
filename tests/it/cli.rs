//! The binary as a user meets it: bad input, help, the deploy.sh command line, output modes.

use crate::common;

use std::net::SocketAddr;

use common::{FULL, Test, clouds};
use local_cloud::{FaultConfig, LocalCloud};

/// Every bad input: exit 2, one line on stderr that says what to do, nothing on stdout, no state.
#[test]
fn bad_input_exits_2_with_one_line_and_touches_nothing() {
    let cases: &[(&[&str], &str)] = &[
        (&["create", "--stack-name=Bad_Name"], "--stack-name"),
        (&["create", "--stack-name=ab"], "3 to 40 lowercase letters"),
        (
            &["create", "--stack-name=has-dash"],
            "3 to 40 lowercase letters",
        ),
        (&["create", "--stack-name=9lives"], "starting with a letter"),
        (&["create", "--day-count=0"], "from 1 to 3650"),
        (&["create", "--day-count=soon"], "--day-count"),
        (
            &["create", "--number-of-api-keys-to-retain=1"],
            "from 2 to 10",
        ),
        (
            &["create", "--concurrency=0"],
            "concurrency must be a whole number",
        ),
        (&["create", "--region=mars"], "such as us-east-1"),
        (&["create", "--output=xml"], "--output"),
        (&["create", "--confluent-endpoint=ftp://x"], "base URL"),
        (&["create", "--snowflake-endpoint=not a url"], "base URL"),
        (&["create", "--state=s3://bucket-only"], "s3://bucket/key"),
        (&["create", "--lock-timeout=forever"], "such as 30s"),
        (&["create", "--wait-timeout=9999h"], "such as 30s"),
        (&["create", "--confluent-api-key="], "must not be empty"),
        (
            &["create", "--frobnicate"],
            "unexpected argument '--frobnicate'",
        ),
        (&["explode"], "unrecognized subcommand"),
        (&[], "no command given"),
        (&["completions"], "required"),
    ];
    // All three stand-ins up, every case pointed at them (AWS through the proxy, which counts).
    let (emulators, proxy) = (clouds::emulators(), clouds::moto_proxy());
    let before = (emulators.faults.all(), proxy.faults.all());
    for (args, message) in cases {
        // The rest of a full command line, so that only the bad value is wrong.
        let same_flag = |f: &&&str| {
            args.iter()
                .any(|a| a.split('=').next() == f.split('=').next())
        };
        let rest = FULL
            .iter()
            .filter(|f| args.first() == Some(&"create") && !same_flag(f));
        let mut test = Test::new();
        for (k, v) in clouds::stand_in_env() {
            test = test.env(k, &v);
        }
        let (run, dir) = test
            .env("AWS_ENDPOINT_URL", &proxy.url)
            .args(args.iter())
            .args(rest)
            .status(2)
            .stderr_has(message)
            .stderr_lines(1)
            .run();
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{args:?} left files"
        );
        assert_eq!(
            (emulators.faults.all(), proxy.faults.all()),
            before,
            "{args:?} called a stand-in (Confluent and Snowflake, AWS)"
        );
    }
}

#[test]
fn missing_inputs_name_the_flag_and_the_variable() {
    let cases: &[(&str, &str)] = &[
        (
            "--confluent-api-key",
            "pass --confluent-api-key or set CONFLUENT_CLOUD_API_KEY",
        ),
        (
            "--confluent-api-secret",
            "pass --confluent-api-secret or set CONFLUENT_CLOUD_API_SECRET",
        ),
        (
            "--snowflake-warehouse",
            "pass --snowflake-warehouse NAME or set SNOWFLAKE_WAREHOUSE",
        ),
    ];
    for (left_out, message) in cases {
        Test::new()
            .bare()
            .args(["create"])
            .args(FULL.iter().filter(|f| !f.starts_with(left_out)))
            .status(2)
            .stderr_has(message)
            .stderr_lines(1)
            .run();
    }
    Test::new()
        .bare()
        .args(["create", "--snowflake-account=org-acct"])
        .args(FULL)
        .status(2)
        .stderr_has("--snowflake-account given without --snowflake-user")
        .stderr_lines(1)
        .run();
    Test::new()
        .args([
            "create",
            "--snowflake-account=o-a",
            "--snowflake-user=ADMIN",
        ])
        .args(["--snowflake-private-key-file=/nonexistent/key.p8"])
        .args(FULL)
        .status(2)
        .stderr_has("cannot read the Snowflake private key file /nonexistent/key.p8")
        .run();
    // delete does not need a warehouse; status needs no credentials at all.
    Test::new()
        .bare()
        .args(["delete", "--confluent-api-key=k"])
        .status(2)
        .stderr_has("missing the Confluent Cloud API secret")
        .run();
    Test::new()
        .args(["status"])
        .status(0)
        .stdout_has("no state at")
        .run();
}

/// With the Confluent endpoint pointed at a stand-in, bad input makes no call at all.
#[tokio::test(flavor = "multi_thread")]
async fn bad_input_makes_no_call() {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let cloud = LocalCloud::start(addr, FaultConfig::default(), axum::Router::new())
        .await
        .unwrap();
    let endpoint = format!("--confluent-endpoint={}", cloud.url());
    let url = cloud.url();
    tokio::task::spawn_blocking(move || {
        for bad in ["--day-count=0", "--stack-name=X", "--region=nowhere"] {
            Test::new()
                .args(["create", bad, &endpoint])
                .args(FULL)
                .status(2)
                .run();
        }
        Test::new()
            .args(["create", "--snowflake-warehouse=W"])
            .env("CONFLUENT_CLOUD_ENDPOINT", &url)
            .status(2)
            .run();
    })
    .await
    .unwrap();
    assert!(
        cloud.journal.calls().is_empty(),
        "{:?}",
        cloud.journal.calls()
    );
    cloud.stop().await;
}

#[test]
fn the_deploy_sh_command_line_runs_the_whole_stack_in_both_forms() {
    // The old command line, against the stand-ins: create, create again (nothing to do), delete.
    let (run, dir) = Test::new()
        .args(["create"])
        .args(FULL)
        .status(0)
        .stderr_has("create done")
        .run();
    assert!(
        run.stderr
            .contains("created environment tableflow_kickstarter"),
        "{}",
        run.stderr
    );
    let spaced: Vec<String> = FULL
        .iter()
        .flat_map(|f| {
            let (k, v) = f.split_once('=').unwrap();
            [k.to_string(), v.to_string()]
        })
        .collect();
    let (again, _) = Test::new()
        .in_dir(dir.path())
        .args(["create"])
        .args(&spaced)
        .status(0)
        .run();
    assert!(
        !again.stderr.contains("created") && !again.stderr.contains("rotated"),
        "{}",
        again.stderr
    );
    Test::new()
        .in_dir(dir.path())
        .args([
            "delete",
            "--profile=dev",
            "--confluent-api-key=CKEY123",
            "--confluent-api-secret=cloud-secret-do-not-print",
        ])
        .status(0)
        .stderr_has("delete done")
        .run();
    assert!(
        !dir.path().join("kickstart.state.json").exists(),
        "an empty state is removed"
    );
}

#[test]
fn environment_variables_stand_in_for_flags() {
    Test::new()
        .args(["plan"])
        .env("CONFLUENT_CLOUD_API_KEY", "CKEY123")
        .env("CONFLUENT_CLOUD_API_SECRET", "cloud-secret-do-not-print")
        .env("SNOWFLAKE_WAREHOUSE", "W")
        .env("AWS_PROFILE", "dev")
        .status(0)
        .stdout_has("create   environment tableflow_kickstarter")
        .run();
    Test::new()
        .args(["graph"])
        .env("KICKSTART_STACK_NAME", "from_env")
        .status(0)
        .stdout_has("digraph \"from_env\"")
        .run();
}

#[test]
fn help_for_every_command() {
    let cases: &[(&str, &[&str])] = &[
        (
            "create",
            &[
                "--confluent-api-key",
                "--day-count",
                "--number-of-api-keys-to-retain",
                "--profile",
                "--snowflake-warehouse",
                "--concurrency",
                "--lock-timeout",
            ],
        ),
        (
            "delete",
            &["--confluent-api-secret", "--state", "--stack-name"],
        ),
        ("plan", &["--day-count", "--output"]),
        ("status", &["--refresh", "--state"]),
        ("graph", &["--stack-name"]),
        ("rotate", &["--day-count", "--number-of-api-keys-to-retain"]),
        ("completions", &["bash", "zsh"]),
    ];
    for (command, flags) in cases {
        let mut test = Test::new()
            .args([*command, "--help"])
            .status(0)
            .stdout_has(&format!("Usage: kickstart {command}"));
        for flag in *flags {
            test = test.stdout_has(flag);
        }
        test.run();
    }
    Test::new()
        .args(["--help"])
        .status(0)
        .stdout_has("Exit status: 0 done, 1 a failure while running")
        .run();
    Test::new()
        .args(["--version"])
        .status(0)
        .stdout_has("kickstart ")
        .run();
}

#[test]
fn help_never_shows_a_secret_from_the_environment() {
    let (run, _) = Test::new()
        .args(["create", "--help"])
        .env("CONFLUENT_CLOUD_API_SECRET", "env-secret-value")
        .status(0)
        .run();
    assert!(!run.stdout.contains("env-secret-value"));
}

#[test]
fn completions_and_man_page_come_from_the_same_definitions() {
    for (shell, marker) in [
        ("bash", "_kickstart"),
        ("zsh", "#compdef kickstart"),
        ("fish", "complete -c kickstart"),
    ] {
        Test::new()
            .args(["completions", shell])
            .status(0)
            .stdout_has(marker)
            .stdout_has("number-of-api-keys-to-retain")
            .run();
    }
    Test::new()
        .args(["man"])
        .status(0)
        .stdout_has(".TH kickstart")
        .stdout_has("rotate")
        .run();
}

#[test]
fn json_output_is_one_object_per_line_ending_with_a_summary() {
    // No time to wait: the first node that must wait for its resource fails, and the run stops.
    let (run, _) = Test::new()
        .args([
            "create",
            "--output=json",
            "--concurrency=1",
            "--wait-timeout=0s",
        ])
        .args(FULL)
        .status(1)
        .run();
    let objects: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"start"));
    assert!(kinds.contains(&"fail"));
    let summary = objects.iter().find(|o| o["event"] == "summary").unwrap();
    assert_eq!(summary["command"], "create");
    assert_eq!(summary["ok"], false);
    let error = summary["failures"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("not ready after 0s") && error.contains("run the command again"),
        "{error}"
    );
    assert_eq!(kinds.last(), Some(&"error"));
    assert_eq!(objects.last().unwrap()["exit_code"], 1);
    // In JSON mode the only thing on stderr is the error line.
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}
