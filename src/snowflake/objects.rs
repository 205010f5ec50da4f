//! Snowflake objects found by `SHOW ... LIKE`, made with `CREATE ... IF NOT EXISTS`, dropped with
//! `DROP ... IF EXISTS`: warehouse, database, schema, roles, the service user, the external volume,
//! the Glue catalog integration and the Iceberg tables. Volume and integration record what their
//! DESCRIBE says Snowflake will act as; the user keeps its keys equal to the key pairs' slots.

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::ExposeSecret as _;

use super::keys::public_key_name;
use super::sql::{self, ident, literal, path};
use super::{Snowflake, text};
use crate::engine::{Change, Inputs, NodeError, Readiness, Record, Resource};
use crate::stack::{Decl, Spec, ids};

const ACCOUNTADMIN: &str = "ACCOUNTADMIN";
const SECURITYADMIN: &str = "SECURITYADMIN";
const SYSADMIN: &str = "SYSADMIN";

/// Marks an Iceberg table whose CREATE waits for its Glue table.
const AWAITING: &str = "awaiting";

/// The key-pair node (A5) whose slots the user carries.
const KEY_PAIRS: &str = "aws.secret.snowflake_key_pairs";

pub struct Object {
    sf: Arc<Snowflake>,
    spec: Spec,
}

impl Object {
    /// An Iceberg table refused because its table is not in Glue yet: its volume, integration
    /// and schema are made before it, so what is missing is Tableflow's sync.
    fn awaits_glue(&self, e: &NodeError) -> bool {
        matches!(self.spec, Spec::IcebergTable { .. }) && super::catalog_table_not_yet_there(e)
    }

    pub fn new(sf: Arc<Snowflake>, decl: &Decl) -> Self {
        Object {
            sf,
            spec: decl.spec.clone(),
        }
    }

    fn database(&self) -> String {
        self.sf.names.upper("DATABASE")
    }

    fn schema(&self) -> String {
        self.sf.names.upper("SCHEMA")
    }

    /// The object's own name, its SHOW statement, the role it is made as, and its SQL kind.
    fn shape(&self) -> (String, String, &'static str, &'static str) {
        let like = |n: &str| literal(n);
        match &self.spec {
            Spec::Warehouse { name } => (
                name.clone(),
                format!("SHOW WAREHOUSES LIKE {}", like(name)),
                SYSADMIN,
                "WAREHOUSE",
            ),
            Spec::Database { name } => (
                name.clone(),
                format!("SHOW DATABASES LIKE {}", like(name)),
                SYSADMIN,
                "DATABASE",
            ),
            Spec::Schema { name } => (
                name.clone(),
                format!(
                    "SHOW SCHEMAS LIKE {} IN DATABASE {}",
                    like(name),
                    ident(&self.database())
                ),
                SYSADMIN,
                "SCHEMA",
            ),
            Spec::Role { name } => (
                name.clone(),
                format!("SHOW ROLES LIKE {}", like(name)),
                SECURITYADMIN,
                "ROLE",
            ),
            Spec::User { name } => (
                name.clone(),
                format!("SHOW USERS LIKE {}", like(name)),
                SECURITYADMIN,
                "USER",
            ),
            Spec::ExternalVolume { name } => (
                name.clone(),
                format!("SHOW EXTERNAL VOLUMES LIKE {}", like(name)),
                ACCOUNTADMIN,
                "EXTERNAL VOLUME",
            ),
            Spec::GlueCatalogIntegration { name } => (
                name.clone(),
                format!("SHOW CATALOG INTEGRATIONS LIKE {}", like(name)),
                ACCOUNTADMIN,
                "CATALOG INTEGRATION",
            ),
            Spec::IcebergTable { name } => {
                let table = name.to_ascii_uppercase();
                let show = format!(
                    "SHOW ICEBERG TABLES LIKE {} IN SCHEMA {}",
                    like(&table),
                    path(&[&self.database(), &self.schema()])
                );
                (table, show, SYSADMIN, "ICEBERG TABLE")
            }
            other => unreachable!("{other:?} is not a Snowflake object"),
        }
    }

    /// The name as SQL writes it: schemas and tables qualified.
    fn qualified(&self, name: &str) -> String {
        match self.spec {
            Spec::Schema { .. } => path(&[&self.database(), name]),
            Spec::IcebergTable { .. } => path(&[&self.database(), &self.schema(), name]),
            _ => ident(name),
        }
    }

    /// The user's keys: the public key of every slot the key pairs hold.
    fn user_keys(&self, inputs: &Inputs) -> Result<Vec<(&'static str, String)>, NodeError> {
        let pairs = inputs.record(KEY_PAIRS)?;
        let mut keys = Vec::new();
        for (slot, column) in [(1u8, "RSA_PUBLIC_KEY"), (2, "RSA_PUBLIC_KEY_2")] {
            if pairs.outputs.contains_key(&format!("fingerprint_{slot}")) {
                let key = self.sf.vault.get(&public_key_name(slot)).ok_or_else(|| {
                    NodeError::Other(anyhow::anyhow!(
                        "the public key of slot {slot} is not held by this run"
                    ))
                })?;
                keys.push((column, key.expose_secret().to_string()));
            }
        }
        Ok(keys)
    }

    fn create_sql(&self, inputs: &Inputs, name: &str) -> Result<String, NodeError> {
        Ok(match &self.spec {
            Spec::Warehouse { .. } => sql::create_warehouse(name),
            Spec::Database { .. } | Spec::Schema { .. } | Spec::Role { .. } => {
                let (_, _, _, kind) = self.shape();
                format!("CREATE {kind} IF NOT EXISTS {}", self.qualified(name))
            }
            Spec::User { .. } => sql::create_user(&sql::User {
                name,
                warehouse: &self.sf.names.upper("WAREHOUSE"),
                role: &self.sf.names.upper("SYSTEM_ADMIN_ROLE"),
                namespace: &format!("{}.{}", self.database(), self.schema()),
                keys: &self.user_keys(inputs)?,
            }),
            Spec::ExternalVolume { .. } => sql::create_volume(&sql::Volume {
                name,
                location: &self.sf.names.upper("LOCATION"),
                base_url: inputs.output("confluent.tableflow.stock_trades", "base_path")?,
                role_arn: &self.sf.role_arn()?,
            }),
            Spec::GlueCatalogIntegration { .. } => sql::create_catalog(&sql::Catalog {
                name,
                namespace: inputs.id(ids::CLUSTER)?,
                role_arn: &self.sf.role_arn()?,
                account: self.sf.aws_account.as_deref().unwrap_or_default(),
                region: &self.sf.region,
            }),
            Spec::IcebergTable { name: topic } => sql::create_table(
                &self.database(),
                &self.schema(),
                name,
                &self.sf.names.upper("VOLUME"),
                &self.sf.names.upper("CATALOG_INTEGRATION"),
                topic,
            ),
            other => unreachable!("{other:?} is not a Snowflake object"),
        })
    }

    /// For the volume and the integration: the IAM user and external id their DESCRIBE gives,
    /// which A3's trust policy needs.
    async fn described(&self, record: Record) -> Result<Record, NodeError> {
        let (name, _, role, kind) = self.shape();
        let rows = match self.spec {
            Spec::ExternalVolume { .. } | Spec::GlueCatalogIntegration { .. } => {
                self.sf
                    .run(role, &format!("DESCRIBE {kind} {}", ident(&name)))
                    .await?
            }
            _ => return Ok(record),
        };
        let value = |property: &str| {
            rows.iter()
                .find(|r| text(r, "property").as_deref() == Some(property))
                .and_then(|r| text(r, "property_value"))
        };
        let (user, external) = match self.spec {
            Spec::ExternalVolume { .. } => {
                let location = value("STORAGE_LOCATION_1").unwrap_or_default();
                let json: serde_json::Value = serde_json::from_str(&location).map_err(|e| {
                    NodeError::Other(anyhow::anyhow!("STORAGE_LOCATION_1 is not JSON: {e}"))
                })?;
                let get = |k: &str| json[k].as_str().map(str::to_string);
                (
                    get("STORAGE_AWS_IAM_USER_ARN"),
                    get("STORAGE_AWS_EXTERNAL_ID"),
                )
            }
            _ => (
                value("GLUE_AWS_IAM_USER_ARN"),
                value("GLUE_AWS_EXTERNAL_ID"),
            ),
        };
        let missing = || {
            NodeError::Other(anyhow::anyhow!(
                "DESCRIBE {kind} {name} lacks the IAM user or external id"
            ))
        };
        Ok(record
            .with("iam_user_arn", user.ok_or_else(missing)?)
            .with("external_id", external.ok_or_else(missing)?))
    }
}

#[async_trait]
impl Resource for Object {
    async fn find(
        &self,
        _inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let (name, show, role, _) = self.shape();
        if let Spec::ExternalVolume { .. } | Spec::GlueCatalogIntegration { .. } = self.spec {
            // DESCRIBE tells both whether it exists and what A3's trust needs: one statement.
            return match self.described(Record::new(&name)).await {
                Err(e) if super::does_not_exist(&e) => Ok(None),
                found => found.map(Some),
            };
        }
        let rows = self.sf.run(role, &show).await?;
        // LIKE's `_` matches any character: compare the names exactly.
        if !rows
            .iter()
            .any(|r| text(r, "name").as_deref() == Some(name.as_str()))
        {
            return Ok(None);
        }
        self.described(Record::new(&name)).await.map(Some)
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let (name, _, role, _) = self.shape();
        match self.sf.run(role, &self.create_sql(inputs, &name)?).await {
            // Tableflow publishes a topic's table to Glue on its own schedule, after the topic
            // runs: until then Snowflake says the table does not exist, and this waits for it.
            Err(e) if self.awaits_glue(&e) => Ok(Record::new(&name).with(AWAITING, "glue table")),
            Err(e) => Err(e),
            Ok(_) => self.described(Record::new(&name)).await,
        }
    }

    async fn ready(&self, inputs: &Inputs, record: &Record) -> Result<Readiness, NodeError> {
        if !record.outputs.contains_key(AWAITING) {
            return Ok(Readiness::Ready(record.clone()));
        }
        let (name, _, role, _) = self.shape();
        match self.sf.run(role, &self.create_sql(inputs, &name)?).await {
            Err(e) if self.awaits_glue(&e) => Ok(Readiness::Pending {
                phase: "waiting for Tableflow to publish the table to Glue".into(),
            }),
            Err(e) => Err(e),
            Ok(_) => Ok(Readiness::Ready(self.described(Record::new(&name)).await?)),
        }
    }

    async fn due(&self, inputs: &Inputs, record: &Record) -> Result<Option<Change>, NodeError> {
        let Spec::User { .. } = self.spec else {
            return Ok(None);
        };
        let rows = self
            .sf
            .run(
                SECURITYADMIN,
                &format!("DESCRIBE USER {}", ident(&record.id)),
            )
            .await?;
        let on_user = |p: &str| {
            rows.iter()
                .find(|r| text(r, "property").as_deref() == Some(p))
                .and_then(|r| text(r, "value"))
        };
        let pairs = inputs.record(KEY_PAIRS)?;
        let same = [(1, "RSA_PUBLIC_KEY_FP"), (2, "RSA_PUBLIC_KEY_2_FP")]
            .iter()
            .all(|(slot, column)| {
                pairs
                    .outputs
                    .get(&format!("fingerprint_{slot}"))
                    .is_none_or(|fp| on_user(column).as_deref() == Some(fp))
            });
        Ok((!same).then(|| Change::Rotate {
            reason: "the user's public keys differ from the key pairs".into(),
        }))
    }

    async fn apply(
        &self,
        inputs: &Inputs,
        record: &Record,
        _change: &Change,
    ) -> Result<Record, NodeError> {
        let keys = self.user_keys(inputs)?;
        self.sf
            .run(SECURITYADMIN, &sql::set_user_keys(&record.id, &keys))
            .await?;
        Ok(record.clone())
    }

    async fn delete(&self, _inputs: &Inputs, record: &Record) -> Result<(), NodeError> {
        let (_, _, role, kind) = self.shape();
        self.sf
            .run(
                role,
                &format!("DROP {kind} IF EXISTS {}", self.qualified(&record.id)),
            )
            .await?;
        Ok(())
    }
}
