//! What each node is, in the terms of its cloud: the settings STACK.md gives, typed, so that a
//! cloud module can match on them and `graph`/`plan` can show them.

use std::time::Duration;

/// Whose API a node lives in; also the group it is drawn in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cloud {
    Confluent,
    Aws,
    Snowflake,
}

impl Cloud {
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Confluent => "confluent",
            Cloud::Aws => "aws",
            Cloud::Snowflake => "snowflake",
        }
    }
}

/// What an API key is for: the resource it is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyScope {
    KafkaCluster,
    SchemaRegistry,
    FlinkRegion,
    Tableflow,
}

/// The resource a Kafka ACL grants on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AclResource {
    Topic,
    Group,
    Cluster,
}

/// What a Secrets Manager secret holds (its JSON keys are STACK.md's A4/A5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretBody {
    KafkaClient,
    SchemaRegistryClient,
    Flink,
    Tableflow,
    SnowflakeKeyPairs,
}

/// What a Snowflake GRANT gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grant {
    /// A privilege (`USAGE`, or `ALL PRIVILEGES`) on an object (`WAREHOUSE`, `DATABASE`,
    /// `SCHEMA`, `EXTERNAL VOLUME`, `INTEGRATION`, `USER`) to a role.
    Usage {
        privilege: &'static str,
        object_type: &'static str,
        object: String,
        role: String,
    },
    /// A role to the service user.
    Role { role: String, user: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    // Confluent Cloud
    Environment {
        name: String,
        governance: &'static str,
    },
    KafkaCluster {
        name: String,
        kind: &'static str,
        availability: &'static str,
    },
    SchemaRegistry,
    ServiceAccount {
        name: String,
    },
    RoleBinding {
        role: &'static str,
        /// The node whose CRN the binding is on, and the pattern appended to it.
        on: &'static str,
        pattern: &'static str,
    },
    ApiKey {
        scope: KeyScope,
    },
    Topic {
        name: String,
    },
    /// A topic that another node (the Flink CTAS) creates; the stack only tracks and deletes it.
    CausedTopic {
        name: String,
    },
    Acl {
        resource: AclResource,
        name: String,
        operation: &'static str,
    },
    Connector {
        name: &'static str,
        class: &'static str,
        topic: &'static str,
        quickstart: &'static str,
        format: &'static str,
    },
    ComputePool {
        name: String,
        max_cfu: u32,
    },
    FlinkStatement {
        /// The name's start: a UUID is appended at create, so names are unique per environment.
        prefix: String,
        sql: String,
    },
    ProviderIntegration {
        name: String,
    },
    TableflowTopic {
        topic: String,
    },
    CatalogIntegration {
        name: String,
    },
    // AWS
    Bucket {
        prefix: String,
    },
    IamPolicy {
        name: String,
    },
    IamRole {
        name: String,
    },
    PolicyAttachment,
    /// A3's trust policy, rewritten in place once Snowflake's DESCRIBE values are known.
    TrustPolicy {
        role: String,
    },
    Secret {
        name: String,
        body: SecretBody,
    },
    /// Made by Tableflow's catalog sync, named after the Kafka cluster id; the stack deletes it.
    GlueDatabase,
    // Snowflake
    Warehouse {
        name: String,
    },
    Database {
        name: String,
    },
    Schema {
        name: String,
    },
    Role {
        name: String,
    },
    Grant(Grant),
    User {
        name: String,
    },
    ExternalVolume {
        name: String,
    },
    GlueCatalogIntegration {
        name: String,
    },
    IcebergTable {
        name: String,
    },
}

impl Spec {
    /// How long it usually takes, and how long a wait for it may last, per kind. Confluent's own
    /// word is that connectors can take hours under load; those deadlines are long on purpose.
    pub fn timing(&self) -> (Duration, Duration) {
        let s = Duration::from_secs;
        let m = |n: u64| Duration::from_secs(60 * n);
        match self {
            Spec::KafkaCluster { .. } => (s(90), m(30)),
            Spec::Connector { .. } => (m(5), m(60)),
            Spec::ComputePool { .. } => (s(60), m(20)),
            Spec::FlinkStatement { .. } => (s(60), m(20)),
            Spec::TableflowTopic { .. } => (m(2), m(30)),
            Spec::CatalogIntegration { .. } => (s(60), m(30)),
            Spec::ApiKey { .. } => (s(3), m(5)),
            Spec::IamRole { .. } | Spec::TrustPolicy { .. } => (s(3), m(5)),
            Spec::Secret { .. } => (s(2), m(5)),
            Spec::IcebergTable { .. } => (s(5), m(10)),
            _ => (s(1), m(5)),
        }
    }

    /// A short description for labels.
    pub fn describe(&self) -> String {
        match self {
            Spec::Environment { name, .. } => format!("environment {name}"),
            Spec::KafkaCluster { name, kind, .. } => format!("Kafka cluster {name} ({kind})"),
            Spec::SchemaRegistry => "Schema Registry cluster".into(),
            Spec::ServiceAccount { name } => format!("service account {name}"),
            Spec::RoleBinding { role, .. } => format!("role binding {role}"),
            Spec::ApiKey { scope } => format!("API key ({scope:?})"),
            Spec::Topic { name } => format!("topic {name}"),
            Spec::CausedTopic { name } => format!("topic {name} (made by the CTAS)"),
            Spec::Acl {
                resource,
                name,
                operation,
            } => format!("ACL {operation} {resource:?} {name}"),
            Spec::Connector { name, .. } => format!("connector {name}"),
            Spec::ComputePool { name, .. } => format!("Flink compute pool {name}"),
            Spec::FlinkStatement { prefix, .. } => format!("Flink statement {prefix}<uuid>"),
            Spec::ProviderIntegration { name } => format!("provider integration {name}"),
            Spec::TableflowTopic { topic } => format!("Tableflow on {topic}"),
            Spec::CatalogIntegration { name } => format!("catalog integration {name}"),
            Spec::Bucket { prefix } => format!("S3 bucket {prefix}-<uuid>"),
            Spec::IamPolicy { name } => format!("IAM policy {name}"),
            Spec::IamRole { name } => format!("IAM role {name}"),
            Spec::PolicyAttachment => "policy attachment".into(),
            Spec::TrustPolicy { role } => format!("trust policy of {role}"),
            Spec::Secret { name, .. } => format!("secret {name}"),
            Spec::GlueDatabase => "Glue database <kafka cluster id>".into(),
            Spec::Warehouse { name } => format!("warehouse {name}"),
            Spec::Database { name } => format!("database {name}"),
            Spec::Schema { name } => format!("schema {name}"),
            Spec::Role { name } => format!("role {name}"),
            Spec::Grant(Grant::Usage {
                privilege,
                object_type,
                object,
                role,
            }) => format!("grant {privilege} on {object_type} {object} to {role}"),
            Spec::Grant(Grant::Role { role, user }) => format!("grant role {role} to {user}"),
            Spec::User { name } => format!("service user {name}"),
            Spec::ExternalVolume { name } => format!("external volume {name}"),
            Spec::GlueCatalogIntegration { name } => format!("catalog integration {name}"),
            Spec::IcebergTable { name } => format!("Iceberg table {name}"),
        }
    }
}
