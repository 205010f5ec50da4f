//! Management objects found by their display name in a list: the environment, the Kafka cluster,
//! the Schema Registry, service accounts, the compute pool and the provider integration. They
//! differ only in where they live, what creating them takes, and what readiness means.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::client::{Auth, q};
use super::kinds::{
    ComputePool, Environment, KafkaCluster, ProviderIntegration, SchemaRegistry, ServiceAccount,
    Spec,
};
use super::{Confluent, field};
use crate::engine::{Inputs, Kind as _, NodeError, Readiness, Record, Ref, Resource};

pub struct Named {
    cc: Arc<Confluent>,
    spec: Spec,
}

impl Named {
    pub fn new(cc: Arc<Confluent>, spec: Spec) -> Self {
        Named { cc, spec }
    }

    /// The environment it lives in, for the kinds that live in one.
    fn environment(&self) -> Option<&Ref<Environment>> {
        match &self.spec {
            Spec::KafkaCluster(KafkaCluster { environment, .. })
            | Spec::SchemaRegistry(SchemaRegistry { environment, .. })
            | Spec::ComputePool(ComputePool { environment, .. })
            | Spec::ProviderIntegration(ProviderIntegration { environment, .. }) => {
                Some(environment)
            }
            _ => None,
        }
    }

    fn env_id<'a>(&self, inputs: &'a Inputs) -> Result<&'a str, NodeError> {
        let env = self.environment().ok_or_else(|| {
            NodeError::Other(anyhow::anyhow!(
                "{} lives in no environment",
                self.spec.describe()
            ))
        })?;
        inputs.id(env)
    }

    /// The collection, with the environment query it requires where it is environment-scoped.
    fn collection(&self, inputs: &Inputs) -> Result<String, NodeError> {
        let env = || self.env_id(inputs).map(q);
        Ok(match &self.spec {
            Spec::Environment(_) => "/org/v2/environments".into(),
            Spec::KafkaCluster(_) => format!("/cmk/v2/clusters?environment={}", env()?),
            Spec::SchemaRegistry(_) => format!("/srcm/v3/clusters?environment={}", env()?),
            Spec::ServiceAccount(ServiceAccount { name, .. }) => {
                format!("/iam/v2/service-accounts?display_name={}", q(name))
            }
            Spec::ComputePool(_) => format!("/fcpm/v2/compute-pools?environment={}", env()?),
            Spec::ProviderIntegration(_) => format!("/pim/v1/integrations?environment={}", env()?),
            other => {
                return Err(NodeError::Other(anyhow::anyhow!(
                    "{} is not found by name",
                    other.describe()
                )));
            }
        })
    }

    /// One object's own path (for readiness and delete).
    fn item(&self, inputs: &Inputs, id: &str) -> Result<String, NodeError> {
        let collection = self.collection(inputs)?;
        let (path, query) = collection.split_once('?').unwrap_or((&collection, ""));
        Ok(match &self.spec {
            Spec::ServiceAccount(_) | Spec::Environment(_) => format!("{path}/{id}"),
            _ => format!("{path}/{id}?{query}"),
        })
    }

    fn name(&self) -> Option<&str> {
        match &self.spec {
            Spec::Environment(Environment { name, .. })
            | Spec::KafkaCluster(KafkaCluster { name, .. })
            | Spec::ServiceAccount(ServiceAccount { name, .. })
            | Spec::ComputePool(ComputePool { name, .. })
            | Spec::ProviderIntegration(ProviderIntegration { name, .. }) => Some(name),
            _ => None,
        }
    }

    fn matches(&self, v: &Value) -> bool {
        match (&self.spec, self.name()) {
            // Confluent makes one Schema Registry per environment; there is no name to match.
            (Spec::SchemaRegistry(_), _) => true,
            (_, Some(name)) => {
                v["display_name"] == name || v.pointer("/spec/display_name") == Some(&json!(name))
            }
            _ => false,
        }
    }

    fn body(&self, inputs: &Inputs) -> Result<Value, NodeError> {
        let cc = &self.cc;
        let env = || -> Result<Value, NodeError> { Ok(json!({"id": self.env_id(inputs)?})) };
        Ok(match &self.spec {
            Spec::Environment(Environment { name, governance }) => {
                json!({"display_name": name, "stream_governance_config": {"package": governance}})
            }
            Spec::KafkaCluster(KafkaCluster {
                name,
                kind,
                availability,
                ..
            }) => json!({"spec": {
                "display_name": name, "availability": availability, "cloud": cc.cloud,
                "region": cc.region, "config": {"kind": kind}, "environment": env()?,
            }}),
            Spec::ServiceAccount(ServiceAccount { name, description }) => json!({
                "display_name": name,
                "description": description,
            }),
            Spec::ComputePool(ComputePool { name, max_cfu, .. }) => json!({"spec": {
                "display_name": name, "cloud": cc.cloud, "region": cc.region,
                "max_cfu": max_cfu, "environment": env()?,
            }}),
            Spec::ProviderIntegration(ProviderIntegration { name, role_arn, .. }) => json!({
                "display_name": name, "provider": "AWS",
                "config": {"kind": "AwsIntegrationConfig", "customer_iam_role_arn": role_arn},
                "environment": env()?,
            }),
            other => {
                return Err(NodeError::Other(anyhow::anyhow!(
                    "{} is not created by name",
                    other.describe()
                )));
            }
        })
    }

    /// What the stack records of it: ids, CRNs, endpoints, and the integration's trust values.
    fn record(&self, v: &Value) -> Result<Record, NodeError> {
        let mut r = Record::new(field(v, "/id")?);
        if let Some(crn) = v.pointer("/metadata/resource_name").and_then(Value::as_str) {
            r = r.with("crn", crn);
        }
        match &self.spec {
            Spec::KafkaCluster(_) => {
                let rest = v
                    .pointer("/spec/endpoints/PUBLIC/http_endpoint")
                    .or_else(|| v.pointer("/spec/http_endpoint"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let bootstrap = field(v, "/spec/kafka_bootstrap_endpoint")?;
                let bootstrap = bootstrap.trim_start_matches("SASL_SSL://");
                r = r
                    .with("rest_endpoint", rest)
                    .with("bootstrap", bootstrap)
                    .with("name", field(v, "/spec/display_name")?);
            }
            Spec::Environment(_) => r = r.with("name", field(v, "/display_name")?),
            Spec::SchemaRegistry(_) => r = r.with("url", field(v, "/spec/http_endpoint")?),
            Spec::ProviderIntegration(_) => {
                r = r
                    .with("iam_role_arn", field(v, "/config/iam_role_arn")?)
                    .with("external_id", field(v, "/config/external_id")?)
                    .with(
                        "customer_role_arn",
                        field(v, "/config/customer_iam_role_arn")?,
                    );
            }
            _ => {}
        }
        Ok(r)
    }

    async fn listed(&self, inputs: &Inputs) -> Result<Vec<Value>, NodeError> {
        let collection = self.collection(inputs)?;
        Ok(self.cc.client.list(&collection, &Auth::Cloud).await?)
    }

    async fn still_listed(&self, inputs: &Inputs, id: &str) -> Result<bool, NodeError> {
        let items = self.listed(inputs).await?;
        Ok(items.iter().any(|v| v["id"] == id))
    }

    async fn by_name(&self, items: &[Value]) -> Result<Option<Record>, NodeError> {
        match items.iter().find(|v| self.matches(v)) {
            Some(v) => self.recorded(v).await.map(Some),
            None => Ok(None),
        }
    }

    /// [`Self::record`], and for a compute pool the Flink endpoint its statements are sent to:
    /// the pool's own answer does not carry it, and `kickstart output` reads it from the state.
    /// The region's endpoint is looked up once per run, and the statement needs it anyway.
    async fn recorded(&self, v: &Value) -> Result<Record, NodeError> {
        let record = self.record(v)?;
        match self.spec {
            Spec::ComputePool(_) => {
                Ok(record.with("flink_endpoint", self.cc.flink_endpoint().await?))
            }
            _ => Ok(record),
        }
    }

    fn provisions(&self) -> bool {
        matches!(
            self.spec,
            Spec::KafkaCluster(_) | Spec::SchemaRegistry(_) | Spec::ComputePool(_)
        )
    }
}

#[async_trait]
impl Resource for Named {
    async fn find(
        &self,
        inputs: &Inputs,
        known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        if let Some(known) = known {
            let path = self.item(inputs, &known.id)?;
            match self.cc.client.get(&path, &Auth::Cloud).await {
                Ok(Some(v)) => return self.recorded(&v).await.map(Some),
                Ok(None) => {}
                // Gone, or not ours to read: the list below tells which.
                Err(e) if e.status == 403 => {
                    let items = self.listed(inputs).await?;
                    if items.iter().any(|v| v["id"] == known.id.as_str()) {
                        return Err(e.into());
                    }
                    return self.by_name(&items).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let items = self.listed(inputs).await?;
        self.by_name(&items).await
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        if let Spec::SchemaRegistry(_) = self.spec {
            return Err(NodeError::Other(anyhow::anyhow!(
                "the environment has no Schema Registry; Confluent makes it for environments with a Stream Governance package"
            )));
        }
        let path = self.collection(inputs)?;
        let path = path.split('?').next().unwrap_or(&path).to_string();
        let made = self
            .cc
            .client
            .post(&path, &Auth::Cloud, &self.body(inputs)?)
            .await?;
        self.recorded(&made).await
    }

    async fn ready(&self, inputs: &Inputs, record: &Record) -> Result<Readiness, NodeError> {
        if !self.provisions() {
            return Ok(Readiness::Ready(record.clone()));
        }
        let path = self.item(inputs, &record.id)?;
        let Some(v) = self.cc.client.get(&path, &Auth::Cloud).await? else {
            return Err(NodeError::Other(anyhow::anyhow!(
                "{} disappeared while provisioning",
                record.id
            )));
        };
        match v
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or("PROVISIONING")
        {
            "PROVISIONED" => Ok(Readiness::Ready(self.recorded(&v).await?)),
            "FAILED" => Err(NodeError::Other(anyhow::anyhow!(
                "{} failed to provision",
                record.id
            ))),
            phase => Ok(Readiness::Pending {
                phase: phase.to_string(),
            }),
        }
    }

    async fn delete(&self, inputs: &Inputs, record: &Record) -> Result<(), NodeError> {
        // The Schema Registry goes with its environment.
        if let Spec::SchemaRegistry(_) = self.spec {
            return Ok(());
        }
        let path = self.item(inputs, &record.id)?;
        match self.cc.client.delete(&path, &Auth::Cloud).await {
            Ok(()) => Ok(()),
            // An environment refuses while what it holds is still going.
            Err(e) if e.status == 409 => Err(NodeError::Busy { message: e.message }),
            // Already gone, or not ours: gone only if its list no longer holds it.
            Err(e) if e.status == 403 => match self.still_listed(inputs, &record.id).await? {
                true => Err(e.into()),
                false => Ok(()),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Clusters and compute pools deprovision in the background; the real service answers a
    /// read of one that is gone with 403, which its list confirms.
    async fn gone(&self, inputs: &Inputs, record: &Record) -> Result<Option<String>, NodeError> {
        if !self.provisions() || matches!(self.spec, Spec::SchemaRegistry(_)) {
            return Ok(None);
        }
        let path = self.item(inputs, &record.id)?;
        match self.cc.client.get(&path, &Auth::Cloud).await {
            Ok(None) => Ok(None),
            Ok(Some(v)) => Ok(Some(
                v.pointer("/status/phase")
                    .and_then(Value::as_str)
                    .unwrap_or("DEPROVISIONING")
                    .to_string(),
            )),
            Err(e) if e.status == 403 => match self.still_listed(inputs, &record.id).await? {
                true => Err(e.into()),
                false => Ok(None),
            },
            Err(e) => Err(e.into()),
        }
    }
}
