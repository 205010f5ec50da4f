//! Kafka REST v3 at the cluster's own endpoint: topics and ACLs. It takes only a Kafka API key
//! of this cluster, whose owner must hold a cluster admin role (RBAC), and answers in Kafka
//! REST's own error shape (`error_code`, `message`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query as Q, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::Confluent;
use super::reply::{Api, Query, Reply, base, basic_auth, body, error, ok};
use super::world::World;

const RESOURCE_TYPES: &[&str] = &[
    "TOPIC",
    "GROUP",
    "CLUSTER",
    "TRANSACTIONAL_ID",
    "DELEGATION_TOKEN",
];
const PATTERN_TYPES: &[&str] = &["LITERAL", "PREFIXED", "MATCH", "ANY"];
const OPERATIONS: &[&str] = &[
    "ALL",
    "READ",
    "WRITE",
    "CREATE",
    "DELETE",
    "ALTER",
    "DESCRIBE",
    "CLUSTER_ACTION",
    "DESCRIBE_CONFIGS",
    "ALTER_CONFIGS",
    "IDEMPOTENT_WRITE",
];
const PERMISSIONS: &[&str] = &["ALLOW", "DENY"];
const ACL_FIELDS: &[&str] = &[
    "resource_type",
    "resource_name",
    "pattern_type",
    "principal",
    "host",
    "operation",
    "permission",
];

pub fn routes() -> Router<Confluent> {
    Router::new()
        .route(
            "/kafka/v3/clusters/{lkc}/topics",
            get(list_topics).post(create_topic),
        )
        .route(
            "/kafka/v3/clusters/{lkc}/topics/{name}",
            get(get_topic).delete(delete_topic),
        )
        .route(
            "/kafka/v3/clusters/{lkc}/acls",
            get(list_acls).post(create_acl).delete(delete_acls),
        )
}

fn rest_error(status: StatusCode, code: u32, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(json!({"error_code": code, "message": message.into()})),
    )
        .into_response()
}

/// Only a key bound to this cluster, whose owner administers it, may use its REST API.
fn authorize(
    cc: &Confluent,
    world: &World,
    headers: &HeaderMap,
    lkc: &str,
) -> Result<(), Response> {
    let unauthorized = || error(Api::KafkaRest, StatusCode::UNAUTHORIZED, "Unauthorized");
    let (id, secret) = basic_auth(headers).ok_or_else(unauthorized)?;
    let key = world
        .keys
        .get(&id)
        .filter(|k| k.secret == secret)
        .ok_or_else(unauthorized)?;
    if key.resource.as_deref() != Some(lkc) {
        return Err(unauthorized());
    }
    let Some(cluster) = world.clusters.get(lkc) else {
        return Err(rest_error(
            StatusCode::NOT_FOUND,
            40403,
            format!("Cluster {lkc} not found"),
        ));
    };
    let crn = cluster.json["metadata"]["resource_name"]
        .as_str()
        .unwrap_or_default();
    let principal = format!("User:{}", key.owner);
    let admin = world.role_bindings.values().any(|rb| {
        rb.json["principal"] == principal.as_str()
            && matches!(
                rb.json["role_name"].as_str(),
                Some("CloudClusterAdmin" | "EnvironmentAdmin" | "OrganizationAdmin")
            )
            && rb.json["crn_pattern"]
                .as_str()
                .is_some_and(|p| crn.starts_with(p))
    });
    let _ = cc;
    if admin {
        Ok(())
    } else {
        Err(rest_error(
            StatusCode::FORBIDDEN,
            40301,
            format!("Request is not authorized: {principal} has no admin role on {lkc}"),
        ))
    }
}

fn topic_view(lkc: &str, name: &str, base: &str, partitions: u64) -> Value {
    let this = format!("{base}/kafka/v3/clusters/{lkc}/topics/{name}");
    json!({
        "kind": "KafkaTopic",
        "metadata": {"self": this, "resource_name": format!("crn:///kafka={lkc}/topic={name}")},
        "cluster_id": lkc, "topic_name": name, "is_internal": false,
        "replication_factor": 3, "partitions_count": partitions,
        "partitions": {"related": format!("{this}/partitions")},
        "configs": {"related": format!("{this}/configs")},
        "partition_reassignments": {"related": format!("{this}/partitions/-/reassignment")},
        "authorized_operations": [],
    })
}

async fn create_topic(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(lkc): Path<String>,
    bytes: Bytes,
) -> Reply {
    let mut world = cc.world();
    authorize(&cc, &world, &headers, &lkc)?;
    let v = body(Api::KafkaRest, &bytes)?;
    let Some(name) = v
        .get("topic_name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return Err(rest_error(
            StatusCode::BAD_REQUEST,
            40001,
            "topic_name is required",
        ));
    };
    let partitions = v
        .get("partitions_count")
        .and_then(Value::as_u64)
        .unwrap_or(6);
    let key = (lkc.clone(), name.to_string());
    if world.topics.contains_key(&key) {
        return Err(rest_error(
            StatusCode::BAD_REQUEST,
            40002,
            format!("Topic '{name}' already exists."),
        ));
    }
    let item = world.item(json!({"partitions_count": partitions}));
    world.topics.insert(key, item);
    ok(
        StatusCode::CREATED,
        topic_view(&lkc, name, &base(&headers), partitions),
    )
}

async fn list_topics(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(lkc): Path<String>,
) -> Reply {
    let world = cc.world();
    authorize(&cc, &world, &headers, &lkc)?;
    let b = base(&headers);
    let data: Vec<Value> = world
        .topics
        .iter()
        .filter(|((c, _), _)| c == &lkc)
        .map(|((_, name), t)| {
            topic_view(
                &lkc,
                name,
                &b,
                t.json["partitions_count"].as_u64().unwrap_or(6),
            )
        })
        .collect();
    ok(
        StatusCode::OK,
        json!({"kind": "KafkaTopicList", "metadata": {"self": format!("{b}/kafka/v3/clusters/{lkc}/topics"), "next": null}, "data": data}),
    )
}

async fn get_topic(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((lkc, name)): Path<(String, String)>,
) -> Reply {
    let world = cc.world();
    authorize(&cc, &world, &headers, &lkc)?;
    match world.topics.get(&(lkc.clone(), name.clone())) {
        Some(t) => ok(
            StatusCode::OK,
            topic_view(
                &lkc,
                &name,
                &base(&headers),
                t.json["partitions_count"].as_u64().unwrap_or(6),
            ),
        ),
        None => Err(rest_error(
            StatusCode::NOT_FOUND,
            40403,
            "This server does not host this topic-partition.",
        )),
    }
}

async fn delete_topic(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((lkc, name)): Path<(String, String)>,
) -> Reply {
    let mut world = cc.world();
    authorize(&cc, &world, &headers, &lkc)?;
    match world.topics.remove(&(lkc.clone(), name)) {
        Some(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        None => Err(rest_error(
            StatusCode::NOT_FOUND,
            40403,
            "This server does not host this topic-partition.",
        )),
    }
}

/// Checks one ACL field against its enum.
fn field<'a>(v: &'a Value, name: &str, allowed: Option<&[&str]>) -> Result<&'a str, Response> {
    let value = v
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let Some(value) = value else {
        return Err(rest_error(
            StatusCode::BAD_REQUEST,
            40001,
            format!("{name} is required"),
        ));
    };
    if let Some(allowed) = allowed
        && !allowed.contains(&value)
    {
        return Err(rest_error(
            StatusCode::BAD_REQUEST,
            40001,
            format!("{name} '{value}' is not one of {allowed:?}"),
        ));
    }
    Ok(value)
}

async fn create_acl(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(lkc): Path<String>,
    bytes: Bytes,
) -> Reply {
    let mut world = cc.world();
    authorize(&cc, &world, &headers, &lkc)?;
    let v = body(Api::KafkaRest, &bytes)?;
    field(&v, "resource_type", Some(RESOURCE_TYPES))?;
    field(&v, "resource_name", None)?;
    field(&v, "pattern_type", Some(&PATTERN_TYPES[..2]))?;
    let principal = field(&v, "principal", None)?;
    field(&v, "host", None)?;
    field(&v, "operation", Some(OPERATIONS))?;
    field(&v, "permission", Some(PERMISSIONS))?;
    if !principal.starts_with("User:") {
        return Err(rest_error(
            StatusCode::BAD_REQUEST,
            40001,
            "principal must look like User:<id>",
        ));
    }
    let acl: Value = ACL_FIELDS
        .iter()
        .map(|f| (f.to_string(), v[f].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let acls = world.acls.entry(lkc).or_default();
    // Kafka treats an ACL that already exists as created.
    if !acls.contains(&acl) {
        acls.push(acl);
    }
    Ok(StatusCode::CREATED.into_response())
}

fn matches(acl: &Value, q: &Query) -> bool {
    ACL_FIELDS
        .iter()
        .all(|f| match q.get(*f).map(String::as_str) {
            None | Some("ANY") => true,
            Some(wanted) => acl[f] == wanted,
        })
}

fn acl_view(acl: &Value, lkc: &str, base: &str) -> Value {
    let mut v = acl.clone();
    v["kind"] = json!("KafkaAcl");
    v["cluster_id"] = json!(lkc);
    v["metadata"] = json!({"self": format!("{base}/kafka/v3/clusters/{lkc}/acls")});
    v
}

async fn list_acls(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(lkc): Path<String>,
    Q(q): Q<Query>,
) -> Reply {
    let world = cc.world();
    authorize(&cc, &world, &headers, &lkc)?;
    let b = base(&headers);
    let data: Vec<Value> = world
        .acls
        .get(&lkc)
        .into_iter()
        .flatten()
        .filter(|a| matches(a, &q))
        .map(|a| acl_view(a, &lkc, &b))
        .collect();
    ok(
        StatusCode::OK,
        json!({"kind": "KafkaAclList", "metadata": {"self": format!("{b}/kafka/v3/clusters/{lkc}/acls"), "next": null}, "data": data}),
    )
}

async fn delete_acls(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(lkc): Path<String>,
    Q(q): Q<Query>,
) -> Reply {
    let mut world = cc.world();
    authorize(&cc, &world, &headers, &lkc)?;
    for required in ["resource_type", "pattern_type", "operation", "permission"] {
        if !q.contains_key(required) {
            return Err(rest_error(
                StatusCode::BAD_REQUEST,
                40001,
                format!("query parameter {required} is required"),
            ));
        }
    }
    let b = base(&headers);
    let acls = world.acls.entry(lkc.clone()).or_default();
    let (gone, kept): (Vec<Value>, Vec<Value>) = acls.drain(..).partition(|a| matches(a, &q));
    *acls = kept;
    let data: Vec<Value> = gone.iter().map(|a| acl_view(a, &lkc, &b)).collect();
    ok(StatusCode::OK, json!({"data": data}))
}
