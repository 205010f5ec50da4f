//! org/v2 (environments, organizations) and srcm/v3 (the Schema Registry that Confluent
//! provisions for an environment with a Stream Governance package).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query as Q, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};

use super::collection::{Collection, Store, as_stored, not_found};
use super::reply::{Api, Query, Reply, base, body, conflict, need, no_content, one_of, page};
use super::world::{SPEC_ENV, now_rfc3339};

const ENVIRONMENTS: Collection = Collection {
    path: "/org/v2/environments",
    api_version: "org/v2",
    kind: "Environment",
    scope: None,
    missing: |id| not_found("environment", id),
    links: true,
    render: as_stored,
};

const SCHEMA_REGISTRIES: Collection = Collection {
    path: "/srcm/v3/clusters",
    api_version: "srcm/v3",
    kind: "Cluster",
    scope: Some(("environment", SPEC_ENV)),
    missing: |id| not_found("schema registry cluster", id),
    links: true,
    render: as_stored,
};
use super::refs;
use super::state::Confluent;

const ENV_STORE: Store = Store {
    all: |w| w.environments.values().collect(),
    one: |w, id| w.environments.get(id),
};

const SR_STORE: Store = Store {
    all: |w| w.schema_registries.values().collect(),
    one: |w, id| w.schema_registries.get(id),
};

pub fn routes() -> Router<Confluent> {
    let (envs, env) = ENVIRONMENTS.reads(&ENV_STORE, &[]);
    let (srs, sr) = SCHEMA_REGISTRIES.reads(&SR_STORE, &[]);
    Router::new()
        .route("/org/v2/organizations", get(list_orgs))
        .route("/org/v2/environments", envs.post(create_env))
        .route("/org/v2/environments/{id}", env.delete(delete_env))
        .route("/srcm/v3/clusters", srs)
        .route("/srcm/v3/clusters/{id}", sr)
}

async fn list_orgs(State(cc): State<Confluent>, headers: HeaderMap, Q(q): Q<Query>) -> Reply {
    cc.cloud(&headers)?;
    let org = &cc.config.organization_id;
    let b = base(&headers);
    let item = json!({
        "api_version": "org/v2", "kind": "Organization", "id": org,
        "metadata": {
            "self": format!("{b}/org/v2/organizations/{org}"),
            "resource_name": format!("crn://confluent.cloud/organization={org}"),
        },
        "display_name": "local-cloud",
    });
    page(
        &b,
        "/org/v2/organizations",
        &q,
        "org/v2",
        "Organization",
        vec![item],
    )
}

async fn create_env(State(cc): State<Confluent>, headers: HeaderMap, bytes: Bytes) -> Reply {
    cc.org_admin(&headers)?;
    let v = body(Api::Management, &bytes)?;
    let name = need(&v, "/display_name")?;
    let package = one_of(
        &v,
        "/stream_governance_config/package",
        &["ESSENTIALS", "ADVANCED"],
    )?;
    let mut world = cc.world();
    conflict(
        world
            .environments
            .values()
            .any(|e| e.json["display_name"] == name),
        format!("environment '{name}' already exists"),
    )?;
    let id = world.id("env", 5);
    let org = &cc.config.organization_id;
    let now = now_rfc3339();
    let crn = format!("crn://confluent.cloud/organization={org}/environment={id}");
    let env = json!({
        "api_version": "org/v2", "kind": "Environment", "id": id,
        "metadata": {"resource_name": crn, "created_at": now, "updated_at": now},
        "display_name": name,
        "stream_governance_config": {"package": package},
    });
    let item = world.item(env.clone());
    world.environments.insert(id.clone(), item);
    let b = base(&headers);
    // Confluent provisions the environment's Schema Registry with its governance package.
    let sr_id = world.id("lsrc", 5);
    let sr = json!({
        "api_version": "srcm/v3", "kind": "Cluster", "id": sr_id,
        "metadata": {"resource_name": format!("{crn}/schema-registry={sr_id}"), "created_at": now, "updated_at": now},
        "spec": {
            "display_name": "Stream Governance Package", "package": package,
            "http_endpoint": format!("https://psrc-{}.us-east-1.aws.confluent.cloud", &sr_id[5..]),
            "cloud": "AWS", "region": "us-east-1",
            "environment": refs::environment(&world, &b, &id),
        },
        "status": {"phase": "PROVISIONING"},
    });
    let item = world.item(sr);
    world.schema_registries.insert(sr_id, item);
    ENVIRONMENTS.made(StatusCode::CREATED, &env, &b)
}

async fn delete_env(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    cc.cloud(&headers)?;
    let mut world = cc.world();
    ENVIRONMENTS.find(world.environments.get(&id), &id, &Query::new())?;
    let in_env = |v: &Value| v["spec"]["environment"]["id"] == id || v["environment"]["id"] == id;
    let busy = world.clusters.values().any(|c| in_env(&c.json))
        || world.compute_pools.values().any(|p| in_env(&p.json))
        || world.integrations.values().any(|p| in_env(&p.json));
    conflict(
        busy,
        format!(
            "environment {id} still holds resources (clusters, compute pools or integrations); delete them first"
        ),
    )?;
    world.environments.remove(&id);
    world
        .schema_registries
        .retain(|_, sr| sr.json["spec"]["environment"]["id"] != id);
    world.statements.retain(|(env, _), _| env != &id);
    no_content()
}
