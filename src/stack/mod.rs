//! The whole deployment on one page: every resource of STACK.md, what it is, and what it needs.
//! This is what the Terraform configuration used to say. The engine runs it; `graph` draws it.

mod ctas;
mod decl;
pub mod ids;
mod names;
mod not_built;
mod spec;

use ctas::CTAS;
use decl::Decls;
use ids::*;

pub use decl::{ByCloud, Decl, Provider, graph};

pub use names::{DEFAULT_STACK, Names};
pub use not_built::NotBuilt;
pub use spec::{AclResource, Cloud, Grant, KeyScope, SecretBody, Spec};

fn sa(role: &str) -> String {
    format!("confluent.service_account.{role}")
}

/// Every node of STACK.md with its dependencies.
pub fn declare(n: &Names) -> Vec<Decl> {
    let mut d = Decls::default();
    use Cloud::{Aws, Confluent, Snowflake};

    // C1, C2, C9: the environment, its Kafka cluster, and the Schema Registry it comes with.
    let env = Spec::Environment {
        name: n.stack().into(),
        governance: "ESSENTIALS",
    };
    d.add(ENV, "C1", Confluent, env, &[]);
    let cluster = Spec::KafkaCluster {
        name: n.stack().into(),
        kind: "Standard",
        availability: "SINGLE_ZONE",
    };
    d.add(CLUSTER, "C2", Confluent, cluster, &[ENV]);
    d.add(SR, "C9", Confluent, Spec::SchemaRegistry, &[ENV]);

    // C3: service accounts are organization-wide, so they need nothing.
    for role in [
        "app_manager",
        "app_consumer",
        "app_producer",
        "app_connector",
        "schema_registry_cluster_api",
        "flink_statements_runner",
    ] {
        let name = n.service_account(role);
        d.add(
            &sa(role),
            "C3",
            Confluent,
            Spec::ServiceAccount { name },
            &[],
        );
    }
    let manager = sa("app_manager");
    let sr_account = sa("schema_registry_cluster_api");
    let runner = sa("flink_statements_runner");

    // C4: role bindings.
    let binding = |role, on, pattern| Spec::RoleBinding { role, on, pattern };
    let mut flink_bindings = Vec::new();
    let admin = binding("CloudClusterAdmin", CLUSTER, "");
    d.add(CLUSTER_ADMIN, "C4", Confluent, admin, &[&manager, CLUSTER]);
    for (id, role) in [
        ("confluent.role_binding.sr_developer_read", "DeveloperRead"),
        (
            "confluent.role_binding.sr_developer_write",
            "DeveloperWrite",
        ),
    ] {
        let spec = binding(role, SR, "/subject=*");
        d.add(id, "C4", Confluent, spec, &[&sr_account, SR]);
    }
    // The Flink runner, with least privilege as the seed grants it: Flink on the organization,
    // owner of the cluster's topics and transactional ids and of the Schema Registry's subjects,
    // and Assigner on itself (statements run as it). Bindings on the cluster are relative to its
    // RBAC scope, `cloud-cluster=<lkc>`.
    for (id, role, on, pattern, target) in [
        (FLINK_DEVELOPER, "FlinkDeveloper", ORGANIZATION, "", None),
        (
            "confluent.role_binding.flink_runner_topic_owner",
            "ResourceOwner",
            CLUSTER,
            "/kafka=<lkc>/topic=*",
            Some(CLUSTER),
        ),
        (
            "confluent.role_binding.flink_runner_transactional_id_owner",
            "ResourceOwner",
            CLUSTER,
            "/kafka=<lkc>/transactional-id=*",
            Some(CLUSTER),
        ),
        (
            "confluent.role_binding.flink_runner_subject_owner",
            "ResourceOwner",
            SR,
            "/subject=*",
            Some(SR),
        ),
        (
            "confluent.role_binding.flink_runner_assigner",
            "Assigner",
            ORGANIZATION,
            "/service-account=<principal>",
            None,
        ),
    ] {
        let deps: Vec<&str> = [Some(runner.as_str()), target]
            .into_iter()
            .flatten()
            .collect();
        d.add(id, "C4", Confluent, binding(role, on, pattern), &deps);
        flink_bindings.push(id);
    }
    let owner = binding("ResourceOwner", ENV, "/provider-integration=<id>");
    let owner_deps = [manager.as_str(), ENV, PROVIDER];
    d.add(INTEGRATION_OWNER, "C4", Confluent, owner, &owner_deps);

    // C5: API keys, each owned by a service account and bound to one resource (with its
    // environment where the resource is env-scoped, as the spec's ObjectReference asks).
    let key = |scope| Spec::ApiKey { scope };
    for role in ["app_manager", "app_consumer", "app_producer"] {
        let id = format!("confluent.api_key.{role}_kafka");
        let spec = key(KeyScope::KafkaCluster);
        d.add(&id, "C5", Confluent, spec, &[&sa(role), CLUSTER, ENV]);
    }
    let sr_key = key(KeyScope::SchemaRegistry);
    d.add(
        "confluent.api_key.schema_registry",
        "C5",
        Confluent,
        sr_key,
        &[&sr_account, SR, ENV],
    );
    d.add(
        FLINK_KEY,
        "C5",
        Confluent,
        key(KeyScope::FlinkRegion),
        &[&runner, ENV],
    );
    d.add(
        TABLEFLOW_KEY,
        "C5",
        Confluent,
        key(KeyScope::Tableflow),
        &[&manager],
    );

    // C6, C7: the topic and the ACLs, made over Kafka REST with the app_manager key, which works
    // only once app_manager is CloudClusterAdmin.
    let kafka_admin = [CLUSTER, MANAGER_KEY, CLUSTER_ADMIN];
    let topic = Spec::Topic {
        name: "stock_trades".into(),
    };
    d.add(TOPIC, "C6", Confluent, topic, &kafka_admin);
    let group = n.stack();
    let mut connector_acls = Vec::new();
    for (who, operation, resource, name) in [
        ("app_producer", "WRITE", AclResource::Topic, "stock_trades"),
        ("app_consumer", "READ", AclResource::Group, group),
        ("app_consumer", "READ", AclResource::Topic, "stock_trades"),
        (
            "app_connector",
            "DESCRIBE",
            AclResource::Cluster,
            "kafka-cluster",
        ),
        ("app_connector", "WRITE", AclResource::Topic, "stock_trades"),
        ("app_connector", "CREATE", AclResource::Topic, group),
        ("app_connector", "WRITE", AclResource::Topic, group),
    ] {
        let target = format!("{resource:?}").to_ascii_lowercase();
        let id = format!(
            "confluent.acl.{who}_{}_{target}_{name}",
            operation.to_lowercase()
        );
        let id = id.replace('-', "_");
        let spec = Spec::Acl {
            resource,
            name: name.into(),
            operation,
        };
        let account = sa(who);
        let deps = [&kafka_admin[..], &[account.as_str()]].concat();
        d.add(&id, "C7", Confluent, spec, &deps);
        if who == "app_connector" {
            connector_acls.push(id);
        }
    }

    // C8: the Datagen connector needs its topic and its account's ACLs.
    let connector = Spec::Connector {
        name: "SampleSourceConnector",
        class: "DatagenSource",
        topic: "stock_trades",
        quickstart: "STOCK_TRADES",
        format: "AVRO",
    };
    let mut deps = vec![ENV, CLUSTER, TOPIC];
    let connector_account = sa("app_connector");
    deps.push(&connector_account);
    deps.extend(connector_acls.iter().map(String::as_str));
    d.add(CONNECTOR, "C8", Confluent, connector, &deps);
    // An earlier version ran the connector with a key of its account, kept in a client secret
    // of its own: both go once the connector runs as the account.
    let old_key = key(KeyScope::KafkaCluster);
    let old_key_deps = [connector_account.as_str(), CLUSTER, ENV, CONNECTOR];
    d.retire(CONNECTOR_KEY, "C5", Confluent, old_key, &old_key_deps);
    let old_secret = Spec::Secret {
        name: n.confluent_secret("kafka_cluster/app_connector/python_client"),
        body: SecretBody::KafkaClient,
    };
    d.retire(
        CONNECTOR_SECRET,
        "A4",
        Aws,
        old_secret,
        &[CONNECTOR_KEY, CLUSTER],
    );

    // C10, C11: the compute pool and the CTAS. The CTAS makes its output topic; that topic is a
    // node the statement depends on, so that delete removes it after the statement is gone.
    let pool = Spec::ComputePool {
        name: n.compute_pool(),
        max_cfu: 10,
    };
    d.add(POOL, "C10", Confluent, pool, &[ENV]);
    let totals = Spec::CausedTopic {
        name: "stock_trades_with_totals".into(),
    };
    d.add(
        TOTALS_TOPIC,
        "C11",
        Confluent,
        totals,
        &[CLUSTER, MANAGER_KEY, CLUSTER_ADMIN],
    );
    // The name ends in a UUID chosen at create, as the seed's; the prefix finds it again.
    let statement = Spec::FlinkStatement {
        prefix: n.statement_prefix(),
        sql: CTAS.into(),
    };
    let deps = [
        ENV,
        CLUSTER,
        POOL,
        FLINK_KEY,
        &runner,
        CONNECTOR,
        TOTALS_TOPIC,
    ];
    let deps = [&deps[..], &flink_bindings[..]].concat();
    d.add(STATEMENT, "C11", Confluent, statement, &deps);
    // An earlier version made the runner EnvironmentAdmin; it goes once the statement runs
    // under the narrower roles.
    let env_admin = binding("EnvironmentAdmin", ENV, "");
    d.retire(
        FLINK_ADMIN,
        "C4",
        Confluent,
        env_admin,
        &[&runner, ENV, STATEMENT],
    );

    // C12: the provider integration takes A2's ARN, known before the role exists.
    let provider = Spec::ProviderIntegration {
        name: n.provider_integration(),
    };
    d.add(PROVIDER, "C12", Confluent, provider, &[ENV]);

    // C13: Tableflow writes both topics as Iceberg into the bucket, through the A2 role.
    let tableflow = [
        ENV,
        CLUSTER,
        TABLEFLOW_KEY,
        BUCKET,
        TABLEFLOW_ROLE,
        TABLEFLOW_ATTACH,
        PROVIDER,
        INTEGRATION_OWNER,
    ];
    for (topic, source) in [
        ("stock_trades", CONNECTOR),
        ("stock_trades_with_totals", STATEMENT),
    ] {
        let id = format!("confluent.tableflow.{topic}");
        let spec = Spec::TableflowTopic {
            topic: topic.into(),
        };
        let deps = [&tableflow[..], &[source]].concat();
        d.add(&id, "C13", Confluent, spec, &deps);
    }

    // C14 and A6: the Glue catalog sync. Its Glue database is a node it depends on, so that
    // delete removes the database only after nothing syncs into it any more.
    d.add(GLUE_DB, "A6", Aws, Spec::GlueDatabase, &[CLUSTER]);
    let catalog = Spec::CatalogIntegration {
        name: n.catalog_integration(),
    };
    let deps = [&tableflow[..], &[GLUE_DB]].concat();
    d.add(CATALOG, "C14", Confluent, catalog, &deps);

    // A1..A3: the bucket and the two roles. A3 starts trusting only Glue; its trust policy is
    // rewritten once Snowflake has said which IAM users and external ids it uses.
    let bucket = Spec::Bucket { prefix: n.dashed() };
    d.add(BUCKET, "A1", Aws, bucket, &[]);
    for (who, role, policy, reference, trust) in [
        (
            "tableflow",
            n.tableflow_role(),
            n.tableflow_policy(),
            "A2",
            PROVIDER,
        ),
        (
            "snowflake",
            n.snowflake_role(),
            n.snowflake_policy(),
            "A3",
            "",
        ),
    ] {
        let policy_id = format!("aws.iam_policy.{who}");
        let role_id = format!("aws.iam_role.{who}");
        let policy = Spec::IamPolicy { name: policy };
        d.add(&policy_id, reference, Aws, policy, &[BUCKET]);
        let deps: Vec<&str> = [trust].into_iter().filter(|t| !t.is_empty()).collect();
        d.add(
            &role_id,
            reference,
            Aws,
            Spec::IamRole { name: role },
            &deps,
        );
        let attach = format!("aws.policy_attachment.{who}");
        d.add(
            &attach,
            reference,
            Aws,
            Spec::PolicyAttachment,
            &[&role_id, &policy_id],
        );
    }
    let trust = Spec::TrustPolicy {
        role: n.snowflake_role(),
    };
    d.add(
        SNOWFLAKE_TRUST,
        "A3",
        Aws,
        trust,
        &[SNOWFLAKE_ROLE, VOLUME, SF_CATALOG],
    );

    // A4: one secret per client, holding the active key.
    for (path, body, deps) in [
        (
            "kafka_cluster/app_manager/python_client",
            SecretBody::KafkaClient,
            vec![MANAGER_KEY, CLUSTER],
        ),
        (
            "kafka_cluster/app_consumer/python_client",
            SecretBody::KafkaClient,
            vec!["confluent.api_key.app_consumer_kafka", CLUSTER],
        ),
        (
            "kafka_cluster/app_producer/python_client",
            SecretBody::KafkaClient,
            vec!["confluent.api_key.app_producer_kafka", CLUSTER],
        ),
        (
            "schema_registry_cluster/python_client",
            SecretBody::SchemaRegistryClient,
            vec!["confluent.api_key.schema_registry", SR],
        ),
        ("flink", SecretBody::Flink, vec![FLINK_KEY, POOL, &runner]),
        (
            "tableflow",
            SecretBody::Tableflow,
            vec![TABLEFLOW_KEY, ENV, CLUSTER],
        ),
    ] {
        // kafka_cluster/app_manager/python_client -> app_manager; flink -> flink.
        let mut parts = path.split('/');
        let first = parts.next().unwrap_or(path);
        let short = match first {
            "kafka_cluster" => parts.next().unwrap_or(first),
            "schema_registry_cluster" => "schema_registry",
            _ => first,
        };
        let id = format!("aws.secret.{short}");
        let spec = Spec::Secret {
            name: n.confluent_secret(path),
            body,
        };
        d.add(&id, "A4", Aws, spec, &deps);
    }
    // A5: the Snowflake service user's key pairs. The pair is made and stored here first, so a
    // crash can never leave a public key on the user whose private key was lost.
    let pairs = Spec::Secret {
        name: n.snowflake_secret(),
        body: SecretBody::SnowflakeKeyPairs,
    };
    d.add(KEYPAIR_SECRET, "A5", Aws, pairs, &[]);

    // S1..S3: warehouse, database, schema, roles, the service user and its grants.
    let warehouse = n.upper("WAREHOUSE");
    let database = n.upper("DATABASE");
    let schema = n.upper("SCHEMA");
    let security = n.upper("SECURITY_ADMIN_ROLE");
    let system = n.upper("SYSTEM_ADMIN_ROLE");
    let user = n.upper("USER");
    let volume = n.upper("VOLUME");
    d.add(
        WAREHOUSE,
        "S1",
        Snowflake,
        Spec::Warehouse {
            name: warehouse.clone(),
        },
        &[],
    );
    d.add(
        DATABASE,
        "S1",
        Snowflake,
        Spec::Database {
            name: database.clone(),
        },
        &[],
    );
    d.add(
        SCHEMA,
        "S1",
        Snowflake,
        Spec::Schema {
            name: schema.clone(),
        },
        &[DATABASE],
    );
    d.add(
        SECURITY_ROLE,
        "S2",
        Snowflake,
        Spec::Role {
            name: security.clone(),
        },
        &[],
    );
    d.add(
        SYSTEM_ROLE,
        "S2",
        Snowflake,
        Spec::Role {
            name: system.clone(),
        },
        &[],
    );
    let deps = [WAREHOUSE, DATABASE, SCHEMA, SECURITY_ROLE, KEYPAIR_SECRET];
    d.add(
        USER,
        "S3",
        Snowflake,
        Spec::User { name: user.clone() },
        &deps,
    );
    // The seed grants usage to the user's default role; the security admin role holds the
    // privileges on the user.
    let catalog_integration = n.upper("CATALOG_INTEGRATION");
    for (privilege, object_type, object, on, role, role_node) in [
        (
            "USAGE",
            "WAREHOUSE",
            &warehouse,
            WAREHOUSE,
            &system,
            SYSTEM_ROLE,
        ),
        (
            "USAGE",
            "DATABASE",
            &database,
            DATABASE,
            &system,
            SYSTEM_ROLE,
        ),
        ("USAGE", "SCHEMA", &schema, SCHEMA, &system, SYSTEM_ROLE),
        (
            "USAGE",
            "EXTERNAL VOLUME",
            &volume,
            VOLUME,
            &system,
            SYSTEM_ROLE,
        ),
        (
            "USAGE",
            "INTEGRATION",
            &catalog_integration,
            SF_CATALOG,
            &system,
            SYSTEM_ROLE,
        ),
        (
            "ALL PRIVILEGES",
            "USER",
            &user,
            USER,
            &security,
            SECURITY_ROLE,
        ),
    ] {
        let what = match privilege {
            "USAGE" => "usage",
            _ => "privileges",
        };
        let id = format!(
            "snowflake.grant.{}_{what}",
            object_type.to_lowercase().replace(' ', "_")
        );
        let grant = Grant::Usage {
            privilege,
            object_type,
            object: object.clone(),
            role: role.clone(),
        };
        d.add(&id, "S2", Snowflake, Spec::Grant(grant), &[role_node, on]);
    }
    for (id, role, role_node) in [
        (
            "snowflake.grant.security_admin_role",
            &security,
            SECURITY_ROLE,
        ),
        ("snowflake.grant.system_admin_role", &system, SYSTEM_ROLE),
    ] {
        let grant = Grant::Role {
            role: role.clone(),
            user: user.clone(),
        };
        d.add(id, "S2", Snowflake, Spec::Grant(grant), &[role_node, USER]);
    }

    // S4, S5: the external volume reads Tableflow's base path through A3 (ARN known in advance);
    // the catalog integration reads the Glue namespace named after the Kafka cluster.
    let volume_spec = Spec::ExternalVolume { name: volume };
    d.add(
        VOLUME,
        "S4",
        Snowflake,
        volume_spec,
        &["confluent.tableflow.stock_trades"],
    );
    let sf_catalog = Spec::GlueCatalogIntegration {
        name: n.upper("CATALOG_INTEGRATION"),
    };
    d.add(SF_CATALOG, "S5", Snowflake, sf_catalog, &[CLUSTER]);

    // S6: the Iceberg tables, last: they need A3 to trust S4 and S5, and the Glue tables to exist.
    for (table, tableflow) in [
        ("stock_trades", "confluent.tableflow.stock_trades"),
        (
            "stock_trades_with_totals",
            "confluent.tableflow.stock_trades_with_totals",
        ),
    ] {
        let id = format!("snowflake.iceberg_table.{table}");
        let spec = Spec::IcebergTable { name: table.into() };
        let deps = [
            DATABASE,
            SCHEMA,
            VOLUME,
            SF_CATALOG,
            SNOWFLAKE_TRUST,
            SNOWFLAKE_ATTACH,
            CATALOG,
            tableflow,
        ];
        d.add(&id, "S6", Snowflake, spec, &deps);
    }
    d.0
}

#[cfg(test)]
mod tests;
