//! RBAC as Confluent Cloud grants it. A binding holds a role on a CRN pattern; it covers every
//! resource beneath that CRN (organization > environment > cloud-cluster > kafka > topic), a
//! trailing `*` in the last segment matches names, and a role bound at a scope it is not defined
//! for grants nothing (CloudClusterAdmin on `.../cloud-cluster=lkc/kafka=lkc` is such a binding).

use super::world::{Item, World};

/// The resource types, as the last segment of a binding's CRN, at which each role is defined.
fn defined_at(role: &str) -> &'static [&'static str] {
    const RESOURCES: &[&str] = &[
        "topic",
        "group",
        "transactional-id",
        "subject",
        "provider-integration",
    ];
    match role {
        "OrganizationAdmin" | "AccountAdmin" => &["organization"],
        "EnvironmentAdmin" | "DataDiscovery" | "DataSteward" => &["environment"],
        "CloudClusterAdmin" => &["cloud-cluster"],
        "FlinkAdmin" | "FlinkDeveloper" => &["organization", "environment"],
        "Operator" | "MetricsViewer" => &["organization", "environment", "cloud-cluster"],
        "Assigner" => &["service-account"],
        "ResourceOwner" | "DeveloperRead" | "DeveloperWrite" | "DeveloperManage" => RESOURCES,
        _ => &[],
    }
}

/// `crn://confluent.cloud/a=1/b=2` as `[("a","1"), ("b","2")]`.
fn segments(crn: &str) -> Option<Vec<(&str, &str)>> {
    let path = crn.strip_prefix("crn://confluent.cloud/")?;
    path.split('/').map(|s| s.split_once('=')).collect()
}

/// Whether a binding on `pattern` reaches `resource`: same path down to the pattern's depth, the
/// last value matched whole or, ending in `*`, as a prefix.
pub fn covers(pattern: &str, resource: &str) -> bool {
    let (Some(p), Some(r)) = (segments(pattern), segments(resource)) else {
        return false;
    };
    if p.is_empty() || p.len() > r.len() {
        return false;
    }
    let last = p.len() - 1;
    p.iter()
        .zip(&r)
        .enumerate()
        .all(|(i, ((pt, pv), (rt, rv)))| {
            pt == rt
                && match pv.strip_suffix('*') {
                    Some(prefix) if i == last => rv.starts_with(prefix),
                    _ => pv == rv,
                }
        })
}

/// Whether the binding holds its role at a scope where the role exists.
fn well_scoped(role: &str, pattern: &str) -> bool {
    segments(pattern)
        .and_then(|s| s.last().map(|(t, _)| defined_at(role).contains(t)))
        .unwrap_or(false)
}

/// Whether `principal` (`User:sa-…`) holds one of `roles` over `resource`, counting only the
/// bindings that have propagated (`settled`).
pub fn allows(
    world: &World,
    principal: &str,
    roles: &[&str],
    resource: &str,
    settled: impl Fn(&Item) -> bool,
) -> bool {
    world.role_bindings.values().any(|rb| {
        let role = rb.json["role_name"].as_str().unwrap_or_default();
        let pattern = rb.json["crn_pattern"].as_str().unwrap_or_default();
        rb.json["principal"] == principal
            && roles.contains(&role)
            && well_scoped(role, pattern)
            && covers(pattern, resource)
            && settled(rb)
    })
}

/// The roles that let a principal administer a Kafka cluster (topics, ACLs).
pub const CLUSTER_ADMINS: &[&str] = &["CloudClusterAdmin", "EnvironmentAdmin", "OrganizationAdmin"];

/// The roles that let a principal create or write a topic it does not administer.
pub const TOPIC_OWNERS: &[&str] = &["ResourceOwner", "DeveloperManage", "DeveloperWrite"];

/// The roles that let a principal run Flink statements in an environment.
pub const FLINK_USERS: &[&str] = &[
    "FlinkDeveloper",
    "FlinkAdmin",
    "EnvironmentAdmin",
    "OrganizationAdmin",
];

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = "crn://confluent.cloud/organization=o";
    const LKC: &str = "crn://confluent.cloud/organization=o/environment=env-1/cloud-cluster=lkc-1";

    #[test]
    fn a_binding_covers_what_is_beneath_it() {
        let topic = format!("{LKC}/kafka=lkc-1/topic=stock_trades");
        assert!(covers(LKC, &topic));
        assert!(covers(ORG, &topic));
        assert!(covers(&format!("{LKC}/kafka=lkc-1/topic=*"), &topic));
        assert!(covers(&format!("{LKC}/kafka=lkc-1/topic=stock*"), &topic));
        assert!(!covers(&format!("{LKC}/kafka=lkc-1/topic=orders"), &topic));
        assert!(!covers(&format!("{LKC}/kafka=lkc-1/topic=*"), LKC));
        let other = "crn://confluent.cloud/organization=o/environment=env-1/cloud-cluster=lkc-2";
        assert!(!covers(other, &topic));
    }

    #[test]
    fn a_role_at_a_scope_it_is_not_defined_for_grants_nothing() {
        assert!(well_scoped("CloudClusterAdmin", LKC));
        assert!(!well_scoped(
            "CloudClusterAdmin",
            &format!("{LKC}/kafka=lkc-1")
        ));
        assert!(well_scoped(
            "ResourceOwner",
            &format!("{LKC}/kafka=lkc-1/topic=*")
        ));
        assert!(!well_scoped("ResourceOwner", LKC));
        assert!(well_scoped("FlinkDeveloper", ORG));
        assert!(well_scoped(
            "Assigner",
            &format!("{ORG}/service-account=sa-1")
        ));
    }
}
