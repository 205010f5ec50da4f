//! iam/v2 API keys, rotated: per owner and resource the newest key is the active one. A new key
//! is made when the newest is `--day-count` days old; the oldest beyond
//! `--number-of-api-keys-to-retain` are then deleted, never the active one.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::client::{Auth, q};
use super::{Confluent, field, principal_node};
use crate::engine::{Change, Inputs, NodeError, Readiness, Record, Resource};
use crate::stack::{Decl, KeyScope, Spec, ids};

pub struct ApiKey {
    cc: Arc<Confluent>,
    node: String,
    scope: KeyScope,
    owner: Result<String, String>,
}

/// One existing key, as listed.
struct Listed {
    id: String,
    created_at: Timestamp,
}

impl ApiKey {
    pub fn new(cc: Arc<Confluent>, decl: &Decl) -> Self {
        let Spec::ApiKey { scope } = decl.spec else {
            unreachable!("an API key node has an API key spec")
        };
        ApiKey {
            cc,
            node: decl.id.clone(),
            scope,
            owner: principal_node(&decl.deps).map_err(|e| e.to_string()),
        }
    }

    fn owner(&self, inputs: &Inputs) -> Result<String, NodeError> {
        let node = self
            .owner
            .clone()
            .map_err(|e| NodeError::Other(anyhow::anyhow!(e)))?;
        Ok(inputs.id(&node)?.to_string())
    }

    /// The resource the key is bound to: `(id, environment)`.
    fn resource(&self, inputs: &Inputs) -> Result<(String, Option<String>), NodeError> {
        let env = || inputs.id(ids::ENV).map(str::to_string);
        Ok(match self.scope {
            KeyScope::KafkaCluster => (inputs.id(ids::CLUSTER)?.to_string(), Some(env()?)),
            KeyScope::SchemaRegistry => (inputs.id(ids::SR)?.to_string(), Some(env()?)),
            KeyScope::FlinkRegion => (self.cc.flink_region(), Some(env()?)),
            KeyScope::Tableflow => ("tableflow".to_string(), None),
        })
    }

    /// This owner's keys on this resource, oldest first.
    async fn listed(&self, inputs: &Inputs) -> Result<Vec<Listed>, NodeError> {
        let (resource, _) = self.resource(inputs)?;
        let path = format!(
            "/iam/v2/api-keys?spec.owner={}&spec.resource={}",
            q(&self.owner(inputs)?),
            q(&resource)
        );
        let mut keys = self
            .cc
            .client
            .list(&path, &Auth::Cloud)
            .await?
            .iter()
            .map(|k| {
                let created = field(k, "/metadata/created_at")?;
                let created_at = created.parse().map_err(|e| {
                    NodeError::Other(anyhow::anyhow!("bad created_at {created}: {e}"))
                })?;
                Ok(Listed {
                    id: field(k, "/id")?,
                    created_at,
                })
            })
            .collect::<Result<Vec<_>, NodeError>>()?;
        keys.sort_by_key(|k| k.created_at);
        Ok(keys)
    }

    /// A read on the key's own data plane that any accepted key may make.
    async fn probe(&self, inputs: &Inputs) -> Result<Option<String>, NodeError> {
        Ok(match self.scope {
            KeyScope::KafkaCluster => {
                let base = inputs.output(ids::CLUSTER, "rest_endpoint")?;
                let lkc = inputs.id(ids::CLUSTER)?;
                Some(format!(
                    "{}/kafka/v3/clusters/{lkc}/topics",
                    base.trim_end_matches('/')
                ))
            }
            KeyScope::FlinkRegion => Some(format!(
                "{}/sql/v1/organizations/{}/environments/{}/statements?page_size=1",
                self.cc.flink_endpoint().await?,
                self.cc.organization().await?,
                inputs.id(ids::ENV)?
            )),
            KeyScope::SchemaRegistry | KeyScope::Tableflow => None,
        })
    }

    async fn remove(&self, id: &str) -> Result<(), NodeError> {
        self.cc
            .client
            .delete(&format!("/iam/v2/api-keys/{id}"), &Auth::Cloud)
            .await?;
        self.cc.vault.forget(id);
        Ok(())
    }

    async fn make(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let (resource, environment) = self.resource(inputs)?;
        let mut resource = json!({"id": resource});
        if let Some(env) = environment {
            resource["environment"] = json!(env);
        }
        let body = json!({"spec": {
            "display_name": format!("{} {}", self.cc.names.stack(), self.node),
            "description": "made and rotated by kickstart",
            "owner": {"id": self.owner(inputs)?},
            "resource": resource,
        }});
        let before: Vec<String> = self
            .listed(inputs)
            .await?
            .into_iter()
            .map(|k| k.id)
            .collect();
        let made = self
            .cc
            .client
            .post("/iam/v2/api-keys", &Auth::Cloud, &body)
            .await;
        // A try whose answer was lost (and then re-tried) still made a key, and its secret was
        // only in that answer: no one can use it, so it goes.
        let kept = made.as_ref().ok().and_then(|m| field(m, "/id").ok());
        for key in self.listed(inputs).await? {
            if !before.contains(&key.id) && kept.as_ref() != Some(&key.id) {
                self.remove(&key.id).await?;
            }
        }
        let made: Value = made?;
        let id = field(&made, "/id")?;
        // The secret is shown only now: it goes to the vault, never to the record.
        self.cc
            .vault
            .put(&id, SecretString::from(field(&made, "/spec/secret")?));
        let created_at = field(&made, "/metadata/created_at")
            .unwrap_or_else(|_| self.cc.clock.now().to_string());
        Ok(record(&id, &created_at))
    }
}

fn record(id: &str, created_at: &str) -> Record {
    Record::new(id)
        .with("key", id)
        .with("created_at", created_at)
}

#[async_trait]
impl Resource for ApiKey {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let keys = self.listed(inputs).await?;
        Ok(keys
            .last()
            .map(|newest| record(&newest.id, &newest.created_at.to_string())))
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        self.make(inputs).await
    }

    /// A new key is not accepted at once: its data plane refuses it (401, then 403) until it
    /// has propagated. Kafka and Flink keys are tried there until they work; a Schema Registry
    /// key has no data plane the stack calls, and a Tableflow key is first used with patience.
    async fn ready(&self, inputs: &Inputs, record: &Record) -> Result<Readiness, NodeError> {
        let Some(url) = self.probe(inputs).await? else {
            return Ok(Readiness::Ready(record.clone()));
        };
        // A key whose secret this run does not hold (a run died before storing it) cannot be
        // tried; `due` replaces it.
        let Some(secret) = self.cc.vault.get(&record.id) else {
            return Ok(Readiness::Ready(record.clone()));
        };
        let auth = Auth::Key {
            id: record.id.clone(),
            secret,
            patience: std::time::Duration::ZERO,
        };
        match self.cc.client.get(&url, &auth).await {
            Ok(_) => Ok(Readiness::Ready(record.clone())),
            Err(e) if matches!(e.status, 401 | 403) => Ok(Readiness::Pending {
                phase: "PROPAGATING".into(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    async fn due(&self, _inputs: &Inputs, record: &Record) -> Result<Option<Change>, NodeError> {
        let created: Timestamp = record
            .outputs
            .get("created_at")
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| {
                NodeError::Other(anyhow::anyhow!("the key's creation time is not recorded"))
            })?;
        let age = self.cc.clock.now().duration_since(created);
        let limit = SignedDuration::from_hours(24 * i64::from(self.cc.rotation.day_count));
        if age >= limit {
            let days = age.as_hours() / 24;
            return Ok(Some(Change::Rotate {
                reason: format!("the newest key is {days} days old"),
            }));
        }
        if self.cc.vault.get(&record.id).is_none() {
            return Ok(Some(Change::Rotate {
                reason: "the active key's secret is not held by this run".into(),
            }));
        }
        Ok(None)
    }

    async fn apply(
        &self,
        inputs: &Inputs,
        _record: &Record,
        _change: &Change,
    ) -> Result<Record, NodeError> {
        let active = self.make(inputs).await?;
        // A key whose secret is held nowhere (a run died before storing it) can never be used by
        // anyone: it goes at once, and does not count towards the keys retained.
        let keys = self.listed(inputs).await?;
        for lost in keys
            .iter()
            .filter(|k| k.id != active.id && self.cc.vault.get(&k.id).is_none())
        {
            self.remove(&lost.id).await?;
        }
        let keys = self.listed(inputs).await?;
        let keep = self.cc.rotation.keys_to_retain as usize;
        let surplus = keys.len().saturating_sub(keep);
        for old in keys.iter().take(surplus).filter(|k| k.id != active.id) {
            self.remove(&old.id).await?;
        }
        Ok(active)
    }

    async fn delete(&self, inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        for key in self.listed(inputs).await? {
            let path = format!("/iam/v2/api-keys/{}", key.id);
            match self.cc.client.delete(&path, &Auth::Cloud).await {
                Ok(()) => {}
                // A deleted key answers 403, so a delete retried after its first answer was lost
                // finds it so: gone only if its list no longer holds it.
                Err(e) if e.status == 403 => {
                    if self.listed(inputs).await?.iter().any(|k| k.id == key.id) {
                        return Err(e.into());
                    }
                }
                Err(e) => return Err(e.into()),
            }
            self.cc.vault.forget(&key.id);
        }
        Ok(())
    }
}
