//! The whole tool, measured: the release `kickstart` creates the stack against moto and
//! local-cloud with every stand-in adding 50-150 ms to each call (AWS too, through the proxy in
//! front of moto) and Confluent's asynchronous resources taking seconds to provision. Prints
//! figures; it asserts only that the runs succeed.
//!
//!     cargo bench --bench full_create
//!
//! Needs moto in `.venv` (`./test` or `./sandbox` installs it).

use std::collections::HashMap;
use std::time::Duration;

use kickstart::stack::{self, DEFAULT_STACK, Names, NotBuilt};

mod common;

use common::{Stand, run};

/// The longest chain of node times through the graph, from the run's own `finish` events.
fn critical_path(stdout: &str) -> (Duration, Duration) {
    let mut took = HashMap::new();
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["event"] == "finish" {
            let ms = v["elapsed_ms"].as_u64().unwrap();
            took.insert(
                v["node"].as_str().unwrap().to_string(),
                Duration::from_millis(ms),
            );
        }
    }
    let graph = default_graph().unwrap();
    let of = |id: &str| took.get(id).copied().unwrap_or_default();
    let work = graph.nodes().iter().map(|n| of(&n.id)).sum();
    (graph.critical_path(|n| of(&n.id)), work)
}

/// The longest readiness deadline of any node.
fn graph_deadlines() -> Duration {
    let graph = default_graph().unwrap();
    graph.nodes().iter().map(|n| n.deadline).max().unwrap()
}

/// The default stack's graph, without the clouds.
fn default_graph() -> Result<kickstart::engine::Graph, kickstart::engine::GraphError> {
    let (names, file) = (
        Names::new(DEFAULT_STACK),
        kickstart::config::Stackfile::default_stack(),
    );
    stack::graph(&stack::Stack::offline(&names, &file), &NotBuilt)
}

fn engine_ms(stdout: &str) -> u64 {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "summary")
        .and_then(|v| v["elapsed_ms"].as_u64())
        .unwrap_or_default()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` asks which benchmarks exist
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stand = runtime.block_on(Stand::start());
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let json = ["--output=json"];

    let dir = tempfile::tempdir().unwrap();
    let create = run(&stand, dir.path(), &[&["create"][..], &json].concat());
    let (critical, work) = critical_path(&create.stdout);
    // Retired nodes (what earlier versions made) are no resource of today's stack.
    let nodes = default_graph()
        .unwrap()
        .nodes()
        .iter()
        .filter(|n| !n.retired)
        .count();

    let before = stand.calls();
    let rerun = run(&stand, dir.path(), &[&["create"][..], &json].concat());
    let after = stand.calls();
    // What a CI drift check runs: a plan that reads every resource's live attributes.
    let plan = run(&stand, dir.path(), &[&["plan"][..], &json].concat());
    let planned = stand.calls();
    let delete = run(&stand, dir.path(), &[&["delete"][..], &json].concat());
    let (delete_critical, _) = critical_path(&delete.stdout);

    let serial_dir = tempfile::tempdir().unwrap();
    let serial = run(
        &stand,
        serial_dir.path(),
        &[&["create", "--concurrency=1"][..], &json].concat(),
    );
    run(&stand, serial_dir.path(), &["delete"]);

    let mut help: Vec<Duration> = (0..21)
        .map(|_| run(&stand, dir.path(), &["--help"]).wall)
        .collect();
    help.sort();
    let size = std::fs::metadata(env!("CARGO_BIN_EXE_kickstart"))
        .unwrap()
        .len();

    println!("full create against the stand-ins: 50-150 ms per call, provisioning in seconds");
    println!("nodes                                 {nodes}");
    println!(
        "create wall time (process)            {:>8.0} ms",
        ms(create.wall)
    );
    println!(
        "  of which the engine                 {:>8} ms",
        engine_ms(&create.stdout)
    );
    println!(
        "critical path (measured node times)   {:>8.0} ms",
        ms(critical)
    );
    println!(
        "ratio wall / critical path            {:>8.3}    (goal <= 1.10)",
        ms(create.wall) / ms(critical)
    );
    println!(
        "create at --concurrency 1             {:>8.0} ms",
        ms(serial.wall)
    );
    println!(
        "speed-up 8 vs 1                       {:>8.2}x   (goal >= 2.5; bound: work / critical path = {:.2}x)",
        ms(serial.wall) / ms(create.wall),
        ms(work) / ms(critical)
    );
    println!(
        "no-change re-run                      {:>8.0} ms  (goal < 3000)",
        ms(rerun.wall)
    );
    println!(
        "  calls made                          {:>8}     ({:.2} per node, goal <= 1; {} mutating)",
        after.0 - before.0,
        (after.0 - before.0) as f64 / nodes as f64,
        after.1 - before.1
    );
    println!(
        "no-change plan, drift included        {:>8.0} ms  (goal < 1500)",
        ms(plan.wall)
    );
    println!(
        "  calls made                          {:>8}     ({:.2} per node, goal <= 1; {} mutating)",
        planned.0 - after.0,
        (planned.0 - after.0) as f64 / nodes as f64,
        planned.1 - after.1
    );
    println!(
        "delete wall time                      {:>8.0} ms",
        ms(delete.wall)
    );
    println!(
        "delete critical path (measured)       {:>8.0} ms",
        ms(delete_critical)
    );
    println!(
        "ratio delete wall / critical path     {:>8.3}    (goal <= 1.10)",
        ms(delete.wall) / ms(delete_critical)
    );
    let poll = kickstart::engine::PollPolicy::default();
    let deadlines = graph_deadlines();
    println!(
        "polls per readiness or delete wait    {:>8}    (at most, at the longest deadline, {} min)",
        poll.max_polls(deadlines),
        deadlines.as_secs() / 60
    );
    println!(
        "tries per call while a key propagates {:>8}    (at most)",
        kickstart::confluent::PROPAGATION_ATTEMPTS
    );
    println!(
        "peak RSS of the create                {:>8.1} MiB",
        create.max_rss_kib as f64 / 1024.0
    );
    println!(
        "kickstart --help (median of 21)       {:>8.1} ms",
        ms(help[help.len() / 2])
    );
    println!(
        "release binary size                   {:>8.1} MiB",
        size as f64 / (1024.0 * 1024.0)
    );
}
