//! iam/v2 role bindings: a principal, a role, and the CRN it holds the role on.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::client::{Auth, q};
use super::kinds::{RoleBinding, Scope};
use super::{Confluent, field};
use crate::engine::{Inputs, NodeError, Record, Resource};

pub struct Binding {
    cc: Arc<Confluent>,
    spec: RoleBinding,
}

impl Binding {
    pub fn new(cc: Arc<Confluent>, spec: RoleBinding) -> Self {
        Binding { cc, spec }
    }

    fn account(&self, inputs: &Inputs) -> Result<String, NodeError> {
        Ok(inputs.id(&self.spec.principal)?.to_string())
    }

    fn principal(&self, inputs: &Inputs) -> Result<String, NodeError> {
        Ok(format!("User:{}", self.account(inputs)?))
    }

    /// The CRN the role is held on: the target's CRN (the organization's, or a cluster's RBAC
    /// scope), plus the pattern with its placeholders filled in.
    async fn crn(&self, inputs: &Inputs) -> Result<String, NodeError> {
        let base = match &self.spec.on {
            Scope::Organization => organization_crn(&self.cc.organization().await?),
            Scope::Cluster(cluster) => rbac_crn(inputs.output(cluster, "crn")?).to_string(),
            Scope::Environment(on) => inputs.output(on, "crn")?.to_string(),
            Scope::SchemaRegistry(on) => inputs.output(on, "crn")?.to_string(),
        };
        let mut pattern = self.spec.pattern.clone();
        if let Scope::Cluster(cluster) = &self.spec.on {
            pattern = pattern.replace("<lkc>", inputs.id(cluster)?);
        }
        if let Some(integration) = &self.spec.integration {
            pattern = pattern.replace("<id>", inputs.id(integration)?);
        }
        if pattern.contains("<principal>") {
            pattern = pattern.replace("<principal>", &self.account(inputs)?);
        }
        Ok(format!("{base}{pattern}"))
    }
}

/// Its id and scope, and when it was made: a young binding may still be propagating.
fn binding_record(rb: &serde_json::Value, crn: &str) -> Result<Record, NodeError> {
    let mut record = Record::new(field(rb, "/id")?).with("crn_pattern", crn);
    if let Ok(created) = field(rb, "/metadata/created_at") {
        record = record.with("created_at", created);
    }
    Ok(record)
}

/// `crn://confluent.cloud/organization=<id>`.
pub fn organization_crn(id: &str) -> String {
    format!("crn://confluent.cloud/organization={id}")
}

/// A cluster's RBAC scope: its `resource_name` without the trailing `/kafka=<lkc>`, as Confluent's
/// Terraform provider derives it. A role held on the full name is held on no scope RBAC knows.
pub fn rbac_crn(cluster_crn: &str) -> &str {
    match cluster_crn.rsplit_once("/kafka=") {
        Some((scope, lkc)) if scope.ends_with(&format!("/cloud-cluster={lkc}")) => scope,
        _ => cluster_crn,
    }
}

#[async_trait]
impl Resource for Binding {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let (principal, crn) = (self.principal(inputs)?, self.crn(inputs).await?);
        let path = format!(
            "/iam/v2/role-bindings?crn_pattern={}&principal={}&role_name={}",
            q(&crn),
            q(&principal),
            q(&self.spec.role)
        );
        let found = self.cc.client.list(&path, &Auth::Cloud).await?;
        let exact = found
            .iter()
            .find(|rb| rb["crn_pattern"] == crn.as_str() && rb["principal"] == principal.as_str());
        exact.map(|rb| binding_record(rb, &crn)).transpose()
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let crn = self.crn(inputs).await?;
        let body = json!({"principal": self.principal(inputs)?, "role_name": self.spec.role, "crn_pattern": crn});
        let made = self
            .cc
            .client
            .post("/iam/v2/role-bindings", &Auth::Cloud, &body)
            .await?;
        binding_record(&made, &crn)
    }

    async fn delete(&self, inputs: &Inputs, record: &Record) -> Result<(), NodeError> {
        let path = format!("/iam/v2/role-bindings/{}", record.id);
        match self.cc.client.delete(&path, &Auth::Cloud).await {
            Ok(()) => Ok(()),
            // A binding that is gone answers 403, as one we may not touch does: the list of
            // this principal's bindings tells which.
            Err(e) if e.status == 403 => match self.find(inputs, Some(record)).await? {
                Some(found) if found.id == record.id => Err(e.into()),
                _ => Ok(()),
            },
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rbac_crn;

    #[test]
    fn the_rbac_scope_drops_the_kafka_segment() {
        let org = "crn://confluent.cloud/organization=o/environment=env-1";
        let real = format!("{org}/cloud-cluster=lkc-1/kafka=lkc-1");
        assert_eq!(rbac_crn(&real), format!("{org}/cloud-cluster=lkc-1"));
        let scope = format!("{org}/cloud-cluster=lkc-1");
        assert_eq!(rbac_crn(&scope), scope);
    }
}
