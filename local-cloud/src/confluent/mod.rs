//! Confluent Cloud, emulated from the official OpenAPI specs (`shared/specs/confluent-cloud`):
//! the management APIs, Connect, Kafka REST v3 and Flink SQL, with their status codes, error
//! shapes, paging, asynchronous phases, and credential checks.

// Handlers answer `Result<Response, Response>`, axum's idiom: the error is the reply itself,
// so its size is the size of any reply.
#![allow(clippy::result_large_err)]

mod cmk;
mod collection;
mod config;
mod connect;
mod flink;
mod iam;
mod kafka;
mod org;
mod owner;
mod rbac;
mod refs;
mod reply;
mod settle;
mod state;
mod sync;
mod tableflow;
mod topic_configs;
mod world;

use axum::Router;

pub use config::ConfluentConfig;
use state::Confluent;
pub use state::flink_region_id;
pub use world::Delays;

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
        .merge(topic_configs::routes())
        .merge(owner::routes())
        .with_state(state)
}
