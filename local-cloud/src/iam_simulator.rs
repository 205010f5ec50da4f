//! IAM's policy simulator (`iam:SimulatePrincipalPolicy`), which moto does not serve, answered by
//! the AWS proxy from the principal's real policies as moto holds them: read through moto's own
//! IAM API (attached and inline policies of the user, its groups, or the role), then evaluated as
//! IAM does: an explicit Deny wins, else an Allow, else the implicit deny.
//!
//! What it leaves out: condition keys (the simulator is given no context here, so a statement
//! with a `Condition` is treated as not applying), permission boundaries, SCPs and resource
//! policies. Each result names the action and resource as the real answer does.

use crate::policy::{statements, strings};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The parameters of a form-encoded query-protocol request, decoded.
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// Whether the request asks for the simulator.
pub fn is_simulation(body: &[u8]) -> bool {
    form(body)
        .iter()
        .any(|(k, v)| k == "Action" && v == "SimulatePrincipalPolicy")
}

/// The members of a list parameter (`ActionNames.member.1`, …), in order.
fn members(params: &[(String, String)], name: &str) -> Vec<String> {
    let prefix = format!("{name}.member.");
    let mut found: Vec<(usize, String)> = params
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.parse().ok()?, v.clone())))
        .collect();
    found.sort();
    found.into_iter().map(|(_, v)| v).collect()
}

/// Reads moto's IAM on the caller's behalf (its signature, which moto does not check).
struct Moto<'a> {
    http: &'a reqwest::Client,
    upstream: &'a str,
    headers: &'a HeaderMap,
}

impl Moto<'_> {
    async fn call(&self, params: &[(&str, &str)]) -> Result<String, (u16, String)> {
        let mut request = self.http.post(format!("{}/", self.upstream));
        for (name, value) in self.headers {
            let skip = ["host", "content-length", "content-type"];
            if !skip.contains(&name.as_str()) {
                request = request.header(name, value);
            }
        }
        let mut all = vec![("Version", "2010-05-08")];
        all.extend_from_slice(params);
        let answer = request
            .form(&all)
            .send()
            .await
            .map_err(|e| (502, format!("moto did not answer: {e}")))?;
        let status = answer.status().as_u16();
        let text = answer.text().await.unwrap_or_default();
        if status >= 300 {
            return Err((status, text));
        }
        Ok(text)
    }

    /// Every document a policy list names: inline ones by name, managed ones by ARN.
    async fn documents(&self, kind: Principal<'_>) -> Result<Vec<String>, (u16, String)> {
        let (list_attached, list_inline, get_inline, key) = match kind {
            Principal::User(_) => (
                "ListAttachedUserPolicies",
                "ListUserPolicies",
                "GetUserPolicy",
                "UserName",
            ),
            Principal::Role(_) => (
                "ListAttachedRolePolicies",
                "ListRolePolicies",
                "GetRolePolicy",
                "RoleName",
            ),
            Principal::Group(_) => (
                "ListAttachedGroupPolicies",
                "ListGroupPolicies",
                "GetGroupPolicy",
                "GroupName",
            ),
        };
        let name = kind.name();
        let mut docs = Vec::new();
        let attached = self.call(&[("Action", list_attached), (key, name)]).await?;
        for arn in tags(&attached, "PolicyArn") {
            let policy = self
                .call(&[("Action", "GetPolicy"), ("PolicyArn", &arn)])
                .await?;
            let version = tags(&policy, "DefaultVersionId")
                .into_iter()
                .next()
                .unwrap_or_else(|| "v1".into());
            let got = self
                .call(&[
                    ("Action", "GetPolicyVersion"),
                    ("PolicyArn", &arn),
                    ("VersionId", &version),
                ])
                .await?;
            docs.extend(tags(&got, "Document"));
        }
        let inline = self.call(&[("Action", list_inline), (key, name)]).await?;
        // The list's names are `<member>` elements under `<PolicyNames>`.
        let names = tags(&inline, "PolicyNames")
            .first()
            .map(|list| tags(list, "member"))
            .unwrap_or_default();
        for policy in names {
            let got = self
                .call(&[("Action", get_inline), (key, name), ("PolicyName", &policy)])
                .await?;
            docs.extend(tags(&got, "PolicyDocument"));
        }
        Ok(docs)
    }
}

#[derive(Clone, Copy)]
enum Principal<'a> {
    User(&'a str),
    Role(&'a str),
    Group(&'a str),
}

impl<'a> Principal<'a> {
    /// An IAM ARN's principal: `arn:aws:iam::<account>:user/<path/>name`.
    fn of(arn: &'a str) -> Option<Self> {
        let rest = arn.strip_prefix("arn:")?;
        let mut parts = rest.splitn(5, ':');
        let (_partition, service, _region, _account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if service != "iam" {
            return None;
        }
        let (kind, path) = resource.split_once('/')?;
        let name = path.rsplit('/').next()?;
        match kind {
            "user" => Some(Principal::User(name)),
            "role" => Some(Principal::Role(name)),
            "group" => Some(Principal::Group(name)),
            _ => None,
        }
    }

    fn name(self) -> &'a str {
        match self {
            Principal::User(n) | Principal::Role(n) | Principal::Group(n) => n,
        }
    }
}

/// The texts of every `<tag>…</tag>` in `xml`, entities decoded (no nesting of the same tag).
fn tags(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(unescape(&after[..end]));
        rest = &after[end + close.len()..];
    }
    out
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A policy document as JSON; IAM URL-encodes documents in its answers.
fn document(text: &str) -> Option<Value> {
    let trimmed = text.trim();
    let decoded = if trimmed.starts_with('{') {
        trimmed.to_string()
    } else {
        percent_encoding::percent_decode_str(trimmed)
            .decode_utf8_lossy()
            .into_owned()
    };
    serde_json::from_str(&decoded).ok()
}

/// IAM's wildcards: `*` any run, `?` any one character.
fn wildcard(pattern: &str, text: &str, fold: bool) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some(('*', rest)) => (0..=s.len()).any(|i| go(rest, &s[i..])),
            Some(('?', rest)) => !s.is_empty() && go(rest, &s[1..]),
            Some((c, rest)) => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    let (p, t) = if fold {
        (pattern.to_ascii_lowercase(), text.to_ascii_lowercase())
    } else {
        (pattern.to_string(), text.to_string())
    };
    go(
        &p.chars().collect::<Vec<_>>(),
        &t.chars().collect::<Vec<_>>(),
    )
}

/// Whether a statement's element (or its `Not` form) covers `value`.
fn element(statement: &Value, key: &str, value: &str, fold: bool) -> bool {
    if let Some(v) = statement.get(key) {
        return strings(v).iter().any(|p| wildcard(p, value, fold));
    }
    if let Some(v) = statement.get(format!("Not{key}")) {
        return !strings(v).iter().any(|p| wildcard(p, value, fold));
    }
    false
}

/// IAM's decision for one action on one resource under `documents`.
pub fn decide(documents: &[Value], action: &str, resource: &str) -> &'static str {
    let statements = documents.iter().flat_map(statements);
    let mut allowed = false;
    for s in statements {
        if s.get("Condition").is_some() {
            continue;
        }
        if !(element(&s, "Action", action, true) && element(&s, "Resource", resource, false)) {
            continue;
        }
        match s["Effect"].as_str() {
            Some("Deny") => return "explicitDeny",
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    if allowed { "allowed" } else { "implicitDeny" }
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn error(status: u16, code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        escape(message),
        request_id()
    );
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, [("content-type", "text/xml")], body).into_response()
}

/// Answers `SimulatePrincipalPolicy` from moto's policies of the principal.
pub async fn simulate(
    http: &reqwest::Client,
    upstream: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let params = form(body);
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let Some(arn) = get("PolicySourceArn") else {
        return error(400, "ValidationError", "PolicySourceArn is required");
    };
    let actions = members(&params, "ActionNames");
    if actions.is_empty() {
        return error(400, "ValidationError", "ActionNames is required");
    }
    let resources = match members(&params, "ResourceArns") {
        r if r.is_empty() => vec!["*".to_string()],
        r => r,
    };
    let Some(principal) = Principal::of(&arn) else {
        return error(400, "InvalidInput", &format!("Invalid ARN: {arn}"));
    };
    let moto = Moto {
        http,
        upstream,
        headers,
    };
    let mut texts = match moto.documents(principal).await {
        Ok(d) => d,
        Err((status, text)) => return passed_on(status, &text),
    };
    if let Principal::User(name) = principal {
        let groups = match moto
            .call(&[("Action", "ListGroupsForUser"), ("UserName", name)])
            .await
        {
            Ok(g) => tags(&g, "GroupName"),
            Err((status, text)) => return passed_on(status, &text),
        };
        for group in groups {
            match moto.documents(Principal::Group(&group)).await {
                Ok(d) => texts.extend(d),
                Err((status, text)) => return passed_on(status, &text),
            }
        }
    }
    let documents: Vec<Value> = texts.iter().filter_map(|t| document(t)).collect();
    let mut results = String::new();
    for action in &actions {
        for resource in &resources {
            let decision = decide(&documents, action, resource);
            results.push_str(&format!(
                "<member><EvalActionName>{}</EvalActionName><EvalResourceName>{}</EvalResourceName><EvalDecision>{decision}</EvalDecision><MatchedStatements/><MissingContextValues/></member>",
                escape(action),
                escape(resource)
            ));
        }
    }
    let body = format!(
        "<SimulatePrincipalPolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>{results}</EvaluationResults></SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>",
        request_id()
    );
    (StatusCode::OK, [("content-type", "text/xml")], body).into_response()
}

/// moto's refusal of a read (a principal that does not exist: NoSuchEntity), as IAM answers it.
fn passed_on(status: u16, text: &str) -> Response {
    let code = tags(text, "Code").into_iter().next().unwrap_or_default();
    let message = tags(text, "Message").into_iter().next().unwrap_or_default();
    match code.as_str() {
        "" => error(status, "ServiceFailure", text),
        _ => error(status, &code, &message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deny_wins_then_allow_then_the_implicit_deny() {
        let docs = vec![
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
            json!({"Statement": {"Effect": "Deny", "Action": ["s3:DeleteBucket"], "Resource": "arn:aws:s3:::b-*"}}),
        ];
        assert_eq!(
            decide(&docs, "s3:CreateBucket", "arn:aws:s3:::b-1"),
            "allowed"
        );
        assert_eq!(
            decide(&docs, "S3:deletebucket", "arn:aws:s3:::b-1"),
            "explicitDeny"
        );
        assert_eq!(
            decide(&docs, "s3:DeleteBucket", "arn:aws:s3:::c"),
            "allowed"
        );
        assert_eq!(decide(&docs, "iam:CreateRole", "*"), "implicitDeny");
        let not = vec![
            json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}),
        ];
        assert_eq!(decide(&not, "glue:GetDatabase", "*"), "allowed");
        assert_eq!(decide(&not, "iam:GetRole", "*"), "implicitDeny");
        let conditional = vec![
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}),
        ];
        assert_eq!(decide(&conditional, "s3:ListBucket", "*"), "implicitDeny");
    }

    #[test]
    fn reads_the_request_and_iam_answers() {
        let body = b"Action=SimulatePrincipalPolicy&PolicySourceArn=arn%3Aaws%3Aiam%3A%3A1%3Auser%2Fa&ActionNames.member.2=s3%3AB&ActionNames.member.1=s3%3AA";
        assert!(is_simulation(body));
        let params = form(body);
        assert_eq!(members(&params, "ActionNames"), vec!["s3:A", "s3:B"]);
        assert!(matches!(
            Principal::of("arn:aws:iam::1:role/aws-reserved/sso/R"),
            Some(Principal::Role("R"))
        ));
        assert!(Principal::of("arn:aws:sts::1:assumed-role/R/s").is_none());
        let xml = "<PolicyNames><member>p1</member><member>p&amp;2</member></PolicyNames>";
        assert_eq!(
            tags(&tags(xml, "PolicyNames")[0], "member"),
            vec!["p1", "p&2"]
        );
        let encoded = "%7B%22Statement%22%3A%5B%5D%7D";
        assert_eq!(document(encoded), Some(json!({"Statement": []})));
    }
}
