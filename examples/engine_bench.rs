//! Runs the engine over a graph shaped exactly like the real stack, whose nodes sleep for their
//! kind's typical time (scaled down), and prints how close the run comes to the critical path.
//!
//!     cargo run --release --example engine_bench [-- SCALE]
//!
//! SCALE (default 0.005) turns typical seconds into sleep seconds: a 90 s cluster sleeps 450 ms.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kickstart::config::Stackfile;
use kickstart::engine::testing::FakeCloud;
use kickstart::engine::{Engine, Graph, Ledger, MemorySink, Options, Silent};
use kickstart::stack::{self, DEFAULT_STACK, Names, NotBuilt};
use kickstart::state::StateDoc;

/// A graph with the stack's nodes and edges, each node sleeping `typical * scale` per call.
fn shaped_like_the_stack(cloud: &FakeCloud, scale: f64) -> Graph {
    let (names, file) = (Names::new(DEFAULT_STACK), Stackfile::default_stack());
    let real = stack::graph(&stack::Stack::offline(&names, &file), &NotBuilt)
        .expect("the stack graph is valid");
    let nodes = real
        .nodes()
        .iter()
        .map(|n| {
            let deps: Vec<&str> = n.deps.iter().map(String::as_str).collect();
            cloud.node(&n.id, &deps, n.typical.mul_f64(scale))
        })
        .collect();
    Graph::new(nodes).expect("same shape, still valid")
}

async fn create(concurrency: usize, scale: f64) -> (Duration, Duration, usize) {
    let cloud = FakeCloud::default();
    let graph = shaped_like_the_stack(&cloud, scale);
    // find, create and one readiness check: three calls of the node's latency each.
    let critical = graph.critical_path(|n| n.typical * 3);
    let ledger = Ledger::new(
        StateDoc::new("bench"),
        Box::new(Arc::new(MemorySink::default())),
    );
    let options = Options {
        concurrency,
        ..Options::default()
    };
    let started = Instant::now();
    let report = Engine::new(&graph, &ledger, &Silent, options)
        .create()
        .await;
    assert!(report.ok(), "{:?}", report.failures);
    (started.elapsed(), critical, graph.len())
}

#[tokio::main]
async fn main() {
    let scale: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("SCALE is a number"))
        .unwrap_or(0.005);
    let (wall, critical, nodes) = create(8, scale).await;
    let (serial, _, _) = create(1, scale).await;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("nodes                      {nodes}");
    println!("critical path              {:>8.0} ms", ms(critical));
    println!("create, concurrency 8      {:>8.0} ms", ms(wall));
    println!(
        "ratio wall / critical      {:>8.3}   (goal <= 1.05)",
        ms(wall) / ms(critical)
    );
    println!("create, concurrency 1      {:>8.0} ms", ms(serial));
    println!("speed-up 8 vs 1            {:>8.2}x", ms(serial) / ms(wall));
}
