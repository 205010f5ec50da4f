//! The HTTP layer every REST client shares: one reqwest client (rustls), the shared retry policy
//! around each call, and debug logs that never show credentials.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Client, Request, RequestBuilder, Response};

use crate::engine::{RetryPolicy, Transient};

pub fn client() -> Client {
    Client::builder()
        .user_agent(concat!("kickstart/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("the HTTP client builds with rustls")
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{method} {url} answered {status}: {body}")]
    Status {
        method: String,
        url: String,
        status: u16,
        retry_after: Option<Duration>,
        body: String,
    },
    #[error("{method} {url} failed: {message}")]
    Transport {
        method: String,
        url: String,
        message: String,
        transient: bool,
    },
}

impl HttpError {
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            HttpError::Transport { .. } => None,
        }
    }
}

impl Transient for HttpError {
    fn is_transient(&self) -> bool {
        match self {
            HttpError::Status { status, .. } => matches!(status, 408 | 429 | 500..=504),
            HttpError::Transport { transient, .. } => *transient,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            HttpError::Status { retry_after, .. } => *retry_after,
            HttpError::Transport { .. } => None,
        }
    }

    fn is_throttle(&self) -> bool {
        matches!(self, HttpError::Status { status: 429, .. })
    }
}

/// Sends the request that `build` makes (again for each attempt) until it succeeds with a 2xx,
/// fails for good, or the policy gives up. Non-2xx answers become [`HttpError::Status`].
pub async fn send(
    policy: &RetryPolicy,
    build: impl Fn() -> RequestBuilder,
) -> Result<Response, HttpError> {
    let probe = build().build().map_err(|e| transport("?", "?", &e))?;
    let what = format!("{} {}", probe.method(), probe.url().path());
    policy
        .run(&what, || async {
            let (client, request) = build().build_split();
            let request = request.map_err(|e| transport("?", "?", &e))?;
            attempt(&client, request).await
        })
        .await
}

async fn attempt(client: &Client, request: Request) -> Result<Response, HttpError> {
    let method = request.method().to_string();
    let url = shown_url(request.url());
    tracing::debug!(%method, %url, headers = %redacted(request.headers()), "request");
    let response = client
        .execute(request)
        .await
        .map_err(|e| transport(&method, &url, &e))?;
    let status = response.status();
    tracing::debug!(%method, %url, status = status.as_u16(), "response");
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v, jiff::Timestamp::now()));
    let mut body = response.text().await.unwrap_or_default();
    if body.len() > 600 {
        let cut = (0..=600)
            .rev()
            .find(|&i| body.is_char_boundary(i))
            .unwrap_or(0);
        body.truncate(cut);
        body.push_str("...");
    }
    Err(HttpError::Status {
        method,
        url,
        status: status.as_u16(),
        retry_after,
        body,
    })
}

/// `Retry-After` in either form RFC 9110 allows: a number of seconds, or an HTTP-date (a date in
/// the past asks for no wait at all).
fn retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    let wait = now.duration_until(at);
    Some(if wait.is_negative() {
        Duration::ZERO
    } else {
        wait.unsigned_abs()
    })
}

fn transport(method: &str, url: &str, e: &reqwest::Error) -> HttpError {
    // reqwest's own line names only the URL; the cause (refused, no such host) is its last source.
    let message = root_cause(e);
    HttpError::Transport {
        method: method.to_string(),
        url: url.to_string(),
        message,
        transient: e.is_connect() || e.is_timeout() || e.is_request(),
    }
}

/// The innermost cause of an error (connection refused, no such host), which is what a person
/// can act on; HTTP clients wrap it in lines that only name the request.
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// The URL without its query, which may carry tokens.
fn shown_url(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    let _ = url.set_password(None);
    url.to_string()
}

/// Headers for a log line, with every credential-bearing value replaced.
pub fn redacted(headers: &HeaderMap) -> String {
    let mut parts: Vec<String> = headers
        .iter()
        .map(|(name, value)| {
            let n = name.as_str();
            let secret = value.is_sensitive()
                || matches!(
                    n,
                    "authorization" | "proxy-authorization" | "cookie" | "x-api-key"
                )
                || n.contains("token")
                || n.contains("secret");
            let shown = if secret {
                "<redacted>"
            } else {
                value.to_str().unwrap_or("<binary>")
            };
            format!("{n}: {shown}")
        })
        .collect();
    parts.sort();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};

    use super::*;

    #[test]
    fn credentials_never_reach_a_log_line() {
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Basic a2V5OnMzY3IzdA=="),
        );
        headers.insert("x-snowflake-token", HeaderValue::from_static("tok-123"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let line = redacted(&headers);
        assert!(!line.contains("a2V5OnMzY3IzdA"), "{line}");
        assert!(!line.contains("tok-123"), "{line}");
        assert!(line.contains("content-type: application/json"), "{line}");
        assert!(line.contains("authorization: <redacted>"), "{line}");
    }

    #[test]
    fn urls_in_logs_lose_their_query_and_password() {
        let url = reqwest::Url::parse("https://u:pw@h.example/x?token=abc").unwrap();
        assert_eq!(shown_url(&url), "https://u@h.example/x");
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_as_an_http_date() {
        let now: jiff::Timestamp = "2026-12-02T16:00:00Z".parse().unwrap();
        assert_eq!(retry_after("30", now), Some(Duration::from_secs(30)));
        let later = "Wed, 02 Dec 2026 16:01:05 GMT";
        assert_eq!(retry_after(later, now), Some(Duration::from_secs(65)));
        let earlier = "Wed, 02 Dec 2026 15:59:00 GMT";
        assert_eq!(retry_after(earlier, now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
    }
}
