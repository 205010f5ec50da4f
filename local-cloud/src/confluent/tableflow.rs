//! pim/v1 (provider integrations, 201) and tableflow/v1 (Tableflow topics addressed by topic
//! name, and catalog integrations; 202, PENDING then RUNNING / CONNECTED). Tableflow takes a
//! Tableflow API key only, as its spec declares.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query as Q, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};

use super::collection::{Collection, Store, as_stored, in_order, not_found, scoped, with_self};
use super::refs;
use super::reply::{
    Api, Query, Reply, bad_field, base, body, coded, conflict, created, error, need, no_content,
    ok, one_of, page, required,
};
use super::state::Confluent;
use super::world::{CLUSTER_OF, SPEC_ENV, TOP_ENV, now_rfc3339};

/// The AWS account Confluent's own IAM roles live in (what `iam_role_arn` points into).
const CONFLUENT_AWS_ACCOUNT: &str = "851725421142";

const INTEGRATION_STORE: Store = Store {
    all: |w| w.integrations.values().collect(),
    one: |w, id| w.integrations.get(id),
};

pub fn routes() -> Router<Confluent> {
    let (integrations, integration) =
        INTEGRATIONS.reads(&INTEGRATION_STORE, &[("provider", "/provider")]);
    Router::new()
        .route(
            "/pim/v1/integrations",
            integrations.post(create_integration),
        )
        .route(
            "/pim/v1/integrations/{id}",
            integration.delete(delete_integration),
        )
        .route(
            "/tableflow/v1/tableflow-topics",
            get(list_topics).post(enable_topic),
        )
        .route(
            "/tableflow/v1/tableflow-topics/{name}",
            get(get_topic).patch(update_topic).delete(disable_topic),
        )
        .route(
            "/tableflow/v1/catalog-integrations",
            get(list_catalogs).post(create_catalog),
        )
        .route(
            "/tableflow/v1/catalog-integrations/{id}",
            get(get_catalog).delete(delete_catalog),
        )
}

/// Provider integrations carry no `self` link (`provider_integration/*.json`).
const INTEGRATIONS: Collection = Collection {
    path: "/pim/v1/integrations",
    api_version: "pim/v1",
    kind: "Integration",
    scope: Some(("environment", TOP_ENV)),
    missing: no_integration,
    links: false,
    render: as_stored,
};

/// Catalog integrations are read within the Kafka cluster the query names.
const CATALOGS: Collection = Collection {
    path: "/tableflow/v1/catalog-integrations",
    api_version: "tableflow/v1",
    kind: "CatalogIntegration",
    scope: Some(("spec.kafka_cluster", CLUSTER_OF)),
    missing: |id| not_found("catalog integration", id),
    links: true,
    render: as_stored,
};

fn role_arn_ok(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws:iam::") else {
        return false;
    };
    let Some((account, role)) = rest.split_once(":role/") else {
        return false;
    };
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !role.is_empty()
}

async fn create_integration(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Reply {
    cc.cloud(&headers)?;
    let v = body(Api::Management, &bytes)?;
    one_of(&v, "/config/kind", &["AwsIntegrationConfig"])?;
    let env_id = need(&v, "/environment/id")?;
    let customer_role = need(&v, "/config/customer_iam_role_arn")?;
    if !role_arn_ok(customer_role) {
        return Err(bad_field(
            "/config/customer_iam_role_arn",
            "must be an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)",
        ));
    }
    if let Some(p) = v.get("provider").and_then(Value::as_str)
        && p != "AWS"
    {
        return Err(bad_field(
            "/provider",
            "provider must be AWS for an AwsIntegrationConfig",
        ));
    }
    let name = v.get("display_name").and_then(Value::as_str).unwrap_or("");
    let mut world = cc.world();
    if !world.environments.contains_key(env_id) {
        return Err(not_found("environment", env_id));
    }
    let same = |i: &Value| {
        i["environment"]["id"] == env_id && !name.is_empty() && i["display_name"] == name
    };
    conflict(
        world.integrations.values().any(|i| same(&i.json)),
        format!("integration '{name}' already exists"),
    )?;
    let env_ref = refs::environment(&world, &base(&headers), env_id);
    let id = world.id("cspi", 5);
    let external_id = world.uuid();
    let integration = json!({
        "api_version": "pim/v1", "kind": "Integration", "id": id,
        "display_name": name, "provider": "AWS",
        "config": {
            "kind": "AwsIntegrationConfig",
            "customer_iam_role_arn": customer_role,
            "iam_role_arn": format!("arn:aws:iam::{CONFLUENT_AWS_ACCOUNT}:role/{id}-tableflow"),
            "external_id": external_id,
        },
        "usages": [],
        "environment": env_ref,
    });
    let item = world.item(integration.clone());
    world.integrations.insert(id.clone(), item);
    created(
        StatusCode::CREATED,
        integration,
        &format!("{}/pim/v1/integrations/{id}", base(&headers)),
    )
}

async fn delete_integration(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Q(q): Q<Query>,
) -> Reply {
    cc.cloud(&headers)?;
    let mut world = cc.world();
    INTEGRATIONS.find(world.integrations.get(&id), &id, &q)?;
    let uses = |v: &Value| {
        v.pointer("/spec/storage/provider_integration_id") == Some(&json!(id))
            || v.pointer("/spec/config/provider_integration_id") == Some(&json!(id))
    };
    conflict(
        world.tableflow_topics.values().any(|t| uses(&t.json))
            || world.catalog_integrations.values().any(|c| uses(&c.json)),
        format!("integration {id} is in use by Tableflow"),
    )?;
    world.integrations.remove(&id);
    no_content()
}

/// An integration that does not exist, as recorded
/// (`provider_integration/read_deleted_aws_provider_integration.json`).
fn no_integration(id: &str) -> axum::response::Response {
    coded(
        StatusCode::NOT_FOUND,
        404,
        format!("Provider Integration {id} not found"),
    )
}

fn tableflow_key(cc: &Confluent, headers: &HeaderMap) -> Result<(), axum::response::Response> {
    cc.resource(headers, Api::Management, "tableflow", None)
}

/// The environment and cluster every Tableflow call names, checked to exist together.
fn scope<'a>(
    world: &super::world::World,
    env: &'a str,
    lkc: &'a str,
) -> Result<(), axum::response::Response> {
    scoped(&world.clusters, lkc, SPEC_ENV, env, "Kafka cluster").map(|_| ())
}

/// What every Tableflow read and delete starts with: a Tableflow key, and the environment and
/// cluster its query names, which must exist together. Gives the cluster and the locked world.
fn query_scope<'a>(
    cc: &'a Confluent,
    headers: &HeaderMap,
    q: &'a Query,
) -> Result<(&'a str, std::sync::MutexGuard<'a, super::world::World>), axum::response::Response> {
    tableflow_key(cc, headers)?;
    let env = required(q, "environment")?;
    let lkc = required(q, "spec.kafka_cluster")?;
    let world = cc.world();
    scope(&world, env, lkc)?;
    Ok((lkc, world))
}

fn topic_view(v: &Value, base: &str) -> Value {
    let name = v["spec"]["display_name"].as_str().unwrap_or_default();
    with_self(
        v.clone(),
        base,
        &format!("/tableflow/v1/tableflow-topics/{name}"),
    )
}

async fn enable_topic(State(cc): State<Confluent>, headers: HeaderMap, bytes: Bytes) -> Reply {
    tableflow_key(&cc, &headers)?;
    let v = body(Api::Management, &bytes)?;
    let topic = need(&v, "/spec/display_name")?;
    let env = need(&v, "/spec/environment/id")?;
    let lkc = need(&v, "/spec/kafka_cluster/id")?;
    let kind = one_of(&v, "/spec/storage/kind", &["ByobAws", "Managed"])?;
    let mut world = cc.world();
    scope(&world, env, lkc)?;
    if !world
        .topics
        .contains_key(&(lkc.to_string(), topic.to_string()))
    {
        return Err(bad_field(
            "/spec/display_name",
            format!("topic '{topic}' does not exist in {lkc}"),
        ));
    }
    let mut storage = json!({"kind": kind});
    if kind == "ByobAws" {
        let bucket = need(&v, "/spec/storage/bucket_name")?;
        let pim = need(&v, "/spec/storage/provider_integration_id")?;
        scoped(&world.integrations, pim, TOP_ENV, env, "integration").map_err(|_| {
            let detail = format!("provider integration '{pim}' was not found in {env}");
            bad_field("/spec/storage/provider_integration_id", detail)
        })?;
        let region = &world.clusters[lkc].json["spec"]["region"];
        storage = json!({"kind": kind, "bucket_name": bucket, "provider_integration_id": pim, "bucket_region": region});
    }
    let formats = v
        .pointer("/spec/table_formats")
        .cloned()
        .unwrap_or(json!(["ICEBERG"]));
    let key = (lkc.to_string(), topic.to_string());
    conflict(
        world.tableflow_topics.contains_key(&key),
        format!("Tableflow is already enabled on '{topic}'"),
    )?;
    let now = now_rfc3339();
    let org = cc.config.organization_id.clone();
    let b = base(&headers);
    let entry = json!({
        "api_version": "tableflow/v1", "kind": "TableflowTopic",
        "metadata": {"resource_name": format!("crn://confluent.cloud/organization={org}/environment={env}/cloud-cluster={lkc}/tableflow-topic={topic}"), "created_at": now, "updated_at": now},
        "spec": {
            "display_name": topic, "suspended": false,
            "config": v.pointer("/spec/config").cloned().unwrap_or(json!({"retention_ms": "604800000", "error_handling": {"mode": "SUSPEND"}})),
            "storage": storage, "table_formats": formats,
            "environment": refs::environment(&world, &b, env), "kafka_cluster": refs::cluster(&world, &b, lkc),
        },
        "status": {"phase": "PENDING", "write_mode": "APPEND", "failing_table_formats": [], "catalog_sync_statuses": []},
    });
    let item = world.item(entry.clone());
    world.tableflow_topics.insert(key, item);
    created(
        StatusCode::ACCEPTED,
        topic_view(&entry, &b),
        &format!("{b}/tableflow/v1/tableflow-topics/{topic}"),
    )
}

async fn list_topics(State(cc): State<Confluent>, headers: HeaderMap, Q(q): Q<Query>) -> Reply {
    let (lkc, world) = query_scope(&cc, &headers, &q)?;
    let b = base(&headers);
    let items = in_order(
        world
            .tableflow_topics
            .iter()
            .filter(|((c, _), _)| c == lkc)
            .map(|(_, t)| t),
    );
    let data = items.into_iter().map(|t| topic_view(&t.json, &b)).collect();
    page(
        &b,
        "/tableflow/v1/tableflow-topics",
        &q,
        "tableflow/v1",
        "TableflowTopic",
        data,
    )
}

async fn get_topic(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Q(q): Q<Query>,
) -> Reply {
    let (lkc, world) = query_scope(&cc, &headers, &q)?;
    let t = world
        .tableflow_topics
        .get(&(lkc.to_string(), name.clone()))
        .ok_or_else(|| not_found("Tableflow topic", &name))?;
    ok(StatusCode::OK, topic_view(&t.json, &base(&headers)))
}

/// `PATCH`: the environment and cluster come in the body (`TableflowTopicUpdate`); what it
/// gives of `config` (retention, error handling) and `table_formats` replaces what was set.
async fn update_topic(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Reply {
    tableflow_key(&cc, &headers)?;
    let v = body(Api::Management, &bytes)?;
    let env = need(&v, "/spec/environment/id")?;
    let lkc = need(&v, "/spec/kafka_cluster/id")?;
    let mut world = cc.world();
    scope(&world, env, lkc)?;
    let t = world
        .tableflow_topics
        .get_mut(&(lkc.to_string(), name.clone()))
        .ok_or_else(|| not_found("Tableflow topic", &name))?;
    if let Some(config) = v.pointer("/spec/config").and_then(Value::as_object) {
        for (key, value) in config {
            t.json["spec"]["config"][key] = value.clone();
        }
    }
    if let Some(formats) = v.pointer("/spec/table_formats") {
        t.json["spec"]["table_formats"] = formats.clone();
    }
    t.json["metadata"]["updated_at"] = json!(now_rfc3339());
    let view = topic_view(&t.json, &base(&headers));
    ok(StatusCode::OK, view)
}

async fn disable_topic(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Q(q): Q<Query>,
) -> Reply {
    let (lkc, mut world) = query_scope(&cc, &headers, &q)?;
    let key = (lkc.to_string(), name.clone());
    world
        .tableflow_topics
        .remove(&key)
        .ok_or_else(|| not_found("Tableflow topic", &name))?;
    world.tables.remove(&key);
    world.published.remove(&key);
    no_content()
}

async fn create_catalog(State(cc): State<Confluent>, headers: HeaderMap, bytes: Bytes) -> Reply {
    tableflow_key(&cc, &headers)?;
    let v = body(Api::Management, &bytes)?;
    let name = need(&v, "/spec/display_name")?;
    let env = need(&v, "/spec/environment/id")?;
    let lkc = need(&v, "/spec/kafka_cluster/id")?;
    one_of(&v, "/spec/config/kind", &["AwsGlue"])?;
    let pim = need(&v, "/spec/config/provider_integration_id")?;
    let mut world = cc.world();
    scope(&world, env, lkc)?;
    scoped(&world.integrations, pim, TOP_ENV, env, "integration").map_err(|_| {
        let detail = format!("provider integration '{pim}' was not found in {env}");
        bad_field("/spec/config/provider_integration_id", detail)
    })?;
    if world.catalog_integrations.values().any(|c| {
        c.json["spec"]["kafka_cluster"]["id"] == lkc && c.json["spec"]["display_name"] == name
    }) {
        return Err(error(
            Api::Management,
            StatusCode::CONFLICT,
            format!("catalog integration '{name}' already exists"),
        ));
    }
    let id = world.id("tci", 5);
    let now = now_rfc3339();
    let b = base(&headers);
    let catalog = json!({
        "api_version": "tableflow/v1", "kind": "CatalogIntegration", "id": id,
        "metadata": {"created_at": now, "updated_at": now},
        "spec": {
            "display_name": name, "suspended": false,
            "config": {"kind": "AwsGlue", "provider_integration_id": pim},
            "environment": refs::environment(&world, &b, env), "kafka_cluster": refs::cluster(&world, &b, lkc),
        },
        "status": {"phase": "PENDING"},
    });
    let item = world.item(catalog.clone());
    world.catalog_integrations.insert(id.clone(), item);
    CATALOGS.made(StatusCode::ACCEPTED, &catalog, &b)
}

async fn list_catalogs(State(cc): State<Confluent>, headers: HeaderMap, Q(q): Q<Query>) -> Reply {
    let (_, world) = query_scope(&cc, &headers, &q)?;
    CATALOGS.list(
        world.catalog_integrations.values(),
        &q,
        &base(&headers),
        |_| true,
    )
}

async fn get_catalog(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Q(q): Q<Query>,
) -> Reply {
    let (_, world) = query_scope(&cc, &headers, &q)?;
    CATALOGS.read(
        world.catalog_integrations.get(&id),
        &id,
        &q,
        &base(&headers),
    )
}

async fn delete_catalog(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Q(q): Q<Query>,
) -> Reply {
    let (_, mut world) = query_scope(&cc, &headers, &q)?;
    CATALOGS.find(world.catalog_integrations.get(&id), &id, &q)?;
    world.catalog_integrations.remove(&id);
    no_content()
}
