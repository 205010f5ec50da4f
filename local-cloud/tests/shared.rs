//! The shared parts of the stand-ins: port choice, journal, fault injection, control endpoints.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};
use local_cloud::{FaultConfig, LocalCloud};

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn echo() -> Router {
    Router::new()
        .route(
            "/things",
            post(|| async { (axum::http::StatusCode::CREATED, "made") }),
        )
        .route("/things", get(|| async { "[]" }))
}

#[tokio::test]
async fn picks_a_free_port_and_journals_only_mutating_calls() {
    let a = LocalCloud::start(loopback(), FaultConfig::default(), echo())
        .await
        .unwrap();
    let b = LocalCloud::start(loopback(), FaultConfig::default(), echo())
        .await
        .unwrap();
    assert_ne!(a.addr.port(), b.addr.port());
    assert!(a.addr.ip().is_loopback());

    let http = reqwest::Client::new();
    let made = http
        .post(format!("{}/things", a.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    http.get(format!("{}/things", a.url()))
        .send()
        .await
        .unwrap();
    let missing = http
        .delete(format!("{}/nothing", a.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("DELETE /nothing")
    );

    let calls = a.journal.calls();
    let seen: Vec<(&str, &str, u16)> = calls
        .iter()
        .map(|c| (c.method.as_str(), c.path.as_str(), c.status))
        .collect();
    assert_eq!(
        seen,
        [("POST", "/things", 201), ("DELETE", "/nothing", 404)]
    );
    assert!(b.journal.calls().is_empty());

    // The same journal over HTTP, and it can be cleared; control calls are never journaled.
    let over_http: Vec<serde_json::Value> = http
        .get(format!("{}/_local/journal", a.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http.len(), 2);
    http.delete(format!("{}/_local/journal", a.url()))
        .send()
        .await
        .unwrap();
    assert!(a.journal.calls().is_empty());
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn throttles_with_retry_after_and_fails_with_server_errors() {
    let all_throttled = FaultConfig {
        throttle_rate: 1.0,
        retry_after_secs: 7,
        ..FaultConfig::default()
    };
    let cloud = LocalCloud::start(loopback(), all_throttled, echo())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{}/things", cloud.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 429);
    assert_eq!(answer.headers()["retry-after"], "7");
    let call = &cloud.journal.calls()[0];
    assert!(call.injected && call.status == 429);
    assert!(
        cloud.journal.served().is_empty(),
        "a throttled call never reaches the service"
    );

    // Control endpoints are never faulted, so a test can always turn the faults off.
    let errors = FaultConfig {
        error_rate: 1.0,
        ..FaultConfig::default()
    };
    let set = http
        .put(format!("{}/_local/faults", cloud.url()))
        .json(&errors)
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    for _ in 0..10 {
        let answer = http
            .post(format!("{}/things", cloud.url()))
            .send()
            .await
            .unwrap();
        assert!(
            matches!(answer.status().as_u16(), 500 | 503),
            "{}",
            answer.status()
        );
    }
    let bad = http
        .put(format!("{}/_local/faults", cloud.url()))
        .json(&serde_json::json!({"throttle_rate": 2.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    cloud.stop().await;
}

#[tokio::test]
async fn rates_are_seeded_and_latency_is_added() {
    let config = FaultConfig {
        min_latency_ms: 30,
        max_latency_ms: 60,
        throttle_rate: 0.3,
        error_rate: 0.2,
        seed: 42,
        ..FaultConfig::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let cloud = LocalCloud::start(loopback(), config.clone(), echo())
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let started = Instant::now();
        let mut statuses = Vec::new();
        for _ in 0..40 {
            let r = http
                .post(format!("{}/things", cloud.url()))
                .send()
                .await
                .unwrap();
            statuses.push(r.status().as_u16());
        }
        assert!(started.elapsed() >= Duration::from_millis(40 * 30));
        cloud.stop().await;
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1], "the same seed replays the same faults");
    let faulted = runs[0].iter().filter(|&&s| s != 201).count();
    // 50% expected; a seeded draw of 40 lands well inside this band.
    assert!((8..=32).contains(&faulted), "{faulted} of 40 faulted");
}

/// A service that counts what it was asked to make, to tell work done from work refused.
fn counting() -> (Router, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    let made = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = made.clone();
    let router = Router::new().route(
        "/things",
        post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                (axum::http::StatusCode::CREATED, "made")
            }
        }),
    );
    (router, made)
}

#[tokio::test]
async fn a_lost_answer_comes_after_the_work_as_a_server_error_or_a_cut_connection() {
    let lost = FaultConfig {
        lost_answer_rate: 1.0,
        seed: 3,
        ..FaultConfig::default()
    };
    let (router, made) = counting();
    let cloud = LocalCloud::start(loopback(), lost, router).await.unwrap();
    let http = reqwest::Client::new();
    let (mut errors, mut cuts) = (0, 0);
    for _ in 0..20 {
        match http.post(format!("{}/things", cloud.url())).send().await {
            Ok(answer) => {
                assert!(answer.status().is_server_error(), "{}", answer.status());
                errors += 1;
            }
            Err(_) => cuts += 1,
        }
    }
    assert!(errors > 0 && cuts > 0, "{errors} errors, {cuts} cuts");
    assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 20);
    let calls = cloud.journal.calls();
    assert!(calls.iter().all(|c| c.answer_lost && !c.injected));
    assert_eq!(calls.len(), 20);
    cloud.stop().await;
}

#[tokio::test]
async fn a_change_is_held_before_or_after_the_service_does_it() {
    let (router, made) = counting();
    let cloud = LocalCloud::start(loopback(), FaultConfig::default(), router)
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let url = format!("{}/things", cloud.url());
    for (config, done) in [
        (
            FaultConfig {
                hang_at: Some(2),
                ..FaultConfig::default()
            },
            1,
        ),
        (
            FaultConfig {
                hold_after: Some(2),
                ..FaultConfig::default()
            },
            2,
        ),
    ] {
        made.store(0, std::sync::atomic::Ordering::SeqCst);
        cloud.faults.set(config);
        // Reads are not counted as steps.
        http.get(format!("{}/nothing", cloud.url()))
            .send()
            .await
            .unwrap();
        assert!(http.post(&url).send().await.is_ok());
        assert!(!cloud.faults.hanging());
        assert!(http.post(&url).send().await.is_err(), "the second is held");
        assert!(cloud.faults.hanging());
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), done);
        assert_eq!(cloud.faults.changes().len(), 2);
    }
    cloud.stop().await;
}

#[tokio::test]
async fn an_account_limit_set_over_the_control_endpoint_refuses_its_service_only_and_counts() {
    let cloud = LocalCloud::start(loopback(), FaultConfig::default(), echo())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let limits = serde_json::json!({"limits": {"iam": {"per_sec": 0.5, "burst": 1}}});
    let set = http
        .put(format!("{}/_local/faults", cloud.url()))
        .json(&limits)
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let signed = |service: &str| {
        http.post(format!("{}/things", cloud.url()))
            .header(
                "authorization",
                format!("AWS4-HMAC-SHA256 Credential=testing/20261203/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body("Action=ListRoles&Version=2010-05-08")
    };
    assert_eq!(signed("iam").send().await.unwrap().status(), 201);
    let refused = signed("iam").send().await.unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.headers().get("retry-after").is_none());
    let body = refused.text().await.unwrap();
    assert!(body.contains("<Code>Throttling</Code>"), "{body}");
    // STS shares no limit with IAM.
    assert_eq!(signed("sts").send().await.unwrap().status(), 201);
    let calls: serde_json::Value = http
        .get(format!("{}/_local/calls", cloud.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(calls["throttled"]["iam"], 1, "{calls}");
    assert_eq!(calls["throttled"]["secrets_manager"], 0, "{calls}");
    assert_eq!(cloud.faults.throttled(), 1);
    cloud.stop().await;
}
