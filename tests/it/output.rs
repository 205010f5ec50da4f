//! `kickstart output` after a create against the stand-ins: every output has its recorded value,
//! one is picked by name, an unknown name or a missing state is bad usage, and no secret's value
//! is ever among them. `plan --detailed-exitcode`: 0 with nothing to do, 2 once something is gone.

use crate::common;

use common::clouds::{self, CONFLUENT_SECRET};
use common::{FULL, Test};
use serde_json::Value;

fn state(dir: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(dir.join("kickstart.state.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The values of every field of every stored secret that holds a credential.
async fn secret_values() -> Vec<String> {
    let config = clouds::moto_sdk().await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let mut values = Vec::new();
    for entry in client.list_secrets().send().await.unwrap().secret_list() {
        let value = client
            .get_secret_value()
            .secret_id(entry.name().unwrap())
            .send()
            .await
            .unwrap();
        let doc: Value = serde_json::from_str(value.secret_string().unwrap()).unwrap();
        for (key, v) in doc.as_object().unwrap() {
            let credential = ["secret", "private_key", "password", "user.info"]
                .iter()
                .any(|word| key.contains(word))
                && !key.ends_with("_path");
            if let (true, Some(s)) = (credential, v.as_str()) {
                values.push(s.rsplit(':').next().unwrap().to_string());
            }
        }
    }
    values
}

#[tokio::test(flavor = "multi_thread")]
async fn output_lists_what_create_made_by_name_and_never_a_secret() {
    let (created, dir) = Test::new()
        .args(["create"])
        .args(FULL)
        .status(0)
        .stdout_has("outputs:")
        .run_async()
        .await;
    let doc = state(dir.path());
    let node = |id: &str| &doc["nodes"][id];
    let bootstrap = node("confluent.kafka_cluster")["outputs"]["bootstrap"]
        .as_str()
        .unwrap()
        .to_string();

    let (all, _) = Test::new()
        .in_dir(dir.path())
        .args(["output", "--output=json"])
        .status(0)
        .run_async()
        .await;
    let outputs: Value = serde_json::from_str(all.stdout.trim()).unwrap();
    let expected = [
        ("bootstrap_servers", bootstrap.clone()),
        (
            "schema_registry_url",
            node("confluent.schema_registry")["outputs"]["url"].to_string(),
        ),
        (
            "compute_pool",
            node("confluent.compute_pool")["id"].to_string(),
        ),
        (
            "flink_endpoint",
            node("confluent.compute_pool")["outputs"]["flink_endpoint"].to_string(),
        ),
        ("bucket", node("aws.s3_bucket")["id"].to_string()),
        ("glue_database", node("aws.glue_database")["id"].to_string()),
        (
            "table_path.stock_trades",
            node("confluent.tableflow.stock_trades")["outputs"]["table_path"].to_string(),
        ),
        (
            "query.stock_trades",
            "SELECT * FROM TABLEFLOW_KICKSTARTER_DATABASE.TABLEFLOW_KICKSTARTER_SCHEMA.STOCK_TRADES LIMIT 10".into(),
        ),
        (
            "query.stock_trades_with_totals",
            "SELECT * FROM TABLEFLOW_KICKSTARTER_DATABASE.TABLEFLOW_KICKSTARTER_SCHEMA.STOCK_TRADES_WITH_TOTALS LIMIT 10".into(),
        ),
        (
            "secret.app_consumer",
            "/confluent_cloud_resource/tableflow_kickstarter/kafka_cluster/app_consumer/python_client".into(),
        ),
        (
            "secret.snowflake_key_pairs",
            "/snowflake_resource/tableflow_kickstarter".into(),
        ),
    ];
    for (name, value) in &expected {
        let value = value.trim_matches('"');
        assert!(!value.is_empty() && value != "null", "{name} is recorded");
        assert_eq!(outputs[name], *value, "{name} in {outputs}");
    }
    // The secrets named are the stack's secrets: one output for each.
    let secrets = doc["nodes"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with("aws.secret."))
        .count();
    let named = outputs
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with("secret."))
        .count();
    assert_eq!(named, secrets, "{outputs}");

    // The table has every output with a value, and create printed the same one.
    let (table, _) = Test::new()
        .in_dir(dir.path())
        .args(["output"])
        .status(0)
        .run_async()
        .await;
    assert!(
        !table.stdout.contains("not created yet"),
        "{}",
        table.stdout
    );
    assert_eq!(
        table.stdout.lines().count(),
        outputs.as_object().unwrap().len()
    );
    assert!(
        created.stdout.ends_with(&table.stdout),
        "{}",
        created.stdout
    );

    let mut credentials = secret_values().await;
    credentials.push(CONFLUENT_SECRET.into());
    // Six API key secrets, the service user's private key, the Cloud API secret.
    assert!(credentials.len() >= 8, "{} credentials", credentials.len());
    for text in [&all.stdout, &all.stderr, &table.stdout, &created.stdout] {
        for secret in &credentials {
            assert!(!text.contains(secret.as_str()), "a secret is printed");
        }
    }

    // One by name: the bare value, for scripts; in JSON, a JSON string.
    let (one, _) = Test::new()
        .in_dir(dir.path())
        .args(["output", "bootstrap_servers"])
        .status(0)
        .run_async()
        .await;
    assert_eq!(one.stdout, format!("{bootstrap}\n"));
    assert_eq!(one.stderr, "");
    let (one, _) = Test::new()
        .in_dir(dir.path())
        .args(["output", "--output=json", "query.stock_trades"])
        .status(0)
        .run_async()
        .await;
    let query: Value = serde_json::from_str(one.stdout.trim()).unwrap();
    assert_eq!(query, outputs["query.stock_trades"]);

    // An unknown name is bad usage: one line that lists the names.
    let (unknown, _) = Test::new()
        .in_dir(dir.path())
        .args(["output", "bootstrap_server"])
        .status(2)
        .stderr_lines(1)
        .stderr_has("no output bootstrap_server")
        .stderr_has("bootstrap_servers, ")
        .stderr_has("query.stock_trades")
        .run_async()
        .await;
    assert_eq!(unknown.stdout, "");

    // create in JSON: an outputs event with the same values, before the summary.
    let (json, _) = Test::new()
        .in_dir(dir.path())
        .args(["create", "--output=json"])
        .args(FULL)
        .status(0)
        .run_async()
        .await;
    let events: Vec<Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let at = |kind: &str| events.iter().position(|e| e["event"] == kind).unwrap();
    assert_eq!(at("outputs") + 1, at("summary"));
    assert_eq!(events[at("outputs")]["outputs"], outputs);
}

#[test]
fn output_without_a_state_says_to_run_create() {
    Test::new()
        .args(["output"])
        .status(2)
        .stderr_lines(1)
        .stderr_has("no state at kickstart.state.json")
        .stderr_has("run `kickstart create` first")
        .run();
    Test::new()
        .args(["output", "bootstrap_servers", "--output=json"])
        .status(2)
        .stderr_has("run `kickstart create` first")
        .run();
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_detailed_exitcode_is_0_with_nothing_to_do_and_2_with_changes() {
    let (_, dir) = Test::new()
        .args(["plan", "--detailed-exitcode"])
        .args(FULL)
        .status(2)
        .stdout_has("create ")
        .run_async()
        .await;
    Test::new()
        .in_dir(dir.path())
        .args(["create"])
        .args(FULL)
        .status(0)
        .run_async()
        .await;
    let (nothing, _) = Test::new()
        .in_dir(dir.path())
        .args(["plan", "--detailed-exitcode"])
        .args(FULL)
        .status(0)
        .stdout_has("plan: 0 to create, 0 to adopt, 0 to rotate, 0 to wait for")
        .run_async()
        .await;
    assert!(!nothing.stderr.contains("error"), "{}", nothing.stderr);

    // A client secret deleted behind kickstart's back: create would make it again.
    let config = clouds::moto_sdk().await;
    aws_sdk_secretsmanager::Client::new(&config)
        .delete_secret()
        .secret_id("/confluent_cloud_resource/tableflow_kickstarter/kafka_cluster/app_consumer/python_client")
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let (changes, _) = Test::new()
        .in_dir(dir.path())
        .args(["plan", "--detailed-exitcode"])
        .args(FULL)
        .status(2)
        .stdout_has("plan: 1 to create")
        .run_async()
        .await;
    assert!(!changes.stderr.contains("error"), "{}", changes.stderr);
    // Without the flag, the same plan is a success.
    Test::new()
        .in_dir(dir.path())
        .args(["plan"])
        .args(FULL)
        .status(0)
        .run_async()
        .await;
    // And bad usage is 2 as well, told apart by its error line.
    Test::new()
        .in_dir(dir.path())
        .args(["plan", "--detailed-exitcode", "--concurrency=0"])
        .args(FULL)
        .status(2)
        .stderr_has("error: ")
        .run_async()
        .await;
}
