//! connect/v1: the Datagen source connector. It authenticates with a Kafka API key owned by its
//! own service account (the spec requires `kafka.api.key`/`kafka.api.secret`), so it acts as that
//! account and its ACLs apply. When that key rotates, the connector is pointed at the new one.

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::ExposeSecret as _;
use serde_json::{Map, Value, json};

use super::Confluent;
use super::client::{Auth, q};
use crate::engine::{Change, Inputs, NodeError, Readiness, Record, Resource};
use crate::stack::{Decl, Spec, ids};

pub struct Connector {
    cc: Arc<Confluent>,
    spec: Spec,
}

impl Connector {
    pub fn new(cc: Arc<Confluent>, decl: &Decl) -> Self {
        Connector {
            cc,
            spec: decl.spec.clone(),
        }
    }

    fn name(&self) -> &'static str {
        match self.spec {
            Spec::Connector { name, .. } => name,
            _ => unreachable!("a connector node has a connector spec"),
        }
    }

    fn collection(inputs: &Inputs) -> Result<String, NodeError> {
        Ok(format!(
            "/connect/v1/environments/{}/clusters/{}/connectors",
            inputs.id(ids::ENV)?,
            inputs.id(ids::CLUSTER)?
        ))
    }

    fn path(&self, inputs: &Inputs, tail: &str) -> Result<String, NodeError> {
        Ok(format!(
            "{}/{}{tail}",
            Self::collection(inputs)?,
            q(self.name())
        ))
    }

    /// The flat config map, with the connector account's active key.
    fn config(&self, inputs: &Inputs) -> Result<(Map<String, Value>, String), NodeError> {
        let Spec::Connector {
            name,
            class,
            topic,
            quickstart,
            format,
        } = self.spec
        else {
            unreachable!("a connector node has a connector spec")
        };
        let Auth::Key { id, secret } = self.cc.key_auth(inputs, ids::CONNECTOR_KEY)? else {
            unreachable!("key_auth gives a key")
        };
        let config = json!({
            "connector.class": class,
            "name": name,
            "kafka.auth.mode": "KAFKA_API_KEY",
            "kafka.api.key": id,
            "kafka.api.secret": secret.expose_secret(),
            "kafka.topic": topic,
            "output.data.format": format,
            "quickstart": quickstart,
            "tasks.max": "1",
        });
        let Value::Object(config) = config else {
            unreachable!("a JSON object literal")
        };
        Ok((config, id))
    }

    fn record(&self, key: &str) -> Record {
        Record::new(self.name()).with("kafka_api_key", key)
    }
}

#[async_trait]
impl Resource for Connector {
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
        // The key in use is masked in what Connect shows; the state remembers which it was.
        let key = known
            .and_then(|k| k.outputs.get("kafka_api_key"))
            .cloned()
            .unwrap_or_default();
        Ok(found.map(|_| self.record(&key)))
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let (config, key) = self.config(inputs)?;
        let body = json!({"name": self.name(), "config": config});
        self.cc
            .client
            .post(&Self::collection(inputs)?, &Auth::Cloud, &body)
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
        let active = inputs.output(ids::CONNECTOR_KEY, "key")?;
        let in_use = record.outputs.get("kafka_api_key").map(String::as_str);
        Ok((in_use != Some(active)).then(|| Change::Rotate {
            reason: "the connector's account has a newer key".into(),
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
}
