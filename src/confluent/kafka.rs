//! Kafka REST v3 at the cluster's own endpoint, with the app_manager's Kafka key: the topic, the
//! CTAS output topic (made by the statement, deleted by us), and the ACLs.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::client::q;
use super::{Confluent, principal_node};
use crate::engine::{Inputs, NodeError, Record, Resource};
use crate::stack::{AclResource, Decl, Spec, ids};

/// The cluster's REST base for a path under `/kafka/v3/clusters/{lkc}`.
fn rest(inputs: &Inputs, tail: &str) -> Result<String, NodeError> {
    let base = inputs
        .output(ids::CLUSTER, "rest_endpoint")?
        .trim_end_matches('/');
    Ok(format!(
        "{base}/kafka/v3/clusters/{}{tail}",
        inputs.id(ids::CLUSTER)?
    ))
}

pub struct Topic {
    cc: Arc<Confluent>,
    name: String,
    /// Made by the Flink statement: tracked and deleted, never created by us.
    caused: bool,
}

impl Topic {
    pub fn new(cc: Arc<Confluent>, decl: &Decl) -> Self {
        let (name, caused) = match &decl.spec {
            Spec::Topic { name } => (name.clone(), false),
            Spec::CausedTopic { name } => (name.clone(), true),
            other => unreachable!("{other:?} is not a topic"),
        };
        Topic { cc, name, caused }
    }
}

#[async_trait]
impl Resource for Topic {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let auth = self.cc.key_auth(inputs, ids::MANAGER_KEY)?;
        let url = rest(inputs, &format!("/topics/{}", q(&self.name)))?;
        let found = self.cc.client.get(&url, &auth).await?;
        Ok(found.map(|_| Record::new(&self.name)))
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        if self.caused {
            // The statement that depends on this node makes the topic; until then there is only
            // its name to record.
            return Ok(Record::new(&self.name).with("made_by", "flink statement"));
        }
        let auth = self.cc.key_auth(inputs, ids::MANAGER_KEY)?;
        let body = json!({"topic_name": self.name, "partitions_count": 6});
        let made = self
            .cc
            .client
            .post(&rest(inputs, "/topics")?, &auth, &body)
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
        let Some(auth) = self.cc.key_auth_for_delete(inputs, ids::MANAGER_KEY) else {
            return Ok(());
        };
        let url = rest(inputs, &format!("/topics/{}", q(&self.name)))?;
        self.cc.client.delete(&url, &auth).await?;
        Ok(())
    }

    /// Kafka removes a deleted topic's partitions in the background.
    async fn gone(&self, inputs: &Inputs, _record: &Record) -> Result<Option<String>, NodeError> {
        let Some(auth) = self.cc.key_auth_for_delete(inputs, ids::MANAGER_KEY) else {
            return Ok(None);
        };
        let url = rest(inputs, &format!("/topics/{}", q(&self.name)))?;
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

pub struct Acl {
    cc: Arc<Confluent>,
    resource: AclResource,
    name: String,
    operation: &'static str,
    principal: Result<String, String>,
}

impl Acl {
    pub fn new(cc: Arc<Confluent>, decl: &Decl) -> Self {
        let Spec::Acl {
            resource,
            name,
            operation,
        } = &decl.spec
        else {
            unreachable!("an ACL node has an ACL spec")
        };
        Acl {
            cc,
            resource: *resource,
            name: name.clone(),
            operation,
            principal: principal_node(&decl.deps).map_err(|e| e.to_string()),
        }
    }

    fn binding(&self, inputs: &Inputs) -> Result<Value, NodeError> {
        let node = self
            .principal
            .clone()
            .map_err(|e| NodeError::Other(anyhow::anyhow!(e)))?;
        let resource_type = match self.resource {
            AclResource::Topic => "TOPIC",
            AclResource::Group => "GROUP",
            AclResource::Cluster => "CLUSTER",
        };
        Ok(json!({
            "resource_type": resource_type, "resource_name": self.name, "pattern_type": "LITERAL",
            "principal": format!("User:{}", inputs.id(&node)?), "host": "*",
            "operation": self.operation, "permission": "ALLOW",
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
impl Resource for Acl {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let auth = self.cc.key_auth(inputs, ids::MANAGER_KEY)?;
        let binding = self.binding(inputs)?;
        let url = rest(inputs, "/acls")?;
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
        let auth = self.cc.key_auth(inputs, ids::MANAGER_KEY)?;
        let binding = self.binding(inputs)?;
        self.cc
            .client
            .post(&rest(inputs, "/acls")?, &auth, &binding)
            .await?;
        Ok(Record::new(Self::id(&binding)))
    }

    async fn delete(&self, inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        let Some(auth) = self.cc.key_auth_for_delete(inputs, ids::MANAGER_KEY) else {
            return Ok(());
        };
        let url = rest(inputs, &Self::filter(&self.binding(inputs)?))?;
        self.cc.client.delete(&url, &auth).await?;
        Ok(())
    }
}
