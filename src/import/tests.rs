use serde_json::{Value, json};

use super::*;
use crate::stack::DEFAULT_STACK;

fn resource(module: Option<&str>, kind: &str, name: &str, attributes: Value) -> Value {
    let mut r = json!({"mode": "managed", "type": kind, "name": name, "provider": "p",
        "instances": [{"schema_version": 0, "attributes": attributes}]});
    if let Some(m) = module {
        r["module"] = json!(m);
    }
    r
}

fn state(resources: Vec<Value>) -> String {
    json!({"version": 4, "terraform_version": "1.9.5", "serial": 1, "lineage": "x",
        "outputs": {}, "resources": resources})
    .to_string()
}

fn seed_core() -> Vec<Value> {
    vec![
        resource(
            None,
            "confluent_environment",
            "tableflow_kickstarter",
            json!({"id": "env-1", "display_name": "tableflow_kickstarter"}),
        ),
        resource(
            None,
            "confluent_kafka_cluster",
            "kafka_cluster",
            json!({"id": "lkc-1"}),
        ),
    ]
}

#[test]
fn records_the_seeds_resources_by_real_id_and_lists_what_kickstart_does_not_manage() {
    let mut all = seed_core();
    all.extend([
        resource(
            None,
            "confluent_service_account",
            "flink_sql_runner",
            json!({"id": "sa-9"}),
        ),
        resource(
            None,
            "aws_s3_bucket",
            "iceberg_bucket",
            json!({"id": "b", "bucket": "tableflow-kickstarter-6f1c2a5e-8d0b-4b7e-9d7a-0c1e2f3a4b5c"}),
        ),
        resource(
            Some("module.create_set_1"),
            "confluent_flink_statement",
            "statement",
            json!({"statement_name": "ctas-stock-trades-with-totals-1b4e28ba-2fa1-11d2-883f-0016d3cca427"}),
        ),
        resource(
            Some("module.drop"),
            "confluent_flink_statement",
            "statement",
            json!({"statement_name": "dt-stock-trades-with-totals-1"}),
        ),
        resource(
            Some("module.snowflake_user_rsa_key_pairs_rotation"),
            "aws_lambda_function",
            "lambda_function",
            json!({"function_name": "tableflow_kickstarter"}),
        ),
        resource(
            Some("module.tableflow_api_key"),
            "confluent_api_key",
            "resouce_api_key",
            json!({"id": "KEY1", "secret": "never-recorded"}),
        ),
        resource(None, "random_uuid", "s3_bucket", json!({"id": "u"})),
        resource(None, "aws_sns_topic", "something_else", json!({"id": "t"})),
    ]);
    let t = take_over("f", &state(all), &Names::new(DEFAULT_STACK)).unwrap();
    assert_eq!(t.records[ids::ENV].id, "env-1");
    assert_eq!(t.records[ids::CLUSTER].id, "lkc-1");
    assert_eq!(
        t.records["confluent.service_account.flink_statements_runner"].id,
        "sa-9"
    );
    assert!(t.records[ids::BUCKET].id.ends_with("0c1e2f3a4b5c"));
    assert!(
        t.records[ids::STATEMENT]
            .id
            .starts_with("ctas-stock-trades-with-totals-")
    );
    assert_eq!(t.records[ids::TABLEFLOW_KEY].id, "KEY1");
    let text = format!("{t:?}");
    assert!(
        !text.contains("never-recorded"),
        "no secret is taken out of the state"
    );
    let not_managed: Vec<&str> = t.not_managed.iter().map(|(a, _)| a.as_str()).collect();
    assert!(not_managed.contains(&"module.drop.confluent_flink_statement.statement"));
    assert!(not_managed.contains(
        &"module.snowflake_user_rsa_key_pairs_rotation.aws_lambda_function.lambda_function"
    ));
    assert!(t.not_managed.iter().any(|(_, how)| {
        how.contains("aws lambda delete-function --function-name tableflow_kickstarter")
    }));
    assert_eq!(t.unknown, ["aws_sns_topic.something_else"]);
}

#[test]
fn refuses_another_configuration_and_another_stack() {
    let other = state(vec![resource(
        None,
        "aws_s3_bucket",
        "b",
        json!({"id": "b"}),
    )]);
    let e = take_over("f", &other, &Names::new(DEFAULT_STACK)).unwrap_err();
    assert!(matches!(e, TerraformError::OtherConfiguration { .. }));
    assert!(
        e.to_string()
            .contains("confluent_environment.tableflow_kickstarter")
    );
    let e = take_over("f", &state(seed_core()), &Names::new("team_b")).unwrap_err();
    assert!(
        e.to_string()
            .contains("pass --stack-name tableflow_kickstarter"),
        "{e}"
    );
}
