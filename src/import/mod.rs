//! `kickstart import terraform`: takes over a stack that deploy.sh built, from its Terraform
//! state. Every resource the state holds is matched to a node of kickstart's graph by its
//! address in the seed's configuration and recorded under its real id (the bucket's suffix, the
//! statement's UUID name, each API key's id). What kickstart models differently is listed with
//! the command that removes it. Nothing in any cloud is read or changed: the records are marked
//! as not yet seen ready, so the next `create` checks each against its cloud before relying on it.

pub mod terraform;

use std::collections::BTreeMap;

use crate::confluent::kinds as confluent;
use crate::engine::Record;
use crate::stack::{self, Decl, Names, Spec, ids};

use terraform::{Instance, TerraformError};

/// What the import found, before anything is recorded.
#[derive(Debug, Default)]
pub struct Takeover {
    /// Node id -> its record, for every resource kickstart manages.
    pub records: BTreeMap<String, Record>,
    /// Resources of the seed that kickstart does not manage, each with how to remove it.
    pub not_managed: Vec<(String, String)>,
    /// Addresses this kickstart does not know at all: left alone.
    pub unknown: Vec<String>,
}

/// The addresses that make a state deploy.sh's: without both, it is another configuration's.
const SEED_MARKS: &[&str] = &[
    "confluent_environment.tableflow_kickstarter",
    "confluent_kafka_cluster.kafka_cluster",
];

/// Terraform resources that exist only in Terraform (no cloud object): nothing to take over.
const TERRAFORM_ONLY: &[&str] = &[
    "random_uuid",
    "time_rotating",
    "time_static",
    "aws_lambda_invocation",
    "aws_secretsmanager_secret_version",
];

pub fn take_over(path: &str, text: &str, names: &Names) -> Result<Takeover, TerraformError> {
    let all = terraform::parse(path, text)?;
    let managed: Vec<&Instance> = all.iter().filter(|i| i.mode == "managed").collect();
    let missing: Vec<&str> = SEED_MARKS
        .iter()
        .copied()
        .filter(|m| {
            !managed
                .iter()
                .any(|i| i.module.is_none() && i.local() == *m)
        })
        .collect();
    if !missing.is_empty() {
        return Err(TerraformError::OtherConfiguration {
            path: path.to_string(),
            missing: missing.join(" and "),
        });
    }
    let env = managed
        .iter()
        .find(|i| i.local() == SEED_MARKS[0])
        .and_then(|i| i.text("display_name"))
        .unwrap_or_default();
    if env != names.stack() {
        return Err(TerraformError::OtherStack {
            path: path.to_string(),
            found: env.to_string(),
            expected: names.stack().to_string(),
        });
    }
    let decls = seed_decls(names);
    let mut out = Takeover::default();
    for i in all.iter() {
        if i.mode == "data" {
            // The Schema Registry is looked up by the seed too; other data sources are reads.
            if i.kind == "confluent_schema_registry_cluster" {
                put(&mut out, ids::SR, i, id_of(i));
            }
            continue;
        }
        if TERRAFORM_ONLY.contains(&i.kind.as_str()) {
            continue;
        }
        match classify(i, names, &decls) {
            Some(Place::Node(node, record)) => {
                // The first instance of a module's keys stands for them all.
                out.records.entry(node).or_insert(record);
            }
            Some(Place::NotManaged(how)) => out.not_managed.push((i.address.clone(), how)),
            None => out.unknown.push(i.address.clone()),
        }
    }
    Ok(out)
}

enum Place {
    Node(String, Record),
    NotManaged(String),
}

fn id_of(i: &Instance) -> String {
    i.text("id").unwrap_or_default().to_string()
}

fn put(out: &mut Takeover, node: &str, i: &Instance, id: String) {
    out.records.insert(node.to_string(), imported(i, id));
}

fn imported(i: &Instance, id: String) -> Record {
    Record::new(id).with("terraform_address", &i.address)
}

fn node(node: &str, i: &Instance, id: impl Into<String>) -> Option<Place> {
    Some(Place::Node(node.to_string(), imported(i, id.into())))
}

fn not_managed(how: String) -> Option<Place> {
    Some(Place::NotManaged(how))
}

/// The seed's module of each rotated API key, and kickstart's key node.
const KEY_MODULES: &[(&str, &str)] = &[
    ("module.kafka_app_manager_api_key", ids::MANAGER_KEY),
    (
        "module.kafka_app_consumer_api_key",
        "confluent.api_key.app_consumer_kafka",
    ),
    (
        "module.kafka_app_producer_api_key",
        "confluent.api_key.app_producer_kafka",
    ),
    (
        "module.schema_registry_cluster_api_key_rotation",
        "confluent.api_key.schema_registry",
    ),
    ("module.flink_api_key_rotation", ids::FLINK_KEY),
    ("module.tableflow_api_key", ids::TABLEFLOW_KEY),
];

/// The seed's client secrets (A4) by resource name.
const SECRETS: &[(&str, &str)] = &[
    (
        "schema_registry_cluster_api_key_python_client",
        "aws.secret.schema_registry",
    ),
    (
        "kafka_app_manager_cluster_api_key",
        "aws.secret.app_manager",
    ),
    ("kafka_app_consumer_api_key", "aws.secret.app_consumer"),
    ("kafka_app_producer_api_key", "aws.secret.app_producer"),
    ("flink_api_key", "aws.secret.flink"),
    ("tableflow_api_key", "aws.secret.tableflow"),
];

/// The seed's ACL resource names, and kickstart's ACL nodes.
fn acl_node(name: &str, stack: &str) -> Option<String> {
    let id = match name {
        "app_producer_write_on_topic" => "app_producer_write_topic_stock_trades".to_string(),
        "app_consumer_read_on_group" => format!("app_consumer_read_group_{stack}"),
        "app_consumer_read_on_topic" => "app_consumer_read_topic_stock_trades".to_string(),
        "app_connector_describe_on_cluster" => {
            "app_connector_describe_cluster_kafka_cluster".to_string()
        }
        "app_connector_write_on_target_topic" => {
            "app_connector_write_topic_stock_trades".to_string()
        }
        "app_connector_create_on_data_preview_topics" => {
            format!("app_connector_create_topic_{stack}")
        }
        "app_connector_write_on_data_preview_topics" => {
            format!("app_connector_write_topic_{stack}")
        }
        _ => return None,
    };
    Some(format!("confluent.acl.{id}"))
}

fn classify(i: &Instance, names: &Names, decls: &[Decl]) -> Option<Place> {
    let text = |k: &str| i.text(k).unwrap_or_default().to_string();
    let module = i.module.as_deref().unwrap_or_default();
    if module == "module.snowflake_user_rsa_key_pairs_rotation" {
        return rotation_module(i, &text);
    }
    if let Some((_, key_node)) = KEY_MODULES.iter().find(|(m, _)| *m == module) {
        // Each module keeps several keys; kickstart rotates them all under its retain rule, and
        // finds the active one (the one its secret holds) itself.
        return node(key_node, i, id_of(i));
    }
    match (module, i.local().as_str()) {
        ("module.create_set_1", "confluent_flink_statement.statement") => {
            node(ids::STATEMENT, i, text("statement_name"))
        }
        ("module.drop", "confluent_flink_statement.statement") => not_managed(format!(
            "the seed's DROP TABLE statement, finished: `confluent flink statement delete {} --environment <env id> --cloud aws --region <region>`",
            text("statement_name")
        )),
        ("", local) => top_level(i, local, names, decls, &text),
        _ => None,
    }
}

fn rotation_module(i: &Instance, text: &dyn Fn(&str) -> String) -> Option<Place> {
    match i.local().as_str() {
        "aws_secretsmanager_secret.secrets" => node(ids::KEYPAIR_SECRET, i, text("name")),
        // kickstart rotates the key pairs itself: the seed's Lambda and its role are not needed.
        "aws_lambda_function.lambda_function" => not_managed(format!(
            "the seed's key-pair rotation Lambda: `aws lambda delete-function --function-name {}`",
            text("function_name")
        )),
        "aws_iam_role_policy_attachment.attach_lambda_policy" => not_managed(format!(
            "`aws iam detach-role-policy --role-name {} --policy-arn {}`",
            text("role"),
            text("policy_arn")
        )),
        "aws_iam_policy.lambda_policy" => not_managed(format!(
            "`aws iam delete-policy --policy-arn {}` (after detaching it)",
            text("arn")
        )),
        "aws_iam_role.lambda_execution_role" => not_managed(format!(
            "`aws iam delete-role --role-name {}` (after detaching its policy)",
            text("name")
        )),
        _ => None,
    }
}

fn top_level(
    i: &Instance,
    local: &str,
    names: &Names,
    decls: &[Decl],
    text: &dyn Fn(&str) -> String,
) -> Option<Place> {
    let upper = |s: &str| names.upper(s);
    let (kind, name) = (i.kind.as_str(), i.name.as_str());
    match kind {
        "confluent_service_account" => {
            let role = if name == "flink_sql_runner" {
                "flink_statements_runner"
            } else {
                name
            };
            node(&format!("{}{role}", ids::SERVICE_ACCOUNT), i, id_of(i))
        }
        "confluent_role_binding" => match binding_node(i, decls) {
            Some(n) => node(&n, i, id_of(i)),
            None => not_managed(format!(
                "a role binding kickstart does not grant: `confluent iam rbac role-binding delete --principal {} --role {} --crn-pattern {}`",
                text("principal"),
                text("role_name"),
                text("crn_pattern")
            )),
        },
        "confluent_kafka_acl" => acl_node(name, names.stack()).and_then(|n| node(&n, i, id_of(i))),
        "confluent_api_key" => not_managed(format!(
            "a second Flink key beside the rotated ones: `confluent api-key delete {}`",
            id_of(i)
        )),
        "confluent_tableflow_topic" => node(
            &format!("confluent.tableflow.{name}"),
            i,
            text("display_name"),
        ),
        "aws_secretsmanager_secret" => SECRETS
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, id)| node(id, i, text("name"))),
        "aws_iam_role" if name == "update_snowflake_s3_glue_role" => not_managed(format!(
            "a second role the seed made to update A3's trust (kickstart updates A3 itself): `aws iam delete-role --role-name {}`",
            text("name")
        )),
        "snowflake_grant_privileges_to_account_role" => grant(i, name, names, text).or_else(|| {
            not_managed(format!(
                "a grant kickstart does not make: `REVOKE {} ON {} {} FROM ROLE {}`",
                text("privileges").trim_matches(['[', ']', '"']),
                upper_object(i),
                object_name(i),
                text("account_role_name")
            ))
        }),
        _ => match local {
            "confluent_environment.tableflow_kickstarter" => node(ids::ENV, i, id_of(i)),
            "confluent_kafka_cluster.kafka_cluster" => node(ids::CLUSTER, i, id_of(i)),
            "confluent_kafka_topic.stock_trades" => node(ids::TOPIC, i, text("topic_name")),
            "confluent_connector.source" => {
                let name = i
                    .attributes
                    .pointer("/config_nonsensitive/name")
                    .and_then(|v| v.as_str())
                    .unwrap_or("SampleSourceConnector");
                node(ids::CONNECTOR, i, name)
            }
            "confluent_flink_compute_pool.env" => node(ids::POOL, i, id_of(i)),
            "confluent_provider_integration.tableflow" => node(ids::PROVIDER, i, id_of(i)),
            "confluent_catalog_integration.tableflow" => node(ids::CATALOG, i, id_of(i)),
            "aws_s3_bucket.iceberg_bucket" => node(ids::BUCKET, i, text("bucket")),
            "aws_iam_role.tableflow_s3_glue_role" => node(ids::TABLEFLOW_ROLE, i, text("name")),
            "aws_iam_role.snowflake_s3_glue_role" => node(ids::SNOWFLAKE_ROLE, i, text("name")),
            "aws_iam_policy.tableflow_s3_glue_access_policy" => {
                node("aws.iam_policy.tableflow", i, text("arn"))
            }
            "aws_iam_policy.snowflake_s3_glue_role_access_policy" => {
                node("aws.iam_policy.snowflake", i, text("arn"))
            }
            "aws_iam_role_policy_attachment.tableflow_s3_glue_policy_attachment" => node(
                ids::TABLEFLOW_ATTACH,
                i,
                format!("{} -> {}", text("role"), text("policy_arn")),
            ),
            "aws_iam_role_policy_attachment.snowflake_s3_glue_policy_attachment" => node(
                ids::SNOWFLAKE_ATTACH,
                i,
                format!("{} -> {}", text("role"), text("policy_arn")),
            ),
            "snowflake_warehouse.tableflow_kickstarter" => node(ids::WAREHOUSE, i, text("name")),
            "snowflake_database.tableflow_kickstarter" => node(ids::DATABASE, i, text("name")),
            "snowflake_schema.tableflow_kickstarter" => node(ids::SCHEMA, i, text("name")),
            "snowflake_external_volume.tableflow_kickstarter_volume" => {
                node(ids::VOLUME, i, text("name"))
            }
            "snowflake_execute.catalog_integration" => {
                node(ids::SF_CATALOG, i, upper("CATALOG_INTEGRATION"))
            }
            "snowflake_execute.snowflake_stock_trades_iceberg_table" => {
                node("snowflake.iceberg_table.stock_trades", i, "stock_trades")
            }
            "snowflake_execute.snowflake_stock_trades_with_totals_iceberg_table" => node(
                "snowflake.iceberg_table.stock_trades_with_totals",
                i,
                "stock_trades_with_totals",
            ),
            "snowflake_user.user" => node(ids::USER, i, text("name")),
            "snowflake_account_role.security_admin_role" => {
                node(ids::SECURITY_ROLE, i, text("name"))
            }
            "snowflake_account_role.system_admin_role" => node(ids::SYSTEM_ROLE, i, text("name")),
            "snowflake_grant_account_role.user_security_admin" => node(
                "snowflake.grant.security_admin_role",
                i,
                format!("ROLE {} TO {}", text("role_name"), text("user_name")),
            ),
            "snowflake_grant_account_role.user_system_admin" => node(
                "snowflake.grant.system_admin_role",
                i,
                format!("ROLE {} TO {}", text("role_name"), text("user_name")),
            ),
            _ => None,
        },
    }
}

fn upper_object(i: &Instance) -> String {
    i.attributes
        .pointer("/on_account_object/0/object_type")
        .and_then(|v| v.as_str())
        .unwrap_or("USER")
        .to_string()
}

fn object_name(i: &Instance) -> String {
    i.attributes
        .pointer("/on_account_object/0/object_name")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// A usage grant of the seed, if kickstart declares the same one.
fn grant(i: &Instance, name: &str, names: &Names, text: &dyn Fn(&str) -> String) -> Option<Place> {
    let node_id = match name {
        "warehouse_usage" => "snowflake.grant.warehouse_usage",
        "database_usage" => "snowflake.grant.database_usage",
        "external_volume_usage" => "snowflake.grant.external_volume_usage",
        _ => return None,
    };
    let declared = seed_decls(names).into_iter().any(|d| d.id == node_id);
    if !declared {
        return None;
    }
    let id = format!(
        "USAGE ON {} {} TO {}",
        upper_object(i),
        object_name(i),
        text("account_role_name")
    );
    node(node_id, i, id)
}

/// The role binding node of kickstart's graph that grants what this binding of the seed grants:
/// the same role on the same kind of resource (the last segment of the CRN pattern).
fn binding_node(i: &Instance, decls: &[Decl]) -> Option<String> {
    let role = i.text("role_name")?;
    let crn = i.text("crn_pattern")?;
    let last = crn.rsplit('/').next()?;
    let (kind, value) = last.split_once('=')?;
    decls.iter().find_map(|d| {
        let Spec::Confluent(confluent::Spec::RoleBinding(binding)) = &d.spec else {
            return None;
        };
        let pattern = &binding.pattern;
        let (want_kind, want_value) = match pattern.rsplit('/').next().filter(|p| !p.is_empty()) {
            Some(p) => p.split_once('=')?,
            None => (crn_kind(&binding.on), ""),
        };
        let value_ok = want_value != "*" || value == "*";
        (binding.role == role && want_kind == kind && value_ok).then(|| d.id.clone())
    })
}

/// The CRN segment naming a scope's resource kind.
fn crn_kind(on: &confluent::Scope) -> &'static str {
    match on {
        // A cluster's rbac CRN ends in `/cloud-cluster=<lkc>`.
        confluent::Scope::Cluster(_) => "cloud-cluster",
        confluent::Scope::Environment(_) => "environment",
        confluent::Scope::SchemaRegistry(_) => "schema-registry",
        confluent::Scope::Organization => "organization",
    }
}

/// The nodes of the seed's stack (the default stack file) under these names.
fn seed_decls(names: &Names) -> Vec<Decl> {
    let file = crate::config::Stackfile::default_stack();
    stack::declare(&stack::Stack::offline(names, &file))
}

#[cfg(test)]
mod tests;
