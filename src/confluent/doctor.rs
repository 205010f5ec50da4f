//! Whether the Cloud API key may build the stack: its owner (`GET /iam/v2/api-keys/{key}`) must
//! hold OrganizationAdmin on the organization, since the stack makes an environment, service
//! accounts and organization-scoped role bindings (FlinkDeveloper, Assigner), which only that
//! role may. Read-only: two or three GETs.

use serde_json::Value;

use super::client::{Auth, q};
use super::{Confluent, organization_crn};
use crate::checks::Check;
use crate::engine::RetryPolicy;

const CLOUD: &str = "confluent";
const ROLE: &str = "OrganizationAdmin";

pub async fn check(cc: &Confluent) -> Vec<Check> {
    let key = cc.client.key().to_string();
    let what = format!("the owner of Cloud API key {key} holds {ROLE} on the organization");
    let unchecked = |why: String| vec![Check::unchecked(CLOUD, what.clone(), why)];
    let probe = cc.client.with_retry(RetryPolicy::preflight());
    let owner = match probe
        .get(&format!("/iam/v2/api-keys/{}", q(&key)), &Auth::Cloud)
        .await
    {
        Ok(Some(k)) => k["spec"]["owner"].clone(),
        Ok(None) => return unchecked(format!("Confluent Cloud does not show API key {key}")),
        Err(e) => return unchecked(format!("cannot read API key {key}: {e}")),
    };
    let Some(id) = owner["id"].as_str() else {
        return unchecked(format!("API key {key} names no owner"));
    };
    let org = match cc.organization().await {
        Ok(org) => org,
        Err(e) => return unchecked(format!("cannot read the organization: {e}")),
    };
    let crn = organization_crn(&org);
    // Users and service accounts alike are `User:<id>` in role bindings.
    let principal = format!("User:{id}");
    let path = format!(
        "/iam/v2/role-bindings?principal={}&crn_pattern={}&role_name={ROLE}",
        q(&principal),
        q(&crn)
    );
    let bindings = match probe.list(&path, &Auth::Cloud).await {
        Ok(b) => b,
        Err(e) => return unchecked(format!("cannot list the role bindings of {principal}: {e}")),
    };
    let held = bindings.iter().any(|b: &Value| {
        b["principal"] == principal.as_str()
            && b["role_name"] == ROLE
            && b["crn_pattern"] == crn.as_str()
    });
    let what = format!("{what} ({} {id})", kind(&owner));
    if held {
        return vec![Check::held(CLOUD, what)];
    }
    vec![Check::missing(
        CLOUD,
        what,
        format!(
            "an OrganizationAdmin grants it with `confluent iam rbac role-binding create --principal {principal} --role {ROLE}` (or in the Cloud Console: Accounts & access), or use a Cloud API key of a user or service account that holds {ROLE}"
        ),
    )]
}

fn kind(owner: &Value) -> &'static str {
    match owner["kind"].as_str() {
        Some("ServiceAccount") => "service account",
        _ => "user",
    }
}
