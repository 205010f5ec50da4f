//! Snowflake objects found by `SHOW ... LIKE`, made with `CREATE ... IF NOT EXISTS`, dropped with
//! `DROP ... IF EXISTS`: warehouse, database, schema, roles, the service user, the external volume,
//! the Glue catalog integration and the Iceberg tables. Volume and integration record what their
//! DESCRIBE says Snowflake will act as; the user keeps its keys equal to the key pairs' slots.

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::ExposeSecret as _;

use super::keys::public_key_name;
use super::kinds::{
    Database, ExternalVolume, GlueCatalogIntegration, Role, Schema, Spec, User, Warehouse,
};
use super::sql::{self, ident, literal, path};
use super::{Snowflake, text};
use crate::engine::{Change, Diff, Inputs, Kind as _, NodeError, Readiness, Record, Resource};

const ACCOUNTADMIN: &str = "ACCOUNTADMIN";
const SECURITYADMIN: &str = "SECURITYADMIN";
const SYSADMIN: &str = "SYSADMIN";

/// Marks an Iceberg table whose CREATE waits for its Glue table.
const AWAITING: &str = "awaiting";

pub struct Object {
    sf: Arc<Snowflake>,
    spec: Spec,
}

impl Object {
    /// An Iceberg table refused because its table is not in Glue yet: its volume, integration
    /// and schema are made before it, so what is missing is Tableflow's sync.
    fn awaits_glue(&self, e: &NodeError) -> bool {
        matches!(self.spec, Spec::IcebergTable(_)) && super::catalog_table_not_yet_there(e)
    }

    pub fn new(sf: Arc<Snowflake>, spec: Spec) -> Self {
        Object { sf, spec }
    }

    /// The object's own name, its SHOW statement, the role it is made as, and its SQL kind.
    fn shape(&self) -> (String, String, &'static str, &'static str) {
        let like = |n: &str| literal(n);
        match &self.spec {
            Spec::Warehouse(Warehouse { name, .. }) => (
                name.clone(),
                format!("SHOW WAREHOUSES LIKE {}", like(name)),
                SYSADMIN,
                "WAREHOUSE",
            ),
            Spec::Database(Database { name, .. }) => (
                name.clone(),
                format!("SHOW DATABASES LIKE {}", like(name)),
                SYSADMIN,
                "DATABASE",
            ),
            Spec::Schema(Schema {
                name,
                database_name,
                ..
            }) => (
                name.clone(),
                format!(
                    "SHOW SCHEMAS LIKE {} IN DATABASE {}",
                    like(name),
                    ident(database_name)
                ),
                SYSADMIN,
                "SCHEMA",
            ),
            Spec::Role(Role { name, .. }) => (
                name.clone(),
                format!("SHOW ROLES LIKE {}", like(name)),
                SECURITYADMIN,
                "ROLE",
            ),
            Spec::User(User { name, .. }) => (
                name.clone(),
                format!("SHOW USERS LIKE {}", like(name)),
                SECURITYADMIN,
                "USER",
            ),
            Spec::ExternalVolume(ExternalVolume { name, .. }) => (
                name.clone(),
                format!("SHOW EXTERNAL VOLUMES LIKE {}", like(name)),
                ACCOUNTADMIN,
                "EXTERNAL VOLUME",
            ),
            Spec::GlueCatalogIntegration(GlueCatalogIntegration { name, .. }) => (
                name.clone(),
                format!("SHOW CATALOG INTEGRATIONS LIKE {}", like(name)),
                ACCOUNTADMIN,
                "CATALOG INTEGRATION",
            ),
            Spec::IcebergTable(t) => {
                let table = t.name.to_ascii_uppercase();
                let show = format!(
                    "SHOW ICEBERG TABLES LIKE {} IN SCHEMA {}",
                    like(&table),
                    path(&[&t.database_name, &t.schema_name])
                );
                (table, show, SYSADMIN, "ICEBERG TABLE")
            }
            // Grants and key pairs have nodes of their own; they never get here.
            other => (other.describe(), String::new(), SYSADMIN, "OBJECT"),
        }
    }

    /// The name as SQL writes it: schemas and tables qualified.
    fn qualified(&self, name: &str) -> String {
        match &self.spec {
            Spec::Schema(s) => path(&[&s.database_name, name]),
            Spec::IcebergTable(t) => path(&[&t.database_name, &t.schema_name, name]),
            _ => ident(name),
        }
    }

    /// The user's keys: the public key of every slot the key pairs hold.
    fn user_keys(
        &self,
        inputs: &Inputs,
        user: &User,
    ) -> Result<Vec<(&'static str, String)>, NodeError> {
        let pairs = inputs.record(&user.key_pairs)?;
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

    /// The COMMENT it is made with, if any.
    fn comment(&self) -> &str {
        match &self.spec {
            Spec::Warehouse(Warehouse { comment, .. })
            | Spec::Database(Database { comment, .. })
            | Spec::Role(Role { comment, .. })
            | Spec::User(User { comment, .. })
            | Spec::ExternalVolume(ExternalVolume { comment, .. })
            | Spec::GlueCatalogIntegration(GlueCatalogIntegration { comment, .. }) => comment,
            _ => "",
        }
    }

    /// Its CREATE, with its COMMENT: every CREATE here takes one as its last clause.
    fn create_sql(&self, inputs: &Inputs, name: &str) -> Result<String, NodeError> {
        let create = self.create_bare(inputs, name)?;
        Ok(match self.comment() {
            "" => create,
            comment => format!("{create} COMMENT = {}", literal(comment)),
        })
    }

    fn create_bare(&self, inputs: &Inputs, name: &str) -> Result<String, NodeError> {
        Ok(match &self.spec {
            Spec::Warehouse(_) => sql::create_warehouse(name),
            Spec::Database(_) | Spec::Schema(_) | Spec::Role(_) => {
                let (_, _, _, kind) = self.shape();
                format!("CREATE {kind} IF NOT EXISTS {}", self.qualified(name))
            }
            Spec::User(user) => sql::create_user(&sql::User {
                name,
                warehouse: &user.warehouse_name,
                role: &user.default_role_name,
                namespace: &format!("{}.{}", user.database_name, user.schema_name),
                keys: &self.user_keys(inputs, user)?,
            }),
            Spec::ExternalVolume(volume) => sql::create_volume(&sql::Volume {
                name,
                location: &volume.location,
                base_url: inputs.output(&volume.base, "base_path")?,
                role_arn: &volume.role_arn,
            }),
            Spec::GlueCatalogIntegration(catalog) => sql::create_catalog(&sql::Catalog {
                name,
                namespace: inputs.id(&catalog.namespace)?,
                role_arn: &catalog.role_arn,
                account: &catalog.aws_account,
                region: &catalog.region,
            }),
            Spec::IcebergTable(t) => sql::create_table(
                &t.database_name,
                &t.schema_name,
                name,
                &t.volume_name,
                &t.catalog_name,
                &t.topic,
            ),
            other => {
                return Err(NodeError::Other(anyhow::anyhow!(
                    "{} is not made with CREATE",
                    other.describe()
                )));
            }
        })
    }

    /// DESCRIBE USER as property -> value, once per run: the key check and the drift check
    /// share it.
    async fn user_properties(
        &self,
        inputs: &Inputs,
        user: &str,
    ) -> Result<Arc<std::collections::HashMap<String, String>>, NodeError> {
        let describe = format!("DESCRIBE USER {}", ident(user));
        inputs
            .memo()
            .get_or_try_init(&format!("snowflake {describe}"), || async {
                let rows = self.sf.run(SECURITYADMIN, &describe).await?;
                Ok::<_, NodeError>(
                    rows.iter()
                        .filter_map(|r| Some((text(r, "property")?, text(r, "value")?)))
                        .collect(),
                )
            })
            .await
    }

    /// For the volume and the integration: the IAM user and external id their DESCRIBE gives,
    /// which A3's trust policy needs.
    async fn described(&self, record: Record) -> Result<Record, NodeError> {
        let (name, _, role, kind) = self.shape();
        let rows = match self.spec {
            Spec::ExternalVolume(_) | Spec::GlueCatalogIntegration(_) => {
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
            Spec::ExternalVolume(_) => {
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
        if let Spec::ExternalVolume(_) | Spec::GlueCatalogIntegration(_) = self.spec {
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
        let Spec::User(user) = &self.spec else {
            return Ok(None);
        };
        let on_user = self.user_properties(inputs, &record.id).await?;
        let on_user = |p: &str| on_user.get(p).cloned();
        let pairs = inputs.record(&user.key_pairs)?;
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

    /// The user's defaults (role, warehouse, namespace) set since to something else.
    async fn drift(&self, inputs: &Inputs, record: &Record) -> Result<Option<Change>, NodeError> {
        let Spec::User(user) = &self.spec else {
            return Ok(None);
        };
        let on_user = self.user_properties(inputs, &record.id).await?;
        let namespace = format!("{}.{}", user.database_name, user.schema_name);
        let wanted = [
            ("DEFAULT_ROLE", user.default_role_name.as_str()),
            ("DEFAULT_WAREHOUSE", user.warehouse_name.as_str()),
            ("DEFAULT_NAMESPACE", namespace.as_str()),
        ];
        let bare = |v: &str| v.trim_matches('"').to_string();
        let what: Vec<Diff> = wanted
            .iter()
            .filter_map(|(property, want)| {
                let found = on_user.get(*property).map(|v| bare(v));
                match found {
                    Some(f) if f == *want => None,
                    Some(f) if !f.is_empty() && f != "null" => {
                        Some(Diff::new(property.to_lowercase(), *want, f))
                    }
                    _ => Some(Diff::unset(property.to_lowercase(), *want)),
                }
            })
            .collect();
        Ok((!what.is_empty()).then_some(Change::Update { what }))
    }

    async fn apply(
        &self,
        inputs: &Inputs,
        record: &Record,
        change: &Change,
    ) -> Result<Record, NodeError> {
        let Spec::User(user) = &self.spec else {
            return Ok(record.clone());
        };
        if let Change::Update { .. } = change {
            let namespace = format!("{}.{}", user.database_name, user.schema_name);
            let defaults = format!(
                "ALTER USER {} SET DEFAULT_WAREHOUSE = {} DEFAULT_ROLE = {} DEFAULT_NAMESPACE = {}",
                ident(&record.id),
                ident(&user.warehouse_name),
                ident(&user.default_role_name),
                literal(&namespace)
            );
            self.sf.run(SECURITYADMIN, &defaults).await?;
            return Ok(record.clone());
        }
        let keys = self.user_keys(inputs, user)?;
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
