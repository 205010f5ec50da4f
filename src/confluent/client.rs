//! A small client for the Confluent Cloud REST APIs: HTTP Basic with the Cloud API key or a
//! resource key, the shared retry policy, `metadata.next` paging (empty on the last page), and the three error shapes
//! (management `errors[]`, Connect `error`, Kafka REST `error_code`) mapped to one error.

use std::time::Duration;

use reqwest::Method;
use secrecy::{ExposeSecret as _, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::engine::{NodeError, RetryPolicy, Transient};
use crate::http::{self, HttpError};

/// Which credentials a call uses.
#[derive(Clone)]
pub enum Auth {
    /// The organization's Cloud API key.
    Cloud,
    /// A resource-scoped API key (Kafka, Flink, Tableflow), freshly made or read from the vault.
    /// While it or a role binding the call relies on may still be propagating, its refusals
    /// (401, 403) are retried for `patience`; after that, or for old ones, they fail at once.
    Key {
        id: String,
        secret: SecretString,
        patience: Duration,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("Confluent Cloud answered {status} to {what}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub what: String,
    /// The server's own words, from whichever error shape it used.
    pub message: String,
}

impl From<ApiError> for NodeError {
    fn from(e: ApiError) -> Self {
        NodeError::Other(e.into())
    }
}

pub struct Client {
    http: reqwest::Client,
    base: url::Url,
    key: String,
    secret: SecretString,
    retry: RetryPolicy,
}

/// How often, at most, a call is tried while its key or role binding propagates.
pub const PROPAGATION_ATTEMPTS: usize = 60;

impl Client {
    pub fn new(base: url::Url, key: String, secret: SecretString, retry: RetryPolicy) -> Self {
        Client {
            http: http::client(),
            base,
            key,
            secret,
            retry,
        }
    }

    /// The same client with another retry policy.
    pub fn with_retry(&self, retry: RetryPolicy) -> Client {
        Client {
            http: self.http.clone(),
            base: self.base.clone(),
            key: self.key.clone(),
            secret: self.secret.clone(),
            retry,
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn base(&self) -> &url::Url {
        &self.base
    }

    /// A path on the management API, or a full URL (Kafka REST, Flink, `metadata.next`).
    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            let base = self.base.as_str().trim_end_matches('/');
            format!("{base}{path_or_url}")
        }
    }

    /// Sends one call; `None` for a 404 when `missing_ok` (a lookup, or a delete of what is gone).
    async fn call(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<&Value>,
        missing_ok: bool,
    ) -> Result<Option<Value>, ApiError> {
        let url = self.url(path);
        let what = format!("{method} {}", url.split('?').next().unwrap_or(&url));
        let build = || {
            let mut req = self.http.request(method.clone(), &url);
            req = match auth {
                Auth::Cloud => req.basic_auth(&self.key, Some(self.secret.expose_secret())),
                Auth::Key { id, secret, .. } => req.basic_auth(id, Some(secret.expose_secret())),
            };
            match body {
                Some(b) => req.json(b),
                None => req,
            }
        };
        let result = match auth {
            Auth::Key { patience, .. } if !patience.is_zero() => {
                // Polls from a second up to half a minute, at most PROPAGATION_ATTEMPTS.
                let policy = RetryPolicy {
                    base: Duration::from_secs(1),
                    cap: Duration::from_secs(30),
                    max_attempts: PROPAGATION_ATTEMPTS,
                    max_elapsed: *patience,
                    quiet: true,
                    throttle_window: *patience,
                };
                policy
                    .run(&what, || async {
                        http::send(&self.retry, build).await.map_err(KeyRefused)
                    })
                    .await
                    .map_err(|e| e.0)
            }
            _ => http::send(&self.retry, build).await,
        };
        match result {
            Ok(response) => {
                let text = response.text().await.unwrap_or_default();
                Ok(Some(serde_json::from_str(&text).unwrap_or(Value::Null)))
            }
            Err(HttpError::Status { status: 404, .. }) if missing_ok => Ok(None),
            Err(HttpError::Status { status, body, .. }) => Err(ApiError {
                status,
                message: match (auth, status) {
                    (Auth::Key { id, .. }, 401) => format!(
                        "API key {id} is not accepted ({}); if it was deleted, `kickstart rotate` makes a new one",
                        server_message(&body)
                    ),
                    (Auth::Key { id, .. }, 403) => format!(
                        "the owner of API key {id} holds no role binding that allows this ({})",
                        server_message(&body)
                    ),
                    _ => server_message(&body),
                },
                what,
            }),
            Err(e @ HttpError::Transport { .. }) => Err(ApiError {
                status: 0,
                what,
                message: e.to_string(),
            }),
        }
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> Result<Option<Value>, ApiError> {
        self.call(Method::GET, path, auth, None, true).await
    }

    pub async fn post(&self, path: &str, auth: &Auth, body: &Value) -> Result<Value, ApiError> {
        Ok(self
            .call(Method::POST, path, auth, Some(body), false)
            .await?
            .unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, auth: &Auth, body: &Value) -> Result<Value, ApiError> {
        Ok(self
            .call(Method::PUT, path, auth, Some(body), false)
            .await?
            .unwrap_or(Value::Null))
    }

    pub async fn patch(&self, path: &str, auth: &Auth, body: &Value) -> Result<Value, ApiError> {
        Ok(self
            .call(Method::PATCH, path, auth, Some(body), false)
            .await?
            .unwrap_or(Value::Null))
    }

    /// Deletes; what is already gone counts as deleted.
    pub async fn delete(&self, path: &str, auth: &Auth) -> Result<(), ApiError> {
        self.call(Method::DELETE, path, auth, None, true).await?;
        Ok(())
    }

    /// Every item of a paged management list, following `metadata.next` to the end.
    pub async fn list(&self, path: &str, auth: &Auth) -> Result<Vec<Value>, ApiError> {
        let mut items = Vec::new();
        let mut next = Some(with_page_size(path));
        while let Some(url) = next.take() {
            let Some(page) = self.get(&url, auth).await? else {
                break;
            };
            if let Some(data) = page["data"].as_array() {
                items.extend(data.iter().cloned());
            }
            // The last page says `next: ""` (or leaves it out, or null).
            next = page["metadata"]["next"]
                .as_str()
                .filter(|n| !n.is_empty())
                .map(str::to_string);
        }
        Ok(items)
    }

    pub async fn get_as<T: DeserializeOwned>(
        &self,
        path: &str,
        auth: &Auth,
    ) -> Result<Option<T>, ApiError> {
        match self.get(path, auth).await? {
            Some(v) => Ok(Some(serde_json::from_value(v).map_err(|e| ApiError {
                status: 200,
                what: format!("GET {path}"),
                message: format!("unexpected answer: {e}"),
            })?)),
            None => Ok(None),
        }
    }
}

/// A refusal worth waiting out while a new key becomes active.
#[derive(Debug)]
struct KeyRefused(HttpError);

impl std::fmt::Display for KeyRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Transient for KeyRefused {
    fn is_transient(&self) -> bool {
        matches!(self.0.status(), Some(401 | 403))
    }
}

fn with_page_size(path: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}page_size=100")
}

/// The server's message from any of the three error shapes, or the raw body.
pub fn server_message(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        // Kafka REST answers a refused key with a Jetty HTML page: its title says it.
        let title = body
            .split_once("<title>")
            .and_then(|(_, rest)| rest.split_once("</title>"))
            .map(|(title, _)| title.trim().to_string());
        return title.unwrap_or_else(|| body.trim().to_string());
    };
    let pick = [
        v.pointer("/errors/0/detail"),
        v.pointer("/error/message"),
        v.get("message"),
    ];
    pick.into_iter()
        .flatten()
        .find_map(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| body.trim().to_string())
}

/// Percent-encodes a query value.
pub fn q(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::server_message;

    #[test]
    fn reads_all_three_error_shapes() {
        let management = r#"{"errors":[{"status":"409","detail":"already exists"}]}"#;
        let connect = r#"{"error":{"code":400,"message":"bad config"}}"#;
        let kafka = r#"{"error_code":40002,"message":"Topic 'x' already exists."}"#;
        assert_eq!(server_message(management), "already exists");
        assert_eq!(server_message(connect), "bad config");
        assert_eq!(server_message(kafka), "Topic 'x' already exists.");
        assert_eq!(server_message("<html>busy</html>"), "<html>busy</html>");
        let jetty = "<html><head><title>Error 401 Unauthorized</title></head><body>…</body></html>";
        assert_eq!(server_message(jetty), "Error 401 Unauthorized");
    }
}
