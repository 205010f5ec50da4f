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

use super::rbac;
use super::reply::{Api, Query, Reply, base, basic_auth, body, coded, ok};
use super::state::Confluent;
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
            get(get_topic).patch(update_topic).delete(delete_topic),
        )
        .route(
            "/kafka/v3/clusters/{lkc}/acls",
            get(list_acls).post(create_acl).delete(delete_acls),
        )
}

/// What a call needs of its caller beyond a working key of this cluster.
pub(super) enum Need<'a> {
    /// Any working key: listing and reading topics.
    Key,
    /// Create or delete this topic: a cluster admin, or an owner of the topic.
    Topic(&'a str),
    /// ACLs: a cluster admin.
    Admin,
}

/// Kafka REST's 401: the Jetty page it answers with, not JSON (`apikey/read_list_topics_401.html`).
fn unauthorized_page(lkc: &str) -> Response {
    let page = format!(
        "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n\
         <title>Error 401 Unauthorized</title>\n</head>\n<body><h2>HTTP ERROR 401 Unauthorized</h2>\n\
         <table>\n<tr><th>URI:</th><td>/kafka/v3/clusters/{lkc}/topics</td></tr>\n\
         <tr><th>STATUS:</th><td>401</td></tr>\n<tr><th>MESSAGE:</th><td>Unauthorized</td></tr>\n\
         <tr><th>SERVLET:</th><td>default</td></tr>\n</table>\n\n</body>\n</html>\n"
    );
    (
        StatusCode::UNAUTHORIZED,
        [(axum::http::header::CONTENT_TYPE, "text/html;charset=utf-8")],
        page,
    )
        .into_response()
}

/// Only a key bound to this cluster, once it has propagated, may use its REST API (a new key is
/// refused with 401 for the first half of its propagation, then 403); what it may do is what its
/// owner's role bindings grant, as RBAC grants them.
pub(super) fn authorize(
    cc: &Confluent,
    world: &World,
    headers: &HeaderMap,
    lkc: &str,
    need: Need,
) -> Result<(), Response> {
    let (id, secret) = basic_auth(headers).ok_or_else(|| unauthorized_page(lkc))?;
    let key = world
        .keys
        .get(&id)
        .filter(|k| k.secret == secret && k.resource.as_deref() == Some(lkc))
        .ok_or_else(|| unauthorized_page(lkc))?;
    let age = key.item.born.elapsed();
    if age < key.item.settles / 2 {
        return Err(unauthorized_page(lkc));
    }
    let forbidden = |what: String| {
        coded(
            StatusCode::FORBIDDEN,
            40301,
            format!("Request is not authorized: {what}"),
        )
    };
    if !key.item.settled() {
        return Err(forbidden(format!("API key {id} is not active yet")));
    }
    let Some(cluster) = world.clusters.get(lkc) else {
        return Err(coded(
            StatusCode::NOT_FOUND,
            40403,
            format!("Cluster {lkc} not found"),
        ));
    };
    let crn = cluster.json["metadata"]["resource_name"]
        .as_str()
        .unwrap_or_default();
    let principal = format!("User:{}", key.owner);
    let may = |roles: &[&str], resource: &str| {
        rbac::allows(world, &principal, roles, resource, |rb| rb.settled())
    };
    let _ = cc;
    let allowed = match need {
        Need::Key => true,
        Need::Admin => may(rbac::CLUSTER_ADMINS, crn),
        Need::Topic(name) => {
            may(rbac::CLUSTER_ADMINS, crn)
                || may(rbac::TOPIC_OWNERS, &format!("{crn}/topic={name}"))
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(forbidden(format!(
            "{principal} holds no role on {lkc} that allows this"
        )))
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
    authorize(&cc, &world, &headers, &lkc, Need::Key)?;
    let v = body(Api::KafkaRest, &bytes)?;
    let Some(name) = v
        .get("topic_name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return Err(coded(
            StatusCode::BAD_REQUEST,
            40001,
            "topic_name is required",
        ));
    };
    authorize(&cc, &world, &headers, &lkc, Need::Topic(name))?;
    let partitions = v
        .get("partitions_count")
        .and_then(Value::as_u64)
        .unwrap_or(6);
    let key = (lkc.clone(), name.to_string());
    if world.topics.contains_key(&key) {
        return Err(coded(
            StatusCode::BAD_REQUEST,
            40002,
            format!("Topic '{name}' already exists."),
        ));
    }
    let configs = super::topic_configs::from_create(&v);
    let item = world.item(json!({"partitions_count": partitions, "configs": configs}));
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
    authorize(&cc, &world, &headers, &lkc, Need::Key)?;
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
    authorize(&cc, &world, &headers, &lkc, Need::Key)?;
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
        None => Err(coded(
            StatusCode::NOT_FOUND,
            40403,
            "This server does not host this topic-partition.",
        )),
    }
}

/// Kafka REST's 404 for a topic that is not there.
pub(super) fn no_topic() -> Response {
    coded(
        StatusCode::NOT_FOUND,
        40403,
        "This server does not host this topic-partition.",
    )
}

/// Raises the partition count; Kafka can only increase it.
async fn update_topic(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((lkc, name)): Path<(String, String)>,
    bytes: Bytes,
) -> Reply {
    let mut world = cc.world();
    authorize(&cc, &world, &headers, &lkc, Need::Topic(&name))?;
    let v = body(Api::KafkaRest, &bytes)?;
    let Some(wanted) = v.get("partitions_count").and_then(Value::as_u64) else {
        return Err(coded(
            StatusCode::BAD_REQUEST,
            40001,
            "partitions_count is required",
        ));
    };
    let b = base(&headers);
    let topic = world
        .topics
        .get_mut(&(lkc.clone(), name.clone()))
        .filter(|t| t.deleting.is_none())
        .ok_or_else(no_topic)?;
    let now = topic.json["partitions_count"].as_u64().unwrap_or(6);
    if wanted == now {
        return Err(coded(
            StatusCode::BAD_REQUEST,
            40002,
            format!("Topic already has {now} partitions."),
        ));
    }
    if wanted < now {
        return Err(coded(
            StatusCode::BAD_REQUEST,
            40002,
            format!(
                "Topic currently has {now} partitions, which is higher than the requested {wanted}."
            ),
        ));
    }
    topic.json["partitions_count"] = json!(wanted);
    ok(StatusCode::OK, topic_view(&lkc, &name, &b, wanted))
}

async fn delete_topic(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((lkc, name)): Path<(String, String)>,
) -> Reply {
    let mut world = cc.world();
    authorize(&cc, &world, &headers, &lkc, Need::Topic(&name))?;
    // Kafka deletes a topic's partitions in the background; `settle` removes it.
    match world.topics.get_mut(&(lkc.clone(), name)) {
        Some(t) if t.deleting.is_none() => {
            t.deleting = Some(std::time::Instant::now());
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(coded(
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
        return Err(coded(
            StatusCode::BAD_REQUEST,
            40001,
            format!("{name} is required"),
        ));
    };
    if let Some(allowed) = allowed
        && !allowed.contains(&value)
    {
        return Err(coded(
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
    authorize(&cc, &world, &headers, &lkc, Need::Admin)?;
    let v = body(Api::KafkaRest, &bytes)?;
    field(&v, "resource_type", Some(RESOURCE_TYPES))?;
    field(&v, "resource_name", None)?;
    field(&v, "pattern_type", Some(&PATTERN_TYPES[..2]))?;
    let principal = field(&v, "principal", None)?;
    field(&v, "host", None)?;
    field(&v, "operation", Some(OPERATIONS))?;
    field(&v, "permission", Some(PERMISSIONS))?;
    if !principal.starts_with("User:") {
        return Err(coded(
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
    authorize(&cc, &world, &headers, &lkc, Need::Admin)?;
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
    authorize(&cc, &world, &headers, &lkc, Need::Admin)?;
    for required in ["resource_type", "pattern_type", "operation", "permission"] {
        if !q.contains_key(required) {
            return Err(coded(
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
