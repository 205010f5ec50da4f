//! The Confluent kinds' specs: each node's settings and the references it reads through. The
//! stack fills them in; the resources in this folder read them, and nothing else.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::engine::{Any, Kind, Ref, ids, known_as, name_or};

crate::kinds! {
    /// Every Confluent kind.
    pub enum Spec {
        Environment,
        KafkaCluster,
        SchemaRegistry,
        ServiceAccount,
        RoleBinding,
        ApiKey,
        Topic,
        CausedTopic,
        Acl,
        Connector,
        ComputePool,
        FlinkStatement,
        ProviderIntegration,
        TableflowTopic,
        CatalogIntegration,
    }
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn m(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub name: String,
    /// Stream Governance package.
    pub governance: String,
}

impl Kind for Environment {
    fn refs(&self) -> Vec<&str> {
        vec![]
    }
    fn describe(&self) -> String {
        format!("environment {}", self.name)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KafkaCluster {
    pub name: String,
    pub environment: Ref<Environment>,
    /// `Basic`, `Standard` or `Enterprise`, as the cmk API spells it.
    pub kind: String,
    pub availability: String,
}

impl Kind for KafkaCluster {
    fn refs(&self) -> Vec<&str> {
        vec![&self.environment]
    }
    fn describe(&self) -> String {
        format!("Kafka cluster {}", self.name)
    }
    fn timing(&self) -> (Duration, Duration) {
        (s(90), m(30))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemaRegistry {
    pub environment: Ref<Environment>,
    /// The environment's name, for labels.
    #[serde(default)]
    pub environment_name: String,
}

impl Kind for SchemaRegistry {
    fn refs(&self) -> Vec<&str> {
        vec![&self.environment]
    }
    fn describe(&self) -> String {
        format!(
            "Schema Registry of environment {}",
            name_or(&self.environment_name, &self.environment)
        )
    }
}

/// The longest description kickstart gives a service account. iam/v2 documents no bound (its
/// `description` has no maxLength), so this is ours: a create refused for a long description
/// would fail the stack, and the mark's stack name fits in it with room to spare.
pub const DESCRIPTION_BUDGET: usize = 128;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceAccount {
    pub name: String,
    /// Its description: which stack made it. Set at create only and never compared, so an
    /// account adopted or edited since keeps its own.
    pub description: String,
}

impl Kind for ServiceAccount {
    fn refs(&self) -> Vec<&str> {
        vec![]
    }
    fn describe(&self) -> String {
        format!("service account {}", self.name)
    }
}

/// Where a role binding holds its role.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Organization,
    Environment(Ref<Environment>),
    /// The cluster's RBAC scope, `.../cloud-cluster=<lkc>`.
    Cluster(Ref<KafkaCluster>),
    SchemaRegistry(Ref<SchemaRegistry>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleBinding {
    pub principal: Ref<ServiceAccount>,
    pub role: String,
    pub on: Scope,
    /// Appended to the scope's CRN. `<lkc>` is the cluster's id, `<principal>` the account's,
    /// `<id>` the provider integration's.
    pub pattern: String,
    pub integration: Option<Ref<ProviderIntegration>>,
    /// Held for order only.
    #[serde(default)]
    pub after: Vec<Ref<Any>>,
    /// For labels: the names of the principal, of what `on` is (for a Schema Registry, its
    /// environment's) and of the integration.
    #[serde(default)]
    pub principal_name: String,
    #[serde(default)]
    pub scope_name: String,
    #[serde(default)]
    pub integration_name: String,
}

impl RoleBinding {
    /// What the pattern names, its placeholders filled in: `topics *`, `service account x`.
    fn resource(&self) -> Option<String> {
        let last = self.pattern.rsplit('/').next().filter(|l| !l.is_empty())?;
        let (kind, name) = last.split_once('=').unwrap_or((last, ""));
        let integration = self.integration.as_ref();
        let name = match name {
            "<principal>" => name_or(&self.principal_name, &self.principal).to_string(),
            "<id>" => integration
                .map_or(name, |i| name_or(&self.integration_name, i))
                .to_string(),
            name => name.to_string(),
        };
        let kind = kind.replace('-', " ");
        let plural = if name.contains('*') { "s" } else { "" };
        Some(format!("{kind}{plural} {name}"))
    }

    /// Where it holds, as its label says it.
    fn scope(&self) -> Option<String> {
        let name = &self.scope_name;
        Some(match &self.on {
            Scope::Organization => return None,
            Scope::Environment(r) => format!("environment {}", name_or(name, r)),
            Scope::Cluster(r) => format!("Kafka cluster {}", name_or(name, r)),
            Scope::SchemaRegistry(r) => {
                format!("Schema Registry of environment {}", name_or(name, r))
            }
        })
    }
}

impl Kind for RoleBinding {
    fn refs(&self) -> Vec<&str> {
        let mut refs = vec![self.principal.id()];
        match &self.on {
            Scope::Organization => {}
            Scope::Environment(r) => refs.push(r),
            Scope::Cluster(r) => refs.push(r),
            Scope::SchemaRegistry(r) => refs.push(r),
        }
        refs.extend(self.integration.as_deref());
        refs.extend(ids(&self.after));
        refs
    }
    fn describe(&self) -> String {
        let principal = name_or(&self.principal_name, &self.principal);
        let of = match (self.resource(), self.scope()) {
            (Some(resource), Some(scope)) if matches!(self.on, Scope::Environment(_)) => {
                format!("{resource} in {scope}")
            }
            (Some(resource), Some(scope)) => format!("{resource} on {scope}"),
            (Some(resource), None) => resource,
            (None, Some(scope)) => scope,
            (None, None) => "the organization".into(),
        };
        format!("role binding: {principal} is {} of {of}", self.role)
    }
}

/// What an API key is bound to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    KafkaCluster {
        cluster: Ref<KafkaCluster>,
        environment: Ref<Environment>,
    },
    SchemaRegistry {
        registry: Ref<SchemaRegistry>,
        environment: Ref<Environment>,
    },
    FlinkRegion {
        environment: Ref<Environment>,
    },
    Tableflow,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    /// What the console shows of it.
    pub display_name: String,
    pub owner: Ref<ServiceAccount>,
    pub scope: KeyScope,
    /// Held for order: the node that retires it (see `Decl::retired`), for instance.
    #[serde(default)]
    pub after: Vec<Ref<Any>>,
    /// For labels: the owner's name, and the name of the cluster or environment it is on.
    #[serde(default)]
    pub owner_name: String,
    #[serde(default)]
    pub scope_name: String,
}

impl Kind for ApiKey {
    fn refs(&self) -> Vec<&str> {
        let mut refs = vec![self.owner.id()];
        match &self.scope {
            KeyScope::KafkaCluster {
                cluster,
                environment,
            } => refs.extend([cluster.id(), environment.id()]),
            KeyScope::SchemaRegistry {
                registry,
                environment,
            } => refs.extend([registry.id(), environment.id()]),
            KeyScope::FlinkRegion { environment } => refs.push(environment),
            KeyScope::Tableflow => {}
        }
        refs.extend(ids(&self.after));
        refs
    }
    fn describe(&self) -> String {
        let owner = name_or(&self.owner_name, &self.owner);
        let on = match &self.scope {
            KeyScope::KafkaCluster { cluster, .. } => {
                format!("on Kafka cluster {}", name_or(&self.scope_name, cluster))
            }
            KeyScope::SchemaRegistry { environment, .. } => format!(
                "on Schema Registry of environment {}",
                name_or(&self.scope_name, environment)
            ),
            KeyScope::FlinkRegion { environment } => format!(
                "for Flink in environment {}",
                name_or(&self.scope_name, environment)
            ),
            KeyScope::Tableflow => "for Tableflow".into(),
        };
        format!("API key of {owner} {on}")
    }
    fn timing(&self) -> (Duration, Duration) {
        (s(3), m(5))
    }
}

/// How Kafka REST is reached: the cluster, and the admin key that works once its owner holds the
/// admin binding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KafkaAdmin {
    pub cluster: Ref<KafkaCluster>,
    pub key: Ref<ApiKey>,
    pub binding: Ref<RoleBinding>,
}

impl KafkaAdmin {
    fn refs(&self) -> [&str; 3] {
        [&self.cluster, &self.key, &self.binding]
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    pub name: String,
    pub admin: KafkaAdmin,
    pub partitions: u32,
    #[serde(default)]
    pub config: BTreeMap<String, String>,
}

impl Kind for Topic {
    fn refs(&self) -> Vec<&str> {
        self.admin.refs().to_vec()
    }
    fn describe(&self) -> String {
        format!("topic {}", self.name)
    }
}

/// A topic a Flink statement makes; the stack only tracks it and deletes it after the statement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CausedTopic {
    pub name: String,
    pub admin: KafkaAdmin,
}

impl Kind for CausedTopic {
    fn refs(&self) -> Vec<&str> {
        self.admin.refs().to_vec()
    }
    fn describe(&self) -> String {
        format!("topic {} (made by a Flink statement)", self.name)
    }
}

/// The resource a Kafka ACL grants on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AclResource {
    Topic,
    Group,
    Cluster,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Acl {
    pub principal: Ref<ServiceAccount>,
    pub admin: KafkaAdmin,
    pub resource: AclResource,
    pub name: String,
    pub operation: String,
    /// The principal's name, for labels.
    #[serde(default)]
    pub principal_name: String,
}

impl Kind for Acl {
    fn refs(&self) -> Vec<&str> {
        let mut refs = self.admin.refs().to_vec();
        refs.push(&self.principal);
        refs
    }
    fn describe(&self) -> String {
        let principal = name_or(&self.principal_name, &self.principal);
        let on = match self.resource {
            AclResource::Topic => format!("topic {}", self.name),
            AclResource::Group => format!("group {}", self.name),
            // A cluster ACL's resource name is always `kafka-cluster`.
            AclResource::Cluster => "the Kafka cluster".into(),
        };
        format!("ACL: {principal} may {} {on}", self.operation)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Connector {
    pub name: String,
    pub environment: Ref<Environment>,
    pub cluster: Ref<KafkaCluster>,
    pub topic: Ref<Topic>,
    pub topic_name: String,
    /// It runs as this account, so its ACLs are what it may do: it starts once they exist.
    pub account: Ref<ServiceAccount>,
    pub acls: Vec<Ref<Acl>>,
    pub class: String,
    pub quickstart: String,
    pub format: String,
    pub tasks: u32,
}

impl Kind for Connector {
    fn refs(&self) -> Vec<&str> {
        let mut refs = vec![
            self.environment.id(),
            &self.cluster,
            &self.topic,
            &self.account,
        ];
        refs.extend(ids(&self.acls));
        refs
    }
    fn describe(&self) -> String {
        format!("connector {}", self.name)
    }
    fn timing(&self) -> (Duration, Duration) {
        // Confluent's own word is that connectors can take hours under load.
        (m(5), m(60))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComputePool {
    pub name: String,
    pub environment: Ref<Environment>,
    pub max_cfu: u32,
}

impl Kind for ComputePool {
    fn refs(&self) -> Vec<&str> {
        vec![&self.environment]
    }
    fn describe(&self) -> String {
        format!("Flink compute pool {}", self.name)
    }
    fn timing(&self) -> (Duration, Duration) {
        (s(60), m(20))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlinkStatement {
    /// The name's start: a UUID is appended at create, so names are unique per environment.
    pub prefix: String,
    pub sql: String,
    pub environment: Ref<Environment>,
    /// Its catalog database: the cluster's name.
    pub cluster: Ref<KafkaCluster>,
    pub pool: Ref<ComputePool>,
    pub key: Ref<ApiKey>,
    /// The account it runs as, and the roles that account needs first.
    pub runner: Ref<ServiceAccount>,
    pub bindings: Vec<Ref<RoleBinding>>,
    /// What must run before it: the writers of the topics it reads, and the topics it makes
    /// (which delete removes after it).
    pub after: Vec<Ref<Any>>,
    /// Its key in the stack file, for labels: the name is known only once it is made.
    #[serde(default)]
    pub file_key: String,
}

impl Kind for FlinkStatement {
    fn refs(&self) -> Vec<&str> {
        let mut refs = vec![
            self.environment.id(),
            &self.cluster,
            &self.pool,
            &self.key,
            &self.runner,
        ];
        refs.extend(ids(&self.bindings));
        refs.extend(ids(&self.after));
        refs
    }
    fn describe(&self) -> String {
        let key = match self.file_key.as_str() {
            "" => self.prefix.trim_end_matches('-'),
            key => key,
        };
        format!("Flink statement {key}")
    }
    fn named(&self, id: &str) -> String {
        known_as(self.describe(), id)
    }
    fn timing(&self) -> (Duration, Duration) {
        (s(60), m(20))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderIntegration {
    pub name: String,
    pub environment: Ref<Environment>,
    /// The IAM role Tableflow assumes, known before it exists (it must trust this integration).
    pub role_arn: String,
}

impl Kind for ProviderIntegration {
    fn refs(&self) -> Vec<&str> {
        vec![&self.environment]
    }
    fn describe(&self) -> String {
        format!("provider integration {}", self.name)
    }
}

/// Where Tableflow writes: the bucket (a node of another cloud, read for its `name`) through the
/// provider integration, with the Tableflow key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableflowAccess {
    pub environment: Ref<Environment>,
    pub cluster: Ref<KafkaCluster>,
    pub key: Ref<ApiKey>,
    pub provider: Ref<ProviderIntegration>,
    pub bucket: Ref<Any>,
    /// The role and its policy, and the integration's owner binding: Tableflow can reach the
    /// bucket only once they exist.
    pub after: Vec<Ref<Any>>,
}

impl TableflowAccess {
    fn refs(&self) -> Vec<&str> {
        let mut refs = vec![
            self.environment.id(),
            &self.cluster,
            &self.key,
            &self.provider,
            &self.bucket,
        ];
        refs.extend(ids(&self.after));
        refs
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableflowTopic {
    pub topic: String,
    pub access: TableflowAccess,
    /// What writes the topic (its connector, statement, or the topic itself).
    pub source: Ref<Any>,
    pub table_formats: Vec<String>,
    pub retention_ms: Option<u64>,
    /// What Tableflow does with a record it cannot materialise: `SUSPEND`, `SKIP` or `LOG`.
    pub error_handling: Option<String>,
}

impl Kind for TableflowTopic {
    fn refs(&self) -> Vec<&str> {
        let mut refs = self.access.refs();
        refs.push(&self.source);
        refs
    }
    fn describe(&self) -> String {
        format!("Tableflow on topic {}", self.topic)
    }
    fn timing(&self) -> (Duration, Duration) {
        (m(2), m(30))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogIntegration {
    pub name: String,
    pub access: TableflowAccess,
    /// The Glue database it syncs into, which delete removes after it.
    pub database: Ref<Any>,
}

impl Kind for CatalogIntegration {
    fn refs(&self) -> Vec<&str> {
        let mut refs = self.access.refs();
        refs.push(&self.database);
        refs
    }
    fn describe(&self) -> String {
        format!("Tableflow catalog integration {}", self.name)
    }
    fn timing(&self) -> (Duration, Duration) {
        (s(60), m(30))
    }
}
