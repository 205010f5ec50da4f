//! What the user has once the stack is up: where to connect, what to query, and where the
//! credentials are kept. Computed from the declared stack (which outputs there are, and their
//! names) and the state's records (their values); never from a cloud, and never a secret's value:
//! a credential is named by the Secrets Manager secret that holds it.

use serde_json::{Map, Value};

use crate::stack::{Decl, Spec};
use crate::state::{Record, StateDoc};
use crate::{aws, confluent, snowflake};

/// One output: its name (what `kickstart output NAME` takes) and, once the node that gives it is
/// recorded, its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub name: String,
    pub value: Option<String>,
}

/// Where an output is listed: connection first, then Flink, the lake, Snowflake, and the secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Kafka,
    Flink,
    Lake,
    Snowflake,
    Query,
    Secrets,
}

/// Every output of the declared stack, in a fixed order, with the value the state records.
/// Retired nodes give none: they are on their way out.
pub fn outputs(decls: &[Decl], doc: Option<&StateDoc>) -> Vec<Output> {
    let mut all: Vec<(Section, Output)> = Vec::new();
    for decl in decls.iter().filter(|d| !d.retired) {
        let record = doc.and_then(|d| d.record(&decl.id));
        let mut add = |section, name: String, value: Option<String>| {
            all.push((section, Output { name, value }));
        };
        let id = || record.map(|r| r.id.clone());
        let out = |key: &str| output(record, key);
        match &decl.spec {
            Spec::Confluent(spec) => {
                use confluent::kinds::Spec as C;
                match spec {
                    C::Environment(_) => add(Section::Kafka, "environment".into(), id()),
                    C::KafkaCluster(_) => {
                        add(Section::Kafka, "kafka_cluster".into(), id());
                        add(Section::Kafka, "bootstrap_servers".into(), out("bootstrap"));
                        add(
                            Section::Kafka,
                            "kafka_rest_endpoint".into(),
                            out("rest_endpoint"),
                        );
                    }
                    C::SchemaRegistry(_) => {
                        add(Section::Kafka, "schema_registry_url".into(), out("url"))
                    }
                    C::ComputePool(_) => {
                        add(Section::Flink, "compute_pool".into(), id());
                        add(
                            Section::Flink,
                            "flink_endpoint".into(),
                            out("flink_endpoint"),
                        );
                    }
                    C::TableflowTopic(t) => add(
                        Section::Lake,
                        format!("table_path.{}", t.topic),
                        out("table_path"),
                    ),
                    _ => {}
                }
            }
            Spec::Aws(spec) => {
                use aws::kinds::Spec as A;
                match spec {
                    A::Bucket(_) => add(Section::Lake, "bucket".into(), out("name").or_else(id)),
                    A::GlueDatabase(_) => add(Section::Lake, "glue_database".into(), id()),
                    A::Secret(_) => add(Section::Secrets, secret_name(&decl.id), id()),
                    _ => {}
                }
            }
            Spec::Snowflake(spec) => {
                use snowflake::kinds::Spec as S;
                match spec {
                    S::Warehouse(_) => add(Section::Snowflake, "snowflake_warehouse".into(), id()),
                    S::Database(_) => add(Section::Snowflake, "snowflake_database".into(), id()),
                    S::Schema(_) => add(Section::Snowflake, "snowflake_schema".into(), id()),
                    S::User(u) => {
                        add(Section::Snowflake, "snowflake_user".into(), id());
                        // The role its sessions start in, which may read the tables.
                        let role = record.map(|_| u.default_role_name.clone());
                        add(Section::Snowflake, "snowflake_role".into(), role);
                    }
                    S::IcebergTable(t) => {
                        let table = record
                            .map(|r| format!("{}.{}.{}", t.database_name, t.schema_name, r.id));
                        let query = table
                            .as_ref()
                            .map(|table| format!("SELECT * FROM {table} LIMIT 10"));
                        add(
                            Section::Snowflake,
                            format!("snowflake_table.{}", t.topic),
                            table,
                        );
                        add(Section::Query, format!("query.{}", t.topic), query);
                    }
                    S::KeyPairs(_) => add(Section::Secrets, secret_name(&decl.id), id()),
                    _ => {}
                }
            }
        }
    }
    // Stable: within a section, the stack's own order.
    all.sort_by_key(|(section, _)| *section);
    all.into_iter().map(|(_, o)| o).collect()
}

fn output(record: Option<&Record>, key: &str) -> Option<String> {
    record
        .and_then(|r| r.outputs.get(key))
        .filter(|v| !v.is_empty())
        .cloned()
}

/// `secret.<client>`: the node's own name (`aws.secret.app_consumer` → `secret.app_consumer`).
fn secret_name(node: &str) -> String {
    let tail = node.strip_prefix("aws.secret.").unwrap_or(node);
    format!("secret.{tail}")
}

/// The outputs as one JSON object, name to value; those not recorded yet are left out.
pub fn json(outputs: &[Output]) -> Value {
    let map: Map<String, Value> = outputs
        .iter()
        .filter_map(|o| Some((o.name.clone(), Value::String(o.value.clone()?))))
        .collect();
    Value::Object(map)
}

/// The outputs as an aligned two-column table; those not recorded yet say so.
pub fn table(outputs: &[Output]) -> String {
    let width = outputs.iter().map(|o| o.name.len()).max().unwrap_or(0);
    let mut text = String::new();
    for o in outputs {
        let value = o.value.as_deref().unwrap_or("(not created yet)");
        text.push_str(&format!("{:<width$}  {value}\n", o.name));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Stackfile;
    use crate::stack::{self, Names, Stack};
    use crate::state::Status;

    fn decls() -> Vec<Decl> {
        let names = Names::new(stack::DEFAULT_STACK);
        let file = Stackfile::default_stack();
        stack::declare(&Stack::offline(&names, &file))
    }

    #[test]
    fn every_output_has_its_own_name() {
        let outputs = outputs(&decls(), None);
        let mut names: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "{names:?}");
        for name in [
            "bootstrap_servers",
            "schema_registry_url",
            "flink_endpoint",
            "compute_pool",
            "bucket",
            "glue_database",
            "table_path.stock_trades",
            "snowflake_database",
            "snowflake_schema",
            "query.stock_trades",
            "secret.app_consumer",
            "secret.snowflake_key_pairs",
        ] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        assert!(outputs.iter().all(|o| o.value.is_none()));
    }

    #[test]
    fn values_come_from_the_records_and_the_query_names_the_table_in_full() {
        let decls = decls();
        let mut doc = StateDoc::new(stack::DEFAULT_STACK);
        let cluster = Record::new("lkc-1").with("bootstrap", "pkc-1.example:9092");
        doc.put(stack::ids::CLUSTER, cluster, Status::Ready)
            .unwrap();
        let iceberg = Record::new("STOCK_TRADES");
        doc.put(
            "snowflake.iceberg_table.stock_trades",
            iceberg,
            Status::Ready,
        )
        .unwrap();
        let outputs = outputs(&decls, Some(&doc));
        let value = |name: &str| {
            outputs
                .iter()
                .find(|o| o.name == name)
                .and_then(|o| o.value.clone())
        };
        assert_eq!(
            value("bootstrap_servers").as_deref(),
            Some("pkc-1.example:9092")
        );
        assert_eq!(value("kafka_cluster").as_deref(), Some("lkc-1"));
        assert_eq!(
            value("query.stock_trades").as_deref(),
            Some(
                "SELECT * FROM TABLEFLOW_KICKSTARTER_DATABASE.TABLEFLOW_KICKSTARTER_SCHEMA.STOCK_TRADES LIMIT 10"
            )
        );
        assert_eq!(value("schema_registry_url"), None);
        let json = json(&outputs);
        assert_eq!(json["bootstrap_servers"], "pkc-1.example:9092");
        assert!(json.get("schema_registry_url").is_none());
        let text = table(&outputs);
        let line = text.lines().find(|l| l.starts_with("schema_registry_url "));
        assert!(
            line.is_some_and(|l| l.ends_with("  (not created yet)")),
            "{text}"
        );
        let starts: Vec<usize> = text.lines().map(|l| l.rfind("  ").unwrap()).collect();
        assert!(starts.windows(2).all(|w| w[0] == w[1]), "aligned: {text}");
    }
}
