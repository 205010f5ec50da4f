//! The stack file as a user meets it: `init`, `validate`, `--config`, and flags over the file.

use crate::common;

use common::{FULL, Test, clouds};
use kickstart::config::DEFAULT;

/// `name:line:column:` of the first `needle` at or after `anchor` in `text`, counted here from
/// the text rather than taken from kickstart.
fn place(name: &str, text: &str, anchor: &str, needle: &str) -> String {
    let from = text.find(anchor).expect("the anchor is in the text");
    let offset = text[from..]
        .find(needle)
        .expect("the needle follows the anchor")
        + from;
    let line = text[..offset].matches('\n').count() + 1;
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    format!("{name}:{line}:{}:", text[start..offset].chars().count() + 1)
}

fn edit(from: &str, to: &str) -> String {
    assert!(DEFAULT.contains(from), "the default has no {from:?}");
    DEFAULT.replacen(from, to, 1)
}

#[test]
fn init_writes_the_default_and_validate_accepts_it() {
    let (_, dir) = Test::new()
        .args(["init"])
        .status(0)
        .stdout_has("wrote kickstart.toml")
        .stdout_has("`kickstart validate`, then")
        .stdout_has("`kickstart plan`")
        .run();
    let written = std::fs::read_to_string(dir.path().join("kickstart.toml")).unwrap();
    assert_eq!(written, DEFAULT);
    // Found in the current directory without naming it.
    let (run, _) = Test::new()
        .in_dir(dir.path())
        .args(["validate"])
        .status(0)
        .stdout_has("kickstart.toml: valid (2 topics, 1 connector, 1 statement)")
        .run();
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    let (run, _) = Test::new()
        .in_dir(dir.path())
        .args(["--output", "json", "validate", "kickstart.toml"])
        .status(0)
        .run();
    let summary: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(summary["valid"], true, "{summary}");
    assert_eq!(summary["topics"], 2, "{summary}");
    // Another path is named in the next steps, since nothing finds it on its own.
    Test::new()
        .args(["init", "stacks.toml"])
        .status(0)
        .stdout_has("`kickstart validate stacks.toml`")
        .stdout_has("`kickstart plan --config stacks.toml`")
        .run();
}

#[test]
fn init_never_overwrites() {
    let test = Test::new();
    std::fs::write(test.path("kickstart.toml"), "# mine\n").unwrap();
    let (run, dir) = test
        .args(["init"])
        .status(2)
        .stderr_has("kickstart.toml already exists: remove it")
        .stderr_has("kickstart init PATH")
        .stderr_lines(1)
        .run();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("kickstart.toml")).unwrap(),
        "# mine\n"
    );
}

/// Each bad file: exit 2, one line that starts at the place of the fault and says what to write.
#[test]
fn validate_points_at_the_fault_and_says_what_to_write() {
    let cycle = edit(
        "reads = [\"stock_trades\"]",
        "reads = [\"stock_trades\", \"stock_trades_with_totals\"]",
    );
    let cases = [
        (
            edit("partitions = 6", "partitons = 6"),
            ("[topics.stock_trades]", "partitons"),
            "unknown key `partitons`; write one of `partitions`",
        ),
        (
            edit(
                "service_account = \"app_connector\"",
                "service_account = \"app\"",
            ),
            ("service_account", "\"app\""),
            "which is not in [service_accounts]; write one of `app_connector`, `app_consumer`, `app_producer`, or add [service_accounts.app]",
        ),
        (
            cycle.clone(),
            ("reads", "\"stock_trades_with_totals\""),
            "made by `ctas_stock_trades_with_totals`: a cycle, so none of them would ever start; remove one of these reads",
        ),
    ];
    for (text, (anchor, needle), message) in cases {
        let test = Test::new();
        std::fs::write(test.path("bad.toml"), &text).unwrap();
        let at = place("bad.toml", &text, anchor, needle);
        let (run, _) = test
            .args(["validate", "bad.toml"])
            .status(2)
            .stderr_has(&format!("error: {at} "))
            .stderr_has(message)
            .stderr_lines(1)
            .run();
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    // KICKSTART_CONFIG names the file as --config would.
    let test = Test::new();
    std::fs::write(test.path("env.toml"), &cycle).unwrap();
    test.args(["validate"])
        .env("KICKSTART_CONFIG", "env.toml")
        .status(2)
        .stderr_has("env.toml:")
        .stderr_has("a cycle")
        .run();
}

/// A command line, the variables it runs with, and the file its error names.
type Way = (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// A bad file stops every command that builds the stack before any stand-in hears of it, however
/// the file was found.
#[test]
fn a_bad_file_exits_2_with_zero_calls() {
    let bad = edit("type = \"STANDARD\"", "type = \"GIANT\"");
    let (emulators, proxy) = (clouds::emulators(), clouds::moto_proxy());
    let before = (emulators.faults.all(), proxy.faults.all());
    let ways: &[Way] = &[
        (&["plan", "--config", "bad.toml"], &[], "bad.toml"),
        (&["create", "--config=bad.toml"], &[], "bad.toml"),
        (&["delete"], &[("KICKSTART_CONFIG", "bad.toml")], "bad.toml"),
        (&["rotate"], &[], "kickstart.toml"),
        (&["status", "--refresh"], &[], "kickstart.toml"),
    ];
    for (args, env, shown) in ways {
        let mut test = Test::new();
        std::fs::write(test.path("bad.toml"), &bad).unwrap();
        std::fs::write(test.path("kickstart.toml"), &bad).unwrap();
        for (k, v) in clouds::stand_in_env() {
            test = test.env(k, &v);
        }
        for (k, v) in *env {
            test = test.env(k, v);
        }
        let (run, dir) = test
            .env("AWS_ENDPOINT_URL", &proxy.url)
            .args(args.iter())
            .args(FULL.iter().filter(|_| args[0] != "status"))
            .status(2)
            .stderr_has(&format!(
                "error: {} `GIANT` is not a cluster type; write one of BASIC, STANDARD, ENTERPRISE",
                place(shown, &bad, "[confluent.cluster]", "\"GIANT\"")
            ))
            .stderr_lines(1)
            .run();
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["bad.toml", "kickstart.toml"], "{args:?} left files");
        assert_eq!(
            (emulators.faults.all(), proxy.faults.all()),
            before,
            "{args:?} called a stand-in (Confluent and Snowflake, AWS)"
        );
    }
}

#[test]
fn flags_override_the_file() {
    let text = edit(
        "name = \"tableflow_kickstarter\"",
        "name = \"from_the_file\"",
    );
    let test = Test::new();
    std::fs::write(test.path("stack.toml"), &text).unwrap();
    let (_, dir) = test
        .args(["graph", "--config", "stack.toml"])
        .status(0)
        .stdout_has("digraph \"from_the_file\"")
        .run();
    Test::new()
        .in_dir(dir.path())
        .args([
            "graph",
            "--config",
            "stack.toml",
            "--stack-name",
            "from_the_flag",
        ])
        .status(0)
        .stdout_has("digraph \"from_the_flag\"")
        .run();
    Test::new()
        .in_dir(dir.path())
        .args(["graph", "--config", "stack.toml"])
        .env("KICKSTART_STACK_NAME", "from_the_env")
        .status(0)
        .stdout_has("digraph \"from_the_env\"")
        .run();
    // Without a file anywhere, the built-in stack and its name.
    Test::new()
        .args(["validate"])
        .status(0)
        .stdout_has("<default>: valid (2 topics, 1 connector, 1 statement)")
        .run();
    Test::new()
        .args(["graph"])
        .status(0)
        .stdout_has("digraph \"tableflow_kickstarter\"")
        .run();
}
