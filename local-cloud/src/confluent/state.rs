//! The emulator's shared state and who a request is: the configuration, the world behind its
//! lock (settled on every access), and the credential checks each API makes of its callers.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::config::ConfluentConfig;
use super::reply::{Api, basic_auth, error};
use super::world::World;
use super::{settle, sync};

/// The shared state of every handler.
#[derive(Clone)]
pub struct Confluent {
    pub(super) config: Arc<ConfluentConfig>,
    world: Arc<Mutex<World>>,
    pub(super) aws: Option<crate::customer_aws::CustomerAws>,
}

/// Who a request is, by its credentials.
pub(super) enum Caller {
    Cloud,
    /// An API key bound to a resource (`lkc-…`, `lsrc-…`, `aws.us-east-1`, `tableflow`).
    Resource {
        resource: String,
        environment: Option<String>,
    },
}

impl Confluent {
    pub fn new(config: ConfluentConfig) -> Self {
        let mut world = World::default();
        super::owner::seed(&mut world, &config);
        Confluent {
            aws: config
                .customer_aws
                .as_deref()
                .map(crate::customer_aws::CustomerAws::new),
            config: Arc::new(config),
            world: Arc::new(Mutex::new(world)),
        }
    }

    /// The world, with every asynchronous resource moved along to where time has brought it.
    /// Work in the customer's AWS account runs on the server's runtime, in the background.
    pub(super) fn world(&self) -> MutexGuard<'_, World> {
        let mut world = self.world.lock().unwrap_or_else(|e| e.into_inner());
        let jobs = settle::settle(&mut world, &self.config);
        if let Some(aws) = &self.aws {
            for job in jobs {
                tokio::spawn(sync::run(job, self.world.clone(), aws.clone()));
            }
        }
        world
    }

    pub(super) fn caller(&self, headers: &HeaderMap, api: Api) -> Result<Caller, Response> {
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
    pub(super) fn cloud(&self, headers: &HeaderMap) -> Result<(), Response> {
        match self.caller(headers, Api::Management)? {
            Caller::Cloud => Ok(()),
            Caller::Resource { .. } => Err(error(
                Api::Management,
                StatusCode::UNAUTHORIZED,
                "a resource-scoped API key cannot call the management API",
            )),
        }
    }

    /// Organization-wide creates (environments, service accounts, role bindings) take the Cloud
    /// API key of a principal holding OrganizationAdmin, else Confluent's 403.
    pub(super) fn org_admin(&self, headers: &HeaderMap) -> Result<(), Response> {
        self.cloud(headers)?;
        let key = basic_auth(headers).map(|(k, _)| k).unwrap_or_default();
        let world = self.world();
        let owner = if key == self.config.api_key {
            self.config.owner.clone()
        } else {
            world
                .keys
                .get(&key)
                .map(|k| k.owner.clone())
                .unwrap_or_default()
        };
        super::owner::require_admin(&world, &self.config, &owner)
    }

    /// Connect takes the Cloud API key, and answers in its own error shape.
    pub(super) fn caller_cloud(&self, headers: &HeaderMap) -> Result<(), Response> {
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
    pub(super) fn resource(
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
