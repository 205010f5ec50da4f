//! connect/v1: managed connectors, with Connect's own object and error model. A connector runs
//! only if its Kafka credentials are good and its principal may write its topic (ACLs).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query as Q, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::reply::{Api, Query, Reply, body, coded, error, ok};
use super::state::Confluent;

const MASK: &str = "****************";
// Both are masked when read back (`read_created_connectors.json`).
const SECRET_CONFIGS: &[&str] = &["kafka.api.key", "kafka.api.secret"];
const DATAGEN_FORMATS: &[&str] = &["AVRO", "JSON", "JSON_SR", "PROTOBUF"];

pub fn routes() -> Router<Confluent> {
    let base = "/connect/v1/environments/{env}/clusters/{lkc}/connectors";
    Router::new()
        .route(base, get(list).post(create))
        .route(&format!("{base}/{{name}}"), get(read).delete(delete))
        .route(&format!("{base}/{{name}}/status"), get(status))
        .route(
            &format!("{base}/{{name}}/config"),
            axum::routing::put(update),
        )
}

fn connect_error(status: StatusCode, message: impl Into<String>) -> axum::response::Response {
    error(Api::Connect, status, message)
}

/// The environment and cluster of the path, which must exist together.
fn scope(
    world: &super::world::World,
    env: &str,
    lkc: &str,
) -> Result<(), axum::response::Response> {
    match world.clusters.get(lkc) {
        Some(c) if c.json["spec"]["environment"]["id"] == env => Ok(()),
        _ => Err(coded(
            StatusCode::NOT_FOUND,
            404,
            format!("Kafka cluster {lkc} not found in environment {env}"),
        )),
    }
}

/// The principal a connector config acts as, or why the config is refused. As the real service
/// does (`connector/managed/*.json`, Confluent's Terraform provider), `SERVICE_ACCOUNT` mode names
/// the account and needs no key; `KAFKA_API_KEY` mode needs a key of this cluster.
fn kafka_principal(
    world: &super::world::World,
    lkc: &str,
    config: &Map<String, Value>,
) -> Result<String, String> {
    let get = |k: &str| config.get(k).and_then(Value::as_str);
    match get("kafka.auth.mode").unwrap_or("KAFKA_API_KEY") {
        "SERVICE_ACCOUNT" => match get("kafka.service.account.id") {
            Some(sa) if world.service_accounts.contains_key(sa) => Ok(format!("User:{sa}")),
            _ => Err("kafka.service.account.id must name an existing service account".into()),
        },
        "KAFKA_API_KEY" => {
            let (Some(key), Some(secret)) = (get("kafka.api.key"), get("kafka.api.secret")) else {
                return Err("config must have required properties 'kafka.api.key' and 'kafka.api.secret' in KAFKA_API_KEY mode".into());
            };
            let key = world
                .keys
                .get(key)
                .filter(|k| k.secret == secret && k.resource.as_deref() == Some(lkc))
                .ok_or(
                    "kafka.api.key and kafka.api.secret must be a valid API key of this cluster",
                )?;
            Ok(format!("User:{}", key.owner))
        }
        other => Err(format!("unknown kafka.auth.mode '{other}'")),
    }
}

/// What Connect adds to a managed connector's config, as read back (`read_created_connectors.json`).
fn server_added(world: &super::world::World, lkc: &str) -> Map<String, Value> {
    let cluster = world.clusters.get(lkc).map(|c| &c.json["spec"]);
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    let mut added = Map::new();
    added.insert("cloud.environment".into(), json!("prod"));
    added.insert(
        "cloud.provider".into(),
        json!(text(cluster.map(|c| &c["cloud"])).to_ascii_lowercase()),
    );
    added.insert(
        "kafka.endpoint".into(),
        json!(text(cluster.map(|c| &c["kafka_bootstrap_endpoint"]))),
    );
    added.insert(
        "kafka.region".into(),
        json!(text(cluster.map(|c| &c["region"]))),
    );
    added.insert(
        "kafka.max.partition.validation.disable".into(),
        json!("false"),
    );
    added
}

/// Connect's 404, in the shape recorded (`connector/managed/read_deleted_connector.json`), not
/// the `{"error": ...}` its spec shows for other errors.
fn no_connector(name: &str) -> axum::response::Response {
    coded(
        StatusCode::NOT_FOUND,
        404,
        format!("resource not found: connector {name}"),
    )
}

/// The connector of the path, in its environment and cluster, or Connect's 404.
fn connector<'a>(
    world: &'a super::world::World,
    env: &str,
    lkc: &str,
    name: &str,
) -> Result<&'a super::world::Item, axum::response::Response> {
    scope(world, env, lkc)?;
    let key = (env.to_string(), lkc.to_string(), name.to_string());
    world.connectors.get(&key).ok_or_else(|| no_connector(name))
}

fn masked(config: &Value) -> Value {
    let mut config = config.clone();
    for key in SECRET_CONFIGS {
        if config.get(*key).is_some() {
            config[*key] = json!(MASK);
        }
    }
    config
}

fn view(item: &Value) -> Value {
    json!({"name": item["name"], "type": "source", "config": masked(&item["config"]), "tasks": item["tasks"]})
}

async fn create(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((env, lkc)): Path<(String, String)>,
    bytes: Bytes,
) -> Reply {
    cc.caller_cloud(&headers)?;
    let v = body(Api::Connect, &bytes)?;
    let mut world = cc.world();
    scope(&world, &env, &lkc)?;
    let Some(name) = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return Err(connect_error(StatusCode::BAD_REQUEST, "name is required"));
    };
    let Some(config) = v.get("config").and_then(Value::as_object) else {
        return Err(connect_error(StatusCode::BAD_REQUEST, "config is required"));
    };
    if let Some((k, _)) = config.iter().find(|(_, v)| !v.is_string()) {
        return Err(connect_error(
            StatusCode::BAD_REQUEST,
            format!("config value of '{k}' must be a string"),
        ));
    }
    let get = |k: &str| config.get(k).and_then(Value::as_str);
    let Some(class) = get("connector.class") else {
        return Err(connect_error(
            StatusCode::BAD_REQUEST,
            "config 'connector.class' is required for a managed connector",
        ));
    };
    if get("name") != Some(name) {
        return Err(connect_error(
            StatusCode::BAD_REQUEST,
            "config 'name' must equal the connector's name",
        ));
    }
    // The spec requires a Kafka API key in every config; it must be a key of this cluster. The
    // connector acts as the key's owner, or as the named account in SERVICE_ACCOUNT mode.
    let principal = match kafka_principal(&world, &lkc, config) {
        Ok(p) => p,
        Err(message) => return Err(connect_error(StatusCode::BAD_REQUEST, message)),
    };
    if class == "DatagenSource" {
        let Some(topic) = get("kafka.topic") else {
            return Err(connect_error(
                StatusCode::BAD_REQUEST,
                "DatagenSource needs 'kafka.topic'",
            ));
        };
        if !world.topics.contains_key(&(lkc.clone(), topic.to_string())) {
            return Err(connect_error(
                StatusCode::BAD_REQUEST,
                format!("topic '{topic}' does not exist"),
            ));
        }
        if !get("output.data.format").is_some_and(|f| DATAGEN_FORMATS.contains(&f)) {
            return Err(connect_error(
                StatusCode::BAD_REQUEST,
                format!("DatagenSource needs 'output.data.format', one of {DATAGEN_FORMATS:?}"),
            ));
        }
        if get("quickstart").is_none() {
            return Err(connect_error(
                StatusCode::BAD_REQUEST,
                "DatagenSource needs 'quickstart'",
            ));
        }
    }
    let key = (env.clone(), lkc.clone(), name.to_string());
    if world.connectors.contains_key(&key) {
        return Err(connect_error(
            StatusCode::BAD_REQUEST,
            format!("Connector {name} already exists"),
        ));
    }
    let tasks: Vec<Value> = (0..get("tasks.max")
        .and_then(|t| t.parse::<u32>().ok())
        .unwrap_or(1))
        .map(|t| json!({"connector": name, "task": t}))
        .collect();
    let mut config = config.clone();
    config.extend(server_added(&world, &lkc));
    let id = world.id("lcc", 5);
    let stored = json!({"name": name, "id": id, "config": Value::Object(config), "tasks": tasks, "state": "PROVISIONING", "trace": "", "principal": principal});
    let item = world.item(stored.clone());
    world.connectors.insert(key, item);
    ok(StatusCode::CREATED, view(&stored))
}

async fn list(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((env, lkc)): Path<(String, String)>,
    Q(q): Q<Query>,
) -> Reply {
    cc.caller_cloud(&headers)?;
    let world = cc.world();
    scope(&world, &env, &lkc)?;
    let mine = world
        .connectors
        .iter()
        .filter(|((e, c, _), _)| e == &env && c == &lkc);
    if let Some(expand) = q.get("expand") {
        // Each expansion asked for, in the recorded shape (`read_created_connectors.json`).
        let asked: Vec<&str> = expand.split(',').map(str::trim).collect();
        let map: Map<String, Value> = mine
            .map(|((_, _, name), item)| {
                let mut entry = json!({"extensions": {}});
                if asked.contains(&"id") {
                    entry["id"] = json!({"id": item.json["id"], "id_type": "ID"});
                }
                if asked.contains(&"info") {
                    entry["info"] = view(&item.json);
                }
                if asked.contains(&"status") {
                    entry["status"] = status_body(&item.json);
                }
                (name.clone(), entry)
            })
            .collect();
        return ok(StatusCode::OK, Value::Object(map));
    }
    let names: Vec<Value> = mine.map(|((_, _, name), _)| json!(name)).collect();
    ok(StatusCode::OK, Value::Array(names))
}

async fn read(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((env, lkc, name)): Path<(String, String, String)>,
) -> Reply {
    cc.caller_cloud(&headers)?;
    let world = cc.world();
    ok(
        StatusCode::OK,
        view(&connector(&world, &env, &lkc, &name)?.json),
    )
}

fn status_body(item: &Value) -> Value {
    let state = item["state"].as_str().unwrap_or("PROVISIONING");
    let tasks: Vec<Value> = item["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| json!({"id": t["task"], "state": state, "worker_id": "local-cloud", "msg": item["trace"]}))
        .collect();
    json!({
        "name": item["name"], "type": "source",
        "connector": {"state": state, "worker_id": "local-cloud", "trace": item["trace"]},
        "tasks": tasks,
    })
}

async fn status(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((env, lkc, name)): Path<(String, String, String)>,
) -> Reply {
    cc.caller_cloud(&headers)?;
    let world = cc.world();
    ok(
        StatusCode::OK,
        status_body(&connector(&world, &env, &lkc, &name)?.json),
    )
}

async fn delete(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((env, lkc, name)): Path<(String, String, String)>,
) -> Reply {
    cc.caller_cloud(&headers)?;
    let mut world = cc.world();
    scope(&world, &env, &lkc)?;
    // The connector stops and goes a while later; `settle` removes it.
    match world.connectors.get_mut(&(env, lkc, name.clone())) {
        Some(c) if c.deleting.is_none() => {
            c.deleting = Some(std::time::Instant::now());
            ok(StatusCode::OK, json!({"error": null}))
        }
        _ => Err(no_connector(&name)),
    }
}

/// `PUT …/{name}/config`: the flat config map replaces the connector's (200).
async fn update(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((env, lkc, name)): Path<(String, String, String)>,
    bytes: Bytes,
) -> Reply {
    cc.caller_cloud(&headers)?;
    let v = body(Api::Connect, &bytes)?;
    let mut world = cc.world();
    scope(&world, &env, &lkc)?;
    let config = v.as_object().cloned().unwrap_or_default();
    if let Some((k, _)) = config.iter().find(|(_, v)| !v.is_string()) {
        return Err(connect_error(
            StatusCode::BAD_REQUEST,
            format!("config value of '{k}' must be a string"),
        ));
    }
    let principal = kafka_principal(&world, &lkc, &config)
        .map_err(|m| connect_error(StatusCode::BAD_REQUEST, m))?;
    let mut config = config;
    config.extend(server_added(&world, &lkc));
    let Some(item) = world.connectors.get_mut(&(env, lkc, name.clone())) else {
        return Err(no_connector(&name));
    };
    item.json["config"] = Value::Object(config);
    item.json["principal"] = json!(principal);
    ok(StatusCode::OK, view(&item.json))
}
