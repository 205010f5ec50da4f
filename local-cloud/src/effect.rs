//! Which calls change something, told from the request alone (method, path, headers, body), as
//! each service defines its reads: Confluent by HTTP method, Snowflake by the statement's first
//! keyword, AWS by its action's verb. The fault layer counts and holds only changes, and the
//! journal lists only them, so a test's kill points never land on a read sent as POST.

use std::io::Read as _;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, Uri};
use serde::Serialize;

/// The service a call is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Cloud {
    Confluent,
    Snowflake,
    Aws,
}

/// What one call is: its service, whether it changes anything, and a name a report can show
/// (never a body, so never a secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Effect {
    pub cloud: Cloud,
    pub changes: bool,
    pub call: String,
}

/// Snowflake's statements that only read or set the session up.
const SQL_READS: &[&str] = &[
    "SHOW", "DESCRIBE", "DESC", "SELECT", "USE", "LIST", "EXPLAIN",
];

/// Confluent's non-GET calls that change nothing: Connect's validation of a configuration
/// (`PUT …/connector-plugins/{plugin}/config/validate`).
const CONFLUENT_READ_SUFFIXES: &[&str] = &["/config/validate"];

/// AWS actions that only read, whatever the HTTP method they are sent with.
fn aws_reads(action: &str) -> bool {
    ["Get", "List", "Describe", "BatchGet", "Simulate", "Head"]
        .iter()
        .any(|verb| action.starts_with(verb))
}

/// The request with its effect attached, classified once (by the outermost layer) and read from
/// its extensions by the layers inside. The body is buffered to be read, then handed on whole.
pub async fn of_request(request: Request) -> (Request, Effect) {
    if let Some(effect) = request.extensions().get::<Effect>().cloned() {
        return (request, effect);
    }
    let (parts, body) = request.into_parts();
    // A body that cannot be read is passed on empty; the service answers it as malformed.
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let effect = classify(&parts.method, &parts.uri, &parts.headers, &bytes);
    let mut request = Request::from_parts(parts, Body::from(bytes));
    request.extensions_mut().insert(effect.clone());
    (request, effect)
}

pub fn classify(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Effect {
    let signed = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256"));
    if signed {
        return aws(method, uri, headers, body);
    }
    let path = uri.path();
    if path.starts_with("/session") || path.starts_with("/queries/") {
        return snowflake(path, headers, body);
    }
    let changes =
        !is_read_method(method) && !CONFLUENT_READ_SUFFIXES.iter().any(|s| path.ends_with(s));
    Effect {
        cloud: Cloud::Confluent,
        changes,
        call: format!("{method} {path}"),
    }
}

fn is_read_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn snowflake(path: &str, headers: &HeaderMap, body: &[u8]) -> Effect {
    // Logging in or out opens or closes a session; no object of the account changes.
    if !path.starts_with("/queries/v1/query-request") {
        let call = path.trim_start_matches('/').replace('/', " ");
        return Effect {
            cloud: Cloud::Snowflake,
            changes: false,
            call,
        };
    }
    let sql = sql_text(headers, body);
    let words: Vec<String> = sql
        .split_whitespace()
        .take_while(|w| w.chars().all(|c| c.is_ascii_alphabetic()))
        .take(2)
        .map(str::to_ascii_uppercase)
        .collect();
    let first = words.first().map(String::as_str).unwrap_or_default();
    Effect {
        cloud: Cloud::Snowflake,
        changes: !SQL_READS.contains(&first),
        call: words.join(" "),
    }
}

/// The statement of a query request; drivers may gzip the body (Content-Encoding: gzip).
fn sql_text(headers: &HeaderMap, body: &[u8]) -> String {
    let gzipped = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"))
        || body.starts_with(&[0x1f, 0x8b]);
    let mut inflated = Vec::new();
    let json = if gzipped
        && flate2::read::GzDecoder::new(body)
            .read_to_end(&mut inflated)
            .is_ok()
    {
        &inflated[..]
    } else {
        body
    };
    serde_json::from_slice::<serde_json::Value>(json)
        .ok()
        .and_then(|v| v["sqlText"].as_str().map(str::to_string))
        .unwrap_or_default()
}

fn aws(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Effect {
    let effect = |changes: bool, call: String| Effect {
        cloud: Cloud::Aws,
        changes,
        call,
    };
    // The JSON protocol (Secrets Manager, Glue): `X-Amz-Target: secretsmanager.CreateSecret`.
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let action = target.rsplit('.').next().unwrap_or(target);
        return effect(!aws_reads(action), action.to_string());
    }
    // The REST JSON protocol of Lake Formation: `POST /ListPermissions`, the action the path.
    if crate::limits::sigv4_service(headers) == Some("lakeformation") {
        let action = uri.path().trim_start_matches('/').to_string();
        return effect(!aws_reads(&action), action);
    }
    // The query protocol (IAM, STS): `Action=CreateRole` in the form body or the query string.
    let form = String::from_utf8_lossy(body);
    let query = uri.query().unwrap_or_default();
    let action = [form.as_ref(), query]
        .into_iter()
        .flat_map(|text| text.split('&'))
        .find_map(|pair| pair.strip_prefix("Action="));
    if let Some(action) = action {
        return effect(!aws_reads(action), action.to_string());
    }
    // S3's REST protocol: the method says it; the sub-resource names the call.
    let bucket = uri.path().trim_start_matches('/').split('/').next();
    let sub = query.split('&').next().unwrap_or_default();
    let sub = sub.split('=').next().unwrap_or_default();
    let call = format!("S3 {method} {}{}", bucket.unwrap_or_default(), {
        if sub.is_empty() {
            String::new()
        } else {
            format!("?{sub}")
        }
    });
    effect(!is_read_method(method), call)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const SIGNED: (&str, &str) = ("authorization", "AWS4-HMAC-SHA256 Credential=x");

    #[test]
    fn snowflake_reads_are_told_by_the_first_keyword_even_gzipped() {
        let q: Uri = "/queries/v1/query-request?requestId=1".parse().unwrap();
        let body = |sql: &str| serde_json::json!({"sqlText": sql}).to_string().into_bytes();
        let e = classify(
            &Method::POST,
            &q,
            &HeaderMap::new(),
            &body("show users like 'X'"),
        );
        assert_eq!((e.changes, e.call.as_str()), (false, "SHOW USERS"));
        let e = classify(
            &Method::POST,
            &q,
            &HeaderMap::new(),
            &body("CREATE WAREHOUSE W"),
        );
        assert_eq!((e.changes, e.call.as_str()), (true, "CREATE WAREHOUSE"));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &body("DESC USER U")).unwrap();
        let h = headers(&[("content-encoding", "gzip")]);
        let e = classify(&Method::POST, &q, &h, &gz.finish().unwrap());
        assert_eq!((e.cloud, e.changes), (Cloud::Snowflake, false));
        let login: Uri = "/session/v1/login-request".parse().unwrap();
        assert!(!classify(&Method::POST, &login, &HeaderMap::new(), b"{}").changes);
    }

    #[test]
    fn lake_formation_is_told_by_its_path() {
        let lf = headers(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=k/20261203/us-east-1/lakeformation/aws4_request, SignedHeaders=host",
        )]);
        let read = classify(
            &Method::POST,
            &"/ListPermissions".parse().unwrap(),
            &lf,
            b"{}",
        );
        assert!(!read.changes, "{read:?}");
        let grant = classify(
            &Method::POST,
            &"/GrantPermissions".parse().unwrap(),
            &lf,
            b"{}",
        );
        assert!(
            grant.changes && grant.call == "GrantPermissions",
            "{grant:?}"
        );
    }

    #[test]
    fn aws_reads_are_told_by_the_action_in_every_protocol() {
        let root: Uri = "/".parse().unwrap();
        let signed = headers(&[SIGNED]);
        let e = classify(&Method::POST, &root, &signed, b"Action=ListRoles&Version=1");
        assert_eq!((e.cloud, e.changes), (Cloud::Aws, false));
        let e = classify(
            &Method::POST,
            &root,
            &signed,
            b"Action=CreateRole&Version=1",
        );
        assert_eq!((e.changes, e.call.as_str()), (true, "CreateRole"));
        let sts = classify(&Method::POST, &root, &signed, b"Action=GetCallerIdentity");
        assert!(!sts.changes);
        let json = headers(&[SIGNED, ("x-amz-target", "secretsmanager.GetSecretValue")]);
        assert!(!classify(&Method::POST, &root, &json, b"{}").changes);
        let json = headers(&[SIGNED, ("x-amz-target", "AWSGlue.DeleteDatabase")]);
        assert!(classify(&Method::POST, &root, &json, b"{}").changes);
        let bucket: Uri = "/b?delete".parse().unwrap();
        let e = classify(&Method::POST, &bucket, &signed, b"<Delete/>");
        assert_eq!((e.changes, e.call.as_str()), (true, "S3 POST b?delete"));
        assert!(!classify(&Method::HEAD, &bucket, &signed, b"").changes);
    }

    #[test]
    fn confluent_changes_are_its_non_get_calls() {
        let h = HeaderMap::new();
        let keys: Uri = "/iam/v2/api-keys".parse().unwrap();
        let e = classify(&Method::POST, &keys, &h, b"{}");
        assert_eq!((e.cloud, e.changes), (Cloud::Confluent, true));
        assert!(!classify(&Method::GET, &keys, &h, b"").changes);
        let validate: Uri =
            "/connect/v1/environments/e/clusters/c/connector-plugins/S3/config/validate"
                .parse()
                .unwrap();
        assert!(!classify(&Method::PUT, &validate, &h, b"{}").changes);
    }
}
