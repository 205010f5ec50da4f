//! Contract check: every request the Confluent nodes make is sent once to `prism mock` serving
//! the official spec of its API, and any request Prism rejects fails the test. Our emulator
//! agreeing with our client proves nothing; this checks the client against Confluent's specs.
//!
//! Needs Prism (`npm install @stoplight/prism-cli`) and `PRISM` pointing at its binary; `./test`
//! does both. Without them the test fails: a contract check that did not run has not passed.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use kickstart::clock::SystemClock;
use kickstart::confluent::{self, Confluent, ConfluentProvider};
use kickstart::engine::{Inputs, Record, RetryPolicy};
use kickstart::settings::Rotation;
use kickstart::stack::{self, Cloud, DEFAULT_STACK, Names, Provider};
use kickstart::vault::Vault;
use serde_json::json;

use crate::conformance::only_exceptions;

/// Which spec serves which path prefix (longest prefixes first).
pub const ROUTES: &[(&str, &str)] = &[
    ("/iam/v2/service-accounts", "iam-v2.yaml"),
    ("/iam/v2/api-keys", "iam-v2-api-keys.yaml"),
    ("/iam/v2/role-bindings", "iam-v2-role-bindings.yaml"),
    ("/org/v2/", "org-v2.yaml"),
    ("/cmk/v2/", "cmk-v2.yaml"),
    ("/srcm/v3/", "srcm-v3.yaml"),
    ("/fcpm/v2/", "fcpm-v2.yaml"),
    ("/pim/v1/", "pim-v1.yaml"),
    ("/tableflow/v1/", "tableflow-v1.yaml"),
    ("/connect/v1/", "connect-v1.yaml"),
    ("/kafka/v3/", "kafka-rest-v3.yaml"),
    ("/sql/v1/", "flink-sql-v1.yaml"),
];

const ORG: &str = "7b4dbd60-4e2a-4f4c-9c8e-0a1b2c3d4e5f";

/// The Prism processes of a test; they end with it.
pub struct Prism(pub Vec<Child>);

impl Drop for Prism {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts one Prism per spec file, `prism <command> <spec> [<upstream>]` (`mock`, or `proxy`
/// in front of an upstream); returns each file's base URL.
pub fn start_prisms(
    command: &str,
    upstream: Option<&str>,
) -> (Prism, BTreeMap<&'static str, String>) {
    let (specs, prism) = specs_and_prism();
    let mut children = Vec::new();
    let mut urls = BTreeMap::new();
    for (_, file) in ROUTES {
        let port = free_port();
        let mut cmd = Command::new(&prism);
        cmd.args([command, "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(specs.join(file))
            .args(upstream)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        children.push(cmd.spawn().expect("prism starts"));
        urls.insert(*file, format!("http://127.0.0.1:{port}"));
    }
    let guard = Prism(children);
    // A dozen Node processes starting at once on a busy machine take their time.
    let deadline = Instant::now() + Duration::from_secs(180);
    for url in urls.values() {
        wait_for(url.trim_start_matches("http://"), deadline);
    }
    (guard, urls)
}

/// Waits until something listens at `addr`, or fails the test at `deadline`.
fn wait_for(addr: &str, deadline: Instant) {
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "prism did not start at {addr}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The official Confluent specs, and Prism's binary (`PRISM`, which `./test` sets).
fn specs_and_prism() -> (PathBuf, String) {
    let specs = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/specs/confluent-cloud"
    ));
    let prism = std::env::var("PRISM").expect(
        "PRISM is not set: ./test installs Prism and sets it (or set it to prism's binary)",
    );
    assert!(
        specs.is_dir(),
        "the official specs are not at {}",
        specs.display()
    );
    (specs, prism)
}

/// One request forwarded: method, path, Prism's status, its `sl-violations` header, and whether
/// those violations are only what the real service takes outside its spec (see conformance.rs).
type Seen = (String, String, u16, String, bool);

/// What a router in front of the Prisms shares: one Prism's address per spec file, what it has
/// seen so far, and its own address (which the emulator hands out as an endpoint).
pub struct Routing<T> {
    pub prisms: Arc<BTreeMap<&'static str, String>>,
    pub http: reqwest::Client,
    pub seen: Arc<Mutex<Vec<T>>>,
    pub me: String,
}

impl<T> Clone for Routing<T> {
    fn clone(&self) -> Self {
        Routing {
            prisms: self.prisms.clone(),
            http: self.http.clone(),
            seen: self.seen.clone(),
            me: self.me.clone(),
        }
    }
}

impl<T> Routing<T> {
    /// The request as it goes on to the Prism of its path's spec, without the `Host` it came
    /// with; `None` when no spec serves the path.
    pub fn onward(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Option<reqwest::RequestBuilder> {
        let path = uri.path();
        let (_, file) = ROUTES.iter().find(|(prefix, _)| path.starts_with(prefix))?;
        let url = format!(
            "{}{}",
            self.prisms[file],
            uri.path_and_query().map(|p| p.as_str()).unwrap_or("")
        );
        let mut req = self.http.request(method.clone(), url).body(body);
        for (name, value) in headers {
            if name != "host" {
                req = req.header(name, value);
            }
        }
        Some(req)
    }
}

/// Serves `forward` in front of `prisms` on a free loopback port for the rest of the test; gives
/// back its address and what it will have seen.
pub async fn route<T, H, M>(
    prisms: BTreeMap<&'static str, String>,
    forward: H,
) -> (String, Arc<Mutex<Vec<T>>>)
where
    T: Send + 'static,
    H: axum::handler::Handler<M, Routing<T>>,
    M: 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let me = format!("http://{}", listener.local_addr().unwrap());
    let routing = Routing {
        prisms: Arc::new(prisms),
        http: reqwest::Client::new(),
        seen: Arc::default(),
        me: me.clone(),
    };
    let seen = routing.seen.clone();
    let app = Router::new().fallback(forward).with_state(routing);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (me, seen)
}

async fn forward(
    State(r): State<Routing<Seen>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let Some(req) = r.onward(&method, &uri, &headers, body.clone()) else {
        r.seen.lock().unwrap().push((
            method.to_string(),
            path,
            599,
            "no spec serves this path".into(),
            false,
        ));
        return StatusCode::NOT_FOUND.into_response();
    };
    let answer = req.send().await.unwrap();
    let status = answer.status().as_u16();
    let answer_headers = answer.headers().clone();
    let violations = answer_headers
        .get("sl-violations")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = answer.bytes().await.unwrap_or_default();
    let excused = only_exceptions(method.as_str(), &path, &body, &answer_headers, &bytes);
    r.seen.lock().unwrap().push((
        method.to_string(),
        path.clone(),
        status,
        violations,
        excused,
    ));
    // Discovery answers are rewritten so the client can go on: Prism's generated organization id
    // is not a UUID, and its Flink region endpoint is not reachable from here.
    let body = if path == "/org/v2/organizations" && status == 200 {
        json!({"api_version": "org/v2", "kind": "OrganizationList", "metadata": {}, "data": [{"id": ORG}]}).to_string().into()
    } else if path == "/fcpm/v2/regions" && status == 200 {
        json!({"api_version": "fcpm/v2", "kind": "RegionList", "metadata": {}, "data": [{"id": "aws.us-east-1", "http_endpoint": r.me}]}).to_string().into()
    } else {
        bytes
    };
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

fn inputs(me: &str) -> Inputs {
    let env_crn = format!("crn://confluent.cloud/organization={ORG}/environment=env-abc12");
    let mut records = BTreeMap::new();
    let mut put = |id: &str, r: Record| {
        records.insert(id.to_string(), r);
    };
    put(
        "confluent.environment",
        Record::new("env-abc12")
            .with("crn", &env_crn)
            .with("name", DEFAULT_STACK),
    );
    put(
        "confluent.kafka_cluster",
        Record::new("lkc-abc12")
            .with("crn", format!("{env_crn}/cloud-cluster=lkc-abc12"))
            .with("rest_endpoint", me)
            .with("name", DEFAULT_STACK),
    );
    put(
        "confluent.schema_registry",
        Record::new("lsrc-abc12").with("crn", format!("{env_crn}/schema-registry=lsrc-abc12")),
    );
    put("confluent.compute_pool", Record::new("lfcp-abc12"));
    put("confluent.provider_integration", Record::new("cspi-abc12"));
    put(
        "aws.s3_bucket",
        Record::new("b").with("name", "tableflow-kickstarter-0a1b"),
    );
    for role in [
        "app_manager",
        "app_consumer",
        "app_producer",
        "app_connector",
        "schema_registry_cluster_api",
        "flink_statements_runner",
    ] {
        put(
            &format!("confluent.service_account.{role}"),
            Record::new(format!("sa-{}", &role[..5])),
        );
    }
    for key in ["app_manager_kafka", "flink", "tableflow"] {
        put(
            &format!("confluent.api_key.{key}"),
            Record::new("KEYABC")
                .with("key", "KEYABC")
                .with("created_at", "2026-01-01T00:00:00Z"),
        );
    }
    Inputs::new(records)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_client_request_matches_the_official_specs() {
    let (_guard, prisms) = tokio::task::spawn_blocking(|| start_prisms("mock", None))
        .await
        .unwrap();

    let (me, seen) = route(prisms, forward).await;

    let vault = Arc::new(Vault::default());
    vault.put("KEYABC", "key-secret".to_string().into());
    let provider = ConfluentProvider(Confluent::new(confluent::Settings {
        endpoint: me.parse().unwrap(),
        api_key: "CLOUDKEY".into(),
        api_secret: "cloud-secret".to_string().into(),
        region: "us-east-1".into(),
        rotation: Rotation {
            day_count: 30,
            keys_to_retain: 2,
        },
        clock: Arc::new(SystemClock),
        vault,
        // Prism's answers are not the stateful service's: one attempt each is enough here.
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        propagation: Duration::ZERO,
    }));
    let inputs = inputs(&me);
    let (names, file) = (
        Names::new(DEFAULT_STACK),
        kickstart::config::Stackfile::default_stack(),
    );
    let decls: Vec<_> = stack::declare(&stack::Stack::offline(&names, &file))
        .into_iter()
        .filter(|d| d.cloud() == Cloud::Confluent)
        .collect();
    for decl in &decls {
        let node = Provider::resource(&provider, decl);
        // Each operation once. Their results do not matter: Prism answers with canned examples,
        // which the nodes may not make sense of. What matters is whether Prism took the request.
        let _ = node.find(&inputs, None).await;
        let made = node.create(&inputs).await.unwrap_or_else(|_| {
            Record::new("id-abc12")
                .with("key", "KEYABC")
                .with("created_at", "2026-01-01T00:00:00Z")
        });
        let _ = node.ready(&inputs, &made).await;
        if let Ok(Some(change)) = node.due(&inputs, &made).await {
            let _ = node.apply(&inputs, &made, &change).await;
        }
        let _ = node.delete(&inputs, &made).await;
    }

    let seen = seen.lock().unwrap().clone();
    let methods: std::collections::BTreeSet<&str> =
        seen.iter().map(|(m, _, _, _, _)| m.as_str()).collect();
    assert!(
        seen.len() >= 60,
        "the nodes made only {} requests",
        seen.len()
    );
    assert!(methods.contains("POST") && methods.contains("DELETE") && methods.contains("GET"));
    let rejected: Vec<String> = seen
        .iter()
        .filter(|(_, _, status, _, excused)| !(200..300).contains(status) && !excused)
        .map(|(m, p, s, v, _)| format!("{m} {p} -> {s} {v}"))
        .collect();
    assert!(
        rejected.is_empty(),
        "Prism rejected {} requests:\n{}",
        rejected.len(),
        rejected.join("\n")
    );
}
