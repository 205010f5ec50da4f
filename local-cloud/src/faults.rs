//! Fault injection in front of every service: added latency, throttling with `Retry-After`, and
//! server errors, at rates drawn from a seeded generator so a failing run can be replayed. Some
//! faults come after the service did the work (a 5xx or a cut connection in place of its answer),
//! as a real network loses answers; a held call can likewise wait before or after the service.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header::RETRY_AFTER};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::effect::Effect;
use crate::limits::{Buckets, Limited, Limits, Rate};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    pub min_latency_ms: u64,
    pub max_latency_ms: u64,
    /// Share of calls answered 429 with `Retry-After`.
    pub throttle_rate: f64,
    /// Share of calls answered 500 or 503.
    pub error_rate: f64,
    /// Share of changes the service carries out whose answer is then lost: half replaced by a
    /// 500 or 503, half by a connection cut before any byte of the answer.
    pub lost_answer_rate: f64,
    pub retry_after_secs: u64,
    /// Calls per second the Confluent emulator takes, as Confluent Cloud limits an organization
    /// (every client of it shares the limit); 0 for none. Beyond it, and a burst of
    /// `rate_limit_burst`, a call is answered 429 with the wait until the next one is taken.
    pub rate_limit_per_sec: f64,
    pub rate_limit_burst: u32,
    /// Says that wait as an HTTP-date rather than in seconds (RFC 9110 allows either).
    pub retry_after_as_date: bool,
    pub seed: u64,
    /// The mutating call with this number (1-based, counted from when it is set) never gets an
    /// answer: it hangs, so a test can kill the client at exactly that step.
    pub hang_at: Option<u64>,
    /// The change with this number (1-based, as `hang_at`) is carried out by the service, and its
    /// answer is then held forever: the client dies after the change, before it learns of it.
    pub hold_after: Option<u64>,
    /// Account-wide limits of AWS IAM, Secrets Manager and Snowflake (see [`crate::limits`]).
    pub limits: Limits,
}

impl FaultConfig {
    pub fn check(&self) -> Result<(), String> {
        let rate = |r: f64| (0.0..=1.0).contains(&r);
        if !rate(self.throttle_rate) || !rate(self.error_rate) || !rate(self.lost_answer_rate) {
            return Err("rates must be between 0 and 1".into());
        }
        if self.min_latency_ms > self.max_latency_ms {
            return Err("min_latency_ms must not exceed max_latency_ms".into());
        }
        if self.rate_limit_per_sec < 0.0 {
            return Err("rate_limit_per_sec must not be negative".into());
        }
        self.limits.check()
    }
}

/// Marks a response the fault layer made, for the journal.
#[derive(Clone, Copy, Debug)]
pub struct Injected;

/// Marks a response the fault layer made after the service had done the work.
#[derive(Clone, Copy, Debug)]
pub struct LostAnswer;

/// What happens to an answer the service gave to a change.
enum Lost {
    Status(StatusCode),
    Cut,
}

#[derive(Clone)]
pub struct Faults {
    config: Arc<Mutex<FaultConfig>>,
    rng: Arc<Mutex<fastrand::Rng>>,
    /// Mutating calls seen since the configuration was set.
    mutating: Arc<std::sync::atomic::AtomicU64>,
    /// Whether a call is being held by `hang_at`.
    hanging: Arc<std::sync::atomic::AtomicBool>,
    /// Every call to a service since the stand-in started, reads included.
    all: Arc<std::sync::atomic::AtomicU64>,
    /// The changes seen since the configuration was set, in order: what the k-th one was.
    changes: Arc<Mutex<Vec<Effect>>>,
    /// The rate limits' buckets, and the calls each refused since the stand-in started.
    buckets: Buckets,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Self {
        let rng = fastrand::Rng::with_seed(config.seed);
        Faults {
            config: Arc::new(Mutex::new(config)),
            rng: Arc::new(Mutex::new(rng)),
            mutating: Arc::default(),
            hanging: Arc::default(),
            all: Arc::default(),
            changes: Arc::default(),
            buckets: Buckets::default(),
        }
    }

    /// Calls the rate limits refused since the stand-in started, all services together.
    pub fn throttled(&self) -> u64 {
        Limited::ALL.iter().map(|&l| self.buckets.refused(l)).sum()
    }

    /// Calls one service's rate limit refused since the stand-in started.
    pub fn throttled_by(&self, which: Limited) -> u64 {
        self.buckets.refused(which)
    }

    /// Calls `which`'s limit let through since the stand-in started (none while it is off).
    pub fn allowed_by(&self, which: Limited) -> u64 {
        self.buckets.taken(which)
    }

    /// Takes one call from `which`'s limit: `None` when it may go on, else how long until it may.
    fn over_limit(&self, c: &FaultConfig, which: Limited) -> Option<Duration> {
        let rate = match which {
            Limited::Confluent => Rate::new(c.rate_limit_per_sec, c.rate_limit_burst),
            Limited::Iam => c.limits.iam,
            Limited::SecretsManager => c.limits.secrets_manager,
            Limited::Snowflake => c.limits.snowflake,
        };
        self.buckets.take(which, rate)
    }

    pub fn config(&self) -> FaultConfig {
        self.config.lock().unwrap().clone()
    }

    /// Replaces the configuration and reseeds, so the same config replays the same faults.
    pub fn set(&self, config: FaultConfig) {
        *self.rng.lock().unwrap() = fastrand::Rng::with_seed(config.seed);
        self.mutating.store(0, std::sync::atomic::Ordering::SeqCst);
        self.hanging
            .store(false, std::sync::atomic::Ordering::SeqCst);
        self.changes.lock().unwrap().clear();
        self.buckets.refill();
        *self.config.lock().unwrap() = config;
    }

    /// The changes seen since the configuration was last set, in order (the k-th is `[k - 1]`).
    pub fn changes(&self) -> Vec<Effect> {
        self.changes.lock().unwrap().clone()
    }

    pub fn hanging(&self) -> bool {
        self.hanging.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Every call a service was asked, reads included, since the stand-in started.
    pub fn all(&self) -> u64 {
        self.all.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Mutating calls seen since the configuration was last set.
    pub fn mutating(&self) -> u64 {
        self.mutating.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Decides the fate of one call: how long to delay it, and whether to answer in its place.
    fn roll(&self) -> (Duration, Option<StatusCode>) {
        let c = self.config();
        let mut rng = self.rng.lock().unwrap();
        let latency = if c.max_latency_ms > 0 {
            rng.u64(c.min_latency_ms..=c.max_latency_ms)
        } else {
            0
        };
        let draw = rng.f64();
        let fault = if draw < c.throttle_rate {
            Some(StatusCode::TOO_MANY_REQUESTS)
        } else if draw < c.throttle_rate + c.error_rate {
            Some(if rng.bool() {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            })
        } else {
            None
        };
        (Duration::from_millis(latency), fault)
    }

    /// Whether the answer to a change the service carried out is lost, and how.
    fn roll_after(&self) -> Option<Lost> {
        let rate = self.config().lost_answer_rate;
        let mut rng = self.rng.lock().unwrap();
        if rate == 0.0 || rng.f64() >= rate {
            return None;
        }
        Some(match rng.u8(0..3) {
            0 => Lost::Status(StatusCode::INTERNAL_SERVER_ERROR),
            1 => Lost::Status(StatusCode::SERVICE_UNAVAILABLE),
            _ => Lost::Cut,
        })
    }

    /// Holds the call forever, saying so, so that a test can kill the client at this step.
    async fn hold(&self) -> Response {
        self.hanging
            .store(true, std::sync::atomic::Ordering::SeqCst);
        std::future::pending::<()>().await;
        unreachable!("a pending future never completes")
    }
}

/// Middleware: delays, sometimes answers instead of the service, and sometimes loses the answer
/// the service gave to a change.
pub async fn inject(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    if crate::is_control(request.uri().path()) {
        return next.run(request).await;
    }
    faults.all.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let config = faults.config();
    let (request, effect) = crate::effect::of_request(request).await;
    // Each limit is the account's (or organization's): one stand-in is one account.
    if let Some(which) = Limited::of(&effect, request.headers())
        && let Some(wait) = faults.over_limit(&config, which)
    {
        let path = request.uri().path();
        let mut response = crate::limits::refusal(
            which,
            wait,
            path,
            request.headers(),
            config.retry_after_as_date,
        );
        response.extensions_mut().insert(Injected);
        return response;
    }
    let step = if effect.changes {
        faults.changes.lock().unwrap().push(effect);
        let n = faults
            .mutating
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        if config.hang_at == Some(n) {
            return faults.hold().await;
        }
        Some(n)
    } else {
        None
    };
    let headers = request.headers().clone();
    let (latency, fault) = faults.roll();
    tokio::time::sleep(latency).await;
    if let Some(status) = fault {
        let mut response = answer(&headers, status);
        if status == StatusCode::TOO_MANY_REQUESTS {
            let secs = config.retry_after_secs.to_string();
            let value = HeaderValue::from_str(&secs).expect("digits are a valid header value");
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        response.extensions_mut().insert(Injected);
        return response;
    }
    let response = next.run(request).await;
    let Some(n) = step else {
        return response;
    };
    if config.hold_after == Some(n) {
        return faults.hold().await;
    }
    let mut lost = match faults.roll_after() {
        None => return response,
        Some(Lost::Status(status)) => answer(&headers, status),
        Some(Lost::Cut) => cut(),
    };
    lost.extensions_mut().insert(LostAnswer);
    lost
}

/// An answer that never arrives: the body fails before its first byte, so the server drops the
/// connection, as when a network path breaks after the service acted.
fn cut() -> Response {
    let broken = futures_util::stream::once(async {
        Err::<axum::body::Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "local-cloud cut the connection",
        ))
    });
    let mut response = Response::new(axum::body::Body::from_stream(broken));
    response
        .headers_mut()
        .insert("content-length", HeaderValue::from_static("64"));
    response
}

/// The fault's answer in the shape of the caller's API: AWS's three protocols for signed AWS calls
/// (JSON with `__type`, the query protocol's XML, S3's XML with SlowDown), else Confluent's.
pub(crate) fn answer(headers: &axum::http::HeaderMap, status: StatusCode) -> Response {
    let signed = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256"));
    let throttled = status == StatusCode::TOO_MANY_REQUESTS;
    if !signed {
        let body = json!({"errors": [{"status": status.as_u16().to_string(), "detail": status.canonical_reason()}]});
        return (status, Json(body)).into_response();
    }
    let xml = |status: StatusCode, body: String| {
        (status, [("content-type", "text/xml")], body).into_response()
    };
    if headers.contains_key("x-amz-target") {
        let (status, kind) = if throttled {
            (StatusCode::BAD_REQUEST, "ThrottlingException")
        } else {
            (status, "InternalFailure")
        };
        let body = json!({"__type": kind, "message": "injected by local-cloud"}).to_string();
        return (
            status,
            [("content-type", "application/x-amz-json-1.1")],
            body,
        )
            .into_response();
    }
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        let (status, kind, code) = if throttled {
            (StatusCode::BAD_REQUEST, "Sender", "Throttling")
        } else {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Receiver",
                "ServiceUnavailable",
            )
        };
        let body = format!(
            "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>injected by local-cloud</Message></Error><RequestId>local</RequestId></ErrorResponse>"
        );
        return xml(status, body);
    }
    let (status, code) = if throttled {
        (StatusCode::SERVICE_UNAVAILABLE, "SlowDown")
    } else {
        (StatusCode::INTERNAL_SERVER_ERROR, "InternalError")
    };
    xml(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected by local-cloud</Message><RequestId>local</RequestId></Error>"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_limit_takes_its_burst_then_says_how_long_to_wait() {
        let config = FaultConfig {
            rate_limit_per_sec: 2.0,
            rate_limit_burst: 3,
            ..FaultConfig::default()
        };
        let faults = Faults::new(config.clone());
        for _ in 0..3 {
            assert_eq!(faults.over_limit(&config, Limited::Confluent), None);
        }
        let wait = faults
            .over_limit(&config, Limited::Confluent)
            .expect("the fourth call is over the limit");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        assert_eq!(faults.throttled(), 1);
        assert_eq!(faults.throttled_by(Limited::Confluent), 1);
        assert_eq!(
            faults.over_limit(&FaultConfig::default(), Limited::Confluent),
            None
        );
        // The other services' limits are their own fields.
        let iam = FaultConfig {
            limits: Limits {
                iam: Rate::new(1.0, 1),
                ..Limits::default()
            },
            ..FaultConfig::default()
        };
        assert_eq!(faults.over_limit(&iam, Limited::Iam), None);
        assert!(faults.over_limit(&iam, Limited::Iam).is_some());
        assert_eq!(faults.over_limit(&iam, Limited::SecretsManager), None);
        assert_eq!(faults.throttled(), 2);
    }
}
