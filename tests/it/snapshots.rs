//! What users read, pinned: the human output (exit status, stdout, stderr) of `plan`, `create`,
//! `status`, `output` and `delete` against the stand-ins, compared with the snapshots committed in
//! tests/it/snapshots/, so that any change to it is a diff someone reviews. What changes from run
//! to run (times, durations, the clouds' ids and keys, UUIDs, ports, hex suffixes) is redacted.
//!
//! Deterministic by construction rather than by sorting: the emulators answer at once (no
//! provisioning, propagation or deleting phase, so no `waiting for` line depends on timing), and
//! `create` and `delete` run with `--concurrency 1`, so their progress lines come in the engine's
//! own order, the order a reader follows.
//!
//! A missing or different snapshot fails the test (`./test` sets INSTA_UPDATE=no). To accept a
//! change: `INSTA_UPDATE=always cargo nextest run snapshots::`, then review `git diff`.

use crate::common;

use std::time::Duration;

use common::clouds::OwnEmulators;
use common::{FULL, Test};
use local_cloud::FaultConfig;
use local_cloud::confluent::Delays;
use regex::Regex;

/// The common filter (times, durations, timestamps, pids), then every id the clouds choose. An
/// id is masked character for character (`lkc-*****`), so that tables keep their alignment.
fn redact(text: &str) -> String {
    let rules = [
        // UUIDs first: they hold hex runs that the rules below would take apart.
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-(?<id>[0-9a-f]{12})",
        // Confluent's ids: env-, lkc-, pkc-, lsrc-, psrc-, lfcp-, sa-, rb-, cspi-, tci-.
        r"\b(env|lkc|pkc|lsrc|psrc|lfcp|sa|rb|cspi|tci)-(?<id>[0-9a-z]+)\b",
        // API keys: 16 upper-case letters and digits.
        r"\b(?<id>[0-9A-Z]{16})\b",
        // The bucket's random suffix, and the Tableflow path's number.
        r"tableflow-kickstarter-(?<id>[0-9a-f]{12})",
        r"s3://[^/\s]+/(?<id>\d+)/",
        // Snowflake's external ids.
        r"SFCRole=(?<id>\d+_[0-9a-f]+)",
    ];
    let mut text = common::filter(text);
    for pattern in rules {
        text = Regex::new(pattern)
            .unwrap()
            .replace_all(&text, |c: &regex::Captures| {
                let (all, id) = (&c[0], c.name("id").unwrap());
                let at = id.start() - c.get(0).unwrap().start();
                let tail = &all[at + id.len()..];
                format!("{}{}{tail}", &all[..at], "*".repeat(id.len()))
            })
            .into_owned();
    }
    // A UUID's first groups too, now that its last one marks it; and the stand-ins' ports, whose
    // width varies.
    let text = Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-\*{12}")
        .unwrap()
        .replace_all(&text, "********-****-****-****-************");
    Regex::new(r"127\.0\.0\.1:\d+")
        .unwrap()
        .replace_all(&text, "127.0.0.1:[PORT]")
        .into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn what_users_read_from_plan_create_status_output_and_delete() {
    let own = OwnEmulators::start(Delays::uniform(Duration::ZERO), FaultConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let one_at_a_time = ["--concurrency=1"];
    let steps: [(&str, &str, &[&str]); 7] = [
        ("plan_before_create", "plan", &[]),
        ("create", "create", &one_at_a_time),
        ("status", "status", &[]),
        ("plan_after_create", "plan", &[]),
        ("output", "output", &[]),
        ("delete", "delete", &one_at_a_time),
        ("output_after_delete", "output", &[]),
    ];
    for (snapshot, command, flags) in steps {
        let clouds: &[&str] = match command {
            "status" | "output" => &[],
            _ => FULL,
        };
        let mut test = Test::new()
            .in_dir(dir.path())
            .args([command])
            .args(flags)
            .args(clouds);
        for (key, value) in own.env() {
            test = test.env(key, &value);
        }
        let (run, _) = test.run_async().await;
        let shown = format!(
            "kickstart {command}\n--- status {}\n--- stdout\n{}--- stderr\n{}",
            run.status, run.stdout, run.stderr
        );
        insta::assert_snapshot!(snapshot, redact(&shown));
    }
}
