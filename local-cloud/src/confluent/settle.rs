//! Moves every asynchronous resource along to the phase its age has reached, and makes what the
//! real service makes on the way (a CTAS statement's output topic). With a customer AWS account to
//! reach, Tableflow's phases wait for its work there instead, which `settle` hands back as jobs.

use serde_json::{Value, json};

use super::config::ConfluentConfig;
use super::sync::Job;
use super::world::{Table, World, phase, reap};
use crate::customer_aws::Role;

/// Settles the world; gives the jobs to start in the customer's AWS account, if there is one.
pub fn settle(world: &mut World, config: &ConfluentConfig) -> Vec<Job> {
    let d = &config.delays;
    reap(&mut world.clusters, d.deleting);
    reap(&mut world.compute_pools, d.deleting);
    reap(&mut world.connectors, d.deleting);
    reap(&mut world.topics, d.deleting);
    reap(&mut world.statements, d.deleting);
    for c in world.clusters.values_mut() {
        phase(c, d.cluster, "PROVISIONING", "PROVISIONED");
    }
    for sr in world.schema_registries.values_mut() {
        phase(sr, d.schema_registry, "PROVISIONING", "PROVISIONED");
    }
    for p in world.compute_pools.values_mut() {
        phase(p, d.compute_pool, "PROVISIONING", "PROVISIONED");
    }
    let mut jobs = Vec::new();
    settle_tableflow(world, config, &mut jobs);
    settle_catalogs(world, config, &mut jobs);
    settle_connectors(world, config);
    settle_statements(world, config);
    for job in &jobs {
        world.under_way.insert(job.key());
    }
    jobs
}

/// The role a provider integration lets Tableflow assume, and the region of a cluster.
fn role_and_region(world: &World, pim: &str, lkc: &str) -> Option<(Role, String)> {
    let config = &world.integrations.get(pim)?.json["config"];
    let text = |v: &Value| v.as_str().map(str::to_string);
    let role = Role {
        customer_role: text(&config["customer_iam_role_arn"])?,
        confluent_role: text(&config["iam_role_arn"])?,
        external_id: text(&config["external_id"])?,
    };
    let region = text(&world.clusters.get(lkc)?.json["spec"]["region"])?;
    Some((role, region))
}

fn settle_tableflow(world: &mut World, config: &ConfluentConfig, jobs: &mut Vec<Job>) {
    let org = config.organization_id.clone();
    let mut ready = Vec::new();
    for ((lkc, topic), t) in &world.tableflow_topics {
        if t.json["status"]["phase"] == "PENDING" && t.born.elapsed() >= config.delays.tableflow {
            ready.push((lkc.clone(), topic.clone(), t.json["spec"].clone()));
        }
    }
    for (lkc, topic, spec) in ready {
        let storage = &spec["storage"];
        let env = spec["environment"]["id"].as_str().unwrap_or_default();
        let bucket = storage["bucket_name"].as_str().map(str::to_string);
        let pim = storage["provider_integration_id"]
            .as_str()
            .unwrap_or_default();
        let location = bucket.as_ref().map(|b| {
            let table = uuid::Uuid::new_v4();
            format!("s3://{b}/10011010/{org}/{env}/{lkc}/v1/{table}")
        });
        let key = (lkc.clone(), topic.clone());
        match (bucket, location, config.customer_aws.is_some()) {
            (Some(bucket), Some(location), true) => {
                if world.under_way.contains(&format!("topic {lkc}/{topic}")) {
                    continue;
                }
                let Some((role, region)) = role_and_region(world, pim, &lkc) else {
                    continue;
                };
                let metadata = format!(
                    "{location}/metadata/00000-{}.metadata.json",
                    uuid::Uuid::new_v4()
                );
                jobs.push(Job::Materialize {
                    lkc,
                    topic: topic.clone(),
                    role,
                    region,
                    bucket,
                    table: Table {
                        topic,
                        location,
                        metadata,
                        written: None,
                    },
                });
            }
            // No customer account to write to: the phase moves on its own.
            (_, location, _) => {
                if let Some(t) = world.tableflow_topics.get_mut(&key) {
                    t.json["status"]["phase"] = json!("RUNNING");
                    if let Some(location) = location {
                        t.json["spec"]["storage"]["table_path"] = json!(location);
                    }
                }
            }
        }
    }
}

/// A Glue catalog integration connects by publishing the cluster's tables, then keeps publishing
/// each new one.
fn settle_catalogs(world: &mut World, config: &ConfluentConfig, jobs: &mut Vec<Job>) {
    if config.customer_aws.is_none() {
        for c in world.catalog_integrations.values_mut() {
            phase(c, config.delays.catalog, "PENDING", "CONNECTED");
        }
        return;
    }
    for (id, c) in &world.catalog_integrations {
        let first = c.json["status"]["phase"] == "PENDING";
        let ready = (first && c.born.elapsed() >= config.delays.catalog)
            || c.json["status"]["phase"] == "CONNECTED";
        if !ready || world.under_way.contains(&format!("catalog {id}")) {
            continue;
        }
        let spec = &c.json["spec"];
        let lkc = spec["kafka_cluster"]["id"].as_str().unwrap_or_default();
        let pim = spec["config"]["provider_integration_id"]
            .as_str()
            .unwrap_or_default();
        let tables: Vec<Table> = world
            .tables
            .iter()
            .filter(|((c, _), _)| c == lkc)
            .filter(|(key, _)| first || !world.published.contains(*key))
            .filter(|(_, t)| {
                t.written
                    .is_some_and(|w| w.elapsed() >= config.delays.publish)
            })
            .map(|(_, t)| t.clone())
            .collect();
        if !first && tables.is_empty() {
            continue;
        }
        let Some((role, region)) = role_and_region(world, pim, lkc) else {
            continue;
        };
        jobs.push(Job::Publish {
            catalog: id.clone(),
            lkc: lkc.to_string(),
            role,
            region,
            tables,
        });
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
        match super::flink::ctas(s.json["spec"]["statement"].as_str().unwrap_or_default()) {
            Some(c) if !world.topics.contains_key(&(lkc.clone(), c.source.clone())) => {
                fail(&mut s.json, &format!("Table '{}' not found", c.source))
            }
            Some(c)
                if !c.if_not_exists
                    && world.topics.contains_key(&(lkc.clone(), c.sink.clone())) =>
            {
                let detail = super::flink::table_exists(&lkc, &c.sink, env_name);
                fail(&mut s.json, &detail)
            }
            Some(c) => {
                s.json["status"]["phase"] = json!("RUNNING");
                made_topics.push((lkc, c.sink));
            }
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
