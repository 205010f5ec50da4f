//! A reverse proxy in front of moto, which has no fault layer of its own: every call is forwarded
//! unchanged (but IAM's policy simulator, which moto lacks: [`crate::iam_simulator`]), so local-cloud's latency, throttling, server errors, hangs and journal apply to AWS
//! too. One answer is mended on the way back (see [`aws_error_shape`]). Which calls change
//! something is told by [`crate::effect`], for the journal and the fault layer alike.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
}

pub fn router(upstream: &str) -> Router {
    let proxy = Proxy {
        upstream: upstream.trim_end_matches('/').to_string(),
        http: reqwest::Client::new(),
    };
    // Explicit routes: local-cloud's own fallback answers what no service serves.
    Router::new()
        .route("/", axum::routing::any(forward))
        .route("/{*path}", axum::routing::any(forward))
        .with_state(proxy)
}

async fn forward(
    State(p): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // moto does not serve IAM's policy simulator; the proxy answers it from moto's policies.
    if crate::iam_simulator::is_simulation(&body) {
        return crate::iam_simulator::simulate(&p.http, &p.upstream, &headers, &body).await;
    }
    let url = format!(
        "{}{}",
        p.upstream,
        uri.path_and_query().map(|x| x.as_str()).unwrap_or("/")
    );
    let mut request = p.http.request(method, url).body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let answer = match request.send().await {
        Ok(a) => a,
        Err(e) => {
            return (StatusCode::BAD_GATEWAY, format!("moto did not answer: {e}")).into_response();
        }
    };
    let mut response = Response::builder().status(answer.status().as_u16());
    for (name, value) in answer.headers() {
        if name != "transfer-encoding" && name != "content-length" {
            response = response.header(name.as_str(), value.as_bytes());
        }
    }
    let failed = answer.status().is_client_error() || answer.status().is_server_error();
    let mut bytes = answer.bytes().await.unwrap_or_default();
    if failed {
        bytes = aws_error_shape(bytes);
    }
    response
        .body(Body::from(bytes))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

/// moto answers a refused credential (InvalidClientTokenId, SignatureDoesNotMatch) with
/// `<ErrorResponse><Errors><Error>`, EC2's nesting under the query protocol's root; STS and IAM
/// answer `<ErrorResponse><Error>`, the only shape an SDK reads a code from.
fn aws_error_shape(body: Bytes) -> Bytes {
    let text = String::from_utf8_lossy(&body);
    if !text.contains("<ErrorResponse>") || !text.contains("<Errors><Error>") {
        return body;
    }
    let mended =
        text.replacen("<Errors><Error>", "<Error>", 1)
            .replacen("</Error></Errors>", "</Error>", 1);
    Bytes::from(mended)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_query_error_gets_the_shape_sts_answers_with() {
        let moto = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>m</Message><Type>Sender</Type></Error></Errors></ErrorResponse>";
        let mended = aws_error_shape(Bytes::from(moto));
        assert_eq!(
            String::from_utf8_lossy(&mended),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>m</Message><Type>Sender</Type></Error></ErrorResponse>"
        );
        let ec2 =
            Bytes::from("<Response><Errors><Error><Code>X</Code></Error></Errors></Response>");
        assert_eq!(aws_error_shape(ec2.clone()), ec2);
    }
}
