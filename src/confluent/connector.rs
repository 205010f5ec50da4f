//! connect/v1: the Datagen source connector, authenticated as its own service account.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::client::{Auth, q};
use super::{Confluent, principal_node};
use crate::engine::{Inputs, NodeError, Readiness, Record, Resource};
use crate::stack::{Decl, Spec, ids};

pub struct Connector {
    cc: Arc<Confluent>,
    spec: Spec,
    account: Result<String, String>,
}

impl Connector {
    pub fn new(cc: Arc<Confluent>, decl: &Decl) -> Self {
        Connector {
            cc,
            spec: decl.spec.clone(),
            account: principal_node(&decl.deps).map_err(|e| e.to_string()),
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

    fn body(&self, inputs: &Inputs) -> Result<Value, NodeError> {
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
        let account = self
            .account
            .clone()
            .map_err(|e| NodeError::Other(anyhow::anyhow!(e)))?;
        Ok(json!({"name": name, "config": {
            "connector.class": class,
            "name": name,
            "kafka.auth.mode": "SERVICE_ACCOUNT",
            "kafka.service.account.id": inputs.id(&account)?,
            "kafka.topic": topic,
            "output.data.format": format,
            "quickstart": quickstart,
            "tasks.max": "1",
        }}))
    }
}

#[async_trait]
impl Resource for Connector {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let found = self
            .cc
            .client
            .get(&self.path(inputs, "")?, &Auth::Cloud)
            .await?;
        Ok(found.map(|_| Record::new(self.name())))
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        self.cc
            .client
            .post(
                &Self::collection(inputs)?,
                &Auth::Cloud,
                &self.body(inputs)?,
            )
            .await?;
        Ok(Record::new(self.name()))
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

    async fn delete(&self, inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        self.cc
            .client
            .delete(&self.path(inputs, "")?, &Auth::Cloud)
            .await?;
        Ok(())
    }
}
