//! A topic's configs on Kafka REST v3: one topic's (`topics/{t}/configs`), every topic's
//! (`topics/-/configs`), and a batch change (`configs:alter`). Each topic holds only what was
//! set on it (DYNAMIC_TOPIC_CONFIG); everything else reads as the cluster's default, as the
//! spec's `KafkaTopicConfig` shows it.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::kafka::{Need, authorize, no_topic};
use super::reply::{Api, Reply, base, body, coded, ok};
use super::state::Confluent;

/// Confluent Cloud's defaults for the configs a topic most often sets.
const DEFAULTS: &[(&str, &str)] = &[
    ("cleanup.policy", "delete"),
    ("max.message.bytes", "2097164"),
    ("message.timestamp.type", "CreateTime"),
    ("min.insync.replicas", "2"),
    ("retention.bytes", "-1"),
    ("retention.ms", "604800000"),
    ("segment.bytes", "104857600"),
];

pub fn routes() -> Router<Confluent> {
    Router::new()
        .route("/kafka/v3/clusters/{lkc}/topics/-/configs", get(list_all))
        .route("/kafka/v3/clusters/{lkc}/topics/{name}/configs", get(list))
        .route(
            "/kafka/v3/clusters/{lkc}/topics/{name}/configs:alter",
            post(alter),
        )
}

/// The configs a create's `configs` array sets: `[{name, value}]`.
pub fn from_create(v: &Value) -> Map<String, Value> {
    v.get("configs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["name"].as_str()?.to_string(), c["value"].clone())))
        .collect()
}

fn view(lkc: &str, topic: &str, base: &str, name: &str, set: Option<&Value>) -> Value {
    let default = DEFAULTS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let mut synonyms = Vec::new();
    if let Some(v) = set {
        synonyms.push(json!({"name": name, "value": v, "source": "DYNAMIC_TOPIC_CONFIG"}));
    }
    if let Some(d) = default {
        synonyms.push(json!({"name": name, "value": d, "source": "DEFAULT_CONFIG"}));
    }
    let this = format!("{base}/kafka/v3/clusters/{lkc}/topics/{topic}/configs/{name}");
    json!({
        "kind": "KafkaTopicConfig",
        "metadata": {"self": this, "resource_name": format!("crn:///kafka={lkc}/topic={topic}/config={name}")},
        "cluster_id": lkc, "topic_name": topic, "name": name,
        "value": set.cloned().unwrap_or_else(|| json!(default)),
        "is_default": set.is_none(), "is_read_only": false, "is_sensitive": false,
        "source": if set.is_some() { "DYNAMIC_TOPIC_CONFIG" } else { "DEFAULT_CONFIG" },
        "synonyms": synonyms,
    })
}

/// Every config of one topic: the defaults, and what was set beyond them.
fn of_topic(lkc: &str, topic: &str, base: &str, set: &Map<String, Value>) -> Vec<Value> {
    let mut names: Vec<&str> = DEFAULTS.iter().map(|(n, _)| *n).collect();
    names.extend(set.keys().map(String::as_str));
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|n| view(lkc, topic, base, n, set.get(n)))
        .collect()
}

fn set_of(json: &Value) -> Map<String, Value> {
    json["configs"].as_object().cloned().unwrap_or_default()
}

fn page(self_url: String, data: Vec<Value>) -> Reply {
    ok(
        StatusCode::OK,
        json!({"kind": "KafkaTopicConfigList", "metadata": {"self": self_url, "next": null}, "data": data}),
    )
}

async fn list(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((lkc, name)): Path<(String, String)>,
) -> Reply {
    let world = cc.world();
    authorize(&cc, &world, &headers, &lkc, Need::Key)?;
    let b = base(&headers);
    let topic = world
        .topics
        .get(&(lkc.clone(), name.clone()))
        .filter(|t| t.deleting.is_none())
        .ok_or_else(no_topic)?;
    let data = of_topic(&lkc, &name, &b, &set_of(&topic.json));
    page(
        format!("{b}/kafka/v3/clusters/{lkc}/topics/{name}/configs"),
        data,
    )
}

async fn list_all(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(lkc): Path<String>,
) -> Reply {
    let world = cc.world();
    authorize(&cc, &world, &headers, &lkc, Need::Key)?;
    let b = base(&headers);
    let data = world
        .topics
        .iter()
        .filter(|((c, _), t)| c == &lkc && t.deleting.is_none())
        .flat_map(|((_, name), t)| of_topic(&lkc, name, &b, &set_of(&t.json)))
        .collect();
    page(
        format!("{b}/kafka/v3/clusters/{lkc}/topics/-/configs"),
        data,
    )
}

/// Sets each `{name, value}`, and resets each `{name, operation: DELETE}` to its default.
async fn alter(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((lkc, name)): Path<(String, String)>,
    bytes: Bytes,
) -> Reply {
    let mut world = cc.world();
    authorize(&cc, &world, &headers, &lkc, Need::Topic(&name))?;
    let v = body(Api::KafkaRest, &bytes)?;
    let Some(data) = v.get("data").and_then(Value::as_array) else {
        return Err(coded(StatusCode::BAD_REQUEST, 400, "data is required"));
    };
    let mut changes = Vec::new();
    for c in data {
        let Some(config) = c["name"].as_str() else {
            return Err(coded(StatusCode::BAD_REQUEST, 400, "name is required"));
        };
        let delete = c["operation"].as_str() == Some("DELETE");
        match c.get("value") {
            _ if delete => changes.push((config.to_string(), None)),
            Some(Value::String(s)) => changes.push((config.to_string(), Some(s.clone()))),
            _ => {
                return Err(coded(
                    StatusCode::BAD_REQUEST,
                    40002,
                    format!("Invalid value null for configuration {config}"),
                ));
            }
        }
    }
    let topic = world
        .topics
        .get_mut(&(lkc, name))
        .filter(|t| t.deleting.is_none())
        .ok_or_else(no_topic)?;
    if v["validate_only"].as_bool() == Some(true) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let mut set = set_of(&topic.json);
    for (config, value) in changes {
        match value {
            Some(value) => set.insert(config, json!(value)),
            None => set.remove(&config),
        };
    }
    topic.json["configs"] = Value::Object(set);
    Ok(StatusCode::NO_CONTENT.into_response())
}
