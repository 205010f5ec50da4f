//! The shared HTTP layer against local-cloud's fault layer: retries honour Retry-After, permanent
//! errors fail at once, and credentials never reach the logs.

use crate::common;

use common::capture::Captured;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use kickstart::engine::RetryPolicy;
use kickstart::http::{self, HttpError};
use local_cloud::{FaultConfig, LocalCloud};

async fn cloud(faults: FaultConfig) -> LocalCloud {
    let services = Router::new()
        .route("/made", post(|| async { (StatusCode::CREATED, "{}") }))
        .route(
            "/refused",
            post(|| async {
                (
                    StatusCode::FORBIDDEN,
                    r#"{"errors":[{"detail":"not allowed"}]}"#,
                )
            }),
        );
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    LocalCloud::start(addr, faults, services).await.unwrap()
}

#[tokio::test]
async fn retries_throttling_and_honours_retry_after() {
    let cloud = cloud(FaultConfig {
        throttle_rate: 0.6,
        retry_after_secs: 1,
        seed: 7,
        ..FaultConfig::default()
    })
    .await;
    let client = http::client();
    let started = Instant::now();
    let url = format!("{}/made", cloud.url());
    for _ in 0..5 {
        let response = http::send(&RetryPolicy::default(), || client.post(&url))
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let calls = cloud.journal.calls();
    let throttled = calls.iter().filter(|c| c.status == 429).count();
    assert!(
        throttled >= 2,
        "seed 7 at 60% should throttle several calls: {calls:?}"
    );
    assert_eq!(calls.last().unwrap().status, 201);
    assert_eq!(
        cloud.journal.served().len(),
        5,
        "each call reached the service once"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(throttled as u64),
        "{throttled} throttles answered in {:?}: Retry-After not honoured",
        started.elapsed()
    );
    cloud.stop().await;
}

#[tokio::test]
async fn a_permanent_error_fails_at_once_with_the_servers_message() {
    let cloud = cloud(FaultConfig::default()).await;
    let client = http::client();
    let url = format!("{}/refused", cloud.url());
    let err = http::send(&RetryPolicy::default(), || client.post(&url))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(err.to_string().contains("not allowed"), "{err}");
    assert_eq!(cloud.journal.calls().len(), 1);
    cloud.stop().await;
}

#[tokio::test]
async fn gives_up_on_persistent_server_errors_within_the_bound() {
    let cloud = cloud(FaultConfig {
        error_rate: 1.0,
        ..FaultConfig::default()
    })
    .await;
    let client = http::client();
    let url = format!("{}/made", cloud.url());
    let policy = RetryPolicy {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
        max_attempts: 4,
        max_elapsed: Duration::from_secs(5),
        quiet: false,
        throttle_window: Duration::from_secs(5),
    };
    let err = http::send(&policy, || client.post(&url)).await.unwrap_err();
    assert!(
        matches!(
            err,
            HttpError::Status {
                status: 500 | 503,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(cloud.journal.calls().len(), 4);
    cloud.stop().await;
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_transport_error() {
    // Bind and drop: the port is free, so nothing answers there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = http::client();
    let url = format!("http://127.0.0.1:{port}/made");
    let policy = RetryPolicy {
        base: Duration::from_millis(10),
        max_attempts: 2,
        ..RetryPolicy::default()
    };
    let err = http::send(&policy, || client.post(&url)).await.unwrap_err();
    assert!(matches!(err, HttpError::Transport { .. }), "{err}");
}

#[tokio::test]
async fn trace_logs_never_show_the_credentials() {
    let (captured, _guard) = Captured::trace();

    let cloud = cloud(FaultConfig {
        throttle_rate: 0.5,
        retry_after_secs: 0,
        seed: 3,
        ..FaultConfig::default()
    })
    .await;
    let client = http::client();
    let url = format!("{}/made", cloud.url());
    let secret = "s3cr3t-value-that-must-not-leak";
    http::send(&RetryPolicy::default(), || {
        client
            .post(&url)
            .basic_auth("KEY123", Some(secret))
            .bearer_auth(secret)
    })
    .await
    .unwrap();
    cloud.stop().await;

    let logs = captured.text();
    assert!(logs.contains("authorization: <redacted>"), "{logs}");
    assert!(!logs.contains(secret), "{logs}");
    // Basic auth travels base64-encoded; that form must not leak either.
    assert!(!logs.contains("S0VZMTIzOnMzY3IzdC12YWx1ZS"), "{logs}");
}
