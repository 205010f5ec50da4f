//! The AWS kinds' specs. References to the other clouds' nodes are held as `Ref<Any>`: this
//! module reads their outputs by name and knows nothing else of them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::engine::{Any, Kind, Ref, known_as, name_or};

crate::kinds! {
    /// Every AWS kind.
    pub enum Spec {
        Bucket,
        IamPolicy,
        IamRole,
        PolicyAttachment,
        TrustPolicy,
        Secret,
        GlueDatabase,
    }
}

/// Tags a resource is made with, and only made with: a tag changed since is no drift (they say
/// who made it, not how it works), so nothing compares or rewrites them.
pub type Tags = BTreeMap<String, String>;

fn short() -> (Duration, Duration) {
    (Duration::from_secs(3), Duration::from_secs(300))
}

/// `{prefix}-<id>`: the id is chosen once and recorded; a run that lost it finds the bucket by
/// its prefix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub prefix: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: Tags,
}

impl Kind for Bucket {
    fn refs(&self) -> Vec<&str> {
        vec![]
    }
    fn describe(&self) -> String {
        // Its name is chosen at create: what it is for says which bucket it is until then.
        "S3 bucket for the Iceberg tables".into()
    }
    fn named(&self, id: &str) -> String {
        known_as(self.describe(), id)
    }
}

/// Whose access a policy grants, in the actions that service's documentation lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grantee {
    Tableflow,
    Snowflake,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IamPolicy {
    pub name: String,
    pub bucket: Ref<Bucket>,
    pub grantee: Grantee,
    pub description: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: Tags,
}

impl Kind for IamPolicy {
    fn refs(&self) -> Vec<&str> {
        vec![&self.bucket]
    }
    fn describe(&self) -> String {
        format!("IAM policy {}", self.name)
    }
}

/// What a role trusts when it is made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitialTrust {
    /// Confluent's provider integration: its `iam_role_arn` with its `external_id`.
    Integration(Ref<Any>),
    /// Glue only, until Snowflake has said who it is (see [`TrustPolicy`]).
    Glue,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IamRole {
    pub name: String,
    pub trust: InitialTrust,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: Tags,
}

impl Kind for IamRole {
    fn refs(&self) -> Vec<&str> {
        match &self.trust {
            InitialTrust::Integration(r) => vec![r],
            InitialTrust::Glue => vec![],
        }
    }
    fn describe(&self) -> String {
        format!("IAM role {}", self.name)
    }
    fn timing(&self) -> (Duration, Duration) {
        short()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyAttachment {
    pub role: Ref<IamRole>,
    pub role_name: String,
    pub policy: Ref<IamPolicy>,
    pub policy_name: String,
}

impl Kind for PolicyAttachment {
    fn refs(&self) -> Vec<&str> {
        vec![&self.role, &self.policy]
    }
    fn describe(&self) -> String {
        format!(
            "IAM policy {} attached to role {}",
            self.policy_name, self.role_name
        )
    }
}

/// A role's trust rewritten in place once Snowflake's volume and catalog integration have
/// described themselves (their `iam_user_arn` and `external_id`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrustPolicy {
    pub role: Ref<IamRole>,
    pub role_name: String,
    pub volume: Ref<Any>,
    pub catalog: Ref<Any>,
}

impl Kind for TrustPolicy {
    fn refs(&self) -> Vec<&str> {
        vec![&self.role, &self.volume, &self.catalog]
    }
    fn describe(&self) -> String {
        format!("trust policy of IAM role {}", self.role_name)
    }
    fn timing(&self) -> (Duration, Duration) {
        short()
    }
}

/// What a client secret holds beside its key (its JSON keys are STACK.md's A4), and the nodes
/// it reads them from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretBody {
    KafkaClient {
        cluster: Ref<Any>,
    },
    SchemaRegistryClient {
        registry: Ref<Any>,
    },
    Flink {
        pool: Ref<Any>,
        principal: Ref<Any>,
    },
    Tableflow {
        environment: Ref<Any>,
        cluster: Ref<Any>,
    },
}

/// A client's secret, holding the active API key of `key`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Secret {
    pub name: String,
    pub description: String,
    pub key: Ref<Any>,
    pub body: SecretBody,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: Tags,
}

impl Kind for Secret {
    fn refs(&self) -> Vec<&str> {
        let mut refs = vec![self.key.id()];
        match &self.body {
            SecretBody::KafkaClient { cluster } => refs.push(cluster),
            SecretBody::SchemaRegistryClient { registry } => refs.push(registry),
            SecretBody::Flink { pool, principal } => refs.extend([pool.id(), principal.id()]),
            SecretBody::Tableflow {
                environment,
                cluster,
            } => refs.extend([environment.id(), cluster.id()]),
        }
        refs
    }
    fn describe(&self) -> String {
        format!("secret {}", self.name)
    }
    fn timing(&self) -> (Duration, Duration) {
        (Duration::from_secs(2), Duration::from_secs(300))
    }
}

/// Made by Tableflow's catalog sync, named after the Kafka cluster's id; the stack deletes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlueDatabase {
    pub cluster: Ref<Any>,
    /// The cluster's name, for labels: the database's own is known once the cluster exists.
    #[serde(default)]
    pub cluster_name: String,
}

impl Kind for GlueDatabase {
    fn refs(&self) -> Vec<&str> {
        vec![&self.cluster]
    }
    fn describe(&self) -> String {
        format!(
            "Glue database of Kafka cluster {}",
            name_or(&self.cluster_name, &self.cluster)
        )
    }
    fn named(&self, id: &str) -> String {
        known_as(self.describe(), id)
    }
}
