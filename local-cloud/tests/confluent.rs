//! The Confluent emulator is as strict as the specs: required fields and queries, status codes,
//! error shapes, phases, paging and credentials.

use std::time::Duration;

use local_cloud::confluent::{self, ConfluentConfig, Delays};
use local_cloud::{FaultConfig, LocalCloud};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{Value, json};

const KEY: &str = "cloud-key";
const SECRET: &str = "cloud-secret";

struct Cc {
    cloud: LocalCloud,
    http: Client,
}

impl Cc {
    async fn start(delay: Duration) -> Cc {
        let config = ConfluentConfig::new(KEY, SECRET, Delays::uniform(delay));
        let addr = "127.0.0.1:0".parse().unwrap();
        let cloud = LocalCloud::start(addr, FaultConfig::default(), confluent::router(config))
            .await
            .unwrap();
        Cc {
            cloud,
            http: Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.cloud.url())
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.http.get(self.url(path)).basic_auth(KEY, Some(SECRET))
    }

    fn post(&self, path: &str, body: Value) -> RequestBuilder {
        self.http
            .post(self.url(path))
            .basic_auth(KEY, Some(SECRET))
            .json(&body)
    }

    fn delete(&self, path: &str) -> RequestBuilder {
        self.http
            .delete(self.url(path))
            .basic_auth(KEY, Some(SECRET))
    }
}

async fn send(req: RequestBuilder) -> (StatusCode, Value) {
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn env_and_cluster(cc: &Cc) -> (String, String) {
    let (s, env) = send(cc.post(
        "/org/v2/environments",
        json!({"display_name": "e1", "stream_governance_config": {"package": "ESSENTIALS"}}),
    ))
    .await;
    assert_eq!(s, 201, "{env}");
    let env = env["id"].as_str().unwrap().to_string();
    let body = json!({"spec": {"display_name": "c1", "availability": "SINGLE_ZONE", "cloud": "AWS", "region": "us-east-1", "config": {"kind": "Basic"}, "environment": {"id": env}}});
    let (s, cluster) = send(cc.post("/cmk/v2/clusters", body)).await;
    assert_eq!(s, 202, "{cluster}");
    (env, cluster["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn credentials_are_checked() {
    let cc = Cc::start(Duration::ZERO).await;
    let (s, body) = send(cc.http.get(cc.url("/org/v2/environments"))).await;
    assert_eq!(s, 401);
    assert_eq!(body["errors"][0]["status"], "401");
    let (s, _) = send(
        cc.http
            .get(cc.url("/org/v2/environments"))
            .basic_auth(KEY, Some("wrong")),
    )
    .await;
    assert_eq!(s, 401);
    cc.cloud.stop().await;
}

#[tokio::test]
async fn required_fields_and_queries_are_enforced_in_the_failure_shape() {
    let cc = Cc::start(Duration::ZERO).await;
    let (s, body) = send(cc.post("/org/v2/environments", json!({"display_name": "x"}))).await;
    assert_eq!(s, 400);
    assert_eq!(
        body["errors"][0]["source"]["pointer"],
        "/stream_governance_config/package"
    );
    let (env, lkc) = env_and_cluster(&cc).await;
    let (s, body) = send(cc.get(&format!("/cmk/v2/clusters/{lkc}"))).await;
    assert_eq!(s, 400, "a missing environment query is a 400");
    assert_eq!(body["errors"][0]["source"]["parameter"], "environment");
    let (s, _) = send(cc.get(&format!("/cmk/v2/clusters/{lkc}?environment={env}"))).await;
    assert_eq!(s, 200);
    let (s, _) = send(cc.get("/iam/v2/role-bindings")).await;
    assert_eq!(s, 400, "crn_pattern is required");
    let bad = json!({"spec": {"display_name": "c2", "availability": "SINGLE_ZONE", "cloud": "MARS", "region": "r", "config": {"kind": "Basic"}, "environment": {"id": env}}});
    let (s, body) = send(cc.post("/cmk/v2/clusters", bad)).await;
    assert_eq!(s, 400);
    assert_eq!(body["errors"][0]["source"]["pointer"], "/spec/cloud");
    cc.cloud.stop().await;
}

#[tokio::test]
async fn asynchronous_resources_go_through_their_phases() {
    let cc = Cc::start(Duration::from_millis(300)).await;
    let (env, lkc) = env_and_cluster(&cc).await;
    let path = format!("/cmk/v2/clusters/{lkc}?environment={env}");
    let (_, c) = send(cc.get(&path)).await;
    assert_eq!(c["status"]["phase"], "PROVISIONING");
    assert_eq!(
        c["spec"]["http_endpoint"],
        cc.cloud.url(),
        "the REST endpoint is the emulator"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    let (_, c) = send(cc.get(&path)).await;
    assert_eq!(c["status"]["phase"], "PROVISIONED");
    let (_, srs) = send(cc.get(&format!("/srcm/v3/clusters?environment={env}"))).await;
    assert_eq!(
        srs["data"].as_array().unwrap().len(),
        1,
        "the environment's Schema Registry exists"
    );
    cc.cloud.stop().await;
}

#[tokio::test]
async fn an_environment_with_clusters_cannot_be_deleted_and_deletes_are_what_the_spec_says() {
    let cc = Cc::start(Duration::ZERO).await;
    let (env, lkc) = env_and_cluster(&cc).await;
    let (s, body) = send(cc.delete(&format!("/org/v2/environments/{env}"))).await;
    assert_eq!(s, 409, "{body}");
    let (s, _) = send(cc.delete(&format!("/cmk/v2/clusters/{lkc}?environment={env}"))).await;
    assert_eq!(s, 204);
    let (s, _) = send(cc.delete(&format!("/org/v2/environments/{env}"))).await;
    assert_eq!(s, 204);
    let (s, _) = send(cc.delete(&format!("/org/v2/environments/{env}"))).await;
    assert_eq!(s, 404);
    cc.cloud.stop().await;
}

#[tokio::test]
async fn kafka_rest_takes_only_a_key_of_its_cluster_whose_owner_is_admin_and_a_deleted_key_is_refused()
 {
    let cc = Cc::start(Duration::ZERO).await;
    let (env, lkc) = env_and_cluster(&cc).await;
    let (_, sa) = send(cc.post("/iam/v2/service-accounts", json!({"display_name": "mgr"}))).await;
    let sa = sa["id"].as_str().unwrap().to_string();
    let (s, dup) = send(cc.post("/iam/v2/service-accounts", json!({"display_name": "mgr"}))).await;
    assert_eq!(s, 409, "{dup}");
    let key_on = |resource: serde_json::Value| {
        cc.post(
            "/iam/v2/api-keys",
            json!({"spec": {"owner": {"id": sa}, "resource": resource}}),
        )
    };
    let (s, body) = send(key_on(json!({"id": lkc}))).await;
    assert_eq!(
        s, 400,
        "a cluster key names the cluster's environment: {body}"
    );
    let (s, body) = send(key_on(json!({"id": lkc, "environment": "env-other"}))).await;
    assert_eq!(s, 400, "{body}");
    let (s, key) = send(key_on(json!({"id": lkc, "environment": env}))).await;
    assert_eq!(s, 202);
    let (id, secret) = (
        key["id"].as_str().unwrap().to_string(),
        key["spec"]["secret"].as_str().unwrap().to_string(),
    );
    let (_, read) = send(cc.get(&format!("/iam/v2/api-keys/{id}"))).await;
    assert!(
        read["spec"]["secret"].is_null(),
        "the secret is only in the create response"
    );

    let topics = cc.url(&format!("/kafka/v3/clusters/{lkc}/topics"));
    let create = || {
        cc.http
            .post(&topics)
            .basic_auth(&id, Some(&secret))
            .json(&json!({"topic_name": "t1"}))
    };
    let (s, body) = send(create()).await;
    assert_eq!(s, 403, "no admin role yet: {body}");
    assert_eq!(body["error_code"], 40301);
    let (_, c) = send(cc.get(&format!("/cmk/v2/clusters/{lkc}?environment={env}"))).await;
    let crn = c["metadata"]["resource_name"].as_str().unwrap();
    assert!(
        crn.ends_with(&format!("/cloud-cluster={lkc}/kafka={lkc}")),
        "the real form: {crn}"
    );
    let bind = |crn: &str| {
        cc.post(
            "/iam/v2/role-bindings",
            json!({"principal": format!("User:{sa}"), "role_name": "CloudClusterAdmin", "crn_pattern": crn}),
        )
    };
    // On the cluster's full name, CloudClusterAdmin is bound at a scope it is not defined for.
    let (s, rb) = send(bind(crn)).await;
    assert_eq!(s, 201, "{rb}");
    let (s, body) = send(create()).await;
    assert_eq!(
        s, 403,
        "a binding at the kafka= scope grants nothing: {body}"
    );
    let scope = crn.rsplit_once("/kafka=").unwrap().0;
    let (s, rb) = send(bind(scope)).await;
    assert_eq!(s, 201, "{rb}");
    let (s, _) = send(create()).await;
    assert_eq!(s, 201);
    let (s, body) = send(create()).await;
    assert_eq!(
        (s.as_u16(), body["error_code"].as_u64()),
        (400, Some(40002))
    );
    let (s, _) = send(
        cc.http
            .post(&topics)
            .basic_auth(KEY, Some(SECRET))
            .json(&json!({"topic_name": "t2"})),
    )
    .await;
    assert_eq!(s, 401, "the Cloud key is not a Kafka key");

    let (s, deleted) = send(cc.delete(&format!(
        "/iam/v2/role-bindings/{}",
        rb["id"].as_str().unwrap()
    )))
    .await;
    assert_eq!(s, 200, "role binding delete answers 200 with the object");
    assert_eq!(deleted["role_name"], "CloudClusterAdmin");
    let (s, _) = send(cc.delete(&format!("/iam/v2/api-keys/{id}"))).await;
    assert_eq!(s, 204);
    let (s, _) = send(cc.http.get(&topics).basic_auth(&id, Some(&secret))).await;
    assert_eq!(s, 401, "a deleted key is refused");
    cc.cloud.stop().await;
}

#[tokio::test]
async fn lists_page_with_a_full_next_url() {
    let cc = Cc::start(Duration::ZERO).await;
    for i in 0..5 {
        send(cc.post(
            "/iam/v2/service-accounts",
            json!({"display_name": format!("sa{i}")}),
        ))
        .await;
    }
    let (_, first) = send(cc.get("/iam/v2/service-accounts?page_size=2")).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    assert_eq!(first["metadata"]["total_size"], 5);
    let mut next = first["metadata"]["next"].as_str().unwrap().to_string();
    let mut seen = 2;
    loop {
        let (_, page) = send(cc.http.get(&next).basic_auth(KEY, Some(SECRET))).await;
        seen += page["data"].as_array().unwrap().len();
        // The last page leaves `next` out, as the spec and `read_provisioned_clusters.json` show.
        match page["metadata"].get("next") {
            None => break,
            Some(n) => next = n.as_str().expect("next is a URL").to_string(),
        }
    }
    assert_eq!(seen, 5);
    // The regions list alone ends with `next: ""`, as recorded (`flink_region/read_regions.json`).
    let (_, regions) = send(cc.get("/fcpm/v2/regions")).await;
    assert_eq!(regions["metadata"]["next"], "");
    let (s, _) = send(cc.get("/iam/v2/service-accounts?page_size=1000")).await;
    assert_eq!(s, 400);
    cc.cloud.stop().await;
}

/// The organization's key list holds the Cloud API key too, with its user owner, as the real
/// service lists every key; filtered by a service account, only that account's.
#[tokio::test]
async fn the_cloud_api_key_is_listed_with_its_user_owner() {
    let cc = Cc::start(Duration::ZERO).await;
    let (s, all) = send(cc.get("/iam/v2/api-keys")).await;
    assert_eq!(s, 200, "{all}");
    let ours: Vec<&Value> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["id"] == KEY)
        .collect();
    assert_eq!(ours.len(), 1, "{all}");
    assert_eq!(ours[0]["spec"]["owner"]["kind"], "User");
    let (_, sa) = send(cc.post("/iam/v2/service-accounts", json!({"display_name": "app"}))).await;
    let sa = sa["id"].as_str().unwrap();
    let (s, owned) = send(cc.get(&format!("/iam/v2/api-keys?spec.owner={sa}"))).await;
    assert_eq!(s, 200);
    assert_eq!(owned["data"], json!([]), "{owned}");
    cc.cloud.stop().await;
}
