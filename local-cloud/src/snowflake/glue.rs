//! What Snowflake does in the customer's AWS account when an Iceberg table is made on a Glue
//! catalog integration: it assumes the integration's role as its IAM user with the integration's
//! external id, and the volume's role with the volume's, then reads the table from Glue. A trust
//! that does not let it in, or a table Glue does not hold, fails the statement. Without an AWS
//! endpoint the emulator skips this. A table Glue does not hold yet (Tableflow's catalog sync has
//! not published it) is answered as Snowflake answers it: 004109, naming the catalog integration.

use serde_json::json;

use super::registry::{Registry, SfError};
use super::sql::{Kind, Props, Value};
use crate::customer_aws::{CustomerAws, Role};

/// Everything the check needs, taken from the registry so that no lock is held while it runs.
pub struct Check {
    integration: String,
    catalog: Role,
    volume: Vec<Role>,
    region: String,
    namespace: String,
    table: String,
}

impl Registry {
    /// The check for a CREATE ICEBERG TABLE; `None` when the statement fails on its own (a
    /// missing schema, volume or integration), which running it then reports, as Snowflake
    /// resolves names before it reads the catalog.
    pub fn glue_check(&self, name: &[String], props: &Props) -> Option<Check> {
        if name.len() != 3 || self.check_iceberg(name, props).is_err() {
            return None;
        }
        let text = |key: &str| props.get(key).map(Value::text);
        let object = |kind: Kind, key: &str| {
            let name = text(key)?;
            let name = [name.clone(), name.to_ascii_uppercase()]
                .into_iter()
                .find(|n| self.objects.contains_key(&(kind, n.clone())))?;
            self.objects.get(&(kind, name))
        };
        let catalog = object(Kind::CatalogIntegration, "CATALOG")?;
        let volume = object(Kind::ExternalVolume, "EXTERNAL_VOLUME")?;
        let of = |key: &str| catalog.props.get(key).map(Value::text).unwrap_or_default();
        let role = |arn: String, external_id: &str| Role {
            customer_role: arn,
            confluent_role: self.iam_user_arn.clone(),
            external_id: external_id.to_string(),
        };
        let volume_roles = match volume.props.get("STORAGE_LOCATIONS") {
            Some(Value::List(locations)) => locations
                .iter()
                .filter_map(|l| l.get("STORAGE_AWS_ROLE_ARN"))
                .map(|arn| role(arn.text(), &volume.external_id))
                .collect(),
            _ => Vec::new(),
        };
        Some(Check {
            integration: catalog.name.clone(),
            catalog: role(of("GLUE_AWS_ROLE_ARN"), &catalog.external_id),
            volume: volume_roles,
            region: of("GLUE_REGION"),
            namespace: text("CATALOG_NAMESPACE").unwrap_or_else(|| of("CATALOG_NAMESPACE")),
            table: text("CATALOG_TABLE_NAME").unwrap_or_default(),
        })
    }
}

fn refused(what: &str, detail: String) -> SfError {
    SfError {
        code: "091003",
        sql_state: "22000",
        message: format!("Failed to access {what}: {detail}"),
    }
}

pub async fn check(aws: &CustomerAws, c: &Check) -> Result<(), SfError> {
    for role in &c.volume {
        aws.assume(role, &c.region)
            .await
            .map_err(|e| refused("the external volume's storage location", e))?;
    }
    let session = aws
        .assume(&c.catalog, &c.region)
        .await
        .map_err(|e| refused("the AWS Glue catalog", e))?;
    let table = json!({"DatabaseName": c.namespace, "Name": c.table});
    match aws.glue_call(&session, "GetTable", table).await {
        Ok(_) => Ok(()),
        Err(e) if e.contains("EntityNotFoundException") => Err(SfError {
            code: "004109",
            sql_state: "42704",
            message: format!(
                "Catalog table {}.{} does not exist in catalog integration {}.",
                c.namespace, c.table, c.integration
            ),
        }),
        Err(e) => Err(refused("the AWS Glue catalog", e)),
    }
}
