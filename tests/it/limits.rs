//! Rate limits shared by a fleet: AWS IAM and Secrets Manager throttle per account, Snowflake
//! per account, Confluent Cloud per organization. A run waits every throttle out within its
//! window, however many attempts that takes, where the SDK's standard retry gives up.

use crate::common;

use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::error::ProvideErrorMetadata as _;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use common::Test;
use common::clouds::{self, OwnEmulators};
use kickstart::engine::RetryPolicy;
use kickstart::http;
use local_cloud::{FaultConfig, Limited, Limits, LocalCloud, Rate, aws_proxy};

async fn aws_proxy_with(limits: Limits) -> LocalCloud {
    let moto = tokio::task::spawn_blocking(clouds::moto).await.unwrap();
    let faults = FaultConfig {
        limits,
        ..FaultConfig::default()
    };
    let addr = "127.0.0.1:0".parse().unwrap();
    LocalCloud::start(addr, faults, aws_proxy::router(&moto))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_stack_is_made_and_deleted_under_aws_and_snowflake_account_limits() {
    let proxy = aws_proxy_with(Limits {
        iam: Rate::new(3.0, 2),
        secrets_manager: Rate::new(3.0, 3),
        ..Limits::default()
    })
    .await;
    let snowflake = FaultConfig {
        limits: Limits {
            snowflake: Rate::new(10.0, 5),
            ..Limits::default()
        },
        ..FaultConfig::default()
    };
    let own = OwnEmulators::start(clouds::delays(), snowflake).await;
    let mut env = own.env();
    env.push(("AWS_ENDPOINT_URL", proxy.url()));
    let started = Instant::now();
    let (_, dir) = Test::new()
        .envs(env.clone())
        .whole_stack("create", None)
        .await;
    let met = |cloud: &LocalCloud, which| cloud.faults.throttled_by(which);
    let at_create = [
        met(&proxy, Limited::Iam),
        met(&proxy, Limited::SecretsManager),
        met(&own.cloud, Limited::Snowflake),
    ];
    assert!(
        at_create.iter().all(|&n| n > 0),
        "every limit refused calls during create (IAM, Secrets Manager, Snowflake): {at_create:?}"
    );
    Test::new()
        .envs(env)
        .whole_stack("delete", Some(dir.path()))
        .await;
    let at_delete = [
        met(&proxy, Limited::Iam) - at_create[0],
        met(&proxy, Limited::SecretsManager) - at_create[1],
        met(&own.cloud, Limited::Snowflake) - at_create[2],
    ];
    assert!(
        at_delete.iter().sum::<u64>() > 0,
        "the limits refused calls during delete too: {at_delete:?}"
    );
    eprintln!(
        "create and delete in {:?}; throttled by IAM, Secrets Manager, Snowflake: {at_create:?} in create, {at_delete:?} in delete",
        started.elapsed(),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_secrets_manager_throttle_is_waited_out_where_the_standard_retry_gives_up() {
    // One call per 10 s: the second call meets a throttle that lasts about that long.
    let proxy = aws_proxy_with(Limits {
        secrets_manager: Rate::new(0.1, 1),
        ..Limits::default()
    })
    .await;
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(proxy.url())
        .region(aws_config::Region::new(clouds::REGION))
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    let standard = aws_sdk_secretsmanager::Client::new(&sdk);
    standard
        .list_secrets()
        .send()
        .await
        .expect("the first call is within the burst");
    let refused = standard
        .list_secrets()
        .send()
        .await
        .expect_err("the SDK's standard retry gives up within seconds");
    assert_eq!(refused.code(), Some("ThrottlingException"), "{refused:?}");
    let before = proxy.faults.throttled_by(Limited::SecretsManager);

    let policy = RetryPolicy::default();
    let patient = kickstart::aws::retries::secrets_manager((&sdk).into(), &policy);
    let started = Instant::now();
    patient
        .list_secrets()
        .send()
        .await
        .expect("kickstart's client waits the throttle out");
    let met = proxy.faults.throttled_by(Limited::SecretsManager) - before;
    assert!(
        met >= 3,
        "more throttles than the standard retry's three attempts allow were waited out: {met}"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

async fn organization(per_sec: f64) -> LocalCloud {
    let services = Router::new().route("/made", post(|| async { (StatusCode::CREATED, "{}") }));
    let faults = FaultConfig {
        rate_limit_per_sec: per_sec,
        rate_limit_burst: 1,
        retry_after_as_date: true,
        ..FaultConfig::default()
    };
    let addr = "127.0.0.1:0".parse().unwrap();
    LocalCloud::start(addr, faults, services).await.unwrap()
}

#[tokio::test]
async fn a_confluent_throttle_told_as_an_http_date_is_waited_out_past_the_attempt_bound() {
    let cloud = organization(0.5).await;
    let client = http::client();
    let url = format!("{}/made", cloud.url());
    // No second attempt for any other error: only a throttle is waited out.
    let policy = RetryPolicy {
        max_attempts: 1,
        max_elapsed: Duration::ZERO,
        throttle_window: Duration::from_secs(30),
        ..RetryPolicy::default()
    };
    http::send(&policy, || client.post(&url)).await.unwrap();
    let started = Instant::now();
    let response = http::send(&policy, || client.post(&url)).await.unwrap();
    assert_eq!(response.status(), 201);
    assert!(cloud.faults.throttled_by(Limited::Confluent) >= 1);
    // The bucket refills in 2 s; the date said at least 1 s of it.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the HTTP-date was not honoured: {:?}",
        started.elapsed()
    );
    cloud.stop().await;
}

#[tokio::test]
async fn a_throttle_longer_than_the_window_fails_with_the_services_answer() {
    let cloud = organization(0.05).await;
    let client = http::client();
    let url = format!("{}/made", cloud.url());
    let policy = RetryPolicy {
        throttle_window: Duration::from_secs(2),
        ..RetryPolicy::default()
    };
    http::send(&policy, || client.post(&url)).await.unwrap();
    let started = Instant::now();
    let refused = http::send(&policy, || client.post(&url))
        .await
        .expect_err("a 20 s throttle outlasts a 2 s window");
    assert_eq!(refused.status(), Some(429));
    assert!(
        started.elapsed() <= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn snowflakes_429_is_a_throttle_waited_out_past_the_attempt_bound() {
    let limit = FaultConfig {
        limits: Limits {
            snowflake: Rate::new(2.0, 1),
            ..Limits::default()
        },
        ..FaultConfig::default()
    };
    let own = OwnEmulators::serve(clouds::delays(), limit, false).await;
    let sf = kickstart::snowflake::Snowflake::new(kickstart::snowflake::Settings {
        admin: Some(kickstart::snowflake::Admin {
            account: clouds::SNOWFLAKE_ACCOUNT.into(),
            user: "ADMIN".into(),
            private_key_pem: own.admin_pem.clone(),
        }),
        endpoint: Some(own.cloud.url().parse().unwrap()),
        warehouse: None,
        rotation: kickstart::engine::Rotation {
            day_count: 30,
            keys_to_retain: 2,
        },
        clock: std::sync::Arc::new(kickstart::clock::SystemClock),
        vault: std::sync::Arc::default(),
        // Any other failure would end the call at once.
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
    });
    // The login takes the one token; each statement after it meets the limit.
    for _ in 0..3 {
        sf.run("SECURITYADMIN", "SHOW USERS")
            .await
            .expect("a 429 is waited out");
    }
    assert!(
        own.cloud.faults.throttled_by(Limited::Snowflake) >= 2,
        "the limit refused calls: {}",
        own.cloud.faults.throttled_by(Limited::Snowflake)
    );
}
