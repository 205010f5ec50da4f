//! cmk/v2: Kafka clusters. Made PROVISIONING (202), PROVISIONED after the configured delay.
//! Their REST endpoint is the emulator itself, as the caller reached it.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query as Q, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::collection::{Collection, Store, not_found};
use super::reply::{
    Api, Query, Reply, bad_field, base, body, conflict, forbidden, need, no_content, one_of,
};
use super::world::{SPEC_ENV, now_rfc3339};

/// A cluster that does not exist (any more) reads 403 (`kafka/read_deleted_kafka.json`).
const CLUSTERS: Collection = Collection {
    path: "/cmk/v2/clusters",
    api_version: "cmk/v2",
    kind: "Cluster",
    scope: Some(("environment", SPEC_ENV)),
    missing: |_| forbidden("Forbidden Access"),
    links: true,
    render,
};
use super::refs;
use super::state::Confluent;

const STORE: Store = Store {
    all: |w| w.clusters.values().collect(),
    one: |w, id| w.clusters.get(id),
};

pub fn routes() -> Router<Confluent> {
    let (list, read) = CLUSTERS.reads(&STORE, &[]);
    Router::new()
        .route("/cmk/v2/clusters", list.post(create))
        .route("/cmk/v2/clusters/{id}", read.delete(delete))
}

/// The cluster as the caller sees it: its REST endpoint is wherever the caller reached us.
fn render(mut v: Value, base: &str) -> Value {
    v["spec"]["http_endpoint"] = json!(base);
    v["spec"]["endpoints"]["PUBLIC"]["http_endpoint"] = json!(base);
    v
}

async fn create(State(cc): State<Confluent>, headers: HeaderMap, bytes: Bytes) -> Reply {
    cc.cloud(&headers)?;
    let v = body(Api::Management, &bytes)?;
    let name = need(&v, "/spec/display_name")?;
    let availability = one_of(
        &v,
        "/spec/availability",
        &["SINGLE_ZONE", "MULTI_ZONE", "LOW", "HIGH"],
    )?;
    let cloud = one_of(&v, "/spec/cloud", &["AWS", "GCP", "AZURE"])?;
    let region = need(&v, "/spec/region")?;
    let kind = one_of(
        &v,
        "/spec/config/kind",
        &["Basic", "Standard", "Enterprise", "Dedicated", "Freight"],
    )?;
    if kind == "Dedicated" && v.pointer("/spec/config/cku").is_none() {
        return Err(bad_field(
            "/spec/config/cku",
            "a Dedicated cluster needs 'cku'",
        ));
    }
    let env_id = need(&v, "/spec/environment/id")?;
    let mut world = cc.world();
    let b = base(&headers);
    let env_ref = refs::environment(&world, &b, env_id);
    let env_crn = match world.environments.get(env_id) {
        Some(env) => env.json["metadata"]["resource_name"].clone(),
        None => return Err(not_found("environment", env_id)),
    };
    let in_env =
        |c: &Value| c["spec"]["environment"]["id"] == env_id && c["spec"]["display_name"] == name;
    conflict(
        world.clusters.values().any(|c| in_env(&c.json)),
        format!("cluster '{name}' already exists in {env_id}"),
    )?;
    let id = world.id("lkc", 5);
    let now = now_rfc3339();
    let bootstrap = format!(
        "SASL_SSL://pkc-{}.{region}.{}.confluent.cloud:9092",
        &id[4..],
        cloud.to_lowercase()
    );
    let cluster = json!({
        "api_version": "cmk/v2", "kind": "Cluster", "id": id,
        "metadata": {
            // As the real service names it (`read_created_kafka.json`): the RBAC scope is this
            // without its last segment.
            "resource_name": format!("{}/cloud-cluster={id}/kafka={id}", env_crn.as_str().unwrap_or_default()),
            "created_at": now, "updated_at": now,
        },
        "spec": {
            "display_name": name, "availability": availability, "cloud": cloud, "region": region,
            "config": {"kind": kind},
            "kafka_bootstrap_endpoint": bootstrap,
            "endpoints": {"PUBLIC": {"kafka_bootstrap_endpoint": bootstrap, "connection_type": "PUBLIC"}},
            "environment": env_ref,
        },
        "status": {"phase": "PROVISIONING"},
    });
    let item = world.item(cluster.clone());
    world.clusters.insert(id.clone(), item);
    CLUSTERS.made(StatusCode::ACCEPTED, &cluster, &b)
}

async fn delete(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Q(q): Q<Query>,
) -> Reply {
    cc.cloud(&headers)?;
    let mut world = cc.world();
    // Deprovisioning takes a while; `settle` removes the cluster when it is done.
    CLUSTERS.start_deleting(&mut world.clusters, &id, &q, "DEPROVISIONING")?;
    // Everything that lives inside the cluster goes with it, as on the real service.
    world.topics.retain(|(lkc, _), _| lkc != &id);
    world.acls.remove(&id);
    world.connectors.retain(|(_, lkc, _), _| lkc != &id);
    world.tableflow_topics.retain(|(lkc, _), _| lkc != &id);
    world
        .catalog_integrations
        .retain(|_, c| c.json["spec"]["kafka_cluster"]["id"] != id);
    world.keys.retain(|_, k| k.resource.as_deref() != Some(&id));
    no_content()
}
