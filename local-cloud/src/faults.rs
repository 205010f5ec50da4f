//! Fault injection in front of every service: added latency, throttling with `Retry-After`, and
//! server errors, at rates drawn from a seeded generator so a failing run can be replayed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header::RETRY_AFTER};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    pub min_latency_ms: u64,
    pub max_latency_ms: u64,
    /// Share of calls answered 429 with `Retry-After`.
    pub throttle_rate: f64,
    /// Share of calls answered 500 or 503.
    pub error_rate: f64,
    pub retry_after_secs: u64,
    pub seed: u64,
    /// The mutating call with this number (1-based, counted from when it is set) never gets an
    /// answer: it hangs, so a test can kill the client at exactly that step.
    pub hang_at: Option<u64>,
}

impl FaultConfig {
    pub fn check(&self) -> Result<(), String> {
        let rate = |r: f64| (0.0..=1.0).contains(&r);
        if !rate(self.throttle_rate) || !rate(self.error_rate) {
            return Err("rates must be between 0 and 1".into());
        }
        if self.min_latency_ms > self.max_latency_ms {
            return Err("min_latency_ms must not exceed max_latency_ms".into());
        }
        Ok(())
    }
}

/// Marks a response the fault layer made, for the journal.
#[derive(Clone, Copy, Debug)]
pub struct Injected;

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
        }
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
        *self.config.lock().unwrap() = config;
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
}

/// Middleware: delays, and sometimes answers instead of the service.
pub async fn inject(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    if crate::is_control(request.uri().path()) {
        return next.run(request).await;
    }
    faults.all.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if crate::journal::is_mutating(request.method()) {
        let n = faults
            .mutating
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        if faults.config().hang_at == Some(n) {
            faults
                .hanging
                .store(true, std::sync::atomic::Ordering::SeqCst);
            // Never answers: the client is killed while it waits.
            std::future::pending::<()>().await;
        }
    }
    let (latency, fault) = faults.roll();
    tokio::time::sleep(latency).await;
    let Some(status) = fault else {
        return next.run(request).await;
    };
    let mut response = answer(&request, status);
    if status == StatusCode::TOO_MANY_REQUESTS {
        let secs = faults.config().retry_after_secs.to_string();
        let value = HeaderValue::from_str(&secs).expect("digits are a valid header value");
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response.extensions_mut().insert(Injected);
    response
}

/// The fault's answer in the shape of the caller's API: AWS's three protocols for signed AWS calls
/// (JSON with `__type`, the query protocol's XML, S3's XML with SlowDown), else Confluent's.
fn answer(request: &Request, status: StatusCode) -> Response {
    let headers = request.headers();
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
