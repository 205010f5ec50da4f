//! Account-wide rate limits, as the real services apply them to every client of one account at
//! once: a token bucket per limited service, refilled every second, and beyond it the refusal
//! each service answers a throttle with. Confluent Cloud limits an organization (one emulator);
//! AWS IAM and Secrets Manager each limit an account (one proxy in front of moto); Snowflake an
//! account (one emulator).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header::RETRY_AFTER};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::effect::{Cloud, Effect};

/// Calls per second a service takes, and how many it takes at once after a quiet spell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rate {
    /// 0 for no limit.
    pub per_sec: f64,
    /// At least 1.
    pub burst: u32,
}

impl Rate {
    pub fn new(per_sec: f64, burst: u32) -> Rate {
        Rate { per_sec, burst }
    }
}

/// The limits other than Confluent's (whose fields predate this and stay in `FaultConfig`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// IAM's, per account: every signed call whose SigV4 scope names `iam`.
    pub iam: Rate,
    /// Secrets Manager's, per account (and region; one proxy is one region).
    pub secrets_manager: Rate,
    /// Snowflake's, per account: logins and statements alike.
    pub snowflake: Rate,
}

impl Limits {
    pub fn check(&self) -> Result<(), String> {
        for (name, rate) in [
            ("iam", self.iam),
            ("secrets_manager", self.secrets_manager),
            ("snowflake", self.snowflake),
        ] {
            if rate.per_sec < 0.0 || !rate.per_sec.is_finite() {
                return Err(format!("limits.{name}.per_sec must be 0 or more"));
            }
        }
        Ok(())
    }
}

/// A service with a limit of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limited {
    Confluent,
    Iam,
    SecretsManager,
    Snowflake,
}

impl Limited {
    pub const ALL: [Limited; 4] = [
        Limited::Confluent,
        Limited::Iam,
        Limited::SecretsManager,
        Limited::Snowflake,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// Which limit a call counts against, if any: S3, STS and Glue are not limited here.
    pub fn of(effect: &Effect, headers: &HeaderMap) -> Option<Limited> {
        match effect.cloud {
            Cloud::Confluent => Some(Limited::Confluent),
            Cloud::Snowflake => Some(Limited::Snowflake),
            Cloud::Aws => match sigv4_service(headers)? {
                "iam" => Some(Limited::Iam),
                "secretsmanager" => Some(Limited::SecretsManager),
                _ => None,
            },
        }
    }
}

/// The service a SigV4 signature is scoped to:
/// `Credential=<key id>/<date>/<region>/<service>/aws4_request`.
pub(crate) fn sigv4_service(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let scope = auth.split("Credential=").nth(1)?;
    let scope = scope.split([',', ' ']).next()?;
    scope.split('/').nth(3)
}

/// A bucket's tokens, and when they were last counted; none until its first call, when it
/// starts full.
type Bucket = Option<(f64, Instant)>;

/// Each limited service's bucket, and the calls it let through and refused since the stand-in
/// started (a benchmark tells from the first how long the limit alone makes a fleet take).
#[derive(Clone, Default)]
pub struct Buckets {
    tokens: Arc<Mutex<[Bucket; 4]>>,
    taken: Arc<[AtomicU64; 4]>,
    refused: Arc<[AtomicU64; 4]>,
}

impl Buckets {
    /// Takes one call from `which`'s bucket: `None` when it may go on, else how long until it may.
    pub fn take(&self, which: Limited, rate: Rate) -> Option<Duration> {
        if rate.per_sec <= 0.0 {
            return None;
        }
        let burst = f64::from(rate.burst.max(1));
        let now = Instant::now();
        let mut all = self.tokens.lock().unwrap();
        let (tokens, then) = all[which.index()].get_or_insert((burst, now));
        let refill = now.duration_since(*then).as_secs_f64() * rate.per_sec;
        *tokens = (*tokens + refill).min(burst);
        *then = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            self.taken[which.index()].fetch_add(1, Ordering::SeqCst);
            return None;
        }
        let wait = Duration::from_secs_f64((1.0 - *tokens) / rate.per_sec);
        drop(all);
        self.refused[which.index()].fetch_add(1, Ordering::SeqCst);
        Some(wait)
    }

    /// Fills every bucket again, as for a new configuration.
    pub fn refill(&self) {
        *self.tokens.lock().unwrap() = Default::default();
    }

    /// Calls `which`'s limit let through since the stand-in started (none counted unlimited).
    pub fn taken(&self, which: Limited) -> u64 {
        self.taken[which.index()].load(Ordering::SeqCst)
    }

    /// Calls `which`'s limit refused since the stand-in started.
    pub fn refused(&self, which: Limited) -> u64 {
        self.refused[which.index()].load(Ordering::SeqCst)
    }
}

/// The refusal each service answers a throttle with.
///
/// - IAM (query protocol): HTTP 400 and `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
///   <Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>
///   <RequestId>…</RequestId></ErrorResponse>`, no Retry-After (as boto printed it in
///   legion-platform/legion#807; "Throttling: Rate exceeded … status code: 400" in
///   aws/aws-sdk-js#412 and alantech/iasql#716).
/// - Secrets Manager (awsJson1.1): HTTP 400 and `{"__type":"ThrottlingException","message":"Rate
///   exceeded"}` ("ThrottlingException: Rate exceeded status code: 400" from Secrets Manager in
///   external-secrets/external-secrets#4065).
/// - Snowflake: HTTP 429, which its drivers retry with backoff on login and query requests
///   (gosnowflake retry.go, `clientErrorsStatusCodesEligibleForRetry` holds
///   `http.StatusTooManyRequests`); it says no Retry-After they read.
/// - Confluent Cloud: 429 with Retry-After, JSON errors, except Kafka REST's HTML page
///   (specs/confluent-cloud/ENDPOINTS.md).
pub fn refusal(
    which: Limited,
    wait: Duration,
    path: &str,
    headers: &HeaderMap,
    retry_after_as_date: bool,
) -> Response {
    let request_id = uuid::Uuid::new_v4();
    match which {
        Limited::Iam => (
            StatusCode::BAD_REQUEST,
            [("content-type", "text/xml"), ("x-amzn-requestid", &request_id.to_string())],
            format!(
                "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
            ),
        )
            .into_response(),
        Limited::SecretsManager => (
            StatusCode::BAD_REQUEST,
            [
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amzn-requestid", &request_id.to_string()),
            ],
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        )
            .into_response(),
        Limited::Snowflake => (
            StatusCode::TOO_MANY_REQUESTS,
            [("content-type", "text/plain")],
            "Too Many Requests",
        )
            .into_response(),
        Limited::Confluent => {
            let mut response = if path.starts_with("/kafka/v3/") {
                let page = "<html><head><title>Error 429 Too Many Requests</title></head><body><h2>HTTP ERROR 429 Too Many Requests</h2></body></html>";
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("content-type", "text/html;charset=iso-8859-1")],
                    page,
                )
                    .into_response()
            } else {
                crate::faults::answer(headers, StatusCode::TOO_MANY_REQUESTS)
            };
            response
                .headers_mut()
                .insert(RETRY_AFTER, retry_after(wait, retry_after_as_date));
            response
        }
    }
}

/// `Retry-After` for a wait: whole seconds, rounded up (a service never asks for 0 while it
/// refuses), or the HTTP-date of the moment it ends.
pub(crate) fn retry_after(wait: Duration, as_date: bool) -> HeaderValue {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let text = if as_date {
        let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(secs.max(1) as i64);
        jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&at)
            .unwrap_or_else(|_| secs.to_string())
    } else {
        secs.max(1).to_string()
    };
    HeaderValue::from_str(&text).expect("a date or digits are a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    fn signed(service: &str, target: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20261203/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
        );
        h.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        if let Some(t) = target {
            h.insert("x-amz-target", HeaderValue::from_str(t).unwrap());
        }
        h
    }

    fn limited(headers: &HeaderMap, body: &[u8]) -> Option<Limited> {
        let root = "/".parse().unwrap();
        let effect = crate::effect::classify(&Method::POST, &root, headers, body);
        Limited::of(&effect, headers)
    }

    #[test]
    fn a_call_counts_against_the_limit_of_the_service_its_signature_names() {
        assert_eq!(
            limited(&signed("iam", None), b"Action=CreateRole"),
            Some(Limited::Iam)
        );
        let sm = signed("secretsmanager", Some("secretsmanager.CreateSecret"));
        assert_eq!(limited(&sm, b"{}"), Some(Limited::SecretsManager));
        // STS, Glue and S3 share no limit here.
        assert_eq!(
            limited(&signed("sts", None), b"Action=GetCallerIdentity"),
            None
        );
        assert_eq!(
            limited(&signed("glue", Some("AWSGlue.GetDatabase")), b"{}"),
            None
        );
        assert_eq!(limited(&signed("s3", None), b""), None);
        assert_eq!(limited(&HeaderMap::new(), b"{}"), Some(Limited::Confluent));
    }

    #[test]
    fn each_bucket_takes_its_burst_then_refuses_and_counts_alone() {
        let buckets = Buckets::default();
        let rate = Rate::new(2.0, 3);
        for _ in 0..3 {
            assert_eq!(buckets.take(Limited::Iam, rate), None);
        }
        let wait = buckets.take(Limited::Iam, rate).expect("over the limit");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        // Another service's bucket is its own, and no limit refuses nothing.
        assert_eq!(buckets.take(Limited::SecretsManager, rate), None);
        assert_eq!(buckets.take(Limited::Snowflake, Rate::default()), None);
        assert_eq!(buckets.refused(Limited::Iam), 1);
        assert_eq!(buckets.refused(Limited::SecretsManager), 0);
        buckets.refill();
        assert_eq!(buckets.take(Limited::Iam, rate), None);
    }

    #[tokio::test]
    async fn refusals_have_each_services_throttle_shape() {
        let body = |r: Response| async move {
            let status = r.status();
            let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, String::from_utf8(bytes.to_vec()).unwrap())
        };
        let h = HeaderMap::new();
        let wait = Duration::from_millis(300);
        let iam = refusal(Limited::Iam, wait, "/", &h, false);
        assert!(iam.headers().get(RETRY_AFTER).is_none());
        let (status, text) = body(iam).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            text.contains("<Code>Throttling</Code><Message>Rate exceeded</Message>"),
            "{text}"
        );
        let (status, text) = body(refusal(Limited::SecretsManager, wait, "/", &h, false)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["__type"], "ThrottlingException");
        assert_eq!(json["message"], "Rate exceeded");
        let sf = refusal(
            Limited::Snowflake,
            wait,
            "/queries/v1/query-request",
            &h,
            false,
        );
        assert_eq!(sf.status(), StatusCode::TOO_MANY_REQUESTS);
        let cc = refusal(Limited::Confluent, wait, "/iam/v2/api-keys", &h, false);
        assert_eq!(cc.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(cc.headers()[RETRY_AFTER], "1");
    }

    #[test]
    fn retry_after_is_whole_seconds_or_an_http_date() {
        let wait = Duration::from_millis(1200);
        assert_eq!(retry_after(wait, false), "2");
        let date = retry_after(wait, true);
        let at = jiff::fmt::rfc2822::DateTimeParser::new()
            .parse_timestamp(date.to_str().unwrap())
            .unwrap();
        let ahead = jiff::Timestamp::now().duration_until(at);
        assert!(ahead.as_secs() <= 2, "{date:?}");
        assert!(date.to_str().unwrap().ends_with(" GMT"), "{date:?}");
    }
}
