//! sql/v1: the CTAS statement, at the Flink region's endpoint, with the Flink API key, run as the
//! Flink service account on the stack's compute pool.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::Confluent;
use super::client::{Auth, q};
use super::kinds::FlinkStatement;
use crate::engine::{Inputs, NodeError, Readiness, Record, Resource};

pub struct Statement {
    cc: Arc<Confluent>,
    /// The name's fixed start (`prefix`); the rest is a UUID chosen at create, recorded as the id.
    spec: FlinkStatement,
}

impl Statement {
    pub fn new(cc: Arc<Confluent>, spec: FlinkStatement) -> Self {
        Statement { cc, spec }
    }

    fn auth(&self, inputs: &Inputs) -> Result<Auth, NodeError> {
        self.cc
            .key_auth(inputs, &self.spec.key, &self.spec.bindings)
    }

    async fn collection(&self, inputs: &Inputs) -> Result<String, NodeError> {
        Ok(format!(
            "{}/sql/v1/organizations/{}/environments/{}/statements",
            self.cc.flink_endpoint().await?,
            self.cc.organization().await?,
            inputs.id(&self.spec.environment)?
        ))
    }

    async fn item(&self, inputs: &Inputs, name: &str) -> Result<String, NodeError> {
        Ok(format!("{}/{}", self.collection(inputs).await?, q(name)))
    }

    /// The prefix followed by a UUID, as the seed names its statements.
    fn ours(&self, name: &str) -> bool {
        name.strip_prefix(&self.spec.prefix)
            .is_some_and(|rest| uuid::Uuid::try_parse(rest).is_ok_and(|_| rest.len() == 36))
    }
}

#[async_trait]
impl Resource for Statement {
    async fn find(
        &self,
        inputs: &Inputs,
        known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let auth = self.auth(inputs)?;
        if let Some(known) = known {
            let found = self
                .cc
                .client
                .get(&self.item(inputs, &known.id).await?, &auth)
                .await?;
            return Ok(found.map(|_| Record::new(&known.id)));
        }
        // Without a record the name's UUID is unknown: look for the one statement with our prefix.
        let all = self
            .cc
            .client
            .list(&self.collection(inputs).await?, &auth)
            .await?;
        let ours: Vec<&str> = all
            .iter()
            .filter_map(|s| s.get("name").and_then(Value::as_str))
            .filter(|n| self.ours(n))
            .collect();
        match ours[..] {
            [] => Ok(None),
            [one] => Ok(Some(Record::new(one))),
            _ => Err(NodeError::Other(anyhow::anyhow!(
                "several Flink statements look like this stack's CTAS ({ours:?}); delete all but one"
            ))),
        }
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let auth = self.auth(inputs)?;
        let name = format!("{}{}", self.spec.prefix, uuid::Uuid::new_v4());
        let body = json!({"name": name, "spec": {
            "statement": self.spec.sql,
            "compute_pool_id": inputs.id(&self.spec.pool)?,
            "principal": inputs.id(&self.spec.runner)?,
            "properties": {
                "sql.current-catalog": inputs.output(&self.spec.environment, "name")?,
                "sql.current-database": inputs.output(&self.spec.cluster, "name")?,
            },
            "stopped": false,
        }});
        self.cc
            .client
            .post(&self.collection(inputs).await?, &auth, &body)
            .await?;
        Ok(Record::new(name))
    }

    async fn ready(&self, inputs: &Inputs, record: &Record) -> Result<Readiness, NodeError> {
        let auth = self.auth(inputs)?;
        let s = self
            .cc
            .client
            .get(&self.item(inputs, &record.id).await?, &auth)
            .await?
            .unwrap_or(Value::Null);
        match s
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or("PENDING")
        {
            "RUNNING" | "COMPLETED" => Ok(Readiness::Ready(record.clone())),
            phase @ ("FAILED" | "FAILING" | "STOPPED") => {
                let detail = s
                    .pointer("/status/detail")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                Err(NodeError::Other(anyhow::anyhow!(
                    "the statement is {phase}: {detail}"
                )))
            }
            phase => Ok(Readiness::Pending {
                phase: phase.to_string(),
            }),
        }
    }

    async fn delete(&self, inputs: &Inputs, record: &Record) -> Result<(), NodeError> {
        let Some(auth) = self.cc.key_auth_for_delete(inputs, &self.spec.key) else {
            return Ok(());
        };
        self.cc
            .client
            .delete(&self.item(inputs, &record.id).await?, &auth)
            .await?;
        Ok(())
    }

    /// A statement is deleted in the background, shown as phase DELETING until it is gone.
    async fn gone(&self, inputs: &Inputs, record: &Record) -> Result<Option<String>, NodeError> {
        let Some(auth) = self.cc.key_auth_for_delete(inputs, &self.spec.key) else {
            return Ok(None);
        };
        let item = self.item(inputs, &record.id).await?;
        let found = self.cc.client.get(&item, &auth).await?;
        Ok(found.map(|s| {
            let phase = s.pointer("/status/phase").and_then(Value::as_str);
            phase.unwrap_or("DELETING").to_string()
        }))
    }
}
