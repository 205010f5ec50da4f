//! Conformance: a full `kickstart create`, `plan` and `delete` against the Confluent emulator,
//! every request and every answer of it checked against Confluent's official specs by an
//! independent validator. Each request goes, by path prefix, to a `prism proxy` for its API's spec
//! file in front of the emulator; Prism validates both directions and names every violation in
//! its `sl-violations` header (or answers with its own problem document). The test fails on any
//! violation, naming the path, the direction and Prism's message.
//!
//! Prism runs without `--errors`, which would replace a violating answer with a 500: the answers
//! the real service gives outside its spec (`EXCEPTIONS`, each with its evidence) must reach the
//! client unchanged for the run to go on, and every other violation fails the test all the same.
//!
//! The emulator hands out its own address as Kafka REST and Flink endpoints; behind this router it
//! hands out the router's (`X-Forwarded-Host`), so those calls are checked too.

use crate::common;
use crate::contract::{ROUTES, Routing, route, start_prisms};

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::clouds::OwnEmulators;
use common::{FULL, Test};
use serde_json::Value;

/// What the real service does outside its spec, each with its evidence (fixtures are under
/// `shared/fixtures/terraform-provider-confluent/internal/testdata/`). Each holds only for the
/// value the evidence shows, found at the violation's location in the body it is about.
struct Exception {
    path: &'static str,
    message: &'static str,
    case: fn(&Value) -> bool,
    evidence: &'static str,
}

const EXCEPTIONS: &[Exception] = &[
    Exception {
        path: "/fcpm/v2/regions",
        message: "metadata.next must match format \"uri\"",
        case: |v| v == "",
        evidence: "flink_region/read_regions.json: the last page says \"next\": \"\"",
    },
    Exception {
        path: "/iam/v2/api-keys",
        message: "resource.related must match format \"uri\"",
        case: |v| v == "tableflow",
        evidence: "apikey/create_tableflow_api_key.json: a Tableflow key's resource is related \"tableflow\"",
    },
    Exception {
        path: "/iam/v2/api-keys",
        message: "resource.resource_name must match format \"uri\"",
        case: |v| v == "tableflow",
        evidence: "apikey/create_tableflow_api_key.json: ... and named \"tableflow\"",
    },
    Exception {
        path: "/statements",
        message: "spec must have required property 'statement_name'",
        case: |spec| spec.get("statement").is_some(),
        evidence: "flink_statement/*.json: no recorded statement's spec has statement_name",
    },
    Exception {
        path: "/connectors",
        message: "must have required property 'kafka.api.",
        case: |config| config["kafka.auth.mode"] == "SERVICE_ACCOUNT",
        evidence: "docs.confluent.io/cloud/current/connectors/service-account.html: \"A connector \
            configuration must include either an API key and secret or a service account ID\"",
    },
    Exception {
        path: "/topics",
        message: "does not match the one specified in the current response: application/json",
        case: jetty_401,
        evidence: "apikey/read_list_topics_401.html: Kafka REST refuses a key not yet propagated \
            with Jetty's HTML page",
    },
    Exception {
        path: "/topics",
        message: "response.body: Response body must be object",
        case: jetty_401,
        evidence: "apikey/read_list_topics_401.html: ... whose body is that page, not JSON",
    },
];

/// The recorded page: a whole answer that is not JSON is kept as its text.
fn jetty_401(body: &Value) -> bool {
    body.as_str()
        .is_some_and(|page| page.starts_with("<html>") && page.contains("HTTP ERROR 401"))
}

/// One exchange: method, path, the status the client got, both bodies, and the violations Prism
/// found.
#[derive(Clone, Debug)]
struct Exchange {
    method: String,
    path: String,
    status: u16,
    request: Value,
    response: Value,
    violations: Vec<Violation>,
}

#[derive(Clone, Debug)]
struct Violation {
    /// `request` or `response`.
    direction: String,
    /// Where, as Prism says it: `["response", "body", "data", "0", ...]`.
    location: Vec<String>,
    message: String,
}

impl Exchange {
    /// The value a violation is about, in the body it names; the whole body for a violation
    /// about the answer itself (its media type).
    fn value_at(&self, v: &Violation) -> Option<&Value> {
        let body = match v.direction.as_str() {
            "request" => &self.request,
            _ => &self.response,
        };
        let mut at = v.location.iter().skip(2);
        match v.location.get(1).map(String::as_str) {
            Some("body") => {}
            None => return Some(body),
            Some(_) => return None,
        }
        at.try_fold(body, |value, step| match value {
            Value::Array(items) => items.get(step.parse::<usize>().ok()?),
            _ => value.get(step),
        })
    }
}

/// Prism's verdict on one exchange: its own error answer (422 for a request, 500 for a response
/// under `--errors`, 401 for missing credentials) and the `sl-violations` header it adds.
fn violations(headers: &reqwest::header::HeaderMap, body: &[u8]) -> Vec<Violation> {
    let mut found = Vec::new();
    let add = |found: &mut Vec<Violation>, v: &Value, default: &str| {
        let location: Vec<String> = v["location"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str().map(str::to_string))
            .collect();
        let direction = location.first().cloned().unwrap_or(default.to_string());
        found.push(Violation {
            direction,
            message: format!(
                "{}: {}",
                location.join("."),
                v["message"].as_str().unwrap_or_default()
            ),
            location,
        });
    };
    if let Some(header) = headers.get("sl-violations").and_then(|h| h.to_str().ok())
        && let Ok(Value::Array(list)) = serde_json::from_str::<Value>(header)
    {
        // Warnings count too: an answer whose status the spec does not declare is one.
        for v in list.iter().filter(|v| v["severity"] != "Information") {
            add(&mut found, v, "response");
        }
    }
    let problem = headers
        .get("content-type")
        .and_then(|h| h.to_str().ok())
        .is_some_and(|c| c.starts_with("application/problem+json"));
    if problem && let Ok(v) = serde_json::from_slice::<Value>(body) {
        let kind = v["type"].as_str().unwrap_or_default();
        if let Some(kind) = kind.strip_prefix("https://stoplight.io/prism/errors#") {
            let direction = if kind == "VIOLATIONS" {
                "response"
            } else {
                "request"
            };
            let list = v["validation"].as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                found.push(Violation {
                    direction: direction.into(),
                    location: Vec::new(),
                    message: format!("{kind}: {}", v["detail"].as_str().unwrap_or_default()),
                });
            }
            for item in &list {
                add(&mut found, item, direction);
            }
        }
    }
    // The header and the problem body can name the same violation.
    let mut unique: Vec<Violation> = Vec::new();
    for v in found {
        if !unique
            .iter()
            .any(|u| u.direction == v.direction && u.message == v.message)
        {
            unique.push(v);
        }
    }
    unique
}

async fn forward(
    State(r): State<Routing<Exchange>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let request = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(req) = r.onward(&method, &uri, &headers, body) else {
        r.seen.lock().unwrap().push(Exchange {
            method: method.to_string(),
            path,
            status: 599,
            request: Value::Null,
            response: Value::Null,
            violations: vec![Violation {
                direction: "request".into(),
                location: Vec::new(),
                message: "no spec serves this path".into(),
            }],
        });
        return StatusCode::NOT_FOUND.into_response();
    };
    // Prism drops `Host`; the emulator learns the address its caller used from this instead.
    let req = req.header("x-forwarded-host", r.me.trim_start_matches("http://"));
    let answer = req.send().await.unwrap();
    let status = answer.status();
    let answer_headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap_or_default();
    r.seen.lock().unwrap().push(Exchange {
        method: method.to_string(),
        path,
        status: status.as_u16(),
        request,
        response: serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        violations: violations(&answer_headers, &bytes),
    });
    let mut response = Response::builder().status(status);
    for name in ["content-type", "location"] {
        if let Some(value) = answer_headers.get(name) {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(bytes)).unwrap()
}

/// Whether Prism's verdict on a request (its headers and body) names only violations that
/// `EXCEPTIONS` cover: the request is then what the real service takes, spec or not.
pub fn only_exceptions(
    method: &str,
    path: &str,
    request: &[u8],
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
) -> bool {
    let e = Exchange {
        method: method.into(),
        path: path.into(),
        status: 0,
        request: serde_json::from_slice(request).unwrap_or(Value::Null),
        response: serde_json::from_slice(body).unwrap_or(Value::Null),
        violations: violations(headers, body),
    };
    !e.violations.is_empty() && e.violations.iter().all(|v| excepted(&e, v).is_some())
}

/// The exception that covers this violation, if the evidence shows this very case.
fn excepted(e: &Exchange, v: &Violation) -> Option<&'static Exception> {
    EXCEPTIONS.iter().find(|x| {
        e.path.contains(x.path)
            && v.message.contains(x.message)
            && e.value_at(v).is_some_and(|value| (x.case)(value))
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_create_plan_and_delete_conforms_to_the_official_specs_both_ways() {
    // Propagation and deleting phases on, as in every other test of the stack.
    let own = OwnEmulators::fresh().await;
    let upstream = own.cloud.url();
    let (_guard, proxies) =
        tokio::task::spawn_blocking(move || start_prisms("proxy", Some(&upstream)))
            .await
            .unwrap();
    let (me, seen) = route(proxies, forward).await;

    // The tool reaches Confluent through the spec-checking proxies, the rest directly.
    let env = own.env();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let outcomes = tokio::task::spawn_blocking(move || {
        ["create", "plan", "delete"].map(|command| {
            let (run, _) = Test::new()
                .in_dir(&path)
                .envs(env.clone())
                .env("CONFLUENT_CLOUD_ENDPOINT", &me)
                .args([command])
                .args(FULL)
                .run();
            (command, run.status, run.stderr)
        })
    })
    .await
    .unwrap();

    let seen = seen.lock().unwrap().clone();
    let mut report = Vec::new();
    let mut excused: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &seen {
        for v in &e.violations {
            match excepted(e, v) {
                Some(x) => *excused.entry(x.evidence).or_default() += 1,
                None => report.push(format!(
                    "{} {} -> {} [{}] {}",
                    e.method, e.path, e.status, v.direction, v.message
                )),
            }
        }
    }
    for (evidence, n) in &excused {
        eprintln!(
            "conformance: {n} answers as the real service gives them, outside the spec: {evidence}"
        );
    }
    let methods: std::collections::BTreeSet<&str> =
        seen.iter().map(|e| e.method.as_str()).collect();
    eprintln!(
        "conformance: {} requests and {} responses checked against the specs, {} violations",
        seen.len(),
        seen.iter().filter(|e| e.status != 599).count(),
        report.len()
    );
    assert!(
        report.is_empty(),
        "{} violations of the official specs:\n{}",
        report.len(),
        report.join("\n")
    );
    for (command, status, stderr) in &outcomes {
        assert_eq!(*status, 0, "kickstart {command} failed:\n{stderr}");
    }
    // A full run reaches every API group, and makes, reads and deletes.
    assert!(seen.len() >= 100, "only {} requests were made", seen.len());
    for method in ["GET", "POST", "DELETE"] {
        assert!(methods.contains(method), "no {method} was made");
    }
    for (prefix, file) in ROUTES {
        assert!(
            seen.iter().any(|e| e.path.starts_with(prefix)),
            "nothing was checked against {file}"
        );
    }
}

/// An exception excuses only the very case its evidence shows: the same message about another
/// value, or about another path, is a violation.
#[test]
fn an_exception_excuses_only_the_recorded_value() {
    let violation = |at: &str| Violation {
        direction: "response".into(),
        location: ["response", "body", "spec", "resource", "related"]
            .map(String::from)
            .to_vec(),
        message: format!(
            "{at}: Response body property spec.resource.related must match format \"uri\""
        ),
    };
    let exchange = |path: &str, related: &str| Exchange {
        method: "POST".into(),
        path: path.into(),
        status: 202,
        request: Value::Null,
        response: serde_json::json!({"spec": {"resource": {"id": "tableflow", "related": related}}}),
        violations: Vec::new(),
    };
    let v = violation("response.body.spec.resource.related");
    assert!(excepted(&exchange("/iam/v2/api-keys", "tableflow"), &v).is_some());
    assert!(excepted(&exchange("/iam/v2/api-keys", ""), &v).is_none());
    assert!(excepted(&exchange("/cmk/v2/clusters", "tableflow"), &v).is_none());
    let connector = |mode: &str| Exchange {
        method: "POST".into(),
        path: "/connect/v1/environments/env-1/clusters/lkc-1/connectors".into(),
        status: 201,
        request: serde_json::json!({"config": {"kafka.auth.mode": mode}}),
        response: Value::Null,
        violations: Vec::new(),
    };
    let missing_key = Violation {
        direction: "request".into(),
        location: ["request", "body", "config"].map(String::from).to_vec(),
        message: "request.body.config: Request body property config must have required property 'kafka.api.key'".into(),
    };
    assert!(excepted(&connector("SERVICE_ACCOUNT"), &missing_key).is_some());
    assert!(excepted(&connector("KAFKA_API_KEY"), &missing_key).is_none());

    // Jetty's page is excused where it was recorded, and only as that page.
    let page = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/terraform-provider-confluent/internal/testdata/apikey/read_list_topics_401.html"
    ));
    let unauthorized = |path: &str, body: &str| Exchange {
        method: "GET".into(),
        path: path.into(),
        status: 401,
        request: Value::Null,
        response: Value::String(body.into()),
        violations: Vec::new(),
    };
    let media = Violation {
        direction: "response".into(),
        location: vec!["response".into()],
        message: "response: The received media type \"text/html;charset=utf-8\" does not match \
            the one specified in the current response: application/json"
            .into(),
    };
    let topics = "/kafka/v3/clusters/lkc-1/topics";
    assert!(excepted(&unauthorized(topics, page), &media).is_some());
    assert!(excepted(&unauthorized(topics, "Unauthorized"), &media).is_none());
    assert!(excepted(&unauthorized("/cmk/v2/clusters", page), &media).is_none());
}
