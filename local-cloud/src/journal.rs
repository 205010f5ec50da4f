//! Every mutating call the stand-ins receive, in order, so tests can assert that nothing was
//! touched, nothing was made twice, and what the fault layer did.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use crate::faults::Injected;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Call {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// The fault layer answered instead of the service.
    pub injected: bool,
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

    fn push(&self, method: String, path: String, status: u16, injected: bool) {
        let mut calls = self.calls.lock().unwrap();
        let seq = calls.len() as u64 + 1;
        calls.push(Call {
            seq,
            method,
            path,
            status,
            injected,
            at_ms: self.origin.elapsed().as_millis() as u64,
        });
    }
}

/// Marks a response to a POST that changed nothing (a Snowflake SHOW, say), so the journal,
/// which lists what changed, leaves it out.
#[derive(Clone, Copy, Debug)]
pub struct ReadOnly;

pub fn is_mutating(method: &axum::http::Method) -> bool {
    !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS")
}

/// Middleware: records each mutating call with the status it was answered with.
pub async fn record(State(journal): State<Journal>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let read_only = response.extensions().get::<ReadOnly>().is_some();
    if is_mutating(&method) && !read_only && !crate::is_control(&path) {
        let injected = response.extensions().get::<Injected>().is_some();
        journal.push(
            method.to_string(),
            path,
            response.status().as_u16(),
            injected,
        );
    }
    response
}
