//! What `kickstart.toml` may say, as serde reads it. Every table of named things is keyed by the
//! name the user gives, so a node's identity comes from that key and not from its position.
//! Reference fields keep their place in the file, so a bad reference is reported there.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub stack: StackSection,
    #[serde(default)]
    pub confluent: ConfluentSection,
    /// Service accounts of the stack's clients, by account key (the seed's `app_producer`, ...).
    /// The accounts the stack runs itself (the Kafka admin, the Schema Registry and Flink
    /// accounts) are not listed: they come with the stack.
    #[serde(default)]
    pub service_accounts: BTreeMap<String, ServiceAccount>,
    /// Kafka topics by topic name.
    #[serde(default)]
    pub topics: BTreeMap<String, Topic>,
    /// Managed source connectors by connector name.
    #[serde(default)]
    pub connectors: BTreeMap<String, Connector>,
    /// Flink SQL statements by key.
    #[serde(default)]
    pub statements: BTreeMap<String, Statement>,
    #[serde(default)]
    pub rotation: RotationSection,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackSection {
    /// Every cloud name derives from it; `--stack-name` overrides.
    pub name: Option<Spanned<String>>,
    /// The AWS region, which Confluent's cluster, Flink and Tableflow share; `--region` overrides.
    pub region: Option<Spanned<String>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfluentSection {
    #[serde(default)]
    pub environment: EnvironmentSection,
    #[serde(default)]
    pub cluster: ClusterSection,
    #[serde(default)]
    pub flink: FlinkSection,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSection {
    /// Stream Governance package: `ESSENTIALS` or `ADVANCED`.
    #[serde(default = "defaults::governance")]
    pub stream_governance: Spanned<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSection {
    /// `BASIC`, `STANDARD` or `ENTERPRISE` (Tableflow needs one of these).
    #[serde(rename = "type", default = "defaults::cluster_type")]
    pub kind: Spanned<String>,
    /// `SINGLE_ZONE` or `MULTI_ZONE`.
    #[serde(default = "defaults::availability")]
    pub availability: Spanned<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlinkSection {
    /// The compute pool's ceiling in CFUs.
    #[serde(default = "defaults::max_cfu")]
    pub max_cfu: Spanned<u32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccount {
    /// An API key on the Kafka cluster for this account, kept in the client secret
    /// `<secrets root>/kafka_cluster/<account>/python_client`.
    #[serde(default)]
    pub kafka_key: bool,
    #[serde(default)]
    pub acls: Vec<Acl>,
}

/// One ALLOW ACL; exactly one of `topic`, `group`, `cluster` says what it is on. A name may hold
/// `{stack}`, which becomes the stack name.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acl {
    pub operation: Spanned<String>,
    pub topic: Option<Spanned<String>>,
    pub group: Option<Spanned<String>>,
    /// The cluster resource's only name, `kafka-cluster`.
    pub cluster: Option<Spanned<String>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// Defaults to 6, as the seed's topic.
    pub partitions: Option<Spanned<u32>>,
    /// Topic configs (`cleanup.policy`, `retention.ms`, ...), as Kafka REST takes them.
    #[serde(default)]
    pub config: BTreeMap<String, Spanned<String>>,
    /// The statement that makes this topic (a CTAS); kickstart then does not create it, only
    /// deletes it after the statement.
    pub made_by: Option<Spanned<String>>,
    /// Materialise the topic as an Iceberg table with Tableflow.
    pub tableflow: Option<Tableflow>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tableflow {
    /// `ICEBERG` (and `DELTA`, which Snowflake cannot read).
    #[serde(default = "defaults::table_formats")]
    pub table_formats: Vec<Spanned<String>>,
    /// How long Tableflow keeps table snapshots, in milliseconds.
    pub retention_ms: Option<Spanned<u64>>,
    /// What Tableflow does with a record it cannot materialise: `SUSPEND`, `SKIP` or `LOG`.
    pub error_handling: Option<Spanned<String>>,
    /// An Iceberg table over it in Snowflake, reading the Glue catalog; the name defaults to the
    /// topic's.
    pub snowflake_table: Option<SnowflakeTable>,
}

/// `true` for a table named after the topic, or the table's name.
#[derive(Clone, Debug)]
pub enum SnowflakeTable {
    Enabled(bool),
    Named(Spanned<String>),
}

// By hand, not `#[serde(untagged)]`: an untagged enum buffers the value first, which loses the
// place a `Spanned` needs, so a table name could never be read.
impl<'de> Deserialize<'de> for SnowflakeTable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{Error, Unexpected};
        let value = Spanned::<toml::Value>::deserialize(deserializer)?;
        let span = value.span();
        match value.into_inner() {
            toml::Value::Boolean(enabled) => Ok(SnowflakeTable::Enabled(enabled)),
            toml::Value::String(name) => Ok(SnowflakeTable::Named(Spanned::new(span, name))),
            other => Err(D::Error::invalid_type(
                Unexpected::Other(other.type_str()),
                &"true, false or the table's name in quotes",
            )),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connector {
    /// The managed connector's class; `DatagenSource` is the one the stack is tested with.
    #[serde(default = "defaults::connector_class")]
    pub class: Spanned<String>,
    /// The topic it writes.
    pub topic: Spanned<String>,
    /// The Datagen quickstart (`STOCK_TRADES`, `ORDERS`, `USERS`, ...).
    pub quickstart: Spanned<String>,
    /// `AVRO`, `JSON_SR`, `PROTOBUF` or `JSON`.
    #[serde(default = "defaults::format")]
    pub format: Spanned<String>,
    #[serde(default = "defaults::tasks")]
    pub tasks: Spanned<u32>,
    /// The service account it runs as; its ACLs are what the connector may do.
    pub service_account: Spanned<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// The SQL, inline; or `sql_file`, a path relative to this file.
    pub sql: Option<Spanned<String>>,
    pub sql_file: Option<Spanned<String>>,
    /// The start of the statement's name; a UUID is appended at create. Defaults to the key with
    /// `_` as `-`.
    pub name_prefix: Option<Spanned<String>>,
    /// The topics it reads: it starts once what writes them runs.
    #[serde(default)]
    pub reads: Vec<Spanned<String>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationSection {
    /// `--day-count` overrides.
    pub day_count: Option<Spanned<u32>>,
    /// `--number-of-api-keys-to-retain` overrides.
    pub keys_to_retain: Option<Spanned<u32>>,
}

mod defaults {
    use toml::Spanned;

    fn spanned<T>(value: T) -> Spanned<T> {
        Spanned::new(0..0, value)
    }
    pub fn governance() -> Spanned<String> {
        spanned("ESSENTIALS".into())
    }
    pub fn cluster_type() -> Spanned<String> {
        spanned("STANDARD".into())
    }
    pub fn availability() -> Spanned<String> {
        spanned("SINGLE_ZONE".into())
    }
    pub fn max_cfu() -> Spanned<u32> {
        spanned(10)
    }
    pub fn table_formats() -> Vec<Spanned<String>> {
        vec![spanned("ICEBERG".into())]
    }
    pub fn connector_class() -> Spanned<String> {
        spanned("DatagenSource".into())
    }
    pub fn format() -> Spanned<String> {
        spanned("AVRO".into())
    }
    pub fn tasks() -> Spanned<u32> {
        spanned(1)
    }
}

impl Default for EnvironmentSection {
    fn default() -> Self {
        EnvironmentSection {
            stream_governance: defaults::governance(),
        }
    }
}

impl Default for ClusterSection {
    fn default() -> Self {
        ClusterSection {
            kind: defaults::cluster_type(),
            availability: defaults::availability(),
        }
    }
}

impl Default for FlinkSection {
    fn default() -> Self {
        FlinkSection {
            max_cfu: defaults::max_cfu(),
        }
    }
}
