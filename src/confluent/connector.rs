//! connect/v1: the Datagen source connector. It runs as its own service account (auth mode
//! SERVICE_ACCOUNT, as the real service accepts and the seed's Terraform does), so its ACLs apply
//! and it needs no API key. A connector an earlier version made with a key of that account is
//! moved to the account, after which the key is retired.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::Confluent;
use super::client::{Auth, q};
use super::kinds::Connector;
use crate::engine::{Change, Inputs, NodeError, Readiness, Record, Resource};

pub struct ConnectorNode {
    cc: Arc<Confluent>,
    spec: Connector,
}

impl ConnectorNode {
    pub fn new(cc: Arc<Confluent>, spec: Connector) -> Self {
        ConnectorNode { cc, spec }
    }

    /// The id of the service account the connector runs as.
    fn account(&self, inputs: &Inputs) -> Result<String, NodeError> {
        Ok(inputs.id(&self.spec.account)?.to_string())
    }

    fn name(&self) -> &str {
        &self.spec.name
    }

    fn collection(&self, inputs: &Inputs) -> Result<String, NodeError> {
        Ok(format!(
            "/connect/v1/environments/{}/clusters/{}/connectors",
            inputs.id(&self.spec.environment)?,
            inputs.id(&self.spec.cluster)?
        ))
    }

    fn path(&self, inputs: &Inputs, tail: &str) -> Result<String, NodeError> {
        Ok(format!(
            "{}/{}{tail}",
            self.collection(inputs)?,
            q(self.name())
        ))
    }

    /// The flat config map, running as the connector's account.
    fn config(&self, inputs: &Inputs) -> Result<(Map<String, Value>, String), NodeError> {
        let spec = &self.spec;
        let account = self.account(inputs)?;
        let config = json!({
            "connector.class": spec.class,
            "name": spec.name,
            "kafka.auth.mode": "SERVICE_ACCOUNT",
            "kafka.service.account.id": account,
            "kafka.topic": spec.topic_name,
            "output.data.format": spec.format,
            "quickstart": spec.quickstart,
            "tasks.max": spec.tasks.to_string(),
        });
        let Value::Object(config) = config else {
            unreachable!("a JSON object literal")
        };
        Ok((config, account))
    }

    fn record(&self, account: &str) -> Record {
        Record::new(self.name()).with("service_account", account)
    }
}

#[async_trait]
impl Resource for ConnectorNode {
    async fn find(
        &self,
        inputs: &Inputs,
        known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let found = self
            .cc
            .client
            .get(&self.path(inputs, "")?, &Auth::Cloud)
            .await?;
        // What it runs as is what the state remembers (an earlier version ran it with a key).
        let account = known
            .and_then(|k| k.outputs.get("service_account"))
            .cloned()
            .unwrap_or_default();
        Ok(found.map(|_| self.record(&account)))
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let (config, key) = self.config(inputs)?;
        let body = json!({"name": self.name(), "config": config});
        self.cc
            .client
            .post(&self.collection(inputs)?, &Auth::Cloud, &body)
            .await?;
        Ok(self.record(&key))
    }

    async fn ready(&self, inputs: &Inputs, record: &Record) -> Result<Readiness, NodeError> {
        let status = self
            .cc
            .client
            .get(&self.path(inputs, "/status")?, &Auth::Cloud)
            .await?;
        let status = status.unwrap_or(Value::Null);
        match status
            .pointer("/connector/state")
            .and_then(Value::as_str)
            .unwrap_or("NONE")
        {
            "RUNNING" => Ok(Readiness::Ready(record.clone())),
            "FAILED" => {
                let trace = status
                    .pointer("/connector/trace")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                Err(NodeError::Other(anyhow::anyhow!(
                    "the connector failed: {trace}"
                )))
            }
            state => Ok(Readiness::Pending {
                phase: state.to_string(),
            }),
        }
    }

    async fn due(&self, inputs: &Inputs, record: &Record) -> Result<Option<Change>, NodeError> {
        let account = self.account(inputs)?;
        let runs_as = record.outputs.get("service_account");
        Ok((runs_as != Some(&account)).then(|| Change::Rotate {
            reason: format!("the connector moves from an API key to its service account {account}"),
        }))
    }

    async fn apply(
        &self,
        inputs: &Inputs,
        _record: &Record,
        _change: &Change,
    ) -> Result<Record, NodeError> {
        let (config, key) = self.config(inputs)?;
        self.cc
            .client
            .put(
                &self.path(inputs, "/config")?,
                &Auth::Cloud,
                &Value::Object(config),
            )
            .await?;
        Ok(self.record(&key))
    }

    async fn delete(&self, inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        self.cc
            .client
            .delete(&self.path(inputs, "")?, &Auth::Cloud)
            .await?;
        Ok(())
    }

    /// A connector stops and goes a while after its delete is accepted.
    async fn gone(&self, inputs: &Inputs, _record: &Record) -> Result<Option<String>, NodeError> {
        let found = self
            .cc
            .client
            .get(&self.path(inputs, "")?, &Auth::Cloud)
            .await?;
        Ok(found.map(|_| "DELETING".to_string()))
    }
}
