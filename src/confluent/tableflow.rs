//! tableflow/v1 with the Tableflow API key: Tableflow on a topic, writing Iceberg into the
//! stack's bucket through the provider integration, and the Glue catalog sync.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::client::q;
use super::{Confluent, field};
use crate::engine::{Inputs, NodeError, Readiness, Record, Resource};
use crate::stack::{Decl, Spec, ids};

fn scope(inputs: &Inputs) -> Result<String, NodeError> {
    Ok(format!(
        "environment={}&spec.kafka_cluster={}",
        q(inputs.id(ids::ENV)?),
        q(inputs.id(ids::CLUSTER)?)
    ))
}

fn refs(inputs: &Inputs) -> Result<(Value, Value), NodeError> {
    let env = inputs.id(ids::ENV)?;
    Ok((
        json!({"id": env}),
        json!({"id": inputs.id(ids::CLUSTER)?, "environment": env}),
    ))
}

/// Everything in a table path up to and including `/v1/`: what Snowflake's volume reads.
pub fn base_path(table_path: &str) -> Option<String> {
    table_path
        .find("/v1/")
        .map(|i| table_path[..i + 4].to_string())
}

pub struct TableflowTopic {
    cc: Arc<Confluent>,
    topic: String,
}

impl TableflowTopic {
    pub fn new(cc: Arc<Confluent>, decl: &Decl) -> Self {
        let Spec::TableflowTopic { topic } = &decl.spec else {
            unreachable!("a Tableflow node has a Tableflow spec")
        };
        TableflowTopic {
            cc,
            topic: topic.clone(),
        }
    }

    fn item(&self, inputs: &Inputs) -> Result<String, NodeError> {
        Ok(format!(
            "/tableflow/v1/tableflow-topics/{}?{}",
            q(&self.topic),
            scope(inputs)?
        ))
    }

    fn record(&self, v: &Value) -> Record {
        let mut r = Record::new(&self.topic);
        if let Some(path) = v
            .pointer("/spec/storage/table_path")
            .and_then(Value::as_str)
        {
            r = r.with("table_path", path);
            if let Some(base) = base_path(path) {
                r = r.with("base_path", base);
            }
        }
        r
    }
}

#[async_trait]
impl Resource for TableflowTopic {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let auth = self.cc.key_auth(inputs, ids::TABLEFLOW_KEY)?;
        let found = self.cc.client.get(&self.item(inputs)?, &auth).await?;
        Ok(found.map(|v| self.record(&v)))
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let auth = self.cc.key_auth(inputs, ids::TABLEFLOW_KEY)?;
        let (environment, cluster) = refs(inputs)?;
        let body = json!({"spec": {
            "display_name": self.topic,
            "storage": {
                "kind": "ByobAws",
                "bucket_name": inputs.output(ids::BUCKET, "name")?,
                "provider_integration_id": inputs.id(ids::PROVIDER)?,
            },
            "table_formats": ["ICEBERG"],
            "environment": environment,
            "kafka_cluster": cluster,
        }});
        let made = self
            .cc
            .client
            .post("/tableflow/v1/tableflow-topics", &auth, &body)
            .await?;
        Ok(self.record(&made))
    }

    async fn ready(&self, inputs: &Inputs, record: &Record) -> Result<Readiness, NodeError> {
        let auth = self.cc.key_auth(inputs, ids::TABLEFLOW_KEY)?;
        let v = self
            .cc
            .client
            .get(&self.item(inputs)?, &auth)
            .await?
            .unwrap_or(Value::Null);
        match v
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or("PENDING")
        {
            "RUNNING" => {
                let ready = self.record(&v);
                if ready.outputs.contains_key("base_path") {
                    Ok(Readiness::Ready(ready))
                } else {
                    Ok(Readiness::Pending {
                        phase: "RUNNING without a table path".into(),
                    })
                }
            }
            "FAILED" => {
                let why = v
                    .pointer("/status/error_message")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                Err(NodeError::Other(anyhow::anyhow!(
                    "Tableflow failed on {}: {why}",
                    record.id
                )))
            }
            phase => Ok(Readiness::Pending {
                phase: phase.to_string(),
            }),
        }
    }

    async fn delete(&self, inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        let Some(auth) = self.cc.key_auth_for_delete(inputs, ids::TABLEFLOW_KEY) else {
            return Ok(());
        };
        self.cc.client.delete(&self.item(inputs)?, &auth).await?;
        Ok(())
    }
}

pub struct Catalog {
    cc: Arc<Confluent>,
    name: String,
}

impl Catalog {
    pub fn new(cc: Arc<Confluent>, decl: &Decl) -> Self {
        let Spec::CatalogIntegration { name } = &decl.spec else {
            unreachable!("a catalog node has a catalog spec")
        };
        Catalog {
            cc,
            name: name.clone(),
        }
    }

    fn item(inputs: &Inputs, id: &str) -> Result<String, NodeError> {
        Ok(format!(
            "/tableflow/v1/catalog-integrations/{}?{}",
            q(id),
            scope(inputs)?
        ))
    }
}

#[async_trait]
impl Resource for Catalog {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let auth = self.cc.key_auth(inputs, ids::TABLEFLOW_KEY)?;
        let path = format!("/tableflow/v1/catalog-integrations?{}", scope(inputs)?);
        let all = self.cc.client.list(&path, &auth).await?;
        let found = all
            .iter()
            .find(|c| c.pointer("/spec/display_name") == Some(&json!(self.name)));
        found.map(|c| Ok(Record::new(field(c, "/id")?))).transpose()
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let auth = self.cc.key_auth(inputs, ids::TABLEFLOW_KEY)?;
        let (environment, cluster) = refs(inputs)?;
        let body = json!({"spec": {
            "display_name": self.name,
            "environment": environment,
            "kafka_cluster": cluster,
            "config": {"kind": "AwsGlue", "provider_integration_id": inputs.id(ids::PROVIDER)?},
        }});
        let made = self
            .cc
            .client
            .post("/tableflow/v1/catalog-integrations", &auth, &body)
            .await?;
        Ok(Record::new(field(&made, "/id")?))
    }

    async fn ready(&self, inputs: &Inputs, record: &Record) -> Result<Readiness, NodeError> {
        let auth = self.cc.key_auth(inputs, ids::TABLEFLOW_KEY)?;
        let v = self
            .cc
            .client
            .get(&Self::item(inputs, &record.id)?, &auth)
            .await?
            .unwrap_or(Value::Null);
        match v
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or("PENDING")
        {
            "CONNECTED" => Ok(Readiness::Ready(record.clone())),
            "FAILED" => {
                let why = v
                    .pointer("/status/error_message")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                Err(NodeError::Other(anyhow::anyhow!(
                    "the catalog integration failed: {why}"
                )))
            }
            phase => Ok(Readiness::Pending {
                phase: phase.to_string(),
            }),
        }
    }

    async fn delete(&self, inputs: &Inputs, record: &Record) -> Result<(), NodeError> {
        let Some(auth) = self.cc.key_auth_for_delete(inputs, ids::TABLEFLOW_KEY) else {
            return Ok(());
        };
        self.cc
            .client
            .delete(&Self::item(inputs, &record.id)?, &auth)
            .await?;
        Ok(())
    }
}
