//! What each setting may be: the values the clouds accept, as their documentation lists them.

pub(super) const GOVERNANCE: &[&str] = &["ESSENTIALS", "ADVANCED"];
pub(super) const CLUSTER_TYPES: &[&str] = &["BASIC", "STANDARD", "ENTERPRISE"];
pub(super) const AVAILABILITY: &[&str] = &["SINGLE_ZONE", "MULTI_ZONE"];
pub(super) const MAX_CFU: &[u32] = &[5, 10, 20, 30, 40, 50];
/// The accounts the stack makes itself (its Kafka admin, its Schema Registry and Flink accounts).
pub(super) const OWN_ACCOUNTS: &[&str] = &[
    "app_manager",
    "schema_registry_cluster_api",
    "flink_statements_runner",
];

/// Kafka's ACL operations (`AclOperation`), less ANY and UNKNOWN, which only match.
pub(super) const OPERATIONS: &[&str] = &[
    "READ",
    "WRITE",
    "CREATE",
    "DELETE",
    "ALTER",
    "DESCRIBE",
    "CLUSTER_ACTION",
    "DESCRIBE_CONFIGS",
    "ALTER_CONFIGS",
    "IDEMPOTENT_WRITE",
    "ALL",
];
pub(super) const FORMATS: &[&str] = &["AVRO", "JSON_SR", "PROTOBUF", "JSON"];
pub(super) const TABLE_FORMATS: &[&str] = &["ICEBERG", "DELTA"];
pub(super) const ERROR_HANDLING: &[&str] = &["SUSPEND", "SKIP", "LOG"];
/// Confluent Cloud's partition limit per topic on Basic, Standard and Enterprise clusters.
pub(super) const MAX_PARTITIONS: u32 = 4096;
