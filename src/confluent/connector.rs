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
use crate::engine::{Change, Diff, Inputs, NodeError, Readiness, Record, Resource};

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

    /// The connector as connect/v1 shows it (its config included), read once per run: `find`
    /// keeps its read for `drift`.
    async fn live(&self, inputs: &Inputs, fresh: bool) -> Result<Option<Value>, NodeError> {
        let path = self.path(inputs, "")?;
        let read = || async { Ok::<_, NodeError>(self.cc.client.get(&path, &Auth::Cloud).await?) };
        let key = format!("connector {path}");
        if fresh {
            // A re-try after a lost answer must see what its first try made.
            let found = read().await?;
            let kept = found.clone();
            inputs
                .memo()
                .get_or_try_init(&key, || async { Ok::<_, NodeError>(kept) })
                .await?;
            return Ok(found);
        }
        Ok((*inputs.memo().get_or_try_init(&key, read).await?).clone())
    }

    /// The keys the stack sets whose live value differs. The read-back masks secrets and adds
    /// the service's own keys: only what the stack sets is compared, and it sets no secret.
    fn drift(wanted: &Map<String, Value>, live: &Value) -> Vec<Diff> {
        wanted
            .iter()
            .filter_map(|(key, want)| {
                let want = want.as_str().unwrap_or_default();
                match live["config"][key.as_str()].as_str() {
                    Some(found) if found == want => None,
                    Some(found) => Some(Diff::new(format!("config {key}"), want, found)),
                    None => Some(Diff::unset(format!("config {key}"), want)),
                }
            })
            .collect()
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
        let found = self.live(inputs, true).await?;
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

    /// A config edited in the console, on the keys the stack sets.
    async fn drift(&self, inputs: &Inputs, _record: &Record) -> Result<Option<Change>, NodeError> {
        let Some(live) = self.live(inputs, false).await? else {
            return Ok(None);
        };
        let (wanted, _) = self.config(inputs)?;
        let what = Self::drift(&wanted, &live);
        Ok((!what.is_empty()).then_some(Change::Update { what }))
    }

    /// Both the move to the service account and drift put the whole config again: connect/v1
    /// has no partial update.
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
