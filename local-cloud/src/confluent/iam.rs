//! iam/v2: service accounts (201), API keys (202; the secret only in the create response) and
//! role bindings (201; delete answers 200 with the deleted binding).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query as Q, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};

use super::collection::{Collection, Store, as_stored};
use super::reply::{
    Api, Query, Reply, bad_field, base, body, conflict, created, failure, forbidden, need,
    no_binding, no_content, ok, required,
};
use super::state::{Confluent, flink_region_id};
use super::world::{Key, now_rfc3339};

/// Roles that exist in Confluent Cloud RBAC (the spec does not enumerate them).
const ROLES: &[&str] = &[
    "OrganizationAdmin",
    "EnvironmentAdmin",
    "CloudClusterAdmin",
    "AccountAdmin",
    "Operator",
    "MetricsViewer",
    "ResourceOwner",
    "DeveloperRead",
    "DeveloperWrite",
    "DeveloperManage",
    "DataDiscovery",
    "DataSteward",
    "FlinkAdmin",
    "FlinkDeveloper",
    "Assigner",
];

const ACCOUNT_STORE: Store = Store {
    all: |w| w.service_accounts.values().collect(),
    one: |w, id| w.service_accounts.get(id),
};

/// The Cloud API key is listed beside the keys made through the API, as the real service lists
/// every key of the organization.
const KEY_STORE: Store = Store {
    all: |w| {
        w.keys
            .values()
            .map(|k| &k.item)
            .chain(w.cloud_key.as_ref())
            .collect()
    },
    one: |w, id| {
        w.keys
            .get(id)
            .map(|k| &k.item)
            .or_else(|| w.cloud_key.as_ref().filter(|k| k.json["id"] == id))
    },
};

const BINDING_STORE: Store = Store {
    all: |w| w.role_bindings.values().collect(),
    one: |w, id| w.role_bindings.get(id),
};

pub fn routes() -> Router<Confluent> {
    let (accounts, account) = ACCOUNTS.reads(&ACCOUNT_STORE, &[("display_name", "/display_name")]);
    let key_filters = &[
        ("spec.owner", "/spec/owner/id"),
        ("spec.resource", "/spec/resource/id"),
    ];
    let (keys, key) = KEYS.reads(&KEY_STORE, key_filters);
    let (_, binding) = BINDINGS.reads(&BINDING_STORE, &[]);
    Router::new()
        .route("/iam/v2/service-accounts", accounts.post(create_account))
        .route(
            "/iam/v2/service-accounts/{id}",
            account.delete(delete_account),
        )
        .route("/iam/v2/api-keys", keys.post(create_key))
        .route("/iam/v2/api-keys/{id}", key.delete(delete_key))
        .route(
            "/iam/v2/role-bindings",
            get(list_bindings).post(create_binding),
        )
        .route("/iam/v2/role-bindings/{id}", binding.delete(delete_binding))
}

/// A service account that does not exist, as recorded (`service_account/read_deleted_sa.json`).
fn no_account() -> axum::response::Response {
    failure(
        StatusCode::NOT_FOUND,
        Some("service_account_not_found"),
        "Service Account Not Found",
        json!({}),
    )
}

const ACCOUNTS: Collection = Collection {
    path: "/iam/v2/service-accounts",
    api_version: "iam/v2",
    kind: "ServiceAccount",
    scope: None,
    missing: |_| no_account(),
    links: true,
    render: as_stored,
};

/// A key that does not exist (any more) reads 403 (`apikey/read_deleted_kafka_api_key.json`).
const KEYS: Collection = Collection {
    path: "/iam/v2/api-keys",
    api_version: "iam/v2",
    kind: "ApiKey",
    scope: None,
    missing: |_| forbidden("Forbidden Access"),
    links: true,
    render: as_stored,
};

/// A binding that does not exist reads 403 (`role_binding/read_deleted_role_binding.json`).
const BINDINGS: Collection = Collection {
    path: "/iam/v2/role-bindings",
    api_version: "iam/v2",
    kind: "RoleBinding",
    scope: None,
    missing: |_| no_binding(),
    links: true,
    render: as_stored,
};

/// Whether `v` at `pointer` is what the query's `param` asks for, if it asks.
fn filter(q: &Query, param: &str, v: &Value, pointer: &str) -> bool {
    q.get(param)
        .is_none_or(|wanted| v.pointer(pointer).and_then(Value::as_str) == Some(wanted))
}

async fn create_account(State(cc): State<Confluent>, headers: HeaderMap, bytes: Bytes) -> Reply {
    cc.org_admin(&headers)?;
    let v = body(Api::Management, &bytes)?;
    let name = need(&v, "/display_name")?;
    let mut world = cc.world();
    conflict(
        world
            .service_accounts
            .values()
            .any(|s| s.json["display_name"] == name),
        format!("resource_already_exists: service account '{name}'"),
    )?;
    let id = world.id("sa", 6);
    let now = now_rfc3339();
    let org = &cc.config.organization_id;
    let account = json!({
        "api_version": "iam/v2", "kind": "ServiceAccount", "id": id,
        "metadata": {"resource_name": format!("crn://confluent.cloud/organization={org}/service-account={id}"), "created_at": now, "updated_at": now},
        "display_name": name,
        "description": v.get("description").cloned().unwrap_or(json!("")),
    });
    let item = world.item(account.clone());
    world.service_accounts.insert(id.clone(), item);
    let b = base(&headers);
    ACCOUNTS.made(StatusCode::CREATED, &account, &b)
}

async fn delete_account(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    cc.cloud(&headers)?;
    let mut world = cc.world();
    world.service_accounts.remove(&id).ok_or_else(no_account)?;
    // Its keys stop working and its bindings go with it.
    world.keys.retain(|_, k| k.owner != id);
    let principal = format!("User:{id}");
    world
        .role_bindings
        .retain(|_, rb| rb.json["principal"] != principal.as_str());
    no_content()
}

/// The resource a key is bound to, described as the API describes it, or a 400.
fn key_resource(
    world: &super::world::World,
    base: &str,
    v: &Value,
) -> Result<Option<Value>, axum::response::Response> {
    let Some(id) = v.pointer("/spec/resource/id").and_then(Value::as_str) else {
        return Ok(None);
    };
    let env = v
        .pointer("/spec/resource/environment")
        .and_then(Value::as_str);
    // A Kafka or Schema Registry cluster is env-scoped: the reference names its environment
    // (the spec's ObjectReference; Confluent's Terraform provider requires it too).
    let elsewhere = |c: &super::world::Item| match env {
        None => Some(bad_field(
            "/spec/resource/environment",
            format!("{id} is env-scoped: give the environment it is in"),
        )),
        Some(e) => (c.json["spec"]["environment"]["id"] != e).then(|| {
            bad_field(
                "/spec/resource/environment",
                format!("cluster {id} is not in that environment"),
            )
        }),
    };
    let crn_of = |item: &super::world::Item| item.json["metadata"]["resource_name"].clone();
    // The related URL and CRN of each kind as the real service answers them (`apikey/*.json`).
    let (api_version, kind, related, crn) = if let Some(c) = world.clusters.get(id) {
        if let Some(e) = elsewhere(c) {
            return Err(e);
        }
        let related = format!("{base}/cmk/v2/clusters/{id}");
        ("cmk/v2", "Cluster", json!(related), crn_of(c))
    } else if let Some(sr) = world.schema_registries.get(id) {
        if let Some(e) = elsewhere(sr) {
            return Err(e);
        }
        let related = format!("{base}/srcm/v3/clusters/{id}");
        ("srcm/v3", "Cluster", json!(related), crn_of(sr))
    } else if id == flink_region_id("AWS", "us-east-1")
        || id.contains('.') && id.starts_with("aws.")
    {
        match env.and_then(|e| world.environments.get(e)) {
            Some(e) => {
                let cloud = id.split('.').next().unwrap_or_default();
                let related = format!("{base}/fcpm/v2/regions?cloud={cloud}");
                let crn = format!(
                    "{}/flink-region={id}",
                    crn_of(e).as_str().unwrap_or_default()
                );
                ("fcpm/v2", "Region", json!(related), json!(crn))
            }
            None => {
                return Err(bad_field(
                    "/spec/resource/environment",
                    "a Flink API key needs the environment it is for",
                ));
            }
        }
    } else if id == "tableflow" {
        // Not URIs, though the spec wants them: what the real service answers
        // (`apikey/create_tableflow_api_key.json`).
        (
            "tableflow/v1",
            "Tableflow",
            json!("tableflow"),
            json!("tableflow"),
        )
    } else {
        return Err(bad_field(
            "/spec/resource/id",
            format!("resource '{id}' was not found"),
        ));
    };
    let mut reference = json!({"id": id, "related": related, "resource_name": crn, "api_version": api_version, "kind": kind});
    // Only an env-scoped resource names its environment; a global one has none, not null.
    if let Some(env) = env {
        reference["environment"] = json!(env);
    }
    Ok(Some(reference))
}

async fn create_key(State(cc): State<Confluent>, headers: HeaderMap, bytes: Bytes) -> Reply {
    cc.cloud(&headers)?;
    let v = body(Api::Management, &bytes)?;
    let owner = need(&v, "/spec/owner/id")?;
    let mut world = cc.world();
    if !world.service_accounts.contains_key(owner) {
        return Err(bad_field(
            "/spec/owner/id",
            format!("owner '{owner}' was not found"),
        ));
    }
    let b = base(&headers);
    let owner_ref = super::refs::service_account(&world, &b, owner);
    let resource = key_resource(&world, &b, &v)?;
    let (id, secret) = world.key_id();
    let now = now_rfc3339();
    let org = &cc.config.organization_id;
    let mut key = json!({
        "api_version": "iam/v2", "kind": "ApiKey", "id": id,
        "metadata": {"resource_name": format!("crn://api.confluent.cloud/organization={org}/api-key={id}"), "created_at": now, "updated_at": now},
        "spec": {
            "display_name": v.pointer("/spec/display_name").cloned().unwrap_or(json!("")),
            "description": v.pointer("/spec/description").cloned().unwrap_or(json!("")),
            "owner": owner_ref,
        },
    });
    if let Some(r) = &resource {
        key["spec"]["resource"] = r.clone();
    }
    let item = world.item_settling(key.clone(), cc.config.delays.key_propagation);
    world.keys.insert(
        id.clone(),
        Key {
            item,
            secret: secret.clone(),
            owner: owner.to_string(),
            resource: resource
                .as_ref()
                .and_then(|r| r["id"].as_str())
                .map(str::to_string),
        },
    );
    let mut shown = KEYS.view(&key, &b);
    shown["spec"]["secret"] = json!(secret);
    created(StatusCode::ACCEPTED, shown, &KEYS.url(&b, &id))
}

async fn delete_key(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    cc.cloud(&headers)?;
    let mut world = cc.world();
    KEYS.find(world.keys.get(&id).map(|k| &k.item), &id, &Query::new())?;
    world.keys.remove(&id);
    no_content()
}

async fn create_binding(State(cc): State<Confluent>, headers: HeaderMap, bytes: Bytes) -> Reply {
    cc.org_admin(&headers)?;
    let v = body(Api::Management, &bytes)?;
    let principal = need(&v, "/principal")?;
    let role = need(&v, "/role_name")?;
    let crn = need(&v, "/crn_pattern")?;
    if !(principal.starts_with("User:") || principal.starts_with("Group:")) {
        return Err(bad_field(
            "/principal",
            "principal must match ^User: or ^Group:",
        ));
    }
    if !ROLES.contains(&role) {
        return Err(bad_field("/role_name", format!("unknown role '{role}'")));
    }
    let org_prefix = format!(
        "crn://confluent.cloud/organization={}",
        cc.config.organization_id
    );
    if !crn.starts_with(&org_prefix) {
        return Err(bad_field(
            "/crn_pattern",
            "crn_pattern must be a CRN in this organization",
        ));
    }
    let mut world = cc.world();
    let same = |rb: &Value| {
        rb["principal"] == principal && rb["role_name"] == role && rb["crn_pattern"] == crn
    };
    conflict(
        world.role_bindings.values().any(|rb| same(&rb.json)),
        "this role binding already exists",
    )?;
    let id = world.id("rb", 5);
    let now = now_rfc3339();
    let binding = json!({
        "api_version": "iam/v2", "kind": "RoleBinding", "id": id,
        "metadata": {"resource_name": format!("{org_prefix}/role-binding={id}"), "created_at": now, "updated_at": now},
        "principal": principal, "role_name": role, "crn_pattern": crn,
    });
    let item = world.item_settling(binding.clone(), cc.config.delays.binding_propagation);
    world.role_bindings.insert(id.clone(), item);
    let b = base(&headers);
    BINDINGS.made(StatusCode::CREATED, &binding, &b)
}

async fn list_bindings(State(cc): State<Confluent>, headers: HeaderMap, Q(q): Q<Query>) -> Reply {
    cc.cloud(&headers)?;
    let pattern = required(&q, "crn_pattern")?
        .trim_end_matches("/*")
        .to_string();
    let world = cc.world();
    BINDINGS.list(world.role_bindings.values(), &q, &base(&headers), |rb| {
        rb["crn_pattern"]
            .as_str()
            .is_some_and(|c| c.starts_with(&pattern))
            && filter(&q, "principal", rb, "/principal")
            && filter(&q, "role_name", rb, "/role_name")
    })
}

async fn delete_binding(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    cc.cloud(&headers)?;
    let mut world = cc.world();
    let rb = world.role_bindings.remove(&id).ok_or_else(no_binding)?;
    ok(StatusCode::OK, BINDINGS.view(&rb.json, &base(&headers)))
}
