//! Local stand-ins for the clouds `kickstart` talks to. This crate holds what they share: the
//! server, the journal of mutating calls, fault injection, and the control endpoints under
//! `/_local/` that tests use. Each service (Confluent Cloud, Snowflake) adds its own routes.

pub mod aws_proxy;
pub mod confluent;
pub mod customer_aws;
pub mod effect;
pub mod faults;
pub mod iam_simulator;
pub mod journal;
pub mod limits;
mod policy;
pub mod snowflake;

use std::net::SocketAddr;

use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router, middleware};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use faults::{FaultConfig, Faults};
pub use journal::{Call, Journal};
pub use limits::{Limited, Limits, Rate};

/// The prefix of the endpoints that control the stand-ins; never journaled, never faulted.
pub const CONTROL: &str = "/_local/";

pub fn is_control(path: &str) -> bool {
    path.starts_with(CONTROL)
}

/// A running stand-in on a loopback port.
pub struct LocalCloud {
    pub addr: SocketAddr,
    pub journal: Journal,
    pub faults: Faults,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl LocalCloud {
    /// Serves `services` on `addr` (port 0 picks a free port) behind the journal and fault layers.
    pub async fn start(
        addr: SocketAddr,
        faults: FaultConfig,
        services: Router,
    ) -> anyhow::Result<LocalCloud> {
        faults.check().map_err(anyhow::Error::msg)?;
        let journal = Journal::default();
        let faults = Faults::new(faults);
        let app = app(services, journal.clone(), faults.clone());
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(LocalCloud {
            addr,
            journal,
            faults,
            stop: Some(stop),
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

#[derive(Clone)]
struct Control {
    journal: Journal,
    faults: Faults,
}

/// The services with the control endpoints, the fault layer and the journal around them.
pub fn app(services: Router, journal: Journal, faults: Faults) -> Router {
    let control = Router::new()
        .route("/_local/health", get(|| async { "ok" }))
        .route("/_local/journal", get(get_journal).delete(clear_journal))
        .route("/_local/faults", get(get_faults).put(put_faults))
        .route("/_local/calls", get(get_calls))
        .with_state(Control {
            journal: journal.clone(),
            faults: faults.clone(),
        });
    services
        .fallback(not_served)
        .merge(control)
        .layer(middleware::from_fn_with_state(faults, faults::inject))
        .layer(middleware::from_fn_with_state(journal, journal::record))
}

async fn not_served(method: Method, uri: Uri) -> impl IntoResponse {
    let detail = format!("local-cloud does not serve {method} {}", uri.path());
    let body = json!({"errors": [{"status": "404", "detail": detail}]});
    (StatusCode::NOT_FOUND, Json(body))
}

async fn get_journal(State(c): State<Control>) -> Json<Vec<Call>> {
    Json(c.journal.calls())
}

async fn clear_journal(State(c): State<Control>) -> StatusCode {
    c.journal.clear();
    StatusCode::NO_CONTENT
}

async fn get_faults(State(c): State<Control>) -> Json<FaultConfig> {
    Json(c.faults.config())
}

/// How many changes came since the faults were set (and what each was), whether one is being
/// held, how many calls of any kind came since the start, and how many each rate limit refused.
async fn get_calls(State(c): State<Control>) -> Json<serde_json::Value> {
    Json(json!({
        "mutating": c.faults.mutating(),
        "changes": c.faults.changes(),
        "hanging": c.faults.hanging(),
        "all": c.faults.all(),
        "throttled": Limited::ALL
            .iter()
            .map(|&l| (serde_json::to_value(l).unwrap(), c.faults.throttled_by(l)))
            .map(|(k, n)| (k.as_str().unwrap_or_default().to_string(), json!(n)))
            .collect::<serde_json::Map<_, _>>(),
    }))
}

async fn put_faults(
    State(c): State<Control>,
    Json(config): Json<FaultConfig>,
) -> Result<Json<FaultConfig>, (StatusCode, String)> {
    config.check().map_err(|e| (StatusCode::BAD_REQUEST, e))?;
    c.faults.set(config.clone());
    Ok(Json(config))
}
