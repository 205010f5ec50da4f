//! Everything the three stand-ins hold, read the way an auditor would: moto listed in full with
//! the SDK, Confluent through its public API (every environment, and every kind inside it), and
//! the Snowflake emulator's registry. A read that fails fails the census: a failed read is never
//! counted as nothing.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::time::Duration;

use base64::Engine as _;
use local_cloud::snowflake::{Kind, Snowflake};
use serde_json::Value;

use super::clouds::{self, CONFLUENT_KEY, CONFLUENT_SECRET};

/// Each kind of thing, with the names or ids of what is there, sorted.
pub type Census = BTreeMap<String, Vec<String>>;

/// How many of each kind.
pub fn counts(census: &Census) -> BTreeMap<String, usize> {
    census.iter().map(|(k, v)| (k.clone(), v.len())).collect()
}

/// What `now` holds beyond `before`, by kind (the account's own admin user, say, is in both).
pub fn added(now: &Census, before: &Census) -> Census {
    let mut out = Census::new();
    for (kind, items) in now {
        let mut old = before.get(kind).cloned().unwrap_or_default();
        for item in items {
            match old.iter().position(|o| o == item) {
                Some(i) => {
                    old.remove(i);
                }
                None => out.entry(kind.clone()).or_default().push(item.clone()),
            }
        }
    }
    out
}

/// Fails unless the stand-ins hold exactly what they held at `pristine`, naming what is left.
pub fn assert_back_to(now: &Census, pristine: &Census, when: &str) {
    assert!(
        now == pristine,
        "{when}, the stand-ins still hold {:?} (and lost {:?})",
        added(now, pristine),
        added(pristine, now)
    );
}

/// The census of the shared stand-ins.
pub fn shared() -> Census {
    let e = clouds::emulators();
    take(&e.url, &e.snowflake)
}

/// The census of the Confluent emulator at `confluent`, the Snowflake registry, and moto.
pub fn take(confluent: &str, snowflake: &Snowflake) -> Census {
    take_in(confluent, snowflake, &[clouds::REGION])
}

/// [`take`], reading moto's regional services (Secrets Manager, Glue) in each of `regions`: a
/// stack in another region keeps its secrets, and so the keys the census reads with, there.
pub fn take_in(confluent: &str, snowflake: &Snowflake, regions: &[&str]) -> Census {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (mut census, credentials) = runtime.block_on(moto(regions));
    census.extend(confluent_census(confluent, &credentials));
    for kind in [
        Kind::Warehouse,
        Kind::Database,
        Kind::Schema,
        Kind::Role,
        Kind::User,
        Kind::ExternalVolume,
        Kind::CatalogIntegration,
        Kind::IcebergTable,
    ] {
        let mut names = snowflake.names(kind);
        names.sort();
        census.insert(format!("snowflake {kind:?}"), names);
    }
    let mut grants: Vec<String> = snowflake
        .grants()
        .into_iter()
        .map(|(what, to)| format!("{what} TO {to}"))
        .collect();
    grants.sort();
    census.insert("snowflake grants".into(), grants);
    census
}

/// A plain GET with basic credentials: status and JSON body. Injected throttling and server
/// errors are waited out; anything else is the answer.
pub fn get(base: &str, path: &str, user: &str, password: &str) -> (u16, Value) {
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    for _ in 0..20 {
        let mut s = std::net::TcpStream::connect(host).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAuthorization: Basic {token}\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let status: u16 = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP answer to GET {path}: {text:?}"));
        if matches!(status, 429 | 500 | 503) {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().trim();
        return (status, serde_json::from_str(body).unwrap_or(Value::Null));
    }
    panic!("GET {path} kept failing");
}

/// The `data` of a list, every page of it (`metadata.next`, as the API pages by 10 unless asked),
/// read with the first credentials it accepts; the census fails if none is.
fn list(base: &str, path: &str, credentials: &[(String, String)]) -> Vec<Value> {
    let mut refused = Vec::new();
    for (user, password) in credentials {
        let (status, mut body) = get(base, path, user, password);
        if status != 200 {
            refused.push(status);
            continue;
        }
        let mut items = Vec::new();
        loop {
            items.extend(
                body["data"]
                    .as_array()
                    .unwrap_or_else(|| panic!("GET {path}: no data in {body}"))
                    .iter()
                    .cloned(),
            );
            let Some(next) = body["metadata"]["next"].as_str().filter(|n| !n.is_empty()) else {
                return items;
            };
            let next = next
                .strip_prefix(base.trim_end_matches('/'))
                .unwrap_or_else(|| panic!("GET {path}: next page {next} is elsewhere"))
                .to_string();
            let (status, page) = get(base, &next, user, password);
            assert_eq!(status, 200, "GET {next}: {page}");
            body = page;
        }
    }
    panic!("GET {path} was refused with every credential: {refused:?}");
}

fn ids(items: &[Value], field: &str) -> Vec<String> {
    let mut out: Vec<String> = items
        .iter()
        .map(|i| {
            i[field]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| i.to_string())
        })
        .collect();
    out.sort();
    out
}

/// Every kind of the Confluent emulator, through its API. Clusters, compute pools and
/// integrations live in an environment, which refuses deletion while they do; topics, ACLs,
/// connectors and Tableflow's objects live in a cluster and go with it; so every environment
/// listed, and every cluster in it, reaches everything.
fn confluent_census(base: &str, stored: &[(String, String)]) -> Census {
    let cloud = vec![(CONFLUENT_KEY.to_string(), CONFLUENT_SECRET.to_string())];
    let mut keys: Vec<(String, String)> = cloud.clone();
    keys.extend(stored.iter().cloned());
    let mut out = Census::new();
    let mut add = |kind: &str, mut items: Vec<String>| {
        let entry = out.entry(format!("confluent {kind}")).or_default();
        entry.append(&mut items);
        entry.sort();
    };
    let envs = list(base, "/org/v2/environments", &cloud);
    add("environments", ids(&envs, "id"));
    let sas = list(base, "/iam/v2/service-accounts", &cloud);
    add("service accounts", ids(&sas, "id"));
    add(
        "api keys",
        ids(&list(base, "/iam/v2/api-keys", &cloud), "id"),
    );
    let bindings = "/iam/v2/role-bindings?crn_pattern=crn://confluent.cloud/";
    add("role bindings", ids(&list(base, bindings, &cloud), "id"));
    for kind in [
        "clusters",
        "schema registries",
        "compute pools",
        "provider integrations",
        "statements",
        "topics",
        "acls",
        "connectors",
        "tableflow topics",
        "catalog integrations",
    ] {
        add(kind, Vec::new());
    }
    let orgs = list(base, "/org/v2/organizations", &cloud);
    for env in ids(&envs, "id") {
        let q = format!("environment={env}");
        let clusters = list(base, &format!("/cmk/v2/clusters?{q}"), &cloud);
        add("clusters", ids(&clusters, "id"));
        let srs = list(base, &format!("/srcm/v3/clusters?{q}"), &cloud);
        add("schema registries", ids(&srs, "id"));
        let pools = list(base, &format!("/fcpm/v2/compute-pools?{q}"), &cloud);
        add("compute pools", ids(&pools, "id"));
        let pim = list(base, &format!("/pim/v1/integrations?{q}"), &cloud);
        add("provider integrations", ids(&pim, "id"));
        for org in ids(&orgs, "id") {
            let path = format!("/sql/v1/organizations/{org}/environments/{env}/statements");
            add("statements", ids(&list(base, &path, &keys), "name"));
        }
        for lkc in ids(&clusters, "id") {
            let topics = list(base, &format!("/kafka/v3/clusters/{lkc}/topics"), &keys);
            add("topics", ids(&topics, "topic_name"));
            let acls = list(base, &format!("/kafka/v3/clusters/{lkc}/acls"), &keys);
            add("acls", ids(&acls, "principal"));
            let path = format!("/connect/v1/environments/{env}/clusters/{lkc}/connectors");
            add("connectors", connectors(base, &path, &cloud));
            let q = format!("environment={env}&spec.kafka_cluster={lkc}");
            let tf = list(base, &format!("/tableflow/v1/tableflow-topics?{q}"), &keys);
            add("tableflow topics", ids(&tf, "spec"));
            let path = format!("/tableflow/v1/catalog-integrations?{q}");
            add("catalog integrations", ids(&list(base, &path, &keys), "id"));
        }
    }
    out
}

/// Connect lists connector names as a bare array, not a `data` list.
fn connectors(base: &str, path: &str, cloud: &[(String, String)]) -> Vec<String> {
    let (user, password) = &cloud[0];
    let (status, body) = get(base, path, user, password);
    assert_eq!(status, 200, "GET {path}: {body}");
    let names = body
        .as_array()
        .unwrap_or_else(|| panic!("GET {path}: {body}"));
    ids(names, "name")
}

/// moto in full, and the credentials of every key the stack keeps there (so that the census can
/// read what only a cluster's or Flink's own key may list).
/// Regional kinds are named as before in the stand-ins' own region, and `... in <region>` in others.
async fn moto(regions: &[&str]) -> (Census, Vec<(String, String)>) {
    let config = clouds::moto_sdk().await;
    let s3 = clouds::moto_s3().await;
    let iam = aws_sdk_iam::Client::new(&config);
    let mut out = Census::new();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let buckets = s3.list_buckets().send().await.unwrap();
    let buckets: Vec<String> = buckets
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect();
    // Every list is read to its last page: a fleet of stacks holds more than one page of each.
    let mut objects = Vec::new();
    for b in &buckets {
        let mut pages = s3.list_objects_v2().bucket(b).into_paginator().send();
        while let Some(listed) = pages.next().await {
            for o in listed.unwrap().contents() {
                objects.push(format!("{b}/{}", o.key().unwrap_or_default()));
            }
        }
    }
    out.insert("aws buckets".into(), sorted(buckets));
    out.insert("aws objects".into(), sorted(objects));
    let roles: Vec<String> = iam
        .list_roles()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .map(|r| r.role_name().into())
        .collect();
    let mut inline = Vec::new();
    for role in &roles {
        let names = iam
            .list_role_policies()
            .role_name(role)
            .send()
            .await
            .unwrap();
        inline.extend(names.policy_names().iter().map(|p| format!("{role}/{p}")));
    }
    out.insert("aws roles".into(), sorted(roles));
    out.insert("aws role inline policies".into(), sorted(inline));
    let local = aws_sdk_iam::types::PolicyScopeType::Local;
    let policies = iam.list_policies().scope(local).into_paginator().items();
    let policies = policies
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let policies = policies.iter();
    let policies = policies.filter_map(|p| p.policy_name().map(str::to_string));
    out.insert("aws policies".into(), sorted(policies.collect()));
    let users = iam.list_users().into_paginator().items().send();
    let users = users.collect::<Result<Vec<_>, _>>().await.unwrap();
    let users = users.iter().map(|u| u.user_name().to_string());
    out.insert("aws users".into(), sorted(users.collect()));
    let mut credentials = Vec::new();
    for region in regions {
        let config = clouds::moto_sdk_in(region).await;
        let suffix = match *region {
            clouds::REGION => String::new(),
            other => format!(" in {other}"),
        };
        for (kind, items) in regional(&config, &mut credentials).await {
            out.insert(format!("{kind}{suffix}"), items);
        }
    }
    (out, credentials)
}

/// Glue and Secrets Manager in the region of `config`, adding the keys the secrets hold.
async fn regional(
    config: &aws_config::SdkConfig,
    credentials: &mut Vec<(String, String)>,
) -> Census {
    let sm = aws_sdk_secretsmanager::Client::new(config);
    let glue = aws_sdk_glue::Client::new(config);
    let mut out = Census::new();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let (mut databases, mut tables) = (Vec::new(), Vec::new());
    let pages = glue.get_databases().into_paginator().send();
    let pages = pages.collect::<Result<Vec<_>, _>>().await.unwrap();
    for db in pages.iter().flat_map(|p| p.database_list()) {
        databases.push(db.name().to_string());
        let listed = glue.get_tables().database_name(db.name()).into_paginator();
        let listed = listed.send().collect::<Result<Vec<_>, _>>().await.unwrap();
        for t in listed.iter().flat_map(|p| p.table_list()) {
            tables.push(format!("{}.{}", db.name(), t.name()));
        }
    }
    out.insert("aws glue databases".into(), sorted(databases));
    out.insert("aws glue tables".into(), sorted(tables));
    let mut names = Vec::new();
    let pages = sm.list_secrets().into_paginator().send();
    let pages = pages.collect::<Result<Vec<_>, _>>().await.unwrap();
    for entry in pages.iter().flat_map(|p| p.secret_list()) {
        let name = entry.name().unwrap_or_default().to_string();
        let value = sm.get_secret_value().secret_id(&name).send().await.unwrap();
        let doc: Value =
            serde_json::from_str(value.secret_string().unwrap_or("null")).unwrap_or(Value::Null);
        for (user, password) in [
            ("sasl.username", "sasl.password"),
            ("api.key", "api.key.secret"),
        ] {
            if let (Some(u), Some(p)) = (doc[user].as_str(), doc[password].as_str()) {
                credentials.push((u.to_string(), p.to_string()));
            }
        }
        names.push(name);
    }
    out.insert("aws secrets".into(), sorted(names));
    out
}

/// The census once the stand-ins' background work (Tableflow writing and publishing its tables)
/// has caught up with `expected`, or as it stands after a few seconds.
pub fn settled(take: impl Fn() -> Census, expected: &BTreeMap<String, usize>) -> Census {
    let mut now = take();
    for _ in 0..30 {
        if &counts(&now) == expected {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        now = take();
    }
    now
}

/// The census of a test's own stand-ins, from an async test: the reads block.
pub async fn of_own(own: &super::clouds::OwnEmulators) -> Census {
    let (url, snowflake) = (own.cloud.url(), own.snowflake.clone());
    tokio::task::spawn_blocking(move || take(&url, &snowflake))
        .await
        .unwrap()
}
