//! Every mutating call the stand-ins receive, in order, so tests can assert that nothing was
//! touched, nothing was made twice, and what the fault layer did.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use crate::effect::{Cloud, Effect};
use crate::faults::{Injected, LostAnswer};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Call {
    pub seq: u64,
    pub method: String,
    pub path: String,
    /// The service, and the call's name (an AWS action, a statement's first words, a path).
    pub cloud: Cloud,
    pub call: String,
    pub status: u16,
    /// The fault layer answered instead of the service.
    pub injected: bool,
    /// The service did the work; the fault layer then lost its answer (a 5xx or a cut).
    pub answer_lost: bool,
    pub at_ms: u64,
}

#[derive(Clone)]
pub struct Journal {
    calls: Arc<Mutex<Vec<Call>>>,
    origin: Instant,
}

impl Default for Journal {
    fn default() -> Self {
        Journal {
            calls: Arc::default(),
            origin: Instant::now(),
        }
    }
}

impl Journal {
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// The calls that reached a service (not answered by the fault layer).
    pub fn served(&self) -> Vec<Call> {
        self.calls().into_iter().filter(|c| !c.injected).collect()
    }

    pub fn clear(&self) {
        self.calls.lock().unwrap().clear();
    }

    fn push(&self, mut call: Call) {
        let mut calls = self.calls.lock().unwrap();
        call.seq = calls.len() as u64 + 1;
        call.at_ms = self.origin.elapsed().as_millis() as u64;
        calls.push(call);
    }
}

/// Marks the answer to a change that changed nothing after all (a Snowflake statement that
/// failed, say), so the journal, which lists what changed, leaves it out.
#[derive(Clone, Copy, Debug)]
pub struct ReadOnly;

/// Middleware: records each call that changes something (as [`crate::effect`] tells) with the
/// status it was answered with.
pub async fn record(State(journal): State<Journal>, request: Request, next: Next) -> Response {
    if crate::is_control(request.uri().path()) {
        return next.run(request).await;
    }
    let (request, effect): (Request, Effect) = crate::effect::of_request(request).await;
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let read_only = response.extensions().get::<ReadOnly>().is_some();
    if effect.changes && !read_only {
        journal.push(Call {
            seq: 0,
            method,
            path,
            cloud: effect.cloud,
            call: effect.call,
            status: response.status().as_u16(),
            injected: response.extensions().get::<Injected>().is_some(),
            answer_lost: response.extensions().get::<LostAnswer>().is_some(),
            at_ms: 0,
        });
    }
    response
}
