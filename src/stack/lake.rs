//! The AWS and Snowflake side (A1..A6, S1..S6): the bucket Tableflow writes into, the roles
//! Tableflow and Snowflake act as, the client secrets, and Snowflake's Iceberg tables over it.

use super::ids::*;
use super::streaming::Streaming;
use super::{Decls, Stack};
use crate::aws::kinds::{self as aws, Grantee, InitialTrust, SecretBody};
use crate::engine::{Any, Ref};
use crate::snowflake::kinds::{self as sf, Privilege};

pub(super) fn declare(d: &mut Decls, s: &Stack, streaming: &Streaming) {
    let n = s.names;
    let description = format!("kickstart stack {}", n.stack());
    // The mark, made at create only: AWS's tags, Snowflake's COMMENT.
    let tags = s.marker.tags();
    let comment = s.marker.text();

    // A1..A3: the bucket and the two roles. A3 starts trusting only Glue; its trust policy is
    // rewritten once Snowflake has said which IAM users and external ids it uses.
    let bucket = d.add(
        BUCKET,
        "A1",
        aws::Bucket {
            prefix: n.dashed(),
            tags: tags.clone(),
        },
    );
    for (who, role, policy, reference, grantee, trust) in [
        (
            "tableflow",
            n.tableflow_role(),
            n.tableflow_policy(),
            "A2",
            Grantee::Tableflow,
            InitialTrust::Integration(streaming.provider.any()),
        ),
        (
            "snowflake",
            n.snowflake_role(),
            n.snowflake_policy(),
            "A3",
            Grantee::Snowflake,
            InitialTrust::Glue,
        ),
    ] {
        let policy_ref = d.add(
            format!("aws.iam_policy.{who}"),
            reference,
            aws::IamPolicy {
                name: policy.clone(),
                bucket: bucket.clone(),
                grantee,
                description: description.clone(),
                tags: tags.clone(),
            },
        );
        let role_ref = d.add(
            format!("aws.iam_role.{who}"),
            reference,
            aws::IamRole {
                name: role.clone(),
                trust,
                tags: tags.clone(),
            },
        );
        d.add(
            format!("aws.policy_attachment.{who}"),
            reference,
            aws::PolicyAttachment {
                role: role_ref,
                role_name: role,
                policy: policy_ref,
                policy_name: policy,
            },
        );
    }
    d.add(
        SNOWFLAKE_TRUST,
        "A3",
        aws::TrustPolicy {
            role: Ref::new(SNOWFLAKE_ROLE),
            role_name: n.snowflake_role(),
            volume: Ref::new(VOLUME),
            catalog: Ref::new(SF_CATALOG),
        },
    );

    // A4: one secret per client, holding its active key.
    let cluster = streaming.cluster.any();
    let config = &s.file.config;
    let mut clients: Vec<(String, String, SecretBody, Ref<Any>)> = Vec::new();
    let kafka_clients = std::iter::once("app_manager").chain(
        config
            .service_accounts
            .iter()
            .filter(|(_, a)| a.kafka_key)
            .map(|(k, _)| k.as_str()),
    );
    for account in kafka_clients {
        clients.push((
            account.to_string(),
            format!("kafka_cluster/{account}/python_client"),
            SecretBody::KafkaClient {
                cluster: cluster.clone(),
            },
            Ref::new(format!("confluent.api_key.{account}_kafka")),
        ));
    }
    clients.push((
        "schema_registry".into(),
        "schema_registry_cluster/python_client".into(),
        SecretBody::SchemaRegistryClient {
            registry: Ref::new(SR),
        },
        Ref::new(SR_KEY),
    ));
    clients.push((
        "flink".into(),
        "flink".into(),
        SecretBody::Flink {
            pool: Ref::new(POOL),
            principal: Ref::new(format!("{SERVICE_ACCOUNT}flink_statements_runner")),
        },
        Ref::new(FLINK_KEY),
    ));
    clients.push((
        "tableflow".into(),
        "tableflow".into(),
        SecretBody::Tableflow {
            environment: Ref::new(ENV),
            cluster: cluster.clone(),
        },
        Ref::new(TABLEFLOW_KEY),
    ));
    for (short, path, body, key) in clients {
        let spec = aws::Secret {
            name: n.confluent_secret(&path),
            description: description.clone(),
            key,
            body,
            tags: tags.clone(),
        };
        d.add(format!("aws.secret.{short}"), "A4", spec);
    }

    // A6: made by the catalog sync, deleted by the stack.
    d.add(
        GLUE_DB,
        "A6",
        aws::GlueDatabase {
            cluster,
            cluster_name: n.stack().into(),
        },
    );

    // A5: the Snowflake service user's key pairs. The pair is made and stored here first, so a
    // crash can never leave a public key on the user whose private key was lost.
    let user_name = n.upper("USER");
    let key_pairs = d.add(
        KEYPAIR_SECRET,
        "A5",
        sf::KeyPairs {
            secret_name: n.snowflake_secret(),
            user_name: user_name.clone(),
            tags: tags.clone(),
        },
    );

    // S1..S3: warehouse, database, schema, roles, the service user and its grants.
    let warehouse_name = n.upper("WAREHOUSE");
    let database_name = n.upper("DATABASE");
    let schema_name = n.upper("SCHEMA");
    let security = n.upper("SECURITY_ADMIN_ROLE");
    let system = n.upper("SYSTEM_ADMIN_ROLE");
    let volume_name = n.upper("VOLUME");
    let catalog_name = n.upper("CATALOG_INTEGRATION");
    let warehouse = d.add(
        WAREHOUSE,
        "S1",
        sf::Warehouse {
            name: warehouse_name.clone(),
            comment: comment.clone(),
        },
    );
    let database = d.add(
        DATABASE,
        "S1",
        sf::Database {
            name: database_name.clone(),
            comment: comment.clone(),
        },
    );
    let schema = d.add(
        SCHEMA,
        "S1",
        sf::Schema {
            name: schema_name.clone(),
            database: database.clone(),
            database_name: database_name.clone(),
        },
    );
    let security_role = d.add(
        SECURITY_ROLE,
        "S2",
        sf::Role {
            name: security.clone(),
            comment: comment.clone(),
        },
    );
    let system_role = d.add(
        SYSTEM_ROLE,
        "S2",
        sf::Role {
            name: system.clone(),
            comment: comment.clone(),
        },
    );
    let user = d.add(
        USER,
        "S3",
        sf::User {
            name: user_name.clone(),
            warehouse: warehouse.clone(),
            warehouse_name: warehouse_name.clone(),
            default_role_name: system.clone(),
            schema: schema.clone(),
            database_name: database_name.clone(),
            schema_name: schema_name.clone(),
            key_pairs,
            after: vec![database.any(), security_role.any()],
            comment: comment.clone(),
        },
    );

    // S4, S5: the external volume reads Tableflow's base path through A3 (ARN known in advance);
    // the catalog integration reads the Glue namespace named after the Kafka cluster.
    let snowflake_arn = crate::aws::role_arn(s.account(), &n.snowflake_role());
    // Every Tableflow topic of the cluster shares the base path; the volume reads it from one
    // that already runs where there is one, so that adding, renaming or removing another topic
    // leaves the volume (and what depends on it) alone.
    let running = |t: &Ref<crate::confluent::kinds::TableflowTopic>| {
        s.state.is_some_and(|state| state.is_ready(t))
    };
    let base = streaming
        .tableflow
        .iter()
        .find(|(_, t, _)| running(t))
        .or(streaming.tableflow.first())
        .map_or_else(|| Ref::new("confluent.tableflow"), |(_, t, _)| t.any());
    let volume = d.add(
        VOLUME,
        "S4",
        sf::ExternalVolume {
            name: volume_name.clone(),
            location: n.upper("LOCATION"),
            base,
            role_arn: snowflake_arn.clone(),
            comment: comment.clone(),
        },
    );
    let sf_catalog = d.add(
        SF_CATALOG,
        "S5",
        sf::GlueCatalogIntegration {
            name: catalog_name.clone(),
            namespace: streaming.cluster.any(),
            role_arn: snowflake_arn,
            aws_account: s.account().to_string(),
            region: s.region().to_string(),
            comment,
        },
    );

    // The seed grants usage to the user's default role; the security admin role holds the
    // privileges on the user.
    let usage = |privilege: &str, object_type: &str, object: &str, database: Option<&str>| {
        Privilege::Usage {
            privilege: privilege.into(),
            object_type: object_type.into(),
            object: object.into(),
            database: database.map(str::to_string),
            role: system.clone(),
        }
    };
    let mut grants = vec![
        (
            usage("USAGE", "WAREHOUSE", &warehouse_name, None),
            warehouse.any(),
        ),
        (
            usage("USAGE", "DATABASE", &database_name, None),
            database.any(),
        ),
        (
            usage("USAGE", "SCHEMA", &schema_name, Some(&database_name)),
            schema.any(),
        ),
        (
            usage("USAGE", "EXTERNAL VOLUME", &volume_name, None),
            volume.any(),
        ),
        (
            usage("USAGE", "INTEGRATION", &catalog_name, None),
            sf_catalog.any(),
        ),
    ];
    let mut on_user = usage("ALL PRIVILEGES", "USER", &user_name, None);
    if let Privilege::Usage { role, .. } = &mut on_user {
        role.clone_from(&security);
    }
    grants.push((on_user, user.any()));
    for (grant, on) in grants {
        let Privilege::Usage {
            privilege,
            object_type,
            role,
            ..
        } = &grant
        else {
            continue;
        };
        let what = if privilege == "USAGE" {
            "usage"
        } else {
            "privileges"
        };
        let id = format!(
            "snowflake.grant.{}_{what}",
            object_type.to_lowercase().replace(' ', "_")
        );
        let role = if *role == security {
            security_role.clone()
        } else {
            system_role.clone()
        };
        d.add(id, "S2", sf::Grant { grant, role, on });
    }
    for (id, role, role_ref) in [
        (
            "snowflake.grant.security_admin_role",
            &security,
            &security_role,
        ),
        ("snowflake.grant.system_admin_role", &system, &system_role),
    ] {
        let grant = Privilege::Role {
            role: role.clone(),
            user: user_name.clone(),
        };
        let spec = sf::Grant {
            grant,
            role: role_ref.clone(),
            on: user.any(),
        };
        d.add(id, "S2", spec);
    }

    // S6: the Iceberg tables, last: they need A3 to trust S4 and S5, and the Glue tables to exist.
    for (topic, tableflow, table) in &streaming.tableflow {
        let Some(table) = table else {
            continue;
        };
        let spec = sf::IcebergTable {
            name: table.clone(),
            topic: topic.clone(),
            schema: schema.clone(),
            database_name: database_name.clone(),
            schema_name: schema_name.clone(),
            volume: volume.clone(),
            volume_name: volume_name.clone(),
            catalog: sf_catalog.clone(),
            catalog_name: catalog_name.clone(),
            after: vec![
                database.any(),
                Ref::new(SNOWFLAKE_TRUST),
                Ref::new(SNOWFLAKE_ATTACH),
                streaming.catalog.any(),
                tableflow.any(),
            ],
        };
        d.add(
            format!("snowflake.iceberg_table.{}", table.to_lowercase()),
            "S6",
            spec,
        );
    }
}
