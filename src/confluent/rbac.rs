//! iam/v2 role bindings: a principal, a role, and the CRN it holds the role on.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::client::{Auth, q};
use super::{Confluent, field, principal_node};
use crate::engine::{Inputs, NodeError, Record, Resource};
use crate::stack::{Decl, Spec, ids};

pub struct RoleBinding {
    cc: Arc<Confluent>,
    role: &'static str,
    on: &'static str,
    pattern: &'static str,
    principal: Result<String, String>,
}

impl RoleBinding {
    pub fn new(cc: Arc<Confluent>, decl: &Decl) -> Self {
        let Spec::RoleBinding { role, on, pattern } = decl.spec else {
            unreachable!("a role binding node has a role binding spec")
        };
        RoleBinding {
            cc,
            role,
            on,
            pattern,
            principal: principal_node(&decl.deps).map_err(|e| e.to_string()),
        }
    }

    fn principal(&self, inputs: &Inputs) -> Result<String, NodeError> {
        let node = self
            .principal
            .clone()
            .map_err(|e| NodeError::Other(anyhow::anyhow!(e)))?;
        Ok(format!("User:{}", inputs.id(&node)?))
    }

    /// The CRN the role is held on: the target's CRN, plus the pattern (`/subject=*`, or the
    /// provider integration for ResourceOwner).
    fn crn(&self, inputs: &Inputs) -> Result<String, NodeError> {
        let base = inputs.output(self.on, "crn")?;
        let pattern = if self.pattern.contains("<id>") {
            self.pattern.replace("<id>", inputs.id(ids::PROVIDER)?)
        } else {
            self.pattern.to_string()
        };
        Ok(format!("{base}{pattern}"))
    }
}

#[async_trait]
impl Resource for RoleBinding {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let (principal, crn) = (self.principal(inputs)?, self.crn(inputs)?);
        let path = format!(
            "/iam/v2/role-bindings?crn_pattern={}&principal={}&role_name={}",
            q(&crn),
            q(&principal),
            q(self.role)
        );
        let found = self.cc.client.list(&path, &Auth::Cloud).await?;
        let exact = found
            .iter()
            .find(|rb| rb["crn_pattern"] == crn.as_str() && rb["principal"] == principal.as_str());
        exact
            .map(|rb| Ok(Record::new(field(rb, "/id")?).with("crn_pattern", &crn)))
            .transpose()
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let crn = self.crn(inputs)?;
        let body = json!({"principal": self.principal(inputs)?, "role_name": self.role, "crn_pattern": crn});
        let made = self
            .cc
            .client
            .post("/iam/v2/role-bindings", &Auth::Cloud, &body)
            .await?;
        Ok(Record::new(field(&made, "/id")?).with("crn_pattern", crn))
    }

    async fn delete(&self, _inputs: &Inputs, record: &Record) -> Result<(), NodeError> {
        let path = format!("/iam/v2/role-bindings/{}", record.id);
        self.cc.client.delete(&path, &Auth::Cloud).await?;
        Ok(())
    }
}
