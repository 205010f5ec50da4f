//! GRANTs, each its own node: USAGE on the stack's objects to the security admin role, and the two
//! roles to the service user. Found with SHOW GRANTS, removed with REVOKE.

use std::sync::Arc;

use async_trait::async_trait;

use super::sql::{ident, path};
use super::{Snowflake, text};
use crate::engine::{Inputs, NodeError, Record, Resource};
use crate::stack::{Decl, Grant, Spec};

pub struct GrantNode {
    sf: Arc<Snowflake>,
    grant: Grant,
}

impl GrantNode {
    pub fn new(sf: Arc<Snowflake>, decl: &Decl) -> Self {
        let Spec::Grant(grant) = &decl.spec else {
            unreachable!("a grant node has a grant spec")
        };
        GrantNode {
            sf,
            grant: grant.clone(),
        }
    }

    /// The object as SQL names it, and as SHOW GRANTS lists it (schemas qualified).
    fn object(&self) -> Option<(&'static str, String, String)> {
        let Grant::Usage {
            object_type,
            object,
            ..
        } = &self.grant
        else {
            return None;
        };
        if *object_type == "SCHEMA" {
            let db = self.sf.names.upper("DATABASE");
            Some((object_type, path(&[&db, object]), format!("{db}.{object}")))
        } else {
            Some((object_type, ident(object), object.clone()))
        }
    }

    fn id(&self) -> String {
        match &self.grant {
            Grant::Usage {
                object_type,
                object,
                role,
            } => format!("USAGE ON {object_type} {object} TO {role}"),
            Grant::Role { role, user } => format!("ROLE {role} TO {user}"),
        }
    }
}

#[async_trait]
impl Resource for GrantNode {
    async fn find(
        &self,
        _inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let found = match (&self.grant, self.object()) {
            (Grant::Usage { role, .. }, Some((_, _, listed))) => {
                let rows = self
                    .sf
                    .run(
                        "SECURITYADMIN",
                        &format!("SHOW GRANTS TO ROLE {}", ident(role)),
                    )
                    .await?;
                rows.iter().any(|r| {
                    text(r, "privilege").as_deref() == Some("USAGE")
                        && text(r, "name").as_deref() == Some(listed.as_str())
                })
            }
            (Grant::Role { role, user }, _) => {
                let rows = self
                    .sf
                    .run(
                        "SECURITYADMIN",
                        &format!("SHOW GRANTS TO USER {}", ident(user)),
                    )
                    .await?;
                rows.iter()
                    .any(|r| text(r, "role").as_deref() == Some(role.as_str()))
            }
            _ => false,
        };
        Ok(found.then(|| Record::new(self.id())))
    }

    async fn create(&self, _inputs: &Inputs) -> Result<Record, NodeError> {
        let statement = match (&self.grant, self.object()) {
            (Grant::Usage { role, .. }, Some((kind, object, _))) => {
                format!("GRANT USAGE ON {kind} {object} TO ROLE {}", ident(role))
            }
            (Grant::Role { role, user }, _) => {
                format!("GRANT ROLE {} TO USER {}", ident(role), ident(user))
            }
            _ => unreachable!("a usage grant has an object"),
        };
        self.sf.run("SECURITYADMIN", &statement).await?;
        Ok(Record::new(self.id()))
    }

    async fn delete(&self, _inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        let statement = match (&self.grant, self.object()) {
            (Grant::Usage { role, .. }, Some((kind, object, _))) => {
                format!("REVOKE USAGE ON {kind} {object} FROM ROLE {}", ident(role))
            }
            (Grant::Role { role, user }, _) => {
                format!("REVOKE ROLE {} FROM USER {}", ident(role), ident(user))
            }
            _ => unreachable!("a usage grant has an object"),
        };
        // A grant on or to something already dropped is gone with it.
        match self.sf.run("SECURITYADMIN", &statement).await {
            Err(NodeError::Other(e))
                if e.downcast_ref::<super::SqlError>()
                    .is_some_and(|s| s.code.as_deref() == Some("002003")) =>
            {
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }
}
