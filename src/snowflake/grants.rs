//! GRANTs, each its own node: USAGE on the stack's objects to the system admin role, all
//! privileges on the service user to the security admin role, and the two roles to the user.
//! Found with SHOW GRANTS, removed with REVOKE.

use std::sync::Arc;

use async_trait::async_trait;

use super::kinds::{Grant, Privilege};
use super::sql::{ident, path};
use super::{Snowflake, text};
use crate::engine::{Inputs, NodeError, Record, Resource};

type Shown = [Option<String>; 3];

pub struct GrantNode {
    sf: Arc<Snowflake>,
    grant: Privilege,
}

impl GrantNode {
    pub fn new(sf: Arc<Snowflake>, spec: Grant) -> Self {
        GrantNode {
            sf,
            grant: spec.grant,
        }
    }

    /// The object as SQL names it, and as SHOW GRANTS lists it (schemas qualified).
    fn object(&self) -> Option<(&str, String, String)> {
        let Privilege::Usage {
            object_type,
            object,
            database,
            ..
        } = &self.grant
        else {
            return None;
        };
        match database {
            Some(db) => Some((object_type, path(&[db, object]), format!("{db}.{object}"))),
            None => Some((object_type, ident(object), object.clone())),
        }
    }

    /// `SHOW GRANTS TO {to}` as (privilege, name, role) rows, read once per run for every
    /// grant node that asks: the four usage grants share one role.
    async fn shown(&self, inputs: &Inputs, to: String) -> Result<Arc<Vec<Shown>>, NodeError> {
        let statement = format!("SHOW GRANTS TO {to}");
        inputs
            .memo()
            .get_or_try_init(&format!("snowflake {statement}"), || async {
                let rows = self.sf.run("SECURITYADMIN", &statement).await?;
                Ok(rows
                    .iter()
                    .map(|r| [text(r, "privilege"), text(r, "name"), text(r, "role")])
                    .collect())
            })
            .await
    }

    fn id(&self) -> String {
        match &self.grant {
            Privilege::Usage {
                privilege,
                object_type,
                object,
                role,
                ..
            } => format!("{privilege} ON {object_type} {object} TO {role}"),
            Privilege::Role { role, user } => format!("ROLE {role} TO {user}"),
        }
    }
}

#[async_trait]
impl Resource for GrantNode {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let found = match (&self.grant, self.object()) {
            (
                Privilege::Usage {
                    privilege: wanted,
                    role,
                    ..
                },
                Some((_, _, listed)),
            ) => {
                let rows = self.shown(inputs, format!("ROLE {}", ident(role))).await?;
                // SHOW GRANTS lists ALL PRIVILEGES as the privileges it stands for.
                rows.iter().any(|[privilege, name, _]| {
                    name.as_deref() == Some(&listed)
                        && (*wanted != "USAGE" || privilege.as_deref() == Some("USAGE"))
                })
            }
            (Privilege::Role { role, user }, _) => {
                let rows = self.shown(inputs, format!("USER {}", ident(user))).await?;
                rows.iter()
                    .any(|[_, _, granted]| granted.as_deref() == Some(role.as_str()))
            }
            _ => false,
        };
        Ok(found.then(|| Record::new(self.id())))
    }

    async fn create(&self, _inputs: &Inputs) -> Result<Record, NodeError> {
        let statement = match (&self.grant, self.object()) {
            (
                Privilege::Usage {
                    privilege, role, ..
                },
                Some((kind, object, _)),
            ) => format!(
                "GRANT {privilege} ON {kind} {object} TO ROLE {}",
                ident(role)
            ),
            (Privilege::Role { role, user }, _) => {
                format!("GRANT ROLE {} TO USER {}", ident(role), ident(user))
            }
            _ => unreachable!("a usage grant has an object"),
        };
        self.sf.run("SECURITYADMIN", &statement).await?;
        Ok(Record::new(self.id()))
    }

    async fn delete(&self, _inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        let statement = match (&self.grant, self.object()) {
            (
                Privilege::Usage {
                    privilege, role, ..
                },
                Some((kind, object, _)),
            ) => format!(
                "REVOKE {privilege} ON {kind} {object} FROM ROLE {}",
                ident(role)
            ),
            (Privilege::Role { role, user }, _) => {
                format!("REVOKE ROLE {} FROM USER {}", ident(role), ident(user))
            }
            _ => unreachable!("a usage grant has an object"),
        };
        // A grant on or to something already dropped is gone with it.
        match self.sf.run("SECURITYADMIN", &statement).await {
            Err(e) if super::does_not_exist(&e) => Ok(()),
            other => other.map(|_| ()),
        }
    }
}
