//! sql/v1: the CTAS statement, at the Flink region's endpoint, with the Flink API key, run as the
//! Flink service account on the stack's compute pool.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::client::q;
use super::{Confluent, principal_node};
use crate::engine::{Inputs, NodeError, Readiness, Record, Resource};
use crate::stack::{Decl, Spec, ids};

pub struct Statement {
    cc: Arc<Confluent>,
    name: String,
    sql: String,
    runner: Result<String, String>,
}

impl Statement {
    pub fn new(cc: Arc<Confluent>, decl: &Decl) -> Self {
        let Spec::FlinkStatement { name, sql } = &decl.spec else {
            unreachable!("a statement node has a statement spec")
        };
        Statement {
            cc,
            name: name.clone(),
            sql: sql.clone(),
            runner: principal_node(&decl.deps).map_err(|e| e.to_string()),
        }
    }

    async fn collection(&self, inputs: &Inputs) -> Result<String, NodeError> {
        Ok(format!(
            "{}/sql/v1/organizations/{}/environments/{}/statements",
            self.cc.flink_endpoint().await?,
            self.cc.organization().await?,
            inputs.id(ids::ENV)?
        ))
    }

    async fn item(&self, inputs: &Inputs) -> Result<String, NodeError> {
        Ok(format!(
            "{}/{}",
            self.collection(inputs).await?,
            q(&self.name)
        ))
    }
}

#[async_trait]
impl Resource for Statement {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let auth = self.cc.key_auth(inputs, ids::FLINK_KEY)?;
        let found = self.cc.client.get(&self.item(inputs).await?, &auth).await?;
        Ok(found.map(|_| Record::new(&self.name)))
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let auth = self.cc.key_auth(inputs, ids::FLINK_KEY)?;
        let runner = self
            .runner
            .clone()
            .map_err(|e| NodeError::Other(anyhow::anyhow!(e)))?;
        let body = json!({"name": self.name, "spec": {
            "statement": self.sql,
            "compute_pool_id": inputs.id(ids::POOL)?,
            "principal": inputs.id(&runner)?,
            "properties": {
                "sql.current-catalog": inputs.output(ids::ENV, "name")?,
                "sql.current-database": inputs.output(ids::CLUSTER, "name")?,
            },
            "stopped": false,
        }});
        self.cc
            .client
            .post(&self.collection(inputs).await?, &auth, &body)
            .await?;
        Ok(Record::new(&self.name))
    }

    async fn ready(&self, inputs: &Inputs, record: &Record) -> Result<Readiness, NodeError> {
        let auth = self.cc.key_auth(inputs, ids::FLINK_KEY)?;
        let s = self
            .cc
            .client
            .get(&self.item(inputs).await?, &auth)
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

    async fn delete(&self, inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        let Some(auth) = self.cc.key_auth_for_delete(inputs, ids::FLINK_KEY) else {
            return Ok(());
        };
        self.cc
            .client
            .delete(&self.item(inputs).await?, &auth)
            .await?;
        Ok(())
    }

    /// A statement is deleted in the background, shown as phase DELETING until it is gone.
    async fn gone(&self, inputs: &Inputs, _record: &Record) -> Result<Option<String>, NodeError> {
        let Some(auth) = self.cc.key_auth_for_delete(inputs, ids::FLINK_KEY) else {
            return Ok(None);
        };
        let found = self.cc.client.get(&self.item(inputs).await?, &auth).await?;
        Ok(found.map(|s| {
            let phase = s.pointer("/status/phase").and_then(Value::as_str);
            phase.unwrap_or("DELETING").to_string()
        }))
    }
}
