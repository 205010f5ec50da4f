//! A4: one Secrets Manager secret per client, holding its active Confluent key in the JSON keys
//! STACK.md gives; a rotation writes a new version, never a new secret. Also the store the
//! Snowflake key pairs (A5) live in, and the reads that fill this run's vault before anything runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use super::kinds::{Secret, SecretBody, Tags};
use super::{Aws, sdk_error};
use crate::engine::{Change, Diff, Inputs, NodeError, Record, Resource, fingerprint};
use crate::snowflake::{Admin, SecretStore};

fn not_found(e: &NodeError) -> bool {
    e.to_string().contains("ResourceNotFound")
}

async fn read(aws: &Aws, name: &str) -> Result<Option<SecretString>, NodeError> {
    match aws.secrets.get_secret_value().secret_id(name).send().await {
        Ok(out) => Ok(out
            .secret_string()
            .map(|s| SecretString::from(s.to_string()))),
        Err(e) => {
            let e = sdk_error("GetSecretValue", e);
            if not_found(&e) { Ok(None) } else { Err(e) }
        }
    }
}

/// Puts a new version, or makes the secret (with its description and tags) where there is none:
/// the tags mark it at create only.
async fn write(
    aws: &Aws,
    name: &str,
    description: &str,
    tags: &Tags,
    value: &SecretString,
) -> Result<(), NodeError> {
    let update = aws
        .secrets
        .put_secret_value()
        .secret_id(name)
        .secret_string(value.expose_secret())
        .send()
        .await;
    match update {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = sdk_error("PutSecretValue", e);
            if !not_found(&e) {
                return Err(e);
            }
            let tags = tags.iter().map(|(k, v)| {
                aws_sdk_secretsmanager::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
            });
            aws.secrets
                .create_secret()
                .name(name)
                .description(description)
                .set_tags(Some(tags.collect()).filter(|t: &Vec<_>| !t.is_empty()))
                .secret_string(value.expose_secret())
                .send()
                .await
                .map_err(|e| sdk_error("CreateSecret", e))?;
            Ok(())
        }
    }
}

async fn delete(aws: &Aws, name: &str) -> Result<(), NodeError> {
    // Without recovery, so that the next `create` can use the name again at once.
    match aws
        .secrets
        .delete_secret()
        .secret_id(name)
        .force_delete_without_recovery(true)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = sdk_error("DeleteSecret", e);
            if not_found(&e) { Ok(()) } else { Err(e) }
        }
    }
}

/// The Secrets Manager store behind the Snowflake key pairs, with the description it gives the
/// secrets it makes.
pub struct SecretsManager(pub Arc<Aws>, pub String);

#[async_trait]
impl SecretStore for SecretsManager {
    async fn read(&self, name: &str) -> Result<Option<SecretString>, NodeError> {
        read(&self.0, name).await
    }
    async fn write(&self, name: &str, value: SecretString) -> Result<(), NodeError> {
        write(&self.0, name, &self.1, &Tags::new(), &value).await
    }
    async fn write_tagged(
        &self,
        name: &str,
        value: SecretString,
        tags: &Tags,
    ) -> Result<(), NodeError> {
        write(&self.0, name, &self.1, tags, &value).await
    }
    async fn delete(&self, name: &str) -> Result<(), NodeError> {
        delete(&self.0, name).await
    }
}

/// The key id and secret a client secret holds.
fn key_of(body: &SecretBody, v: &Value) -> Option<(String, String)> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    match body {
        SecretBody::KafkaClient { .. } => Some((s("sasl.username")?, s("sasl.password")?)),
        SecretBody::SchemaRegistryClient { .. } => {
            let info = s("schema.registry.basic.auth.user.info")?;
            let (key, secret) = info.split_once(':')?;
            Some((key.to_string(), secret.to_string()))
        }
        SecretBody::Flink { .. } | SecretBody::Tableflow { .. } => {
            Some((s("api.key")?, s("api.key.secret")?))
        }
    }
}

/// Secrets read before the run, by name; taking one leaves the next read to Secrets Manager.
#[derive(Default)]
pub(super) struct Preloaded(Mutex<HashMap<String, Option<SecretString>>>);

impl Preloaded {
    fn take(&self, name: &str) -> Option<Option<SecretString>> {
        self.0.lock().unwrap().remove(name)
    }
}

/// Fills the vault with the active keys' secrets, so this run can call with the keys that exist.
/// The reads run at once, and each is kept for its secret's lookup: under the lock nothing but
/// that node writes the secret, so reading it twice would only cost a call.
pub async fn load_key_secrets(aws: &Aws, clients: &[Secret]) -> Result<(), NodeError> {
    let reads = clients.iter().map(|c| read(aws, &c.name));
    let texts = futures_util::future::try_join_all(reads).await?;
    let mut preloaded = aws.preloaded.0.lock().unwrap();
    for (client, text) in clients.iter().zip(texts) {
        if let Some(text) = &text {
            let parsed: Value = serde_json::from_str(text.expose_secret()).unwrap_or(Value::Null);
            if let Some((key, secret)) = key_of(&client.body, &parsed) {
                aws.vault.put(&key, SecretString::from(secret));
            }
        }
        preloaded.insert(client.name.clone(), text);
    }
    Ok(())
}

/// The Snowflake admin connection from its secret, in either layout `admin_secret` reads.
pub async fn snowflake_admin(aws: &Aws, name: &str) -> Result<Admin, NodeError> {
    use super::admin_secret::{AdminSecretError, parse};
    let text = read(aws, name).await?.ok_or_else(|| {
        NodeError::Other(
            AdminSecretError::Missing {
                name: name.to_string(),
            }
            .into(),
        )
    })?;
    parse(name, text.expose_secret()).map_err(|e| NodeError::Other(e.into()))
}

/// A4: a client's secret.
pub struct ClientSecret {
    aws: Arc<Aws>,
    spec: Secret,
}

impl ClientSecret {
    pub fn new(aws: Arc<Aws>, spec: Secret) -> Self {
        ClientSecret { aws, spec }
    }

    /// The JSON the client reads, with the active key.
    fn document(&self, inputs: &Inputs) -> Result<SecretString, NodeError> {
        let key = inputs.output(&self.spec.key, "key")?;
        let secret = self.aws.vault.get(key).ok_or_else(|| {
            NodeError::Other(anyhow::anyhow!("the secret of API key {key} is not held by this run; run `kickstart rotate` to make a new key"))
        })?;
        let secret = secret.expose_secret();
        let v = match &self.spec.body {
            SecretBody::KafkaClient { cluster } => json!({
                "sasl.username": key, "sasl.password": secret,
                "bootstrap.servers": inputs.output(cluster, "bootstrap")?,
            }),
            SecretBody::SchemaRegistryClient { registry } => json!({
                "schema.registry.basic.auth.credentials.source": "USER_INFO",
                "schema.registry.basic.auth.user.info": format!("{key}:{secret}"),
                "schema.registry.url": inputs.output(registry, "url")?,
            }),
            SecretBody::Flink { pool, principal } => json!({
                "api.key": key, "api.key.secret": secret,
                "compute.pool.id": inputs.id(pool)?,
                "principal.id": inputs.id(principal)?,
            }),
            SecretBody::Tableflow {
                environment,
                cluster,
            } => json!({
                "api.key": key, "api.key.secret": secret,
                "environment.id": inputs.id(environment)?,
                "kafka.cluster.id": inputs.id(cluster)?,
            }),
        };
        Ok(SecretString::from(v.to_string()))
    }

    fn record(&self, key: &str) -> Record {
        Record::new(&self.spec.name).with("key", key)
    }

    /// Where `find` keeps the text it read, for `drift`: in memory for this run only.
    fn memo_key(&self) -> String {
        format!("client secret {}", self.spec.name)
    }
}

#[async_trait]
impl Resource for ClientSecret {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let text = match self.aws.preloaded.take(&self.spec.name) {
            Some(text) => text,
            None => read(&self.aws, &self.spec.name).await?,
        };
        let parsed: Option<Value> = text
            .as_ref()
            .map(|t| serde_json::from_str(t.expose_secret()).unwrap_or(Value::Null));
        inputs
            .memo()
            .get_or_try_init(&self.memo_key(), || async {
                Ok::<_, NodeError>(text.as_ref().map(|t| SecretString::from(t.expose_secret())))
            })
            .await?;
        let Some(parsed) = parsed else {
            return Ok(None);
        };
        let key = key_of(&self.spec.body, &parsed)
            .map(|(k, _)| k)
            .unwrap_or_default();
        Ok(Some(self.record(&key)))
    }

    /// A document changed by hand: compared, as JSON, with the one kickstart would write, and
    /// shown only by fingerprint. Without the key's secret in this run there is nothing to
    /// compare with (a key being replaced): its rotation writes the document anyway.
    async fn drift(&self, inputs: &Inputs, _record: &Record) -> Result<Option<Change>, NodeError> {
        let Ok(wanted) = self.document(inputs) else {
            return Ok(None);
        };
        let found = inputs
            .memo()
            .get_or_try_init(&self.memo_key(), || read(&self.aws, &self.spec.name))
            .await?;
        let Some(found) = found.as_ref() else {
            return Ok(None);
        };
        let parse = |t: &SecretString| serde_json::from_str::<Value>(t.expose_secret()).ok();
        if parse(found).is_some() && parse(found) == parse(&wanted) {
            return Ok(None);
        }
        let what = vec![Diff::new(
            "secret document",
            fingerprint(wanted.expose_secret()),
            format!("{} (differs)", fingerprint(found.expose_secret())),
        )];
        Ok(Some(Change::Update { what }))
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let document = self.document(inputs)?;
        write(
            &self.aws,
            &self.spec.name,
            &self.spec.description,
            &self.spec.tags,
            &document,
        )
        .await?;
        Ok(self.record(inputs.output(&self.spec.key, "key")?))
    }

    async fn due(&self, inputs: &Inputs, record: &Record) -> Result<Option<Change>, NodeError> {
        let active = inputs.output(&self.spec.key, "key")?;
        Ok(
            (record.outputs.get("key").map(String::as_str) != Some(active)).then(|| {
                Change::Rotate {
                    reason: "the secret holds an older key than the active one".into(),
                }
            }),
        )
    }

    async fn apply(
        &self,
        inputs: &Inputs,
        _record: &Record,
        _change: &Change,
    ) -> Result<Record, NodeError> {
        self.create(inputs).await
    }

    async fn delete(&self, _inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        delete(&self.aws, &self.spec.name).await
    }
}
