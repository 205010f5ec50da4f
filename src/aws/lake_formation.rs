//! Whether Lake Formation stands between Tableflow's role and the Glue Data Catalog, which IAM's
//! simulator cannot tell. An account whose catalog gives new databases and tables to
//! `IAM_ALLOWED_PRINCIPALS` (AWS's default, "use only IAM access control") leaves it to IAM.
//! Otherwise the role needs Lake Formation grants of its own: CREATE_DATABASE on the catalog
//! (Tableflow makes the database, named after the Kafka cluster) and DATA_LOCATION_ACCESS on the
//! bucket. Reads only: GetDataLakeSettings, GetRole, ListPermissions.

use aws_sdk_lakeformation::error::ProvideErrorMetadata;
use aws_sdk_lakeformation::types::{
    CatalogResource, DataLakePrincipal, DataLakeResourceType, PrincipalPermissions, Resource,
};

use super::{Aws, role_arn};
use crate::checks::Check;

const CLOUD: &str = "aws";
const IAM_ONLY: &str = "IAM_ALLOWED_PRINCIPALS";

/// `bucket_prefix`: the bucket's name is chosen at create; every name the stack makes starts so.
pub async fn check(aws: &Aws, role: &str, bucket_prefix: &str) -> Check {
    let what =
        format!("Lake Formation lets the Tableflow role {role} publish to the Glue Data Catalog");
    let settings = match aws.lakeformation.get_data_lake_settings().send().await {
        Ok(out) => out.data_lake_settings,
        Err(e) => return Check::unchecked(CLOUD, what, said("GetDataLakeSettings", &e)),
    };
    let governs = settings.is_some_and(|s| {
        !(iam_only(s.create_database_default_permissions())
            && iam_only(s.create_table_default_permissions()))
    });
    if !governs {
        return Check::held(CLOUD, format!("{what} (it leaves the catalog to IAM)"));
    }
    let arn = role_arn(&aws.account, role);
    let bucket_arn = format!("arn:aws:s3:::{bucket_prefix}");
    let grant = format!(
        "as a data lake administrator, once `create` has made the role: aws lakeformation grant-permissions --principal DataLakePrincipalIdentifier={arn} --permissions CREATE_DATABASE --resource '{{\"Catalog\":{{}}}}' and aws lakeformation grant-permissions --principal DataLakePrincipalIdentifier={arn} --permissions DATA_LOCATION_ACCESS --resource '{{\"DataLocation\":{{\"ResourceArn\":\"<the stack's bucket ARN, {bucket_arn}…>\"}}}}'"
    );
    // A grant names an existing role: before the first create there is none to hold one yet.
    if aws.iam.get_role().role_name(role).send().await.is_err() {
        return Check::unchecked(
            CLOUD,
            what,
            format!(
                "Lake Formation governs the Glue Data Catalog and the role does not exist yet; {grant}, or Tableflow cannot publish its tables"
            ),
        );
    }
    let principal = DataLakePrincipal::builder()
        .data_lake_principal_identifier(&arn)
        .build();
    let catalog = aws
        .lakeformation
        .list_permissions()
        .principal(principal)
        .resource(
            Resource::builder()
                .catalog(CatalogResource::builder().build())
                .build(),
        )
        .send()
        .await;
    // A principal must come with an exact resource, and the bucket's name is known only by its
    // prefix here: the locations' grants are listed whole and read for this role.
    let locations = aws
        .lakeformation
        .list_permissions()
        .resource_type(DataLakeResourceType::DataLocation)
        .send()
        .await;
    let (catalog, locations) = match (catalog, locations) {
        (Ok(c), Ok(l)) => (
            c.principal_resource_permissions.unwrap_or_default(),
            l.principal_resource_permissions.unwrap_or_default(),
        ),
        (Err(e), _) => return Check::unchecked(CLOUD, what, said("ListPermissions", &e)),
        (_, Err(e)) => return Check::unchecked(CLOUD, what, said("ListPermissions", &e)),
    };
    let catalog = catalog
        .iter()
        .any(|p| has(p.permissions(), &["CREATE_DATABASE", "ALL"]));
    let location = locations.iter().any(|p| {
        p.principal()
            .and_then(|p| p.data_lake_principal_identifier())
            == Some(arn.as_str())
            && p.resource()
                .and_then(Resource::data_location)
                .is_some_and(|d| d.resource_arn().starts_with(&bucket_arn))
            && has(p.permissions(), &["DATA_LOCATION_ACCESS", "ALL"])
    });
    match (catalog, location) {
        (true, true) => Check::held(CLOUD, what),
        _ => Check::missing(CLOUD, what, grant),
    }
}

/// Whether the defaults give everything to IAM_ALLOWED_PRINCIPALS, as "use only IAM access
/// control" does.
fn iam_only(defaults: &[PrincipalPermissions]) -> bool {
    defaults.iter().any(|d| {
        d.principal()
            .and_then(|p| p.data_lake_principal_identifier())
            == Some(IAM_ONLY)
            && has(d.permissions(), &["ALL"])
    })
}

fn has(permissions: &[aws_sdk_lakeformation::types::Permission], any: &[&str]) -> bool {
    permissions.iter().any(|p| any.contains(&p.as_str()))
}

/// What Lake Formation answered, in one line: its code and message.
fn said(call: &str, e: &impl ProvideErrorMetadata) -> String {
    format!(
        "Lake Formation refused {call}: {} {}",
        e.code().unwrap_or("(no code)"),
        e.message().unwrap_or_default()
    )
}
