//! Confluent Cloud, emulated from the official OpenAPI specs (`shared/specs/confluent-cloud`):
//! the management APIs, Connect, Kafka REST v3 and Flink SQL, with their status codes, error
//! shapes, paging, asynchronous phases, and credential checks.

// Handlers answer `Result<Response, Response>`, axum's idiom: the error is the reply itself,
// so its size is the size of any reply.
#![allow(clippy::result_large_err)]

mod cmk;
mod collection;
mod connect;
mod flink;
mod iam;
mod kafka;
mod org;
mod rbac;
mod refs;
mod reply;
mod settle;
mod sync;
mod tableflow;
mod world;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

pub use world::Delays;
use world::World;

use reply::{Api, basic_auth, error};

#[derive(Clone, Debug)]
pub struct ConfluentConfig {
    /// The organization-level Cloud API key the management API accepts.
    pub api_key: String,
    pub api_secret: String,
    pub organization_id: String,
    pub delays: Delays,
    /// The customer's AWS account (moto's URL), where Tableflow writes its tables and publishes
    /// them to Glue. Without it, Tableflow's phases move on with time alone.
    pub customer_aws: Option<String>,
}

impl ConfluentConfig {
    pub fn new(api_key: &str, api_secret: &str, delays: Delays) -> Self {
        ConfluentConfig {
            api_key: api_key.into(),
            api_secret: api_secret.into(),
            organization_id: uuid::Uuid::new_v4().to_string(),
            delays,
            customer_aws: None,
        }
    }

    /// Tableflow reaches the customer's AWS account at `endpoint`.
    pub fn with_customer_aws(mut self, endpoint: &str) -> Self {
        self.customer_aws = Some(endpoint.to_string());
        self
    }
}

/// The shared state of every handler.
#[derive(Clone)]
pub struct Confluent {
    config: Arc<ConfluentConfig>,
    world: Arc<Mutex<World>>,
    aws: Option<crate::customer_aws::CustomerAws>,
}

/// Who a request is, by its credentials.
enum Caller {
    Cloud,
    /// An API key bound to a resource (`lkc-…`, `lsrc-…`, `aws.us-east-1`, `tableflow`).
    Resource {
        resource: String,
        environment: Option<String>,
    },
}

impl Confluent {
    pub fn new(config: ConfluentConfig) -> Self {
        Confluent {
            aws: config
                .customer_aws
                .as_deref()
                .map(crate::customer_aws::CustomerAws::new),
            config: Arc::new(config),
            world: Arc::default(),
        }
    }

    /// The world, with every asynchronous resource moved along to where time has brought it.
    /// Work in the customer's AWS account runs on the server's runtime, in the background.
    fn world(&self) -> MutexGuard<'_, World> {
        let mut world = self.world.lock().unwrap_or_else(|e| e.into_inner());
        let jobs = settle::settle(&mut world, &self.config);
        if let Some(aws) = &self.aws {
            for job in jobs {
                tokio::spawn(sync::run(job, self.world.clone(), aws.clone()));
            }
        }
        world
    }

    fn caller(&self, headers: &HeaderMap, api: Api) -> Result<Caller, Response> {
        let unauthorized = || error(api, StatusCode::UNAUTHORIZED, "Unauthorized");
        let (key, secret) = basic_auth(headers).ok_or_else(unauthorized)?;
        if key == self.config.api_key && secret == self.config.api_secret {
            return Ok(Caller::Cloud);
        }
        let world = self.world.lock().unwrap_or_else(|e| e.into_inner());
        // A deleted key is simply gone: it is refused like any unknown one, and so is a new key
        // until it has propagated.
        match world.keys.get(&key) {
            Some(k) if k.secret == secret && k.item.settled() => Ok(match &k.resource {
                Some(resource) => Caller::Resource {
                    resource: resource.clone(),
                    environment: k.item.json["spec"]["resource"]["environment"]
                        .as_str()
                        .map(str::to_string),
                },
                None => Caller::Cloud,
            }),
            _ => Err(unauthorized()),
        }
    }

    /// The management APIs take the organization's Cloud API key only.
    fn cloud(&self, headers: &HeaderMap) -> Result<(), Response> {
        match self.caller(headers, Api::Management)? {
            Caller::Cloud => Ok(()),
            Caller::Resource { .. } => Err(error(
                Api::Management,
                StatusCode::UNAUTHORIZED,
                "a resource-scoped API key cannot call the management API",
            )),
        }
    }

    /// Connect takes the Cloud API key, and answers in its own error shape.
    fn caller_cloud(&self, headers: &HeaderMap) -> Result<(), Response> {
        match self.caller(headers, Api::Connect)? {
            Caller::Cloud => Ok(()),
            Caller::Resource { .. } => Err(error(
                Api::Connect,
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
            )),
        }
    }

    /// Kafka REST, Flink SQL and Tableflow take a key of their own resource only.
    fn resource(
        &self,
        headers: &HeaderMap,
        api: Api,
        wanted: &str,
        environment: Option<&str>,
    ) -> Result<(), Response> {
        match self.caller(headers, api)? {
            Caller::Resource {
                resource,
                environment: key_env,
            } if resource == wanted
                && (environment.is_none() || key_env.as_deref() == environment) =>
            {
                Ok(())
            }
            _ => Err(error(
                api,
                StatusCode::UNAUTHORIZED,
                format!("this API needs an API key for resource {wanted}"),
            )),
        }
    }
}

/// The region every emulated cloud resource lives in, as Flink API keys name it.
pub fn flink_region_id(cloud: &str, region: &str) -> String {
    format!("{}.{region}", cloud.to_ascii_lowercase())
}

/// Tableflow works on its own schedule, not only when someone asks: settling now and then starts
/// what is due in the customer's account even while no request comes. Needs a Tokio runtime.
async fn keep_syncing(cc: Confluent) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    loop {
        tick.tick().await;
        drop(cc.world());
    }
}

/// Every Confluent route.
pub fn router(config: ConfluentConfig) -> Router {
    let state = Confluent::new(config);
    if state.aws.is_some() {
        tokio::spawn(keep_syncing(state.clone()));
    }
    Router::new()
        .merge(org::routes())
        .merge(cmk::routes())
        .merge(iam::routes())
        .merge(flink::routes())
        .merge(tableflow::routes())
        .merge(connect::routes())
        .merge(kafka::routes())
        .with_state(state)
}
