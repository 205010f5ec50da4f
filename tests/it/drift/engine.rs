//! How the engine treats drift, against the in-memory cloud: what `plan` reports, what
//! `create` does about it, and that `rotate` leaves it alone.

use std::sync::Arc;
use std::time::Duration;

use kickstart::engine::testing::{FakeCloud, Op};
use kickstart::engine::{
    Change, Diff, Engine, Graph, Ledger, MemorySink, Options, Outcome, Silent,
};
use kickstart::state::StateDoc;

fn chain(cloud: &FakeCloud) -> Graph {
    let ms = Duration::from_millis(1);
    Graph::new(vec![
        cloud.node("cluster", &[], ms),
        cloud.node("topic", &["cluster"], ms),
    ])
    .unwrap()
}

async fn made(cloud: &FakeCloud, graph: &Graph) -> Ledger {
    let ledger = Ledger::new(
        StateDoc::new("t"),
        Box::new(Arc::new(MemorySink::default())),
    );
    let report = Engine::new(graph, &ledger, &Silent, Options::default())
        .create()
        .await;
    assert!(report.ok(), "{:?}", report.failures);
    cloud.clear_calls();
    ledger
}

#[tokio::test(start_paused = true)]
async fn what_cannot_change_in_place_is_planned_as_a_replacement_then_deleted_and_made_again() {
    let cloud = FakeCloud::default();
    let graph = chain(&cloud);
    let ledger = made(&cloud, &graph).await;
    let why = "cleanup.policy cannot change in place".to_string();
    cloud.make_drifted("topic", Change::Replace { why: why.clone() });

    let engine = Engine::new(&graph, &ledger, &Silent, Options::default());
    let rotate = engine.rotate().await;
    assert_eq!(
        rotate.outcome("topic"),
        Some(Outcome::Unchanged),
        "rotate leaves drift"
    );
    let plan = engine.plan().await;
    assert_eq!(plan.outcome("topic"), Some(Outcome::WouldReplace));
    assert_eq!(plan.change("topic"), Some(&Change::Replace { why }));
    assert!(
        cloud.calls().iter().all(|c| c.op == Op::Find),
        "plan only reads"
    );

    let before = ledger.snapshot().await.record("topic").unwrap().id.clone();
    let create = engine.create().await;
    assert!(create.ok(), "{:?}", create.failures);
    assert_eq!(create.outcome("topic"), Some(Outcome::Replaced));
    let ops: Vec<Op> = cloud
        .calls()
        .into_iter()
        .filter(|c| c.node == "topic" && c.op != Op::Find)
        .map(|c| c.op)
        .collect();
    assert_eq!(ops, [Op::Delete, Op::Create, Op::Ready]);
    let after = ledger.snapshot().await.record("topic").unwrap().id.clone();
    assert_ne!(before, after, "the state records the new one");
    assert_eq!(engine.plan().await.count(Outcome::Unchanged), 2);
}

#[tokio::test(start_paused = true)]
async fn an_update_is_applied_in_place_and_reported_attribute_by_attribute() {
    let cloud = FakeCloud::default();
    let graph = chain(&cloud);
    let ledger = made(&cloud, &graph).await;
    let what = vec![Diff::new("partitions", "6", "3")];
    cloud.make_drifted("topic", Change::Update { what: what.clone() });

    let engine = Engine::new(&graph, &ledger, &Silent, Options::default());
    let plan = engine.plan().await;
    assert_eq!(plan.outcome("topic"), Some(Outcome::WouldUpdate));
    assert_eq!(
        plan.change("topic").unwrap().to_string(),
        "update (partitions: 3 -> 6)"
    );
    let create = engine.create().await;
    assert_eq!(create.outcome("topic"), Some(Outcome::Updated));
    assert_eq!(create.change("topic"), Some(&Change::Update { what }));
    assert_eq!(cloud.calls_of(Op::Apply), ["topic"]);
    assert_eq!(engine.plan().await.count(Outcome::Unchanged), 2);
}
