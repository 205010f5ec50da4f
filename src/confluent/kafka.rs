//! Kafka REST v3 at the cluster's own endpoint, with the app_manager's Kafka key: the topic, the
//! CTAS output topic (made by the statement, deleted by us), and the ACLs.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::Confluent;
use super::client::{Auth, q};
use super::kinds::{Acl, AclResource, CausedTopic, KafkaAdmin, Topic};
use crate::engine::{Change, Diff, Inputs, NodeError, Record, Resource};

/// The cluster's REST base for a path under `/kafka/v3/clusters/{lkc}`.
fn rest(inputs: &Inputs, admin: &KafkaAdmin, tail: &str) -> Result<String, NodeError> {
    let base = inputs
        .output(&admin.cluster, "rest_endpoint")?
        .trim_end_matches('/');
    Ok(format!(
        "{base}/kafka/v3/clusters/{}{tail}",
        inputs.id(&admin.cluster)?
    ))
}

/// Calls with the admin key, patient while it or its binding is new.
fn auth(cc: &Confluent, inputs: &Inputs, admin: &KafkaAdmin) -> Result<Auth, NodeError> {
    cc.key_auth(inputs, &admin.key, std::slice::from_ref(&admin.binding))
}

pub struct TopicNode {
    cc: Arc<Confluent>,
    name: String,
    admin: KafkaAdmin,
    /// `None` for a topic a Flink statement makes: tracked and deleted, never created by us.
    made: Option<Topic>,
}

impl TopicNode {
    pub fn new(cc: Arc<Confluent>, spec: Topic) -> Self {
        TopicNode {
            cc,
            name: spec.name.clone(),
            admin: spec.admin.clone(),
            made: Some(spec),
        }
    }

    pub fn caused(cc: Arc<Confluent>, spec: CausedTopic) -> Self {
        TopicNode {
            cc,
            name: spec.name,
            admin: spec.admin,
            made: None,
        }
    }

    fn url(&self, inputs: &Inputs) -> Result<String, NodeError> {
        rest(inputs, &self.admin, &format!("/topics/{}", q(&self.name)))
    }

    /// The topic as Kafka REST shows it, read once per run: `find` and `drift` share it.
    async fn live(&self, inputs: &Inputs) -> Result<Option<Value>, NodeError> {
        let auth = auth(&self.cc, inputs, &self.admin)?;
        let url = self.url(inputs)?;
        let found = inputs
            .memo()
            .get_or_try_init(&format!("kafka topic {url}"), || async {
                Ok::<_, NodeError>(self.cc.client.get(&url, &auth).await?)
            })
            .await?;
        Ok((*found).clone())
    }

    /// Every topic's configs on the cluster, in one listing per run (`topics/-/configs`), by
    /// topic and name. Only a topic whose stack sets configs asks for it.
    async fn configs(&self, inputs: &Inputs) -> Result<Arc<Vec<Value>>, NodeError> {
        let auth = auth(&self.cc, inputs, &self.admin)?;
        let url = rest(inputs, &self.admin, "/topics/-/configs")?;
        inputs
            .memo()
            .get_or_try_init(&format!("kafka topic configs {url}"), || async {
                let page = self.cc.client.get(&url, &auth).await?;
                let data = page.as_ref().and_then(|p| p["data"].as_array());
                Ok::<_, NodeError>(data.cloned().unwrap_or_default())
            })
            .await
    }
}

#[async_trait]
impl Resource for TopicNode {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        // A fresh read each time (a re-try after a lost answer must see the topic it made);
        // the first one of the run is kept for `drift`.
        let auth = auth(&self.cc, inputs, &self.admin)?;
        let url = self.url(inputs)?;
        let found = self.cc.client.get(&url, &auth).await?;
        let kept = found.clone();
        inputs
            .memo()
            .get_or_try_init(&format!("kafka topic {url}"), || async {
                Ok::<_, NodeError>(kept)
            })
            .await?;
        Ok(found.map(|_| Record::new(&self.name)))
    }

    /// Drift: fewer partitions than the stack sets, or a config the stack sets with another
    /// value. More partitions than set is left alone: Kafka cannot decrease them, and replacing
    /// the topic would lose its records, so the stack's count is kept as a minimum.
    async fn drift(&self, inputs: &Inputs, _record: &Record) -> Result<Option<Change>, NodeError> {
        let Some(spec) = &self.made else {
            return Ok(None);
        };
        let Some(live) = self.live(inputs).await? else {
            return Ok(None);
        };
        let mut what = Vec::new();
        let count = live["partitions_count"].as_u64();
        match count {
            Some(n) if n < u64::from(spec.partitions) => {
                what.push(Diff::new(
                    "partitions",
                    spec.partitions.to_string(),
                    n.to_string(),
                ));
            }
            Some(n) if n > u64::from(spec.partitions) => tracing::warn!(
                "topic {} has {n} partitions, more than the {} the stack sets; Kafka cannot decrease them, so they are kept",
                self.name,
                spec.partitions
            ),
            _ => {}
        }
        if !spec.config.is_empty() {
            let configs = self.configs(inputs).await?;
            for (name, wanted) in &spec.config {
                let found = configs
                    .iter()
                    .find(|c| c["topic_name"] == self.name.as_str() && c["name"] == name.as_str())
                    .and_then(|c| c["value"].as_str());
                match found {
                    Some(v) if v == wanted => {}
                    Some(v) => what.push(Diff::new(format!("config {name}"), wanted, v)),
                    None => what.push(Diff::unset(format!("config {name}"), wanted)),
                }
            }
        }
        Ok((!what.is_empty()).then_some(Change::Update { what }))
    }

    /// Partitions are raised with a PATCH of the topic; configs set with one `configs:alter`.
    async fn apply(
        &self,
        inputs: &Inputs,
        record: &Record,
        change: &Change,
    ) -> Result<Record, NodeError> {
        let (Some(spec), Change::Update { what }) = (&self.made, change) else {
            return Err(anyhow::anyhow!("topic {} cannot {change}", self.name).into());
        };
        let auth = auth(&self.cc, inputs, &self.admin)?;
        let url = self.url(inputs)?;
        if what.iter().any(|d| d.attribute == "partitions") {
            let body = json!({"partitions_count": spec.partitions});
            self.cc.client.patch(&url, &auth, &body).await?;
        }
        let configs: Vec<Value> = what
            .iter()
            .filter_map(|d| d.attribute.strip_prefix("config "))
            .filter_map(|name| {
                spec.config
                    .get(name)
                    .map(|v| json!({"name": name, "value": v}))
            })
            .collect();
        if !configs.is_empty() {
            let body = json!({"data": configs});
            self.cc
                .client
                .post(&format!("{url}/configs:alter"), &auth, &body)
                .await?;
        }
        Ok(record.clone())
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let Some(spec) = &self.made else {
            // The statement that depends on this node makes the topic; until then there is only
            // its name to record.
            return Ok(Record::new(&self.name).with("made_by", "flink statement"));
        };
        let auth = auth(&self.cc, inputs, &self.admin)?;
        let configs: Vec<Value> = spec
            .config
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        let mut body = json!({"topic_name": self.name, "partitions_count": spec.partitions});
        if !configs.is_empty() {
            body["configs"] = json!(configs);
        }
        let made = self
            .cc
            .client
            .post(&rest(inputs, &self.admin, "/topics")?, &auth, &body)
            .await;
        match made {
            Ok(_) => Ok(Record::new(&self.name)),
            // A re-try after an answer lost on the way back finds the topic its first try made
            // (Kafka REST's 400, error 40002): that topic is ours.
            Err(e) if e.status == 400 && e.message.ends_with("already exists.") => {
                Ok(Record::new(&self.name))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        let Some(auth) = self.cc.key_auth_for_delete(inputs, &self.admin.key) else {
            return Ok(());
        };
        let url = self.url(inputs)?;
        self.cc.client.delete(&url, &auth).await?;
        Ok(())
    }

    /// Kafka removes a deleted topic's partitions in the background.
    async fn gone(&self, inputs: &Inputs, _record: &Record) -> Result<Option<String>, NodeError> {
        let Some(auth) = self.cc.key_auth_for_delete(inputs, &self.admin.key) else {
            return Ok(None);
        };
        let url = self.url(inputs)?;
        let found = self.cc.client.get(&url, &auth).await?;
        Ok(found.map(|_| "DELETING".to_string()))
    }
}

/// What names one ACL: a binding equal in all of these is the same ACL.
const ACL_FIELDS: [&str; 7] = [
    "resource_type",
    "resource_name",
    "pattern_type",
    "principal",
    "host",
    "operation",
    "permission",
];

pub struct AclNode {
    cc: Arc<Confluent>,
    spec: Acl,
}

impl AclNode {
    pub fn new(cc: Arc<Confluent>, spec: Acl) -> Self {
        AclNode { cc, spec }
    }

    fn binding(&self, inputs: &Inputs) -> Result<Value, NodeError> {
        let resource_type = match self.spec.resource {
            AclResource::Topic => "TOPIC",
            AclResource::Group => "GROUP",
            AclResource::Cluster => "CLUSTER",
        };
        Ok(json!({
            "resource_type": resource_type, "resource_name": self.spec.name, "pattern_type": "LITERAL",
            "principal": format!("User:{}", inputs.id(&self.spec.principal)?), "host": "*",
            "operation": self.spec.operation, "permission": "ALLOW",
        }))
    }

    fn filter(binding: &Value) -> String {
        let pairs: Vec<String> = ACL_FIELDS
            .iter()
            .map(|f| format!("{f}={}", q(binding[f].as_str().unwrap_or_default())))
            .collect();
        format!("/acls?{}", pairs.join("&"))
    }

    fn id(binding: &Value) -> String {
        let part = |f: &str| binding[f].as_str().unwrap_or_default().to_string();
        format!(
            "{} {} {} {}",
            part("permission"),
            part("principal"),
            part("operation"),
            part("resource_type") + ":" + &part("resource_name")
        )
    }
}

#[async_trait]
impl Resource for AclNode {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let auth = auth(&self.cc, inputs, &self.spec.admin)?;
        let binding = self.binding(inputs)?;
        let url = rest(inputs, &self.spec.admin, "/acls")?;
        // One listing of the cluster's ACLs answers every ACL node of this run.
        let all = inputs
            .memo()
            .get_or_try_init(&format!("kafka acls {url}"), || async {
                let page = self.cc.client.get(&url, &auth).await?;
                let data = page.as_ref().and_then(|p| p["data"].as_array());
                Ok::<_, NodeError>(data.cloned().unwrap_or_default())
            })
            .await?;
        let exists = all
            .iter()
            .any(|acl| ACL_FIELDS.iter().all(|f| acl[f] == binding[f]));
        Ok(exists.then(|| Record::new(Self::id(&binding))))
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let auth = auth(&self.cc, inputs, &self.spec.admin)?;
        let binding = self.binding(inputs)?;
        self.cc
            .client
            .post(&rest(inputs, &self.spec.admin, "/acls")?, &auth, &binding)
            .await?;
        Ok(Record::new(Self::id(&binding)))
    }

    async fn delete(&self, inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        let Some(auth) = self.cc.key_auth_for_delete(inputs, &self.spec.admin.key) else {
            return Ok(());
        };
        let url = rest(
            inputs,
            &self.spec.admin,
            &Self::filter(&self.binding(inputs)?),
        )?;
        self.cc.client.delete(&url, &auth).await?;
        Ok(())
    }
}
