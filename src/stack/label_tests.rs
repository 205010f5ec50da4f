//! Each kind's label: what it is, its real name, owner and scope, never a STACK.md row or a
//! template, and never the same for two nodes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::ids::*;
use super::*;

fn declare_from(names: &Names, file: &Stackfile) -> Vec<Decl> {
    declare(&Stack::offline(names, file))
}

fn default_decls() -> Vec<Decl> {
    declare_from(&Names::new(DEFAULT_STACK), &Stackfile::default_stack())
}

/// The kind's tag in the state (`api_key`), to tell that every kind is covered.
fn kind_of(decl: &Decl) -> String {
    let value = serde_json::to_value(&decl.spec).unwrap();
    value["spec"]["kind"].as_str().unwrap().to_string()
}

fn label_of(decls: &[Decl], id: &str) -> String {
    decls
        .iter()
        .find(|d| d.id == id)
        .unwrap_or_else(|| panic!("no node {id}"))
        .label()
}

#[test]
fn every_kind_names_the_resource_as_its_cloud_does() {
    let decls = default_decls();
    let sr = "tableflow_kickstarter_schema_registry_cluster_api";
    let runner = "tableflow_kickstarter_flink_sql_statements_runner";
    let db = "TABLEFLOW_KICKSTARTER_DATABASE";
    let system = "TABLEFLOW_KICKSTARTER_SYSTEM_ADMIN_ROLE";
    let user = "TABLEFLOW_KICKSTARTER_USER";
    let expected: Vec<(&str, String)> = vec![
        (ENV, "environment tableflow_kickstarter".into()),
        (CLUSTER, "Kafka cluster tableflow_kickstarter".into()),
        (SR, "Schema Registry of environment tableflow_kickstarter".into()),
        (
            "confluent.service_account.app_consumer",
            "service account tableflow_app_consumer".into(),
        ),
        (
            CLUSTER_ADMIN,
            "role binding: tableflow_app_manager is CloudClusterAdmin of Kafka cluster tableflow_kickstarter".into(),
        ),
        (
            "confluent.role_binding.sr_developer_read",
            format!("role binding: {sr} is DeveloperRead of subjects * on Schema Registry of environment tableflow_kickstarter"),
        ),
        (
            FLINK_DEVELOPER,
            format!("role binding: {runner} is FlinkDeveloper of the organization"),
        ),
        (
            "confluent.role_binding.flink_runner_transactional_id_owner",
            format!("role binding: {runner} is ResourceOwner of transactional ids * on Kafka cluster tableflow_kickstarter"),
        ),
        (
            "confluent.role_binding.flink_runner_assigner",
            format!("role binding: {runner} is Assigner of service account {runner}"),
        ),
        (
            INTEGRATION_OWNER,
            "role binding: tableflow_app_manager is ResourceOwner of provider integration tableflow_aws_integration in environment tableflow_kickstarter".into(),
        ),
        (
            "confluent.api_key.app_consumer_kafka",
            "API key of tableflow_app_consumer on Kafka cluster tableflow_kickstarter".into(),
        ),
        (
            SR_KEY,
            format!("API key of {sr} on Schema Registry of environment tableflow_kickstarter"),
        ),
        (
            FLINK_KEY,
            format!("API key of {runner} for Flink in environment tableflow_kickstarter"),
        ),
        (
            TABLEFLOW_KEY,
            "API key of tableflow_app_manager for Tableflow".into(),
        ),
        (TOPIC, "topic stock_trades".into()),
        (
            TOTALS_TOPIC,
            "topic stock_trades_with_totals (made by a Flink statement)".into(),
        ),
        (
            "confluent.acl.app_producer_write_topic_stock_trades",
            "ACL: tableflow_app_producer may WRITE topic stock_trades".into(),
        ),
        (
            "confluent.acl.app_consumer_read_group_tableflow_kickstarter",
            "ACL: tableflow_app_consumer may READ group tableflow_kickstarter".into(),
        ),
        (
            "confluent.acl.app_connector_describe_cluster_kafka_cluster",
            "ACL: tableflow_app_connector may DESCRIBE the Kafka cluster".into(),
        ),
        (CONNECTOR, "connector SampleSourceConnector".into()),
        (POOL, "Flink compute pool tableflow_flink_statement_runner".into()),
        (
            STATEMENT,
            "Flink statement ctas_stock_trades_with_totals".into(),
        ),
        (
            PROVIDER,
            "provider integration tableflow_aws_integration".into(),
        ),
        (
            "confluent.tableflow.stock_trades",
            "Tableflow on topic stock_trades".into(),
        ),
        (
            CATALOG,
            "Tableflow catalog integration tableflow_aws_glue_catalog_sync".into(),
        ),
        (BUCKET, "S3 bucket for the Iceberg tables".into()),
        (
            "aws.iam_policy.tableflow",
            "IAM policy tableflow_s3_glue_access_policy".into(),
        ),
        (TABLEFLOW_ROLE, "IAM role tableflow_s3_glue_role".into()),
        (
            TABLEFLOW_ATTACH,
            "IAM policy tableflow_s3_glue_access_policy attached to role tableflow_s3_glue_role"
                .into(),
        ),
        (
            SNOWFLAKE_TRUST,
            "trust policy of IAM role snowflake_s3_glue_role".into(),
        ),
        (
            "aws.secret.flink",
            "secret /confluent_cloud_resource/tableflow_kickstarter/flink".into(),
        ),
        (
            GLUE_DB,
            "Glue database of Kafka cluster tableflow_kickstarter".into(),
        ),
        (
            KEYPAIR_SECRET,
            format!("secret /snowflake_resource/tableflow_kickstarter (key pairs of Snowflake user {user})"),
        ),
        (
            WAREHOUSE,
            "Snowflake warehouse TABLEFLOW_KICKSTARTER_WAREHOUSE".into(),
        ),
        (DATABASE, format!("Snowflake database {db}")),
        (
            SCHEMA,
            format!("Snowflake schema {db}.TABLEFLOW_KICKSTARTER_SCHEMA"),
        ),
        (SYSTEM_ROLE, format!("Snowflake role {system}")),
        (USER, format!("Snowflake user {user}")),
        (
            "snowflake.grant.warehouse_usage",
            format!("grant USAGE on WAREHOUSE TABLEFLOW_KICKSTARTER_WAREHOUSE to role {system}"),
        ),
        (
            "snowflake.grant.schema_usage",
            format!("grant USAGE on SCHEMA {db}.TABLEFLOW_KICKSTARTER_SCHEMA to role {system}"),
        ),
        (
            "snowflake.grant.system_admin_role",
            format!("grant role {system} to user {user}"),
        ),
        (
            VOLUME,
            "Snowflake external volume TABLEFLOW_KICKSTARTER_VOLUME".into(),
        ),
        (
            SF_CATALOG,
            "Snowflake catalog integration TABLEFLOW_KICKSTARTER_CATALOG_INTEGRATION".into(),
        ),
        (
            "snowflake.iceberg_table.stock_trades",
            format!("Snowflake Iceberg table {db}.TABLEFLOW_KICKSTARTER_SCHEMA.STOCK_TRADES"),
        ),
    ];
    for (id, label) in &expected {
        assert_eq!(&label_of(&decls, id), label, "{id}");
    }
    let checked: BTreeSet<String> = expected
        .iter()
        .map(|(id, _)| kind_of(decls.iter().find(|d| d.id == *id).unwrap()))
        .collect();
    let all: BTreeSet<String> = decls.iter().map(kind_of).collect();
    let unchecked: Vec<_> = all.difference(&checked).collect();
    assert!(
        unchecked.is_empty(),
        "kinds without a checked label: {unchecked:?}"
    );
}

/// The default stack, another stack name, and every example: one label per node.
#[test]
fn no_two_nodes_share_a_label_and_none_shows_a_row_or_template() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stacks");
    let mut stacks = vec![
        ("default".to_string(), default_decls()),
        (
            "team_b".to_string(),
            declare_from(&Names::new("team_b"), &Stackfile::default_stack()),
        ),
    ];
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let (names, file) = crate::settings::stack_file(Some(path.clone()), None).unwrap();
            stacks.push((path.display().to_string(), declare_from(&names, &file)));
        }
    }
    assert!(stacks.len() >= 4, "the examples are read");
    let row = regex::Regex::new(r"\b[CAS]\d{1,2}\b|<[a-z][a-z ]*>").unwrap();
    for (stack, decls) in stacks {
        let mut by_label: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for decl in &decls {
            let label = decl.label();
            let shown = label.replace("S3 bucket", "bucket");
            assert!(!row.is_match(&shown), "{stack}: {label}");
            by_label.entry(label).or_default().push(&decl.id);
        }
        let shared: Vec<_> = by_label.iter().filter(|(_, ids)| ids.len() > 1).collect();
        assert!(shared.is_empty(), "{stack}: {shared:#?}");
    }
}

#[test]
fn a_name_chosen_at_create_shows_once_the_state_knows_it() {
    let mut decls = default_decls();
    let mut doc = crate::state::StateDoc::new(DEFAULT_STACK);
    for (id, record) in [
        (BUCKET, "tableflow-kickstarter-1f2e"),
        (GLUE_DB, "lkc-abc12"),
        (STATEMENT, "ctas-stock-trades-with-totals-9d1c"),
        (TOPIC, "stock_trades"),
        (CLUSTER, "lkc-abc12"),
    ] {
        doc.put(
            id,
            crate::state::Record::new(record),
            crate::state::Status::Ready,
        )
        .unwrap();
    }
    let file = Stackfile::default_stack();
    let names = Names::new(DEFAULT_STACK);
    let stack = Stack {
        state: Some(&doc),
        ..Stack::offline(&names, &file)
    };
    let known = declare(&stack);
    for (id, label) in [
        (
            BUCKET,
            "S3 bucket for the Iceberg tables, known as tableflow-kickstarter-1f2e",
        ),
        (
            GLUE_DB,
            "Glue database of Kafka cluster tableflow_kickstarter, known as lkc-abc12",
        ),
        (
            STATEMENT,
            "Flink statement ctas_stock_trades_with_totals, known as ctas-stock-trades-with-totals-9d1c",
        ),
        // Where the name is the stack's own, the id adds nothing.
        (TOPIC, "topic stock_trades"),
        (CLUSTER, "Kafka cluster tableflow_kickstarter"),
    ] {
        assert_eq!(label_of(&known, id), label, "{id}");
    }
    // A node no longer declared keeps its name, and says so.
    doc.put(
        "confluent.flink_statement.gone",
        crate::state::Record::new("gone-77"),
        crate::state::Status::Ready,
    )
    .unwrap();
    let statement = decls.iter().find(|d| d.id == STATEMENT).unwrap();
    let recorded = recorded_spec(statement)
        .to_string()
        .replace("ctas_stock_trades_with_totals\"", "gone\"");
    doc.set_spec(
        "confluent.flink_statement.gone",
        serde_json::from_str(&recorded).unwrap(),
    );
    prune(&mut decls, &doc, &names);
    assert_eq!(
        label_of(&decls, "confluent.flink_statement.gone"),
        "Flink statement gone, known as gone-77 (no longer part of the stack)"
    );
}

/// A spec an earlier kickstart recorded, before specs carried the names labels need: the
/// label still says what and whose it is, from the ids it references.
#[test]
fn a_spec_recorded_without_names_is_still_labelled_by_what_it_references() {
    for (spec, label) in [
        (
            serde_json::json!({"kind": "api_key", "display_name": "s k", "owner": "confluent.service_account.app_connector",
                "scope": {"kafka_cluster": {"cluster": "confluent.kafka_cluster", "environment": "confluent.environment"}}}),
            "API key of app_connector on Kafka cluster kafka_cluster",
        ),
        (
            serde_json::json!({"kind": "flink_statement", "prefix": "ctas-orders-large-", "sql": "",
                "environment": "e", "cluster": "c", "pool": "p", "key": "k", "runner": "r",
                "bindings": [], "after": []}),
            "Flink statement ctas-orders-large",
        ),
    ] {
        let recorded =
            serde_json::json!({"reference": "C5", "spec": {"cloud": "confluent", "spec": spec}});
        let (shown, _) = recorded_label(&recorded).expect("an earlier spec still reads");
        assert_eq!(shown, label);
    }
}
