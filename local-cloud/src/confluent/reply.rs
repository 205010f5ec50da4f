//! The answers the Confluent APIs give, in each API's own shape: the management `Failure`
//! (`errors[]`), Connect's `{"error":{code,message}}`, Kafka REST's `{error_code,message}`.
//! Also the pieces every handler needs: Basic auth, JSON bodies, required fields, pagination.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

/// Which of the three error models a handler answers in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    Management,
    Connect,
    KafkaRest,
}

pub type Reply = Result<Response, Response>;

pub fn error(api: Api, status: StatusCode, detail: impl Into<String>) -> Response {
    let detail = detail.into();
    let code = status.as_u16();
    match api {
        Api::Management => failure(status, management_code(status), detail, json!({})),
        Api::Connect => (
            status,
            Json(json!({"error": {"code": code, "message": detail}})),
        )
            .into_response(),
        Api::KafkaRest => coded(status, code as u32 * 100 + 1, detail),
    }
}

/// The `code` the management APIs give with a status, as recorded (`read_deleted_env.json`:
/// `resource_not_found`; `read_deleted_kafka.json`: `forbidden_access`); a 401 has none
/// (`read_list_envs_401.json`).
fn management_code(status: StatusCode) -> Option<&'static str> {
    match status.as_u16() {
        400 => Some("invalid_input"),
        401 => None,
        403 => Some("forbidden_access"),
        404 => Some("resource_not_found"),
        409 => Some("resource_already_exists"),
        429 => Some("too_many_requests"),
        _ => Some("internal_server_error"),
    }
}

/// The management `Failure`, as the real service writes it: a request id of 32 hex digits, the
/// status as a string, a code, the detail, and `source` (empty unless a field is to blame).
pub fn failure(
    status: StatusCode,
    code: Option<&str>,
    detail: impl Into<String>,
    source: Value,
) -> Response {
    let mut error = json!({
        "id": uuid::Uuid::new_v4().simple().to_string(),
        "status": status.as_u16().to_string(),
        "detail": detail.into(),
        "source": source,
    });
    if let Some(code) = code {
        error["code"] = json!(code);
    }
    (status, Json(json!({"errors": [error]}))).into_response()
}

/// The `{error_code, message}` body: Kafka REST's, and what Connect and the provider integration
/// API answer for what does not exist (`connector/managed/read_deleted_connector.json`,
/// `provider_integration/read_deleted_aws_provider_integration.json`).
pub fn coded(status: StatusCode, error_code: u32, message: impl Into<String>) -> Response {
    let body = json!({"error_code": error_code, "message": message.into()});
    (status, Json(body)).into_response()
}

/// What the real service answers a read or delete of a cluster, API key or compute pool that does
/// not exist (any more): 403, not 404 (`read_deleted_kafka.json`, `read_deleted_kafka_api_key.json`,
/// `read_deleted_compute_pool.json`), so that "gone" and "not allowed" look alike.
pub fn forbidden(detail: impl Into<String>) -> Response {
    failure(
        StatusCode::FORBIDDEN,
        Some("forbidden_access"),
        detail,
        json!({}),
    )
}

/// The 409 the management APIs answer a create whose name is taken, or a delete of what is still
/// in use, when `refused`.
pub fn conflict(refused: bool, detail: impl Into<String>) -> Result<(), Response> {
    if refused {
        Err(error(Api::Management, StatusCode::CONFLICT, detail))
    } else {
        Ok(())
    }
}

/// A role binding that does not exist: 403 in Kafka REST's shape (`read_deleted_role_binding.json`).
pub fn no_binding() -> Response {
    coded(
        StatusCode::FORBIDDEN,
        40301,
        "Either unauthorized to access role binding or role binding does not exist",
    )
}

/// A management 400 naming the field that is wrong, as the `Failure` schema's `source.pointer`.
pub fn bad_field(pointer: &str, detail: impl Into<String>) -> Response {
    failure(
        StatusCode::BAD_REQUEST,
        Some("invalid_input"),
        detail,
        json!({"pointer": pointer}),
    )
}

pub fn bad_query(parameter: &str) -> Response {
    failure(
        StatusCode::BAD_REQUEST,
        Some("invalid_input"),
        format!("Missing required query parameter '{parameter}'"),
        json!({"parameter": parameter}),
    )
}

pub fn ok(status: StatusCode, body: Value) -> Reply {
    Ok((status, Json(body)).into_response())
}

pub fn created(status: StatusCode, body: Value, location: &str) -> Reply {
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

pub fn no_content() -> Reply {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The key and secret of an HTTP Basic `Authorization` header.
pub fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (key, secret) = text.split_once(':')?;
    Some((key.to_string(), secret.to_string()))
}

/// The request body as a JSON object, or the API's 400.
pub fn body(api: Api, bytes: &[u8]) -> Result<Value, Response> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(error(
            api,
            StatusCode::BAD_REQUEST,
            "the request body must be a JSON object",
        )),
        Err(e) => Err(error(
            api,
            StatusCode::BAD_REQUEST,
            format!("malformed JSON: {e}"),
        )),
    }
}

/// A required string at a JSON pointer, or a 400 naming it.
pub fn need<'a>(v: &'a Value, pointer: &str) -> Result<&'a str, Response> {
    match v.pointer(pointer) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            Err(bad_field(pointer, format!("'{pointer}' is required")))
        }
        Some(_) => Err(bad_field(pointer, format!("'{pointer}' must be a string"))),
    }
}

/// One of the allowed values at a pointer (which is required).
pub fn one_of<'a>(v: &'a Value, pointer: &str, allowed: &[&str]) -> Result<&'a str, Response> {
    let value = need(v, pointer)?;
    if allowed.contains(&value) {
        Ok(value)
    } else {
        Err(bad_field(
            pointer,
            format!("'{pointer}' must be one of {allowed:?}, not '{value}'"),
        ))
    }
}

pub type Query = BTreeMap<String, String>;

pub fn required<'a>(q: &'a Query, name: &str) -> Result<&'a str, Response> {
    q.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| bad_query(name))
}

/// The management list envelope with `page_size`/`page_token` paging; `metadata.next` is a
/// full URL that repeats the caller's filters, left out on the last page.
pub fn page(
    base: &str,
    path: &str,
    q: &Query,
    api_version: &str,
    kind: &str,
    items: Vec<Value>,
) -> Reply {
    ok(
        StatusCode::OK,
        page_body(base, path, q, api_version, kind, items)?,
    )
}

/// The list envelope `page` answers with.
pub fn page_body(
    base: &str,
    path: &str,
    q: &Query,
    api_version: &str,
    kind: &str,
    items: Vec<Value>,
) -> Result<Value, Response> {
    let size = match q.get("page_size") {
        None => 10,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return Err(bad_field(
                    "page_size",
                    "page_size must be between 1 and 100",
                ));
            }
        },
    };
    let start = match q.get("page_token") {
        None => 0,
        Some(t) => match t.strip_prefix("p").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n <= items.len() => n,
            _ => return Err(bad_field("page_token", "invalid page_token")),
        },
    };
    let total = items.len();
    let data: Vec<Value> = items.into_iter().skip(start).take(size).collect();
    let url = |token: Option<usize>| {
        let mut query: Vec<String> = q
            .iter()
            .filter(|(k, _)| k.as_str() != "page_token")
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect();
        if let Some(t) = token {
            query.push(format!("page_token=p{t}"));
        }
        let query = query.join("&");
        if query.is_empty() {
            format!("{base}{path}")
        } else {
            format!("{base}{path}?{query}")
        }
    };
    // The last page has no `next`, as the spec says ("If a response does not contain a next
    // link, then there is no more data available") and `srcm/read_provisioned_clusters.json`
    // shows; the regions list, which ends with `next: ""`, says so itself.
    let mut metadata = json!({"first": url(None), "total_size": total});
    if start + size < total {
        metadata["next"] = json!(url(Some(start + size)));
    }
    if start > 0 {
        metadata["prev"] = json!(url(Some(start.saturating_sub(size))));
    }
    Ok(
        json!({"api_version": api_version, "kind": format!("{kind}List"), "metadata": metadata, "data": data}),
    )
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The base URL the caller used, from its `Host` header, or from `X-Forwarded-Host` when a proxy
/// stands between (a proxy rewrites `Host`): the emulator hands out its own address wherever the
/// real service hands out a Kafka REST or Flink endpoint.
pub fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}
