//! iam/v2 API keys, rotated: per owner and resource the newest key is the active one. A new key
//! is made when the newest is `--day-count` days old; the oldest beyond
//! `--number-of-api-keys-to-retain` are then deleted, never the active one.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::client::{Auth, q};
use super::kinds::{ApiKey, KeyScope};
use super::{Confluent, field};
use crate::engine::{Change, Inputs, NodeError, Readiness, Record, Resource};

pub struct Key {
    cc: Arc<Confluent>,
    spec: ApiKey,
}

/// One existing key, as listed.
struct Listed {
    id: String,
    created_at: Timestamp,
    /// Made by kickstart (its description says so), not by deploy.sh or by hand.
    ours: bool,
}

/// The description kickstart gives its keys: how it tells its own from those it took over.
const OURS: &str = "made and rotated by kickstart";

impl Key {
    pub fn new(cc: Arc<Confluent>, spec: ApiKey) -> Self {
        Key { cc, spec }
    }

    fn owner(&self, inputs: &Inputs) -> Result<String, NodeError> {
        Ok(inputs.id(&self.spec.owner)?.to_string())
    }

    /// The resource the key is bound to: `(id, environment)`.
    fn resource(&self, inputs: &Inputs) -> Result<(String, Option<String>), NodeError> {
        let id = |node: &str| inputs.id(node).map(str::to_string);
        Ok(match &self.spec.scope {
            KeyScope::KafkaCluster {
                cluster,
                environment,
            } => (id(cluster)?, Some(id(environment)?)),
            KeyScope::SchemaRegistry {
                registry,
                environment,
            } => (id(registry)?, Some(id(environment)?)),
            KeyScope::FlinkRegion { environment } => {
                (self.cc.flink_region(), Some(id(environment)?))
            }
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
                    ours: k.pointer("/spec/description").and_then(Value::as_str) == Some(OURS),
                })
            })
            .collect::<Result<Vec<_>, NodeError>>()?;
        keys.sort_by_key(|k| k.created_at);
        Ok(keys)
    }

    /// A read on the key's own data plane that any accepted key may make.
    async fn probe(&self, inputs: &Inputs) -> Result<Option<String>, NodeError> {
        Ok(match &self.spec.scope {
            KeyScope::KafkaCluster { cluster, .. } => {
                let base = inputs.output(cluster, "rest_endpoint")?;
                let lkc = inputs.id(cluster)?;
                Some(format!(
                    "{}/kafka/v3/clusters/{lkc}/topics",
                    base.trim_end_matches('/')
                ))
            }
            KeyScope::FlinkRegion { environment } => Some(format!(
                "{}/sql/v1/organizations/{}/environments/{}/statements?page_size=1",
                self.cc.flink_endpoint().await?,
                self.cc.organization().await?,
                inputs.id(environment)?
            )),
            KeyScope::SchemaRegistry { .. } | KeyScope::Tableflow => None,
        })
    }

    /// Deletes one key. The real service answers a delete of a key that is already gone (an
    /// earlier try whose answer was lost) with 403, as it answers one we may not delete: the
    /// owner's list tells which.
    async fn remove(&self, inputs: &Inputs, id: &str) -> Result<(), NodeError> {
        let path = format!("/iam/v2/api-keys/{id}");
        match self.cc.client.delete(&path, &Auth::Cloud).await {
            Ok(()) => {}
            Err(e) if e.status == 403 => {
                if self.listed(inputs).await?.iter().any(|k| k.id == id) {
                    return Err(e.into());
                }
            }
            Err(e) => return Err(e.into()),
        }
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
            "display_name": self.spec.display_name,
            "description": OURS,
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
                self.remove(inputs, &key.id).await?;
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
impl Resource for Key {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let keys = self.listed(inputs).await?;
        // The key a stack secret holds is the active one (deploy.sh's rotation may have made a
        // newer one it does not use); only without one is the newest taken, and rotated.
        let held = keys
            .iter()
            .rev()
            .find(|k| self.cc.vault.get(&k.id).is_some());
        Ok(held
            .or(keys.last())
            .map(|active| record(&active.id, &active.created_at.to_string())))
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
        // A key of ours whose secret is held nowhere (a run died before storing it) can never be
        // used by anyone: it goes at once, and does not count towards the keys retained. A key we
        // took over (deploy.sh's) may be in use by applications that hold its secret elsewhere:
        // it is kept under the retain rule like any older key, never dropped silently.
        let keys = self.listed(inputs).await?;
        for lost in keys
            .iter()
            .filter(|k| k.ours && k.id != active.id && self.cc.vault.get(&k.id).is_none())
        {
            self.remove(inputs, &lost.id).await?;
        }
        let keys = self.listed(inputs).await?;
        let keep = self.cc.rotation.keys_to_retain as usize;
        let surplus = keys.len().saturating_sub(keep);
        for old in keys.iter().take(surplus).filter(|k| k.id != active.id) {
            self.remove(inputs, &old.id).await?;
        }
        Ok(active)
    }

    async fn delete(&self, inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        for key in self.listed(inputs).await? {
            self.remove(inputs, &key.id).await?;
        }
        Ok(())
    }
}
