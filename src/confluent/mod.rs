//! Confluent Cloud: the client and every Confluent node of the stack (C1..C14, keys, ACLs).

mod client;
mod connector;
pub mod doctor;
mod flink;
mod kafka;
mod keys;
pub mod kinds;
pub mod marked;
mod named;
mod rbac;
mod tableflow;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;
use tokio::sync::OnceCell;

pub use client::{ApiError, Auth, Client, PROPAGATION_ATTEMPTS};
pub use rbac::{organization_crn, rbac_crn};

use crate::clock::Clock;
use crate::engine::{Inputs, NodeError, Ref, Resource, RetryPolicy, Rotation};
use crate::vault::Vault;
use kinds::{ApiKey, RoleBinding, Spec};

/// Why Confluent Cloud cannot be used, found before anything is done.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error(
        "Confluent Cloud refused the Cloud API key {key} ({status}: {message}): check --confluent-api-key and --confluent-api-secret (an organization-level Cloud API key)"
    )]
    Refused {
        key: String,
        status: u16,
        message: String,
    },
    #[error(
        "cannot reach Confluent Cloud at {endpoint} ({detail}): check --confluent-endpoint (CONFLUENT_CLOUD_ENDPOINT) and the network"
    )]
    Unreachable { endpoint: String, detail: String },
}

/// What every Confluent node shares.
pub struct Confluent {
    pub client: Client,
    /// Where the cluster, pool and Flink region live (Confluent's spelling: `AWS`, `us-east-1`).
    pub cloud: String,
    pub region: String,
    pub rotation: Rotation,
    pub clock: Arc<dyn Clock>,
    pub vault: Arc<Vault>,
    /// How long a new key or role binding may take to be honoured (Confluent's Terraform
    /// provider waits up to 20 minutes for a new Kafka key); `--wait-timeout` replaces it.
    pub propagation: Duration,
    organization: OnceCell<String>,
    flink_endpoint: OnceCell<String>,
}

pub struct Settings {
    pub endpoint: url::Url,
    pub api_key: String,
    pub api_secret: SecretString,
    pub region: String,
    pub rotation: Rotation,
    pub clock: Arc<dyn Clock>,
    pub vault: Arc<Vault>,
    pub retry: RetryPolicy,
    pub propagation: Duration,
}

impl Confluent {
    pub fn new(s: Settings) -> Arc<Self> {
        Arc::new(Confluent {
            client: Client::new(s.endpoint, s.api_key, s.api_secret, s.retry),
            cloud: "AWS".into(),
            region: s.region,
            rotation: s.rotation,
            clock: s.clock,
            vault: s.vault,
            propagation: s.propagation,
            organization: OnceCell::new(),
            flink_endpoint: OnceCell::new(),
        })
    }

    /// Before any node: the Cloud API key is accepted, and the organization it belongs to is known.
    pub async fn preflight(&self) -> Result<(), PreflightError> {
        let probe = self.client.with_retry(RetryPolicy::preflight());
        let orgs = probe
            .list("/org/v2/organizations", &Auth::Cloud)
            .await
            .map_err(|e| match e.status {
                0 => PreflightError::Unreachable {
                    endpoint: self.client.base().to_string(),
                    detail: e.message,
                },
                status => PreflightError::Refused {
                    key: self.client.key().to_string(),
                    status,
                    message: e.message,
                },
            })?;
        if let Some(id) = orgs.first().and_then(|o| o["id"].as_str()) {
            let _ = self.organization.set(id.to_string());
        }
        Ok(())
    }

    /// The organization's id (a UUID), which the Flink SQL paths carry.
    pub async fn organization(&self) -> Result<String, NodeError> {
        let id = self
            .organization
            .get_or_try_init(|| async {
                let orgs = self
                    .client
                    .list("/org/v2/organizations", &Auth::Cloud)
                    .await?;
                let id = orgs
                    .first()
                    .and_then(|o| o["id"].as_str())
                    .map(str::to_string);
                id.ok_or_else(|| {
                    NodeError::Other(anyhow::anyhow!("the Cloud API key sees no organization"))
                })
            })
            .await?;
        Ok(id.clone())
    }

    /// The base URL of Flink SQL in our region: the region's `http_endpoint`.
    pub async fn flink_endpoint(&self) -> Result<String, NodeError> {
        let url = self
            .flink_endpoint
            .get_or_try_init(|| async {
                let path = format!(
                    "/fcpm/v2/regions?cloud={}&region_name={}",
                    self.cloud,
                    client::q(&self.region)
                );
                let regions = self.client.list(&path, &Auth::Cloud).await?;
                let url = regions
                    .first()
                    .and_then(|r| r["http_endpoint"].as_str())
                    .map(str::to_string);
                url.ok_or_else(|| {
                    NodeError::Other(anyhow::anyhow!(
                        "Confluent Cloud offers no Flink region {} {}",
                        self.cloud,
                        self.region
                    ))
                })
            })
            .await?;
        Ok(url.trim_end_matches('/').to_string())
    }

    /// The Flink region's id, as Flink API keys name their resource.
    pub fn flink_region(&self) -> String {
        format!("{}.{}", self.cloud.to_ascii_lowercase(), self.region)
    }

    /// Calls with the active key of `key_node`, whose secret this run must hold. While the key,
    /// or a role binding the call relies on, is younger than the propagation window, its
    /// refusals are waited out for the rest of that window.
    pub fn key_auth(
        &self,
        inputs: &Inputs,
        key_node: &Ref<ApiKey>,
        bindings: &[Ref<RoleBinding>],
    ) -> Result<Auth, NodeError> {
        let key_node: &str = key_node;
        let id = inputs.output(key_node, "key")?.to_string();
        let secret = self.vault.get(&id).ok_or_else(|| {
            NodeError::Other(anyhow::anyhow!(
                "the secret of API key {id} ({key_node}) is not held by this run; run `kickstart rotate` to make a new key"
            ))
        })?;
        let now = self.clock.now();
        let left = |created: &str| -> Option<Duration> {
            let created: jiff::Timestamp = created.parse().ok()?;
            // A clock behind the cloud's makes a new key look unborn: it is as young as can be.
            let age = now.duration_since(created);
            let age = if age.is_negative() {
                Duration::ZERO
            } else {
                age.unsigned_abs()
            };
            self.propagation.checked_sub(age)
        };
        let key_created = inputs.output(key_node, "created_at").ok();
        let bindings = bindings
            .iter()
            .filter_map(|b| inputs.output(b, "created_at").ok());
        let patience = key_created
            .into_iter()
            .chain(bindings)
            .filter_map(left)
            .max()
            .unwrap_or_default();
        Ok(Auth::Key {
            id,
            secret,
            patience,
        })
    }

    /// Like [`Confluent::key_auth`], for deletes: `None` when the secret is not held, since what
    /// the key reaches (topics, ACLs, Tableflow) is removed with the cluster anyway.
    pub fn key_auth_for_delete(&self, inputs: &Inputs, key_node: &Ref<ApiKey>) -> Option<Auth> {
        let auth = self.key_auth(inputs, key_node, &[]).ok();
        if auth.is_none() {
            tracing::info!(
                "no secret for {} in this run; leaving its objects to the cluster's deletion",
                key_node.id()
            );
        }
        auth
    }
}

/// A string at a JSON pointer, or an error naming it.
pub fn field(v: &Value, pointer: &str) -> Result<String, NodeError> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            NodeError::Other(anyhow::anyhow!("Confluent Cloud's answer lacks {pointer}"))
        })
}

/// Gives each Confluent node its implementation.
pub struct ConfluentProvider(pub Arc<Confluent>);

impl ConfluentProvider {
    pub fn resource(&self, spec: &Spec) -> Arc<dyn Resource> {
        let cc = self.0.clone();
        match spec {
            Spec::Environment(_)
            | Spec::KafkaCluster(_)
            | Spec::SchemaRegistry(_)
            | Spec::ServiceAccount(_)
            | Spec::ComputePool(_)
            | Spec::ProviderIntegration(_) => Arc::new(named::Named::new(cc, spec.clone())),
            Spec::RoleBinding(k) => Arc::new(rbac::Binding::new(cc, k.clone())),
            Spec::ApiKey(k) => Arc::new(keys::Key::new(cc, k.clone())),
            Spec::Topic(k) => Arc::new(kafka::TopicNode::new(cc, k.clone())),
            Spec::CausedTopic(k) => Arc::new(kafka::TopicNode::caused(cc, k.clone())),
            Spec::Acl(k) => Arc::new(kafka::AclNode::new(cc, k.clone())),
            Spec::Connector(k) => Arc::new(connector::ConnectorNode::new(cc, k.clone())),
            Spec::FlinkStatement(k) => Arc::new(flink::Statement::new(cc, k.clone())),
            Spec::TableflowTopic(k) => Arc::new(tableflow::TableflowNode::new(cc, k.clone())),
            Spec::CatalogIntegration(k) => Arc::new(tableflow::Catalog::new(cc, k.clone())),
        }
    }
}
