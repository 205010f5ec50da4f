//! Drift: what is changed behind kickstart's back in the stand-ins is named by `plan`, attribute
//! by attribute, repaired by `create`, and gone from the next `plan`.

use crate::common;

mod engine;
mod snowflake;

use std::time::Duration;

use common::context::{Context, Setup};
use kickstart::config::Stackfile;
use kickstart::engine::{Change, Diff, Ledger, Outcome, Record, Report};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

const BUCKET: &str = "tableflow-kickstarter-3f1c";
const TOPIC: &str = "confluent.topic.stock_trades";
const ADMIN_KEY: &str = "confluent.api_key.app_manager_kafka";

/// The default stack, with a config set on its topic and Tableflow options on it.
fn with_topic_config() -> Stackfile {
    let text = include_str!("../../../src/config/default.toml")
        .replace(
            "[topics.stock_trades]\npartitions = 6\n",
            "[topics.stock_trades]\npartitions = 6\nconfig = { \"retention.ms\" = \"86400000\" }\n",
        )
        .replacen(
            "[topics.stock_trades.tableflow]\n",
            "[topics.stock_trades.tableflow]\nretention_ms = 86400000\nerror_handling = \"SKIP\"\n",
            1,
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

const CONNECTOR: &str = "confluent.connector.SampleSourceConnector";

/// connect/v1 as the organisation's admin, as the console uses it.
async fn connect(
    w: &Context,
    ledger: &Ledger,
    method: reqwest::Method,
    tail: &str,
    body: Option<Value>,
) -> Value {
    use common::clouds::{CONFLUENT_KEY, CONFLUENT_SECRET};
    let state = ledger.snapshot().await;
    let env = &state.record("confluent.environment").unwrap().id;
    let lkc = &state.record("confluent.kafka_cluster").unwrap().id;
    let url = format!(
        "{}/connect/v1/environments/{env}/clusters/{lkc}/connectors/SampleSourceConnector{tail}",
        w.cloud.url()
    );
    let mut req = reqwest::Client::new()
        .request(method, url)
        .basic_auth(CONFLUENT_KEY, Some(CONFLUENT_SECRET));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connector_config_edited_in_the_console_is_put_back() {
    let w = confluent().start().await;
    let ledger = w.ledger();
    let made = w.engine(&ledger).create().await;
    assert!(made.ok(), "{:?}", made.failures);

    // The console sends the whole config back, server keys and all, with two values changed.
    let live = connect(&w, &ledger, reqwest::Method::GET, "", None).await;
    let mut edited = live["config"].clone();
    edited["tasks.max"] = json!("2");
    edited["output.data.format"] = json!("JSON");
    connect(&w, &ledger, reqwest::Method::PUT, "/config", Some(edited)).await;

    let plan = w.engine(&ledger).plan().await;
    assert!(plan.ok(), "{:?}", plan.failures);
    assert_eq!(plan.outcome(CONNECTOR), Some(Outcome::WouldUpdate));
    assert_eq!(
        diffs(&plan, CONNECTOR),
        vec![
            Diff::new("config output.data.format", "AVRO", "JSON"),
            Diff::new("config tasks.max", "1", "2"),
        ],
        "only the keys the stack sets, not the ones the service adds"
    );

    let repaired = w.engine(&ledger).create().await;
    assert!(repaired.ok(), "{:?}", repaired.failures);
    assert_eq!(repaired.outcome(CONNECTOR), Some(Outcome::Updated));
    let live = connect(&w, &ledger, reqwest::Method::GET, "", None).await;
    assert_eq!(live["config"]["tasks.max"], "1");
    assert_eq!(live["config"]["output.data.format"], "AVRO");

    nothing_to_do(&w.engine(&ledger).plan().await);
}

/// `plan` on the whole stack, through the binary: its stdout.
async fn plan_text(dir: &std::path::Path) -> String {
    let (run, _) = common::Test::new().whole_stack("plan", Some(dir)).await;
    run.stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn iam_policy_and_trust_documents_edited_by_hand_are_written_again() {
    let (_, dir) = common::Test::new().whole_stack("create", None).await;
    let iam = aws_sdk_iam::Client::new(&common::clouds::moto_sdk().await);
    let arn = "arn:aws:iam::123456789012:policy/tableflow_s3_glue_access_policy";
    let wide = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["*"]}]}"#;
    iam.create_policy_version()
        .policy_arn(arn)
        .policy_document(wide)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    let anyone = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":["sts:AssumeRole"]}]}"#;
    iam.update_assume_role_policy()
        .role_name("snowflake_s3_glue_role")
        .policy_document(anyone)
        .send()
        .await
        .unwrap();

    let plan = plan_text(dir.path()).await;
    let lines: Vec<&str> = plan.lines().collect();
    let update = |what: &str| {
        lines
            .iter()
            .position(|l| l.starts_with("update") && l.contains(what))
            .unwrap_or_else(|| panic!("no update of {what}:\n{plan}"))
    };
    let policy = update("tableflow_s3_glue_access_policy");
    assert!(
        lines[policy + 1].contains("policy document: sha256:")
            && lines[policy + 1].contains("(edited) -> sha256:"),
        "{plan}"
    );
    let trust = update("snowflake_s3_glue_role");
    assert!(lines[trust + 1].contains("trust policy: sha256:"), "{plan}");
    assert!(plan.contains(", 2 to update,"), "{plan}");

    common::Test::new()
        .whole_stack("create", Some(dir.path()))
        .await;
    let after = plan_text(dir.path()).await;
    assert!(
        !after.lines().any(|l| l.starts_with("update")) && !after.contains("to update"),
        "{after}"
    );
    let versions = iam
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        versions.versions().len(),
        3,
        "the stack's, the hand-made one, the stack's again"
    );
}

const TABLEFLOW: &str = "confluent.tableflow.stock_trades";

/// tableflow/v1 with the stack's Tableflow key, as the console would change an option.
async fn tableflow(
    w: &Context,
    ledger: &Ledger,
    method: reqwest::Method,
    body: Option<Value>,
) -> Value {
    let state = ledger.snapshot().await;
    let env = state.record("confluent.environment").unwrap().id.clone();
    let lkc = state.record("confluent.kafka_cluster").unwrap().id.clone();
    let key = state
        .record("confluent.api_key.tableflow")
        .unwrap()
        .id
        .clone();
    let secret = w.vault.get(&key).unwrap().expose_secret().to_string();
    let url = format!(
        "{}/tableflow/v1/tableflow-topics/stock_trades?environment={env}&spec.kafka_cluster={lkc}",
        w.cloud.url()
    );
    let mut req = reqwest::Client::new()
        .request(method, url)
        .basic_auth(key, Some(secret));
    if let Some(mut body) = body {
        body["spec"]["environment"] = json!({"id": env});
        body["spec"]["kafka_cluster"] = json!({"id": lkc, "environment": env});
        req = req.json(&body);
    }
    let r = req.send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tableflow_option_changed_since_is_set_again() {
    let w = confluent().start().await;
    let ledger = w.ledger();
    let made = w.engine(&ledger).create().await;
    assert!(made.ok(), "{:?}", made.failures);
    let live = tableflow(&w, &ledger, reqwest::Method::GET, None).await;
    assert_eq!(live["spec"]["config"]["retention_ms"], "86400000");
    nothing_to_do(&w.engine(&ledger).plan().await);

    let changed = json!({"spec": {"config": {"retention_ms": "604800000", "error_handling": {"mode": "LOG"}}}});
    tableflow(&w, &ledger, reqwest::Method::PATCH, Some(changed)).await;

    let plan = w.engine(&ledger).plan().await;
    assert!(plan.ok(), "{:?}", plan.failures);
    assert_eq!(
        plan.outcome(TABLEFLOW),
        Some(Outcome::WouldUpdate),
        "{:?}",
        plan.outcomes
    );
    assert_eq!(
        diffs(&plan, TABLEFLOW),
        vec![
            Diff::new("retention_ms", "86400000", "604800000"),
            Diff::new("error_handling", "SKIP", "LOG"),
        ]
    );

    let repaired = w.engine(&ledger).create().await;
    assert!(repaired.ok(), "{:?}", repaired.failures);
    assert_eq!(repaired.outcome(TABLEFLOW), Some(Outcome::Updated));
    let live = tableflow(&w, &ledger, reqwest::Method::GET, None).await;
    assert_eq!(live["spec"]["config"]["retention_ms"], "86400000");
    assert_eq!(live["spec"]["config"]["error_handling"]["mode"], "SKIP");

    nothing_to_do(&w.engine(&ledger).plan().await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_secret_changed_by_hand_is_written_again_and_never_shown() {
    let (_, dir) = common::Test::new().whole_stack("create", None).await;
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("kickstart.state.json")).unwrap(),
    )
    .unwrap();
    let name = state["nodes"]["aws.secret.app_manager"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{:#}", state["nodes"]))
        .to_string();
    let sm = aws_sdk_secretsmanager::Client::new(&common::clouds::moto_sdk().await);
    let text = sm.get_secret_value().secret_id(&name).send().await.unwrap();
    let mut doc: Value = serde_json::from_str(text.secret_string().unwrap()).unwrap();
    let password = doc["sasl.password"].as_str().unwrap().to_string();
    doc["bootstrap.servers"] = json!("elsewhere:9092");
    sm.put_secret_value()
        .secret_id(&name)
        .secret_string(doc.to_string())
        .send()
        .await
        .unwrap();

    let plan = plan_text(dir.path()).await;
    let lines: Vec<&str> = plan.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("update") && l.contains(&name))
        .unwrap_or_else(|| panic!("no update of {name}:\n{plan}"));
    assert!(lines[at + 1].contains("secret document: sha256:"), "{plan}");
    assert!(lines[at + 1].contains("(differs) -> sha256:"), "{plan}");
    assert!(
        !plan.contains(&password) && !plan.contains("elsewhere"),
        "{plan}"
    );
    // The same plan as JSON: one object for the node, its drift attribute by attribute.
    let (json, _) = common::Test::new()
        .in_dir(dir.path())
        .args(["plan"])
        .args(common::FULL)
        .args(["--output", "json"])
        .status(0)
        .run_async()
        .await;
    let planned: Vec<Value> = json
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "plan")
        .collect();
    let secret = planned
        .iter()
        .find(|v| v["node"] == "aws.secret.app_manager")
        .unwrap_or_else(|| panic!("{}", json.stdout));
    assert_eq!(secret["action"], "update");
    assert_eq!(secret["change"]["kind"], "update");
    assert_eq!(secret["change"]["what"][0]["attribute"], "secret document");
    assert!(!json.stdout.contains(&password), "{}", json.stdout);

    common::Test::new()
        .whole_stack("create", Some(dir.path()))
        .await;
    let text = sm.get_secret_value().secret_id(&name).send().await.unwrap();
    let doc: Value = serde_json::from_str(text.secret_string().unwrap()).unwrap();
    assert_ne!(doc["bootstrap.servers"], "elsewhere:9092");
    assert_eq!(doc["sasl.password"], password.as_str());
    let after = plan_text(dir.path()).await;
    assert!(!after.contains("to update"), "{after}");
}
