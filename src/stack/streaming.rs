//! The Confluent side of the stack (C1..C14): the environment and its cluster, the accounts and
//! what they may do, the topics, connectors and statements of the stack file, and Tableflow.

use std::collections::BTreeMap;

use super::ids::{self, *};
use super::{Decls, Stack};
use crate::config::model::{self, SnowflakeTable};
use crate::confluent::kinds::*;
use crate::engine::{Any, Ref};

/// What the AWS and Snowflake side reads of the Confluent side.
pub(super) struct Streaming {
    pub cluster: Ref<KafkaCluster>,
    pub provider: Ref<ProviderIntegration>,
    /// Tableflow nodes by topic, in topic order, with the Snowflake table each wants.
    pub tableflow: Vec<(String, Ref<TableflowTopic>, Option<String>)>,
    pub catalog: Ref<CatalogIntegration>,
}

fn account_id(key: &str) -> String {
    format!("{}{key}", ids::SERVICE_ACCOUNT)
}

/// The accounts the stack runs itself, with the seed's keys.
const MANAGER: &str = "app_manager";
const SR_ACCOUNT: &str = "schema_registry_cluster_api";
const RUNNER: &str = "flink_statements_runner";

/// `Standard` as the cmk API spells `STANDARD`.
fn cluster_kind(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

pub(super) fn declare(d: &mut Decls, s: &Stack) -> Streaming {
    let (n, c) = (s.names, &s.file.config);
    let confluent = &c.confluent;
    let environment = d.add(
        ENV,
        "C1",
        Environment {
            name: n.stack().into(),
            governance: confluent.environment.stream_governance.get_ref().clone(),
        },
    );
    let cluster = d.add(
        CLUSTER,
        "C2",
        KafkaCluster {
            name: n.stack().into(),
            environment: environment.clone(),
            kind: cluster_kind(confluent.cluster.kind.get_ref()),
            availability: confluent.cluster.availability.get_ref().clone(),
        },
    );
    let registry = d.add(
        SR,
        "C9",
        SchemaRegistry {
            environment: environment.clone(),
            environment_name: n.stack().into(),
        },
    );

    // C3: the stack's own accounts and the file's client accounts.
    let mut accounts: BTreeMap<String, Ref<ServiceAccount>> = BTreeMap::new();
    let own = [MANAGER, SR_ACCOUNT, RUNNER];
    for key in own
        .into_iter()
        .chain(c.service_accounts.keys().map(String::as_str))
    {
        let account = ServiceAccount {
            name: n.service_account(key),
            description: s.marker.text_within(DESCRIPTION_BUDGET),
        };
        accounts.insert(key.into(), d.add(account_id(key), "C3", account));
    }
    let runner = accounts[RUNNER].clone();

    // C12: the provider integration takes A2's ARN, known before the role exists.
    let provider = d.add(
        PROVIDER,
        "C12",
        ProviderIntegration {
            name: n.provider_integration(),
            environment: environment.clone(),
            role_arn: crate::aws::role_arn(s.account(), &n.tableflow_role()),
        },
    );

    // C4: role bindings.
    // The environment, cluster and Schema Registry's environment all take the stack's name.
    let bind = |principal: &str, role: &str, on: Scope, pattern: &str| {
        let scope_name = match on {
            Scope::Organization => String::new(),
            _ => n.stack().into(),
        };
        RoleBinding {
            principal: accounts[principal].clone(),
            role: role.into(),
            on,
            pattern: pattern.into(),
            integration: None,
            after: vec![],
            principal_name: n.service_account(principal),
            scope_name,
            integration_name: String::new(),
        }
    };
    let admin = d.add(
        CLUSTER_ADMIN,
        "C4",
        bind(
            MANAGER,
            "CloudClusterAdmin",
            Scope::Cluster(cluster.clone()),
            "",
        ),
    );
    for (id, role) in [
        ("confluent.role_binding.sr_developer_read", "DeveloperRead"),
        (
            "confluent.role_binding.sr_developer_write",
            "DeveloperWrite",
        ),
    ] {
        let on = Scope::SchemaRegistry(registry.clone());
        d.add(id, "C4", bind(SR_ACCOUNT, role, on, "/subject=*"));
    }
    // The Flink runner, with least privilege as the seed grants it: Flink on the organization,
    // owner of the cluster's topics and transactional ids and of the Schema Registry's subjects,
    // and Assigner on itself (statements run as it). Bindings on the cluster are relative to its
    // RBAC scope, `cloud-cluster=<lkc>`.
    let mut flink_bindings = Vec::new();
    for (id, role, on, pattern) in [
        (FLINK_DEVELOPER, "FlinkDeveloper", Scope::Organization, ""),
        (
            "confluent.role_binding.flink_runner_topic_owner",
            "ResourceOwner",
            Scope::Cluster(cluster.clone()),
            "/kafka=<lkc>/topic=*",
        ),
        (
            "confluent.role_binding.flink_runner_transactional_id_owner",
            "ResourceOwner",
            Scope::Cluster(cluster.clone()),
            "/kafka=<lkc>/transactional-id=*",
        ),
        (
            "confluent.role_binding.flink_runner_subject_owner",
            "ResourceOwner",
            Scope::SchemaRegistry(registry.clone()),
            "/subject=*",
        ),
        (
            "confluent.role_binding.flink_runner_assigner",
            "Assigner",
            Scope::Organization,
            "/service-account=<principal>",
        ),
    ] {
        flink_bindings.push(d.add(id, "C4", bind(RUNNER, role, on, pattern)));
    }
    let mut owner = bind(
        MANAGER,
        "ResourceOwner",
        Scope::Environment(environment.clone()),
        "/provider-integration=<id>",
    );
    owner.integration = Some(provider.clone());
    owner.integration_name = n.provider_integration();
    let owner = d.add(INTEGRATION_OWNER, "C4", owner);

    // C5: API keys, each owned by a service account and bound to one resource (with its
    // environment where the resource is env-scoped, as the spec's ObjectReference asks).
    let key = |owner: &str, id: &str, scope| ApiKey {
        display_name: format!("{} {id}", n.stack()),
        owner: accounts[owner].clone(),
        scope_name: match scope {
            KeyScope::Tableflow => String::new(),
            _ => n.stack().into(),
        },
        scope,
        after: vec![],
        owner_name: n.service_account(owner),
    };
    let kafka_scope = || KeyScope::KafkaCluster {
        cluster: cluster.clone(),
        environment: environment.clone(),
    };
    let mut kafka_keys = BTreeMap::new();
    let clients = c.service_accounts.iter().filter(|(_, a)| a.kafka_key);
    for account in std::iter::once(MANAGER).chain(clients.map(|(k, _)| k.as_str())) {
        let id = format!("confluent.api_key.{account}_kafka");
        let made = d.add(&id, "C5", key(account, &id, kafka_scope()));
        kafka_keys.insert(account.to_string(), made);
    }
    let sr_key = d.add(
        SR_KEY,
        "C5",
        key(
            SR_ACCOUNT,
            SR_KEY,
            KeyScope::SchemaRegistry {
                registry: registry.clone(),
                environment: environment.clone(),
            },
        ),
    );
    let flink_key = d.add(
        FLINK_KEY,
        "C5",
        key(
            RUNNER,
            FLINK_KEY,
            KeyScope::FlinkRegion {
                environment: environment.clone(),
            },
        ),
    );
    let tableflow_key = d.add(
        TABLEFLOW_KEY,
        "C5",
        key(MANAGER, TABLEFLOW_KEY, KeyScope::Tableflow),
    );

    // C6, C7: topics and ACLs, made over Kafka REST with the admin's key, which works only once
    // the admin is CloudClusterAdmin.
    let kafka_admin = KafkaAdmin {
        cluster: cluster.clone(),
        key: kafka_keys[MANAGER].clone(),
        binding: admin,
    };
    let mut topics: BTreeMap<String, Ref<Any>> = BTreeMap::new();
    for (name, topic) in c.topics.iter().filter(|(_, t)| t.made_by.is_none()) {
        let spec = Topic {
            name: name.clone(),
            admin: kafka_admin.clone(),
            partitions: topic.partitions.as_ref().map_or(6, |p| *p.get_ref()),
            config: topic
                .config
                .iter()
                .map(|(k, v)| (k.clone(), v.get_ref().clone()))
                .collect(),
        };
        topics.insert(name.clone(), d.add(topic_id(name), "C6", spec).any());
    }
    let mut acls_of: BTreeMap<String, Vec<Ref<Acl>>> = BTreeMap::new();
    for (who, account) in &c.service_accounts {
        for acl in &account.acls {
            let (resource, name) = acl_target(acl, n.stack());
            let operation = acl.operation.get_ref().to_ascii_uppercase();
            let target = format!("{resource:?}").to_ascii_lowercase();
            let id = format!(
                "confluent.acl.{who}_{}_{target}_{name}",
                operation.to_lowercase()
            )
            .replace('-', "_");
            let spec = Acl {
                principal: accounts[who].clone(),
                admin: kafka_admin.clone(),
                resource,
                name,
                operation,
                principal_name: n.service_account(who),
            };
            acls_of
                .entry(who.clone())
                .or_default()
                .push(d.add(id, "C7", spec));
        }
    }

    // C8: connectors need their topic and their account's ACLs. What writes a topic is what a
    // reader of it starts after.
    let mut writers: BTreeMap<String, Ref<Any>> = topics.clone();
    for (name, connector) in &c.connectors {
        let topic = connector.topic.get_ref();
        let account = connector.service_account.get_ref();
        let spec = Connector {
            name: name.clone(),
            environment: environment.clone(),
            cluster: cluster.clone(),
            topic: Ref::new(topic_id(topic)),
            topic_name: topic.clone(),
            account: accounts[account].clone(),
            acls: acls_of.get(account).cloned().unwrap_or_default(),
            class: connector.class.get_ref().clone(),
            quickstart: connector.quickstart.get_ref().clone(),
            format: connector.format.get_ref().clone(),
            tasks: *connector.tasks.get_ref(),
        };
        let made = d.add(connector_id(name), "C8", spec);
        writers.insert(topic.clone(), made.any());
    }

    // C10, C11: the compute pool and the statements. A topic a statement makes is a node the
    // statement depends on, so that delete removes it after the statement is gone.
    let pool = d.add(
        POOL,
        "C10",
        ComputePool {
            name: n.compute_pool(),
            environment: environment.clone(),
            max_cfu: *confluent.flink.max_cfu.get_ref(),
        },
    );
    let mut statements: Vec<_> = c.statements.iter().collect();
    statements.sort_by_key(|(key, _)| statement_rank(c, key));
    for (key, statement) in statements {
        let mut after = Vec::new();
        for read in &statement.reads {
            after.extend(writers.get(read.get_ref()).cloned());
        }
        let made_here: Vec<&String> = c
            .topics
            .iter()
            .filter(|(_, t)| t.made_by.as_ref().map(|m| m.get_ref()) == Some(key))
            .map(|(name, _)| name)
            .collect();
        for name in &made_here {
            let caused = CausedTopic {
                name: (*name).clone(),
                admin: kafka_admin.clone(),
            };
            after.push(d.add(topic_id(name), "C11", caused).any());
        }
        let spec = FlinkStatement {
            prefix: statement.name_prefix.as_ref().map_or_else(
                || format!("{}-", key.replace('_', "-")),
                |p| p.get_ref().clone(),
            ),
            sql: s.file.sql.get(key).cloned().unwrap_or_default(),
            environment: environment.clone(),
            cluster: cluster.clone(),
            pool: pool.clone(),
            key: flink_key.clone(),
            runner: runner.clone(),
            bindings: flink_bindings.clone(),
            after,
            file_key: key.clone(),
        };
        let made = d.add(statement_id(key), "C11", spec).any();
        for name in made_here {
            writers.insert(name.clone(), made.clone());
        }
    }

    // C13: Tableflow writes each chosen topic as Iceberg into the bucket, through the A2 role.
    let access = TableflowAccess {
        environment: environment.clone(),
        cluster: cluster.clone(),
        key: tableflow_key.clone(),
        provider: provider.clone(),
        bucket: Ref::new(BUCKET),
        after: vec![
            Ref::new(TABLEFLOW_ROLE),
            Ref::new(TABLEFLOW_ATTACH),
            owner.any(),
        ],
    };
    let mut tableflow = Vec::new();
    for (topic, settings) in &c.topics {
        let Some(t) = &settings.tableflow else {
            continue;
        };
        let spec = TableflowTopic {
            topic: topic.clone(),
            access: access.clone(),
            source: writers
                .get(topic)
                .cloned()
                .unwrap_or_else(|| Ref::new(topic_id(topic))),
            table_formats: t
                .table_formats
                .iter()
                .map(|f| f.get_ref().clone())
                .collect(),
            retention_ms: t.retention_ms.as_ref().map(|r| *r.get_ref()),
            error_handling: t.error_handling.as_ref().map(|e| e.get_ref().clone()),
        };
        let made = d.add(format!("confluent.tableflow.{topic}"), "C13", spec);
        let table = match &t.snowflake_table {
            Some(SnowflakeTable::Enabled(true)) => Some(topic.clone()),
            Some(SnowflakeTable::Named(name)) => Some(name.get_ref().clone()),
            _ => None,
        };
        tableflow.push((topic.clone(), made, table));
    }

    // C14: the Glue catalog sync. Its Glue database is a node it depends on, so that delete
    // removes the database only after nothing syncs into it any more.
    let catalog = d.add(
        CATALOG,
        "C14",
        CatalogIntegration {
            name: n.catalog_integration(),
            access,
            database: Ref::new(GLUE_DB),
        },
    );
    let _ = sr_key;
    Streaming {
        cluster,
        provider,
        tableflow,
        catalog,
    }
}

pub fn topic_id(name: &str) -> String {
    format!("confluent.topic.{name}")
}

pub fn connector_id(name: &str) -> String {
    format!("confluent.connector.{name}")
}

pub fn statement_id(key: &str) -> String {
    format!("confluent.flink_statement.{key}")
}

/// The resource an ACL is on and its name, `{stack}` filled in.
fn acl_target(acl: &model::Acl, stack: &str) -> (AclResource, String) {
    let (resource, name) = match (&acl.topic, &acl.group, &acl.cluster) {
        (Some(t), _, _) => (AclResource::Topic, t),
        (_, Some(g), _) => (AclResource::Group, g),
        (_, _, Some(c)) => (AclResource::Cluster, c),
        // The loader refuses an ACL on nothing.
        (None, None, None) => return (AclResource::Cluster, "kafka-cluster".into()),
    };
    (resource, name.get_ref().replace("{stack}", stack))
}

/// How many statements must run before this one: a statement reading a topic another makes
/// comes after it (the loader refuses cycles).
fn statement_rank(c: &model::Config, key: &str) -> usize {
    let maker = |topic: &str| {
        c.topics
            .get(topic)
            .and_then(|t| t.made_by.as_ref())
            .map(|m| m.get_ref().clone())
    };
    let mut rank = 0;
    let mut current = vec![key.to_string()];
    while rank <= c.statements.len() {
        let upstream: Vec<String> = current
            .iter()
            .filter_map(|k| c.statements.get(k))
            .flat_map(|s| s.reads.iter().filter_map(|r| maker(r.get_ref())))
            .collect();
        if upstream.is_empty() {
            break;
        }
        rank += 1;
        current = upstream;
    }
    rank
}
