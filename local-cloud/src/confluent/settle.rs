//! Moves every asynchronous resource along to the phase its age has reached, and makes what the
//! real service makes on the way (a CTAS statement's output topic).

use serde_json::{Value, json};

use super::ConfluentConfig;
use super::world::{World, phase};

pub fn settle(world: &mut World, config: &ConfluentConfig) {
    let d = &config.delays;
    for c in world.clusters.values_mut() {
        phase(c, d.cluster, "PROVISIONING", "PROVISIONED");
    }
    for sr in world.schema_registries.values_mut() {
        phase(sr, d.schema_registry, "PROVISIONING", "PROVISIONED");
    }
    for p in world.compute_pools.values_mut() {
        phase(p, d.compute_pool, "PROVISIONING", "PROVISIONED");
    }
    for c in world.catalog_integrations.values_mut() {
        phase(c, d.catalog, "PENDING", "CONNECTED");
    }
    settle_tableflow(world, config);
    settle_connectors(world, config);
    settle_statements(world, config);
}

fn settle_tableflow(world: &mut World, config: &ConfluentConfig) {
    let org = config.organization_id.clone();
    for ((lkc, _), t) in world.tableflow_topics.iter_mut() {
        if t.json["status"]["phase"] != "PENDING" || t.born.elapsed() < config.delays.tableflow {
            continue;
        }
        t.json["status"]["phase"] = json!("RUNNING");
        let env = t.json["spec"]["environment"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let Some(bucket) = t.json["spec"]["storage"]["bucket_name"]
            .as_str()
            .map(str::to_string)
        {
            let table = uuid::Uuid::new_v4();
            t.json["spec"]["storage"]["table_path"] = json!(format!(
                "s3://{bucket}/10011010/{org}/{env}/{lkc}/v1/{table}"
            ));
        }
    }
}

/// A connector runs once provisioned if its principal may write its topic; else it fails.
fn settle_connectors(world: &mut World, config: &ConfluentConfig) {
    let acls = world.acls.clone();
    for ((_, lkc, _), c) in world.connectors.iter_mut() {
        if c.json["state"] != "PROVISIONING" || c.born.elapsed() < config.delays.connector {
            continue;
        }
        let topic = c.json["config"]["kafka.topic"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let principal = c.json["principal"].as_str().map(str::to_string);
        let may_write = principal.is_none_or(|p| {
            acls.get(lkc).into_iter().flatten().any(|a| {
                a["principal"] == p.as_str()
                    && a["resource_type"] == "TOPIC"
                    && a["resource_name"] == topic.as_str()
                    && matches!(a["operation"].as_str(), Some("WRITE" | "ALL"))
                    && a["permission"] == "ALLOW"
            })
        });
        if may_write {
            c.json["state"] = json!("RUNNING");
        } else {
            c.json["state"] = json!("FAILED");
            c.json["trace"] = json!(format!(
                "org.apache.kafka.common.errors.TopicAuthorizationException: Not authorized to access topics: [{topic}]"
            ));
        }
    }
}

/// `CREATE TABLE `x` ... FROM `y`` : the names a CTAS writes and reads.
fn ctas_tables(sql: &str) -> Option<(String, String)> {
    let quoted = |after: &str| -> Option<String> {
        let i = sql.find(after)? + after.len();
        let rest = sql[i..].trim_start().strip_prefix('`')?;
        Some(rest[..rest.find('`')?].to_string())
    };
    Some((quoted("CREATE TABLE")?, quoted("FROM")?))
}

fn settle_statements(world: &mut World, config: &ConfluentConfig) {
    let mut made_topics = Vec::new();
    for s in world.statements.values_mut() {
        if s.json["status"]["phase"] != "PENDING" || s.born.elapsed() < config.delays.statement {
            continue;
        }
        let pool = s.json["spec"]["compute_pool_id"]
            .as_str()
            .unwrap_or_default();
        if world
            .compute_pools
            .get(pool)
            .is_none_or(|p| p.json["status"]["phase"] != "PROVISIONED")
        {
            continue;
        }
        let props = s.json["spec"]["properties"].clone();
        let env_name = props["sql.current-catalog"].as_str().unwrap_or_default();
        let db_name = props["sql.current-database"].as_str().unwrap_or_default();
        let env = world
            .environments
            .values()
            .find(|e| e.json["display_name"] == env_name)
            .map(|e| e.json["id"].clone());
        let cluster = env.as_ref().and_then(|env| {
            world.clusters.values().find(|c| {
                c.json["spec"]["environment"]["id"] == *env
                    && c.json["spec"]["display_name"] == db_name
            })
        });
        let Some(lkc) = cluster
            .and_then(|c| c.json["id"].as_str())
            .map(str::to_string)
        else {
            fail(
                &mut s.json,
                &format!("Catalog '{env_name}' or database '{db_name}' not found"),
            );
            continue;
        };
        match ctas_tables(s.json["spec"]["statement"].as_str().unwrap_or_default()) {
            Some((sink, source)) if world.topics.contains_key(&(lkc.clone(), source.clone())) => {
                s.json["status"]["phase"] = json!("RUNNING");
                made_topics.push((lkc, sink));
            }
            Some((_, source)) => fail(&mut s.json, &format!("Table '{source}' not found")),
            None => s.json["status"]["phase"] = json!("COMPLETED"),
        }
    }
    for key in made_topics {
        if !world.topics.contains_key(&key) {
            let item = world.item(json!({"partitions_count": 6}));
            world.topics.insert(key, item);
        }
    }
}

fn fail(statement: &mut Value, detail: &str) {
    statement["status"]["phase"] = json!("FAILED");
    statement["status"]["detail"] = json!(detail);
}
