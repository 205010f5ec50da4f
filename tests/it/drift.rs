//! Drift: what is changed behind kickstart's back in the stand-ins is named by `plan`, attribute
//! by attribute, repaired by `create`, and gone from the next `plan`.

use crate::common;

use std::time::Duration;

use common::context::{Context, Setup};
use kickstart::config::Stackfile;
use kickstart::engine::{Change, Diff, Ledger, Outcome, Record, Report};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

const BUCKET: &str = "tableflow-kickstarter-3f1c";
const TOPIC: &str = "confluent.topic.stock_trades";
const ADMIN_KEY: &str = "confluent.api_key.app_manager_kafka";

/// The default stack, with a config set on its topic.
fn with_topic_config() -> Stackfile {
    let text = include_str!("../../src/config/default.toml").replace(
        "[topics.stock_trades]\npartitions = 6\n",
        "[topics.stock_trades]\npartitions = 6\nconfig = { \"retention.ms\" = \"86400000\" }\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kickstart.toml");
    std::fs::write(&path, text).unwrap();
    kickstart::config::load(Some(&path)).unwrap()
}

fn confluent() -> Setup {
    let bucket = Record::new("aws.s3_bucket").with("name", BUCKET);
    Context::confluent()
        .recorded("aws.s3_bucket", bucket)
        .stackfile(with_topic_config())
}

/// Kafka REST with the stack's own admin key, as someone with the console would use it.
struct Rest {
    base: String,
    id: String,
    secret: String,
}

impl Rest {
    async fn of(w: &Context, ledger: &Ledger) -> Rest {
        let state = ledger.snapshot().await;
        let lkc = state.record("confluent.kafka_cluster").unwrap().id.clone();
        let id = state.record(ADMIN_KEY).unwrap().id.clone();
        let secret = w.vault.get(&id).unwrap().expose_secret().to_string();
        let base = format!("{}/kafka/v3/clusters/{lkc}", w.cloud.url());
        Rest { base, id, secret }
    }

    async fn call(&self, method: reqwest::Method, tail: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = reqwest::Client::new()
            .request(method, format!("{}{tail}", self.base))
            .basic_auth(&self.id, Some(&self.secret));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn topic(&self) -> Value {
        let (status, topic) = self
            .call(reqwest::Method::GET, "/topics/stock_trades", None)
            .await;
        assert_eq!(status, 200, "{topic}");
        topic
    }

    async fn config(&self, name: &str) -> Value {
        let (status, list) = self
            .call(reqwest::Method::GET, "/topics/stock_trades/configs", None)
            .await;
        assert_eq!(status, 200, "{list}");
        let data = list["data"].as_array().unwrap();
        data.iter().find(|c| c["name"] == name).cloned().unwrap()
    }
}

fn diffs(report: &Report, node: &str) -> Vec<Diff> {
    match report.change(node) {
        Some(Change::Update { what }) => what.clone(),
        other => panic!("{node}: no update but {other:?}"),
    }
}

/// Every node is unchanged: nothing left to repair.
fn nothing_to_do(report: &Report) {
    assert!(report.ok(), "{:?}", report.failures);
    let changes: Vec<_> = report
        .outcomes
        .iter()
        .filter(|(_, o)| o.is_change())
        .collect();
    assert!(changes.is_empty(), "{changes:?} {:?}", report.changes);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_topic_made_again_with_fewer_partitions_and_another_config_is_repaired() {
    let w = confluent().start().await;
    let ledger = w.ledger();
    let made = w.engine(&ledger).create().await;
    assert!(made.ok(), "{:?}", made.failures);
    let rest = Rest::of(&w, &ledger).await;
    assert_eq!(rest.config("retention.ms").await["value"], "86400000");
    nothing_to_do(&w.engine(&ledger).plan().await);

    // Deleted and made again by hand: the only way a topic ends up with fewer partitions.
    let (status, _) = rest
        .call(reqwest::Method::DELETE, "/topics/stock_trades", None)
        .await;
    assert_eq!(status, 204);
    let again = json!({"topic_name": "stock_trades", "partitions_count": 3});
    let mut status = 0;
    for _ in 0..100 {
        (status, _) = rest
            .call(reqwest::Method::POST, "/topics", Some(again.clone()))
            .await;
        if status == 201 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        status, 201,
        "the topic is made again once the old one is gone"
    );
    let alter = json!({"data": [{"name": "retention.ms", "value": "3600000"}]});
    let (status, _) = rest
        .call(
            reqwest::Method::POST,
            "/topics/stock_trades/configs:alter",
            Some(alter),
        )
        .await;
    assert_eq!(status, 204);

    let plan = w.engine(&ledger).plan().await;
    assert!(plan.ok(), "{:?}", plan.failures);
    assert_eq!(plan.outcome(TOPIC), Some(Outcome::WouldUpdate));
    assert_eq!(
        diffs(&plan, TOPIC),
        vec![
            Diff::new("partitions", "6", "3"),
            Diff::new("config retention.ms", "86400000", "3600000"),
        ]
    );
    assert_eq!(
        Change::Update {
            what: diffs(&plan, TOPIC)
        }
        .to_string(),
        "update (partitions: 3 -> 6; config retention.ms: 3600000 -> 86400000)"
    );

    let repaired = w.engine(&ledger).create().await;
    assert!(repaired.ok(), "{:?}", repaired.failures);
    assert_eq!(repaired.outcome(TOPIC), Some(Outcome::Updated));
    assert_eq!(rest.topic().await["partitions_count"], 6);
    let retention = rest.config("retention.ms").await;
    assert_eq!(retention["value"], "86400000");
    assert_eq!(retention["source"], "DYNAMIC_TOPIC_CONFIG");

    nothing_to_do(&w.engine(&ledger).plan().await);
}

#[tokio::test(flavor = "multi_thread")]
async fn more_partitions_than_the_stack_sets_are_kept_since_kafka_cannot_decrease_them() {
    let w = confluent().start().await;
    let ledger = w.ledger();
    let made = w.engine(&ledger).create().await;
    assert!(made.ok(), "{:?}", made.failures);
    let rest = Rest::of(&w, &ledger).await;
    let (status, body) = rest
        .call(
            reqwest::Method::PATCH,
            "/topics/stock_trades",
            Some(json!({"partitions_count": 8})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = rest
        .call(
            reqwest::Method::PATCH,
            "/topics/stock_trades",
            Some(json!({"partitions_count": 6})),
        )
        .await;
    assert_eq!(
        (status, body["error_code"].clone()),
        (400, json!(40002)),
        "{body}"
    );

    nothing_to_do(&w.engine(&ledger).plan().await);
    assert_eq!(rest.topic().await["partitions_count"], 8);
}
