//! The customer's AWS account as the emulated services reach it (moto here): Tableflow assumes
//! the role a provider integration names, Snowflake the role its catalog integration names, and
//! each only gets in if the role's trust policy lets its principal in with its external id. moto
//! does not evaluate trust policies, so this does, as STS would, before asking moto for a session.
//!
//! Requests carry an `Authorization` header in SigV4's layout, which moto reads for the access
//! key (hence the account), region and service; moto does not check signatures, so none is
//! computed. This only ever talks to moto.

use serde_json::{Value, json};

use crate::policy::{statements, strings};

/// A role in the customer's account, and who assumes it with which external id.
#[derive(Clone, Debug)]
pub struct Role {
    pub customer_role: String,
    /// The principal that assumes it: Confluent's IAM role, or Snowflake's IAM user.
    pub confluent_role: String,
    pub external_id: String,
}

/// Temporary credentials of the assumed role, in one region.
pub struct Session {
    key_id: String,
    token: String,
    region: String,
}

#[derive(Clone)]
pub struct CustomerAws {
    endpoint: String,
    http: reqwest::Client,
}

/// What moto answered, when it was not a success.
type Failed = String;

impl CustomerAws {
    pub fn new(endpoint: &str) -> Self {
        CustomerAws {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        service: &str,
        region: &str,
        key: (&str, Option<&str>),
        request: reqwest::RequestBuilder,
    ) -> Result<String, Failed> {
        let now = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string();
        let scope = format!("{}/{region}/{service}/aws4_request", &now[..8]);
        let mut request = request
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=host;x-amz-date, Signature={}",
                    key.0,
                    "0".repeat(64)
                ),
            )
            .header("x-amz-date", now);
        if let Some(token) = key.1 {
            request = request.header("x-amz-security-token", token);
        }
        let answer = request
            .send()
            .await
            .map_err(|e| format!("AWS did not answer: {e}"))?;
        let status = answer.status();
        let text = answer.text().await.unwrap_or_default();
        if status.is_success() {
            Ok(text)
        } else {
            Err(format!("{service} answered {status}: {text}"))
        }
    }

    async fn query(
        &self,
        service: &str,
        region: &str,
        form: &[(&str, &str)],
    ) -> Result<String, Failed> {
        let request = self.http.post(format!("{}/", self.endpoint)).form(form);
        // The account's own credentials: what the service account reads the role with.
        self.call(service, region, ("testing", None), request).await
    }

    /// Assumes the customer's role as its principal, as STS would allow it.
    pub async fn assume(&self, role: &Role, region: &str) -> Result<Session, Failed> {
        let name = role
            .customer_role
            .rsplit_once(":role/")
            .map(|(_, n)| n.rsplit('/').next().unwrap_or(n))
            .unwrap_or_default();
        let refused = || {
            format!(
                "Unable to assume role {}: its trust policy does not let {} assume it with external id {}",
                role.customer_role, role.confluent_role, role.external_id
            )
        };
        let got = self
            .query(
                "iam",
                "us-east-1",
                &[
                    ("Action", "GetRole"),
                    ("Version", "2010-05-08"),
                    ("RoleName", name),
                ],
            )
            .await
            .map_err(|_| refused())?;
        let encoded = between(&got, "AssumeRolePolicyDocument").ok_or_else(refused)?;
        let decoded = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy();
        let trust: Value = serde_json::from_str(&decoded).map_err(|_| refused())?;
        if !trusts(&trust, &role.confluent_role, &role.external_id) {
            return Err(refused());
        }
        let session = self
            .query(
                "sts",
                region,
                &[
                    ("Action", "AssumeRole"),
                    ("Version", "2011-06-15"),
                    ("RoleArn", &role.customer_role),
                    ("RoleSessionName", "confluent-tableflow"),
                    ("ExternalId", &role.external_id),
                ],
            )
            .await?;
        let key_id = between(&session, "AccessKeyId").ok_or_else(refused)?;
        let token = between(&session, "SessionToken").ok_or_else(refused)?;
        Ok(Session {
            key_id: key_id.to_string(),
            token: token.to_string(),
            region: region.to_string(),
        })
    }

    pub async fn put_object(
        &self,
        s: &Session,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> Result<(), Failed> {
        let request = self
            .http
            .put(format!("{}/{bucket}/{key}", self.endpoint))
            .body(body);
        let creds = (s.key_id.as_str(), Some(s.token.as_str()));
        self.call("s3", &s.region, creds, request).await.map(drop)
    }

    /// A Glue action; an entity that already exists counts as made.
    pub async fn glue(&self, s: &Session, action: &str, body: Value) -> Result<(), Failed> {
        match self.glue_call(s, action, body).await {
            Err(e) if e.contains("AlreadyExistsException") => Ok(()),
            other => other.map(drop),
        }
    }

    /// A Glue action's answer, as moto gave it.
    pub async fn glue_call(
        &self,
        s: &Session,
        action: &str,
        body: Value,
    ) -> Result<String, Failed> {
        let request = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("x-amz-target", format!("AWSGlue.{action}"))
            .header("content-type", "application/x-amz-json-1.1")
            .body(body.to_string());
        let creds = (s.key_id.as_str(), Some(s.token.as_str()));
        self.call("glue", &s.region, creds, request).await
    }
}

/// The text of the first `<tag>…</tag>`.
fn between<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    Some(&xml[start..end])
}

/// Whether a trust policy lets `principal` call `sts:AssumeRole` with `external_id`: an Allow
/// statement naming it, whose `sts:ExternalId` condition, if any, is that id.
pub fn trusts(policy: &Value, principal: &str, external_id: &str) -> bool {
    let statements = statements(policy);
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && strings(&s["Action"])
                .iter()
                .any(|a| matches!(a.as_str(), "sts:AssumeRole" | "sts:*" | "*"))
            && strings(&s["Principal"]["AWS"])
                .iter()
                .any(|p| p == principal)
            && s.pointer("/Condition/StringEquals/sts:ExternalId")
                .is_none_or(|id| strings(id).iter().any(|x| x == external_id))
    })
}

/// An Iceberg table's first metadata file, as Tableflow writes it before any data.
pub fn first_metadata(location: &str) -> Vec<u8> {
    json!({
        "format-version": 2,
        "table-uuid": uuid::Uuid::new_v4().to_string(),
        "location": location,
        "last-sequence-number": 0,
        "last-updated-ms": jiff::Timestamp::now().as_millisecond(),
        "last-column-id": 0,
        "current-schema-id": 0,
        "schemas": [{"type": "struct", "schema-id": 0, "fields": []}],
        "default-spec-id": 0,
        "partition-specs": [{"spec-id": 0, "fields": []}],
        "last-partition-id": 999,
        "default-sort-order-id": 0,
        "sort-orders": [{"order-id": 0, "fields": []}],
        "properties": {},
        "current-snapshot-id": -1,
        "snapshots": [],
        "snapshot-log": [],
        "metadata-log": [],
    })
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFLUENT: &str = "arn:aws:iam::851725421142:role/cspi-abc-tableflow";

    #[test]
    fn trust_needs_the_principal_and_the_external_id() {
        let policy = |principal: Value, condition: Value| {
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"},
                {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": ["sts:AssumeRole", "sts:TagSession"], "Condition": condition},
            ]})
        };
        let good = policy(
            json!(CONFLUENT),
            json!({"StringEquals": {"sts:ExternalId": "ext-1"}}),
        );
        assert!(trusts(&good, CONFLUENT, "ext-1"));
        assert!(!trusts(&good, CONFLUENT, "ext-2"), "another external id");
        assert!(
            !trusts(&good, "arn:aws:iam::1:role/other", "ext-1"),
            "another principal"
        );
        let listed = policy(json!([CONFLUENT]), Value::Null);
        assert!(
            trusts(&listed, CONFLUENT, "anything"),
            "no condition, as STS allows"
        );
        let only_glue = json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}});
        assert!(
            !trusts(&only_glue, CONFLUENT, "ext-1"),
            "the trust before C12 is known"
        );
    }

    #[test]
    fn reads_the_text_of_a_tag() {
        let xml = "<R><AccessKeyId>ASIA1</AccessKeyId><SessionToken>t/k+=</SessionToken></R>";
        assert_eq!(between(xml, "AccessKeyId"), Some("ASIA1"));
        assert_eq!(between(xml, "SessionToken"), Some("t/k+="));
        assert_eq!(between(xml, "Missing"), None);
    }
}
