//! ObjectReferences, as the real service writes them wherever one object names another: the id,
//! the API URL of the referred object (`related`), its CRN (`resource_name`), and its kind. The
//! specs require `related` and `resource_name` to be URIs; the recorded answers show them so
//! (`kafka/read_created_kafka.json`, `tableflow_topic/read_created_byob_aws_tt.json`).

use serde_json::{Value, json};

use super::world::World;

/// A reference to an environment; `base` is the API address the caller used.
pub fn environment(world: &World, base: &str, id: &str) -> Value {
    let crn = world
        .environments
        .get(id)
        .map(|e| e.json["metadata"]["resource_name"].clone())
        .unwrap_or_default();
    json!({
        "id": id, "related": format!("{base}/org/v2/environments/{id}"), "resource_name": crn,
        "api_version": "org/v2", "kind": "Environment",
    })
}

/// A reference to a Kafka cluster, env-scoped: its CRN is the cluster's RBAC scope
/// (`.../cloud-cluster=<lkc>`), as Tableflow's recorded answers name it.
pub fn cluster(world: &World, base: &str, id: &str) -> Value {
    let spec = world.clusters.get(id).map(|c| &c.json);
    let env = spec
        .map(|c| c["spec"]["environment"]["id"].clone())
        .unwrap_or_default();
    let crn = spec
        .and_then(|c| c["metadata"]["resource_name"].as_str())
        .and_then(|crn| crn.rsplit_once("/kafka="))
        .map(|(scope, _)| scope.to_string())
        .unwrap_or_default();
    json!({
        "id": id, "environment": env, "related": format!("{base}/cmk/v2/clusters/{id}"),
        "resource_name": crn, "api_version": "cmk/v2", "kind": "Cluster",
    })
}

/// A reference to a service account (an API key's owner).
pub fn service_account(world: &World, base: &str, id: &str) -> Value {
    let crn = world
        .service_accounts
        .get(id)
        .map(|s| s.json["metadata"]["resource_name"].clone())
        .unwrap_or_default();
    json!({
        "id": id, "related": format!("{base}/iam/v2/service-accounts/{id}"), "resource_name": crn,
        "api_version": "iam/v2", "kind": "ServiceAccount",
    })
}
