//! The ids of the stack's nodes that others name: dependencies in the declaration, and the
//! nodes whose outputs the cloud modules read.

/// Nodes whose id starts with this are service accounts (the principal of keys, bindings, ACLs).
pub const SERVICE_ACCOUNT: &str = "confluent.service_account.";
/// Nodes whose id starts with this are role bindings.
pub const ROLE_BINDING: &str = "confluent.role_binding.";

pub const ENV: &str = "confluent.environment";
pub const CLUSTER: &str = "confluent.kafka_cluster";
pub const SR: &str = "confluent.schema_registry";
pub const POOL: &str = "confluent.compute_pool";
pub const STATEMENT: &str = "confluent.flink_statement.ctas_stock_trades_with_totals";
pub const PROVIDER: &str = "confluent.provider_integration";
pub const CATALOG: &str = "confluent.catalog_integration";
pub const CONNECTOR: &str = "confluent.connector.SampleSourceConnector";
pub const TOPIC: &str = "confluent.topic.stock_trades";
pub const TOTALS_TOPIC: &str = "confluent.topic.stock_trades_with_totals";
pub const CLUSTER_ADMIN: &str = "confluent.role_binding.app_manager_cluster_admin";
pub const INTEGRATION_OWNER: &str = "confluent.role_binding.app_manager_integration_owner";
/// Retired: the runner's EnvironmentAdmin binding of earlier versions.
pub const FLINK_ADMIN: &str = "confluent.role_binding.flink_runner_environment_admin";
pub const FLINK_DEVELOPER: &str = "confluent.role_binding.flink_runner_flink_developer";
/// Not a node: a role binding `on` this is held on the organization's CRN.
pub const ORGANIZATION: &str = "";
pub const MANAGER_KEY: &str = "confluent.api_key.app_manager_kafka";
/// Retired: the connector's own API key and its client secret, of earlier versions.
pub const CONNECTOR_KEY: &str = "confluent.api_key.app_connector_kafka";
pub const CONNECTOR_SECRET: &str = "aws.secret.app_connector";
pub const SR_KEY: &str = "confluent.api_key.schema_registry";
pub const FLINK_KEY: &str = "confluent.api_key.flink";
pub const TABLEFLOW_KEY: &str = "confluent.api_key.tableflow";
pub const BUCKET: &str = "aws.s3_bucket";
pub const TABLEFLOW_ROLE: &str = "aws.iam_role.tableflow";
pub const TABLEFLOW_ATTACH: &str = "aws.policy_attachment.tableflow";
pub const SNOWFLAKE_ROLE: &str = "aws.iam_role.snowflake";
pub const SNOWFLAKE_ATTACH: &str = "aws.policy_attachment.snowflake";
pub const SNOWFLAKE_TRUST: &str = "aws.trust_policy.snowflake";
pub const GLUE_DB: &str = "aws.glue_database";
pub const KEYPAIR_SECRET: &str = "aws.secret.snowflake_key_pairs";
pub const WAREHOUSE: &str = "snowflake.warehouse";
pub const DATABASE: &str = "snowflake.database";
pub const SCHEMA: &str = "snowflake.schema";
pub const SECURITY_ROLE: &str = "snowflake.role.security_admin";
pub const SYSTEM_ROLE: &str = "snowflake.role.system_admin";
pub const USER: &str = "snowflake.user";
pub const VOLUME: &str = "snowflake.external_volume";
pub const SF_CATALOG: &str = "snowflake.catalog_integration";
