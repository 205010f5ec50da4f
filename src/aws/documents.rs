//! IAM policy and trust documents, as typed JSON: what STACK.md says each role may do and who may
//! assume it. Never built by pasting strings.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Document {
    pub version: String,
    pub statement: Vec<Statement>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub effect: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Value>,
    pub action: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

fn document(statement: Vec<Statement>) -> Document {
    Document {
        version: "2012-10-17".into(),
        statement,
    }
}

fn allow(action: &[&str], resource: Vec<String>) -> Statement {
    Statement {
        effect: "Allow".into(),
        principal: None,
        action: action.iter().map(|a| a.to_string()).collect(),
        resource: Some(resource),
        condition: None,
    }
}

fn trust(principal: Value, action: &[&str], external_id: Option<&str>) -> Statement {
    Statement {
        effect: "Allow".into(),
        principal: Some(principal),
        action: action.iter().map(|a| a.to_string()).collect(),
        resource: None,
        condition: external_id.map(|id| json!({"StringEquals": {"sts:ExternalId": id}})),
    }
}

fn glue_service() -> Statement {
    trust(
        json!({"Service": "glue.amazonaws.com"}),
        &["sts:AssumeRole"],
        None,
    )
}

/// A2: Confluent's role may assume it with the integration's external id, and tag its session;
/// Glue may assume it.
pub fn tableflow_trust(confluent_role: &str, external_id: &str) -> Document {
    document(vec![
        trust(
            json!({"AWS": confluent_role}),
            &["sts:AssumeRole"],
            Some(external_id),
        ),
        trust(json!({"AWS": confluent_role}), &["sts:TagSession"], None),
        glue_service(),
    ])
}

/// A3 before Snowflake has said who it is: only Glue.
pub fn snowflake_trust_initial() -> Document {
    document(vec![glue_service()])
}

/// A3 once Snowflake's DESCRIBEs are known: the volume's and the integration's IAM users, each
/// with its own external id, and Glue.
pub fn snowflake_trust(volume: (&str, &str), catalog: (&str, &str)) -> Document {
    document(vec![
        trust(
            json!({"AWS": volume.0}),
            &["sts:AssumeRole"],
            Some(volume.1),
        ),
        trust(
            json!({"AWS": catalog.0}),
            &["sts:AssumeRole"],
            Some(catalog.1),
        ),
        glue_service(),
    ])
}

fn bucket_arns(bucket: &str) -> (String, String) {
    (
        format!("arn:aws:s3:::{bucket}"),
        format!("arn:aws:s3:::{bucket}/*"),
    )
}

fn glue_arns(region: &str, account: &str) -> Vec<String> {
    ["catalog", "database/*", "table/*/*"]
        .iter()
        .map(|r| format!("arn:aws:glue:{region}:{account}:{r}"))
        .collect()
}

/// A2's permissions: write Iceberg into the bucket and keep Glue's tables. The S3 actions are
/// exactly those of Confluent's Tableflow BYOS documentation, `s3:DeleteObject` included:
/// Tableflow compacts and expires files.
pub fn tableflow_policy(bucket: &str, region: &str, account: &str) -> Document {
    let (bucket_arn, objects) = bucket_arns(bucket);
    document(vec![
        allow(
            &[
                "s3:ListBucket",
                "s3:GetBucketLocation",
                "s3:ListBucketMultipartUploads",
            ],
            vec![bucket_arn],
        ),
        allow(
            &[
                "s3:PutObject",
                "s3:PutObjectTagging",
                "s3:GetObject",
                "s3:DeleteObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
            vec![objects],
        ),
        allow(
            &[
                "glue:CreateDatabase",
                "glue:UpdateDatabase",
                "glue:DeleteDatabase",
                "glue:GetDatabase",
                "glue:GetDatabases",
                "glue:CreateTable",
                "glue:UpdateTable",
                "glue:DeleteTable",
                "glue:GetTable",
                "glue:GetTables",
                "glue:GetTableVersion",
                "glue:GetTableVersions",
                "glue:DeleteTableVersion",
                "glue:BatchDeleteTableVersion",
            ],
            glue_arns(region, account),
        ),
    ])
}

/// A3's permissions: read and write the bucket's objects, read Glue's catalog. The S3 actions are
/// exactly those of Snowflake's documentation for an S3 external volume.
pub fn snowflake_policy(bucket: &str, region: &str, account: &str) -> Document {
    let (bucket_arn, objects) = bucket_arns(bucket);
    document(vec![
        allow(
            &[
                "s3:PutObject",
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
            ],
            vec![objects],
        ),
        allow(&["s3:ListBucket", "s3:GetBucketLocation"], vec![bucket_arn]),
        allow(
            &[
                "glue:GetCatalog",
                "glue:GetDatabase",
                "glue:GetDatabases",
                "glue:GetTable",
                "glue:GetTables",
            ],
            glue_arns(region, account),
        ),
    ])
}

impl Document {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a document serializes")
    }

    /// IAM answers documents URL-encoded; this reads either form.
    pub fn parse(text: &str) -> Option<Document> {
        let decoded: String = url::form_urlencoded::parse(format!("d={text}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        serde_json::from_str(text)
            .ok()
            .or_else(|| serde_json::from_str(&decoded).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// moto accepts malformed documents, so ours are checked here against IAM's grammar.
    fn check(doc: &Document, is_trust: bool) {
        let v: Value = serde_json::from_str(&doc.to_json()).unwrap();
        assert_eq!(v["Version"], "2012-10-17");
        let statements = v["Statement"].as_array().unwrap();
        assert!(!statements.is_empty());
        for s in statements {
            assert_eq!(s["Effect"], "Allow");
            for a in s["Action"].as_array().unwrap() {
                let a = a.as_str().unwrap();
                let (service, action) = a.split_once(':').unwrap();
                assert!(
                    ["s3", "glue", "sts"].contains(&service)
                        && action.chars().next().unwrap().is_ascii_uppercase(),
                    "{a}"
                );
            }
            if is_trust {
                assert!(
                    s.get("Resource").is_none() && s["Principal"].is_object(),
                    "{s}"
                );
            } else {
                assert!(s.get("Principal").is_none());
                for r in s["Resource"].as_array().unwrap() {
                    assert!(r.as_str().unwrap().starts_with("arn:aws:"), "{r}");
                }
            }
        }
    }

    #[test]
    fn documents_are_what_iam_accepts_and_what_stack_md_lists() {
        let trust = tableflow_trust("arn:aws:iam::851725421142:role/cspi-x", "ext-1");
        check(&trust, true);
        assert_eq!(
            trust.statement[0].condition,
            Some(json!({"StringEquals": {"sts:ExternalId": "ext-1"}}))
        );
        assert_eq!(trust.statement[1].action, ["sts:TagSession"]);
        let trust = snowflake_trust(
            ("arn:aws:iam::1:user/v", "v-ext"),
            ("arn:aws:iam::1:user/g", "g-ext"),
        );
        check(&trust, true);
        assert_eq!(trust.statement.len(), 3);
        check(&snowflake_trust_initial(), true);
        let policy = tableflow_policy("b", "us-east-1", "123456789012");
        check(&policy, false);
        assert_eq!(
            policy.statement[0].resource,
            Some(vec!["arn:aws:s3:::b".to_string()])
        );
        assert_eq!(
            policy.statement[1].resource,
            Some(vec!["arn:aws:s3:::b/*".to_string()])
        );
        check(&snowflake_policy("b", "us-east-1", "123456789012"), false);
        let text = trust.to_json();
        let encoded: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
        assert_eq!(Document::parse(&encoded), Some(trust.clone()));
        assert_eq!(Document::parse(&text), Some(trust));
    }
}

#[cfg(test)]
mod documented_actions {
    use super::*;

    fn s3_actions(doc: &Document) -> std::collections::BTreeSet<String> {
        doc.statement
            .iter()
            .flat_map(|s| s.action.iter())
            .filter(|a| a.starts_with("s3:"))
            .cloned()
            .collect()
    }

    fn set(actions: &[&str]) -> std::collections::BTreeSet<String> {
        actions.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn tableflow_gets_exactly_what_its_byos_documentation_lists() {
        let doc = tableflow_policy("b", "us-east-1", "123456789012");
        let listed = set(&[
            "s3:GetBucketLocation",
            "s3:ListBucketMultipartUploads",
            "s3:ListBucket",
            "s3:PutObject",
            "s3:PutObjectTagging",
            "s3:GetObject",
            "s3:DeleteObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
        ]);
        assert_eq!(s3_actions(&doc), listed);
    }

    #[test]
    fn snowflake_gets_exactly_what_its_external_volume_documentation_lists() {
        let doc = snowflake_policy("b", "us-east-1", "123456789012");
        let listed = set(&[
            "s3:PutObject",
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
            "s3:ListBucket",
            "s3:GetBucketLocation",
        ]);
        assert_eq!(s3_actions(&doc), listed);
    }
}
