//! What people read names each resource as they know it, the same way everywhere: a full
//! `plan`, `create`, `status`, `graph` and `delete` against the stand-ins, with every line read.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::{FULL, Run, Test};
use regex::Regex;

/// Internal names a line must never show: STACK.md's rows (C5, A4, S2) and the templates a
/// name chosen at create once stood for.
fn internal(line: &str) -> Option<String> {
    // Amazon's own name is no row of STACK.md.
    let line = line.replace("S3 bucket", "bucket");
    let rules = [
        r"\b[CAS]\d{1,2}\b",
        r"<uuid>",
        r"<kafka cluster id>",
        r"<[a-z][a-z ]*>",
    ];
    rules
        .iter()
        .find_map(|r| Regex::new(r).unwrap().find(&line))
        .map(|m| m.as_str().to_string())
}

fn assert_no_internal_names(command: &str, run: &Run) {
    for line in run.stdout.lines().chain(run.stderr.lines()) {
        if let Some(found) = internal(line) {
            panic!("`{command}` shows {found:?} in {line:?}");
        }
    }
}

/// The label of each line matching `pattern` (its first group), checking none is there twice.
fn labels(command: &str, text: &str, pattern: &str) -> BTreeSet<String> {
    let pattern = Regex::new(pattern).unwrap();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for caps in text.lines().filter_map(|l| pattern.captures(l)) {
        *seen.entry(caps[1].to_string()).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "`{command}` names different resources alike: {twice:?}\n{text}"
    );
    seen.into_keys().collect()
}

/// The first column of `status`'s table: cells are apart by two spaces at least.
fn status_labels(stdout: &str) -> BTreeSet<String> {
    let rows: Vec<&str> = stdout
        .lines()
        .skip(1)
        .filter(|l| !l.contains(" resources recorded for stack "))
        .collect();
    let labels: BTreeSet<String> = rows
        .iter()
        .map(|l| l.split("  ").next().unwrap().to_string())
        .collect();
    assert_eq!(labels.len(), rows.len(), "a label twice in\n{stdout}");
    labels
}

/// A name chosen at create is added to the label once known; the rest of it stays.
fn before_named(label: &str) -> &str {
    label.split(", known as ").next().unwrap()
}

#[test]
fn every_command_names_each_resource_once_and_alike() {
    let (plan, dir) = Test::new().args(["plan"]).args(FULL).status(0).run();
    let (create, _) = Test::new()
        .in_dir(dir.path())
        .args(["create"])
        .args(FULL)
        .status(0)
        .run();
    let (status, _) = Test::new()
        .in_dir(dir.path())
        .args(["status"])
        .status(0)
        .run();
    let (graph, _) = Test::new().args(["graph"]).status(0).run();
    let (delete, _) = Test::new()
        .in_dir(dir.path())
        .args(["delete"])
        .args(FULL)
        .status(0)
        .run();
    for (command, run) in [
        ("plan", &plan),
        ("create", &create),
        ("status", &status),
        ("graph", &graph),
        ("delete", &delete),
    ] {
        assert_no_internal_names(command, run);
    }

    let planned = labels("plan", &plan.stdout, r"^create\s+(.+)$");
    let drawn = labels("graph", &graph.stdout, r#"^\s+"[^"]+" \[label="(.+)"\];$"#);
    let made = labels(
        "create",
        &create.stderr,
        r"^\[TIME\] (?:created|adopted|ready) (.+) in \[T\]s$",
    );
    let recorded = status_labels(&status.stdout);
    let deleted = labels(
        "delete",
        &delete.stderr,
        r"^\[TIME\] deleted (.+) in \[T\]s$",
    );
    assert!(made.len() >= 70, "every node is made: {made:#?}");
    assert_eq!(planned, drawn, "plan and graph name the nodes alike");
    assert_eq!(made, recorded, "create and status name the nodes alike");
    assert_eq!(made, deleted, "create and delete name the nodes alike");
    let named: BTreeSet<String> = made.iter().map(|l| before_named(l).to_string()).collect();
    assert_eq!(
        named, planned,
        "create names what plan named, with its name once known"
    );

    // A wait says what it awaits, under the same label, where the cloud is and for how long.
    let wait = Regex::new(r"^\[TIME\] waiting for (.+): [A-Z_]+, \[T\]s$").unwrap();
    let awaited: Vec<String> = (create.stderr.lines().chain(delete.stderr.lines()))
        .filter_map(|l| wait.captures(l).map(|c| c[1].to_string()))
        .collect();
    assert!(
        awaited
            .iter()
            .any(|l| l == "connector SampleSourceConnector"),
        "{}",
        create.stderr
    );
    for label in &awaited {
        assert!(
            made.contains(label) || planned.contains(label),
            "a wait for {label:?}, named nowhere else"
        );
    }

    // The names chosen at create show once they are known, never as a template.
    for (what, known) in [
        ("S3 bucket for the Iceberg tables", "tableflow-kickstarter-"),
        (
            "Glue database of Kafka cluster tableflow_kickstarter",
            "lkc-",
        ),
        (
            "Flink statement ctas_stock_trades_with_totals",
            "ctas-stock-trades-with-totals-",
        ),
    ] {
        let prefix = format!("{what}, known as {known}");
        assert!(
            made.iter().any(|l| l.starts_with(&prefix)),
            "no {prefix:?} in {made:#?}"
        );
    }
    // Who may do what, and where, as the issue's examples say it.
    for label in [
        "API key of tableflow_app_consumer on Kafka cluster tableflow_kickstarter",
        "ACL: tableflow_app_producer may WRITE topic stock_trades",
        "ACL: tableflow_app_connector may WRITE topic stock_trades",
        "role binding: tableflow_kickstarter_flink_sql_statements_runner is ResourceOwner of topics * on Kafka cluster tableflow_kickstarter",
        "grant USAGE on WAREHOUSE TABLEFLOW_KICKSTARTER_WAREHOUSE to role TABLEFLOW_KICKSTARTER_SYSTEM_ADMIN_ROLE",
    ] {
        assert!(made.contains(label), "no {label:?} in {made:#?}");
    }
}
