//! tableflow/v1 with the Tableflow API key: Tableflow on a topic, writing Iceberg into the
//! stack's bucket through the provider integration, and the Glue catalog sync.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::client::{Auth, q};
use super::kinds::{CatalogIntegration, TableflowAccess, TableflowTopic};
use super::{Confluent, field};
use crate::engine::{Change, Diff, Inputs, NodeError, Readiness, Record, Resource};

fn scope(inputs: &Inputs, access: &TableflowAccess) -> Result<String, NodeError> {
    Ok(format!(
        "environment={}&spec.kafka_cluster={}",
        q(inputs.id(&access.environment)?),
        q(inputs.id(&access.cluster)?)
    ))
}

fn refs(inputs: &Inputs, access: &TableflowAccess) -> Result<(Value, Value), NodeError> {
    let env = inputs.id(&access.environment)?;
    Ok((
        json!({"id": env}),
        json!({"id": inputs.id(&access.cluster)?, "environment": env}),
    ))
}

fn auth(cc: &Confluent, inputs: &Inputs, access: &TableflowAccess) -> Result<Auth, NodeError> {
    cc.key_auth(inputs, &access.key, &[])
}

/// Everything in a table path up to and including `/v1/`: what Snowflake's volume reads.
pub fn base_path(table_path: &str) -> Option<String> {
    table_path
        .find("/v1/")
        .map(|i| table_path[..i + 4].to_string())
}

pub struct TableflowNode {
    cc: Arc<Confluent>,
    spec: TableflowTopic,
}

impl TableflowNode {
    pub fn new(cc: Arc<Confluent>, spec: TableflowTopic) -> Self {
        TableflowNode { cc, spec }
    }

    fn item(&self, inputs: &Inputs) -> Result<String, NodeError> {
        Ok(format!(
            "/tableflow/v1/tableflow-topics/{}?{}",
            q(&self.spec.topic),
            scope(inputs, &self.spec.access)?
        ))
    }

    /// Retention and error handling, where the stack sets them; Tableflow's defaults otherwise.
    fn config(&self) -> Option<Value> {
        let mut config = serde_json::Map::new();
        if let Some(ms) = self.spec.retention_ms {
            config.insert("retention_ms".into(), json!(ms.to_string()));
        }
        if let Some(mode) = &self.spec.error_handling {
            config.insert("error_handling".into(), json!({"mode": mode}));
        }
        (!config.is_empty()).then_some(Value::Object(config))
    }

    /// The options the stack sets that Tableflow has otherwise, by name.
    fn drift(&self, live: &Value) -> Vec<Diff> {
        let found = |pointer: &str| {
            live.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or("(unset)")
                .to_string()
        };
        let mut what = Vec::new();
        if let Some(ms) = self.spec.retention_ms {
            let now = found("/spec/config/retention_ms");
            if now != ms.to_string() {
                what.push(Diff::new("retention_ms", ms.to_string(), now));
            }
        }
        if let Some(mode) = &self.spec.error_handling {
            let now = found("/spec/config/error_handling/mode");
            if &now != mode {
                what.push(Diff::new("error_handling", mode, now));
            }
        }
        what
    }

    fn record(&self, v: &Value) -> Record {
        let mut r = Record::new(&self.spec.topic);
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
impl Resource for TableflowNode {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let auth = auth(&self.cc, inputs, &self.spec.access)?;
        let item = self.item(inputs)?;
        let found = self.cc.client.get(&item, &auth).await?;
        // Kept for `drift`, which then needs no read of its own.
        let kept = found.clone();
        inputs
            .memo()
            .get_or_try_init(&format!("tableflow {item}"), || async {
                Ok::<_, NodeError>(kept)
            })
            .await?;
        Ok(found.map(|v| self.record(&v)))
    }

    /// Retention or error handling changed since: only the options the stack sets.
    async fn drift(&self, inputs: &Inputs, _record: &Record) -> Result<Option<Change>, NodeError> {
        let item = self.item(inputs)?;
        let live = inputs
            .memo()
            .get_or_try_init(&format!("tableflow {item}"), || async {
                let auth = auth(&self.cc, inputs, &self.spec.access)?;
                Ok::<_, NodeError>(self.cc.client.get(&item, &auth).await?)
            })
            .await?;
        let Some(live) = live.as_ref() else {
            return Ok(None);
        };
        let what = self.drift(live);
        Ok((!what.is_empty()).then_some(Change::Update { what }))
    }

    /// One PATCH with the stack's options (`TableflowTopicUpdate`).
    async fn apply(
        &self,
        inputs: &Inputs,
        record: &Record,
        change: &Change,
    ) -> Result<Record, NodeError> {
        let Some(config) = self.config() else {
            return Err(anyhow::anyhow!("Tableflow on {} cannot {change}", self.spec.topic).into());
        };
        let access = &self.spec.access;
        let auth = auth(&self.cc, inputs, access)?;
        let (environment, cluster) = refs(inputs, access)?;
        let body = json!({"spec": {
            "config": config,
            "environment": environment,
            "kafka_cluster": cluster,
        }});
        let path = format!("/tableflow/v1/tableflow-topics/{}", q(&self.spec.topic));
        self.cc.client.patch(&path, &auth, &body).await?;
        Ok(record.clone())
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let access = &self.spec.access;
        let auth = auth(&self.cc, inputs, access)?;
        let (environment, cluster) = refs(inputs, access)?;
        let mut body = json!({"spec": {
            "display_name": self.spec.topic,
            "storage": {
                "kind": "ByobAws",
                "bucket_name": inputs.output(&access.bucket, "name")?,
                "provider_integration_id": inputs.id(&access.provider)?,
            },
            "table_formats": self.spec.table_formats,
            "environment": environment,
            "kafka_cluster": cluster,
        }});
        if let Some(config) = self.config() {
            body["spec"]["config"] = config;
        }
        let made = self
            .cc
            .client
            .post("/tableflow/v1/tableflow-topics", &auth, &body)
            .await?;
        Ok(self.record(&made))
    }

    async fn ready(&self, inputs: &Inputs, record: &Record) -> Result<Readiness, NodeError> {
        let auth = auth(&self.cc, inputs, &self.spec.access)?;
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
        let Some(auth) = self.cc.key_auth_for_delete(inputs, &self.spec.access.key) else {
            return Ok(());
        };
        self.cc.client.delete(&self.item(inputs)?, &auth).await?;
        Ok(())
    }
}

pub struct Catalog {
    cc: Arc<Confluent>,
    spec: CatalogIntegration,
}

impl Catalog {
    pub fn new(cc: Arc<Confluent>, spec: CatalogIntegration) -> Self {
        Catalog { cc, spec }
    }

    fn item(&self, inputs: &Inputs, id: &str) -> Result<String, NodeError> {
        Ok(format!(
            "/tableflow/v1/catalog-integrations/{}?{}",
            q(id),
            scope(inputs, &self.spec.access)?
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
        let auth = auth(&self.cc, inputs, &self.spec.access)?;
        let path = format!(
            "/tableflow/v1/catalog-integrations?{}",
            scope(inputs, &self.spec.access)?
        );
        let all = self.cc.client.list(&path, &auth).await?;
        let found = all
            .iter()
            .find(|c| c.pointer("/spec/display_name") == Some(&json!(self.spec.name)));
        found.map(|c| Ok(Record::new(field(c, "/id")?))).transpose()
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let access = &self.spec.access;
        let auth = auth(&self.cc, inputs, access)?;
        let (environment, cluster) = refs(inputs, access)?;
        let body = json!({"spec": {
            "display_name": self.spec.name,
            "environment": environment,
            "kafka_cluster": cluster,
            "config": {"kind": "AwsGlue", "provider_integration_id": inputs.id(&access.provider)?},
        }});
        let made = self
            .cc
            .client
            .post("/tableflow/v1/catalog-integrations", &auth, &body)
            .await?;
        Ok(Record::new(field(&made, "/id")?))
    }

    async fn ready(&self, inputs: &Inputs, record: &Record) -> Result<Readiness, NodeError> {
        let auth = auth(&self.cc, inputs, &self.spec.access)?;
        let v = self
            .cc
            .client
            .get(&self.item(inputs, &record.id)?, &auth)
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
        let Some(auth) = self.cc.key_auth_for_delete(inputs, &self.spec.access.key) else {
            return Ok(());
        };
        self.cc
            .client
            .delete(&self.item(inputs, &record.id)?, &auth)
            .await?;
        Ok(())
    }
}
