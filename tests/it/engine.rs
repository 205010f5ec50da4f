//! The engine against an in-memory cloud, in virtual time: ordering, overlap, failure, resume.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kickstart::engine::testing::{FakeCloud, Op};
use kickstart::engine::{
    Engine, Event, Graph, Ledger, MemorySink, NodeError, Observer, Options, Outcome, PollPolicy,
    Silent, Step, WAIT_TOLD_EVERY,
};
use kickstart::state::{StateDoc, Status};

const MS: Duration = Duration::from_millis(1);

/// A diamond with a tail and a side branch:
/// env -> cluster -> {topic, key} -> acl -> connector; env -> pool (independent of the cluster).
fn diamond(cloud: &FakeCloud) -> Graph {
    Graph::new(vec![
        cloud.node("env", &[], 100 * MS),
        cloud.node("cluster", &["env"], 300 * MS),
        cloud.node("topic", &["cluster"], 200 * MS),
        cloud.node("key", &["cluster"], 200 * MS),
        cloud.node("acl", &["topic", "key"], 100 * MS),
        cloud.node("connector", &["acl"], 400 * MS),
        cloud.node("pool", &["env"], 500 * MS),
    ])
    .unwrap()
}

fn ledger(doc: StateDoc) -> (Ledger, Arc<MemorySink>) {
    let sink = Arc::new(MemorySink::default());
    (Ledger::new(doc, Box::new(sink.clone())), sink)
}

fn options(concurrency: usize) -> Options {
    Options {
        concurrency,
        ..Options::default()
    }
}

async fn create(graph: &Graph, ledger: &Ledger, concurrency: usize) -> kickstart::engine::Report {
    Engine::new(graph, ledger, &Silent, options(concurrency))
        .create()
        .await
}

#[tokio::test(start_paused = true)]
async fn independent_nodes_overlap_and_dependencies_come_first() {
    let cloud = FakeCloud::default();
    let graph = diamond(&cloud);
    let (ledger, _) = ledger(StateDoc::new("t"));
    let report = create(&graph, &ledger, 8).await;
    assert!(report.ok(), "{:?}", report.failures);
    assert_eq!(report.count(Outcome::Created), 7);

    let calls = cloud.calls();
    let first_start = |node: &str| {
        calls
            .iter()
            .filter(|c| c.node == node)
            .map(|c| c.start)
            .min()
    };
    let last_end = |node: &str| calls.iter().filter(|c| c.node == node).map(|c| c.end).max();
    for node in graph.nodes() {
        for dep in &node.deps {
            assert!(
                last_end(dep).unwrap() <= first_start(&node.id).unwrap(),
                "{} started before {dep} was done",
                node.id
            );
        }
    }
    // topic and key share no dependency path: they must run side by side, and the pool beside both.
    let span = |node: &str| (first_start(node).unwrap(), last_end(node).unwrap());
    let overlap = |a: &str, b: &str| {
        let ((a0, a1), (b0, b1)) = (span(a), span(b));
        a0 < b1 && b0 < a1
    };
    assert!(overlap("topic", "key"));
    assert!(overlap("pool", "cluster"));
    // Critical path: env, cluster, topic, acl, connector, each with find + create + ready = 3 calls.
    let critical = graph.critical_path(|n| n.typical * 3);
    assert_eq!(
        report.elapsed, critical,
        "the run should take exactly the critical path"
    );
}

#[tokio::test(start_paused = true)]
async fn never_more_than_the_concurrency_limit_at_once() {
    let cloud = FakeCloud::default();
    let mut nodes = vec![cloud.node("root", &[], 10 * MS)];
    for i in 0..12 {
        nodes.push(cloud.node(&format!("leaf{i}"), &["root"], 50 * MS));
    }
    let graph = Graph::new(nodes).unwrap();
    let (ledger, _) = ledger(StateDoc::new("t"));
    assert!(create(&graph, &ledger, 3).await.ok());
    let calls = cloud.calls();
    let peak = calls
        .iter()
        .map(|c| {
            let nodes: std::collections::BTreeSet<_> = calls
                .iter()
                .filter(|d| d.start <= c.start && c.start < d.end)
                .map(|d| &d.node)
                .collect();
            nodes.len()
        })
        .max()
        .unwrap();
    assert_eq!(peak, 3);
}

#[tokio::test(start_paused = true)]
async fn a_failure_stops_new_starts_lets_running_nodes_finish_and_is_recorded() {
    let cloud = FakeCloud::default();
    let graph = diamond(&cloud);
    cloud.fail("topic", Op::Create);
    let (ledger, _) = ledger(StateDoc::new("t"));
    let report = create(&graph, &ledger, 8).await;
    assert!(!report.ok());
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].node, "topic");
    assert!(report.failures[0].error.to_string().contains("injected"));
    // key was running beside topic and finishes; the pool too; nothing after topic starts.
    assert_eq!(report.outcome("key"), Some(Outcome::Created));
    assert_eq!(report.outcome("pool"), Some(Outcome::Created));
    let started: Vec<String> = cloud.calls().into_iter().map(|c| c.node).collect();
    assert!(!started.contains(&"acl".to_string()));
    assert!(!started.contains(&"connector".to_string()));
    let state = ledger.snapshot().await;
    let recorded: Vec<&String> = state.nodes.keys().collect();
    assert_eq!(recorded, ["cluster", "env", "key", "pool"]);
}

#[tokio::test(start_paused = true)]
async fn a_run_killed_at_any_moment_is_finished_by_the_next_without_repeating() {
    let total = {
        let cloud = FakeCloud::default();
        let (ledger, _) = ledger(StateDoc::new("t"));
        create(&diamond(&cloud), &ledger, 8).await.elapsed
    };
    let mut cut = 25 * MS;
    let mut cuts = 0;
    while cut < total {
        let cloud = FakeCloud::default();
        let graph = diamond(&cloud);
        let (first, sink) = ledger(StateDoc::new("t"));
        // Dropping the future is what a kill does: nothing more runs, nothing more is saved.
        let killed = tokio::time::timeout(cut, create(&graph, &first, 8)).await;
        assert!(killed.is_err(), "the run should have been cut at {cut:?}");
        let on_disk = sink.saved.lock().unwrap().last().cloned();
        let (second, _) = ledger(on_disk.unwrap_or_else(|| StateDoc::new("t")));
        let report = create(&graph, &second, 8).await;
        assert!(report.ok(), "cut at {cut:?}: {:?}", report.failures);
        let mut creates = cloud.calls_of(Op::Create);
        creates.sort();
        let mut expected: Vec<String> = graph.nodes().iter().map(|n| n.id.clone()).collect();
        expected.sort();
        assert_eq!(
            creates, expected,
            "cut at {cut:?}: every node created exactly once"
        );
        let state = second.snapshot().await;
        assert!(graph.nodes().iter().all(|n| state.is_ready(&n.id)));
        cut += 75 * MS;
        cuts += 1;
    }
    assert!(cuts >= 20, "only {cuts} cut points");
}

#[tokio::test(start_paused = true)]
async fn a_second_create_only_reads() {
    let cloud = FakeCloud::default();
    let graph = diamond(&cloud);
    let (ledger, sink) = ledger(StateDoc::new("t"));
    assert!(create(&graph, &ledger, 8).await.ok());
    cloud.clear_calls();
    let saves = sink.saved.lock().unwrap().len();
    let report = create(&graph, &ledger, 8).await;
    assert_eq!(report.count(Outcome::Unchanged), 7);
    let ops: Vec<Op> = cloud.calls().into_iter().map(|c| c.op).collect();
    assert_eq!(ops.len(), 7, "one call per node");
    assert!(ops.iter().all(|&op| op == Op::Find));
    assert_eq!(
        sink.saved.lock().unwrap().len(),
        saves,
        "nothing changed, nothing saved"
    );
}

#[tokio::test(start_paused = true)]
async fn delete_runs_in_reverse_dependency_order_and_skips_what_was_never_made() {
    let cloud = FakeCloud::default();
    let graph = diamond(&cloud);
    cloud.fail("acl", Op::Create);
    let (ledger, _) = ledger(StateDoc::new("t"));
    assert!(!create(&graph, &ledger, 8).await.ok());
    cloud.heal();
    cloud.clear_calls();
    // acl was never made (its create failed), connector never started.
    let engine = Engine::new(&graph, &ledger, &Silent, options(1));
    let report = engine.delete().await;
    assert!(report.ok(), "{:?}", report.failures);
    let deleted = cloud.calls_of(Op::Delete);
    assert_eq!(deleted.len(), 5);
    assert!(!deleted.contains(&"acl".into()) && !deleted.contains(&"connector".into()));
    let position = |n: &str| deleted.iter().position(|d| d == n).unwrap();
    for node in graph.nodes().iter().filter(|n| deleted.contains(&n.id)) {
        for dep in &node.deps {
            assert!(
                position(&node.id) < position(dep),
                "{dep} deleted before {}",
                node.id
            );
        }
    }
    assert!(cloud.existing().is_empty());
    assert!(ledger.snapshot().await.nodes.is_empty());
    assert_eq!(report.outcome("acl"), Some(Outcome::Absent));
}

#[tokio::test(start_paused = true)]
async fn delete_with_a_lost_state_finds_by_name_and_deletes() {
    let cloud = FakeCloud::default();
    let graph = diamond(&cloud);
    let (made, _) = ledger(StateDoc::new("t"));
    assert!(create(&graph, &made, 8).await.ok());
    let (lost, _) = ledger(StateDoc::new("t"));
    let report = Engine::new(&graph, &lost, &Silent, options(8))
        .delete()
        .await;
    assert!(report.ok(), "{:?}", report.failures);
    assert_eq!(report.count(Outcome::Deleted), 7);
    assert!(cloud.existing().is_empty());
}

#[tokio::test(start_paused = true)]
async fn plan_reports_without_changing_anything() {
    let cloud = FakeCloud::default();
    let graph = diamond(&cloud);
    let (ledger, sink) = ledger(StateDoc::new("t"));
    let plan = Engine::new(&graph, &ledger, &Silent, options(8))
        .plan()
        .await;
    assert_eq!(plan.count(Outcome::WouldCreate), 7);
    assert_eq!(
        cloud.calls_of(Op::Find),
        ["env"],
        "only the root can be looked up"
    );
    assert!(sink.saved.lock().unwrap().is_empty());

    assert!(create(&graph, &ledger, 8).await.ok());
    cloud.make_due("key");
    cloud.clear_calls();
    let saves = sink.saved.lock().unwrap().len();
    let plan = Engine::new(&graph, &ledger, &Silent, options(8))
        .plan()
        .await;
    assert_eq!(plan.count(Outcome::Unchanged), 6);
    assert_eq!(plan.outcome("key"), Some(Outcome::WouldRotate));
    assert!(cloud.calls().iter().all(|c| c.op == Op::Find));
    assert_eq!(sink.saved.lock().unwrap().len(), saves);
}

#[tokio::test(start_paused = true)]
async fn rotate_applies_only_what_is_due() {
    let cloud = FakeCloud::default();
    let graph = diamond(&cloud);
    let (ledger, _) = ledger(StateDoc::new("t"));
    assert!(create(&graph, &ledger, 8).await.ok());
    cloud.make_due("key");
    cloud.clear_calls();
    let report = Engine::new(&graph, &ledger, &Silent, options(8))
        .rotate()
        .await;
    assert!(report.ok());
    assert_eq!(report.count(Outcome::Rotated), 1);
    assert_eq!(cloud.calls_of(Op::Apply), ["key"]);
    assert_eq!(cloud.calls_of(Op::Create), Vec::<String>::new());
    let state = ledger.snapshot().await;
    assert_eq!(state.record("key").unwrap().outputs["rotated"], "yes");
}

#[tokio::test(start_paused = true)]
async fn a_cut_off_wait_is_recorded_and_resumed_without_a_second_create() {
    let cloud = FakeCloud::default();
    let graph = diamond(&cloud);
    cloud.pending_polls("cluster", 50);
    let (ledger, _) = ledger(StateDoc::new("t"));
    let quick = Options {
        deadline: Some(Duration::from_secs(20)),
        poll: PollPolicy {
            first: Duration::from_secs(1),
            cap: Duration::from_secs(2),
            factor: 2.0,
        },
        ..options(8)
    };
    let report = Engine::new(&graph, &ledger, &Silent, quick.clone())
        .create()
        .await;
    assert_eq!(report.failures.len(), 1);
    assert!(matches!(
        report.failures[0].error,
        NodeError::WaitTimedOut { .. }
    ));
    let state = ledger.snapshot().await;
    assert_eq!(state.nodes["cluster"].status, Status::Creating);

    cloud.pending_polls("cluster", 2);
    let report = Engine::new(&graph, &ledger, &Silent, quick).create().await;
    assert!(report.ok(), "{:?}", report.failures);
    assert_eq!(report.outcome("cluster"), Some(Outcome::Resumed));
    assert_eq!(
        cloud
            .calls_of(Op::Create)
            .iter()
            .filter(|n| *n == "cluster")
            .count(),
        1
    );
    let ready: BTreeMap<_, _> = ledger.snapshot().await.nodes.into_iter().collect();
    assert_eq!(ready["cluster"].record.outputs["ready"], "yes");
}

/// Hears every event, with when it came.
#[derive(Default)]
struct Heard(std::sync::Mutex<Vec<(tokio::time::Instant, Event)>>);

impl Observer for Heard {
    fn event(&self, event: Event) {
        let now = tokio::time::Instant::now();
        self.0.lock().unwrap().push((now, event));
    }
}

#[tokio::test(start_paused = true)]
async fn a_long_wait_is_told_again_and_a_name_chosen_at_create_is_told() {
    let cloud = FakeCloud::default();
    let mut pool = cloud.node("pool", &[], MS);
    pool.relabel = Some(Arc::new(|id: &str| format!("fake pool, known as {id}")));
    let graph = Graph::new(vec![pool]).unwrap();
    // About two and a half minutes of PROVISIONING, polled ever less often up to 30 s apart.
    cloud.pending_polls("pool", 12);
    let (ledger, _) = ledger(StateDoc::new("t"));
    let heard = Heard::default();
    let report = Engine::new(&graph, &ledger, &heard, options(1))
        .create()
        .await;
    assert!(report.ok(), "{:?}", report.failures);
    let events = heard.0.into_inner().unwrap();
    let told: Vec<tokio::time::Instant> = events
        .iter()
        .filter(|(_, e)| {
            matches!(e, Event::Step { step: Step::Waiting, phase: Some(p), .. } if p == "PROVISIONING")
        })
        .map(|(at, _)| *at)
        .collect();
    assert!(
        told.len() >= 4 && told.len() < 12,
        "told {} times in 12 polls",
        told.len()
    );
    for pair in told.windows(2) {
        assert!(pair[1] - pair[0] >= WAIT_TOLD_EVERY, "{told:?}");
    }
    let named: Vec<&Event> = events
        .iter()
        .map(|(_, e)| e)
        .filter(|e| matches!(e, Event::Named { .. }))
        .collect();
    let id = ledger.snapshot().await.record("pool").unwrap().id.clone();
    assert_eq!(
        named,
        [&Event::Named {
            node: "pool".into(),
            label: format!("fake pool, known as {id}"),
        }]
    );
}

#[tokio::test(start_paused = true)]
async fn a_delete_with_a_lost_state_names_what_it_finds() {
    let cloud = FakeCloud::default();
    let mut pool = cloud.node("pool", &[], MS);
    pool.relabel = Some(Arc::new(|id: &str| format!("fake pool, known as {id}")));
    let graph = Graph::new(vec![pool]).unwrap();
    let (made, _) = ledger(StateDoc::new("t"));
    assert!(create(&graph, &made, 1).await.ok());
    let id = made.snapshot().await.record("pool").unwrap().id.clone();
    let (lost, _) = ledger(StateDoc::new("t"));
    let heard = Heard::default();
    let report = Engine::new(&graph, &lost, &heard, options(1))
        .delete()
        .await;
    assert!(report.ok(), "{:?}", report.failures);
    let events: Vec<Event> = heard
        .0
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    let named = events
        .iter()
        .position(|e| {
            *e == Event::Named {
                node: "pool".into(),
                label: format!("fake pool, known as {id}"),
            }
        })
        .expect("the name found is told");
    let deleting = events
        .iter()
        .position(|e| {
            matches!(
                e,
                Event::Step {
                    step: Step::Deleting,
                    ..
                }
            )
        })
        .unwrap();
    assert!(named < deleting, "{events:?}");
}
