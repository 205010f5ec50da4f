//! A2 and A3: each an IAM role, a managed policy and its attachment; and A3's trust policy,
//! rewritten in place once Snowflake has said which IAM users and external ids it uses.
//! IAM is eventually consistent: refusals of a principal that was just made are retried.

use std::sync::Arc;

use async_trait::async_trait;

use super::documents::{self, Document};
use super::kinds::{
    Grantee, IamPolicy, IamRole, InitialTrust, PolicyAttachment, Spec, Tags, TrustPolicy,
};
use super::{Aws, policy_arn, sdk_error};
use crate::engine::{
    Change, Diff, Inputs, Kind as _, NodeError, Record, Resource, Transient, fingerprint,
};

/// The four IAM kinds share their reads: a policy, a role, an attachment of one to the other,
/// and a role's trust rewritten in place.
pub struct Iam {
    aws: Arc<Aws>,
    spec: Spec,
}

/// A refusal IAM gives while a principal it was just told about has not reached it yet.
#[derive(Debug)]
struct NotYet(NodeError);

impl std::fmt::Display for NotYet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Transient for NotYet {
    fn is_transient(&self) -> bool {
        let text = self.0.to_string();
        text.contains("Invalid principal") || text.contains("MalformedPolicyDocument")
    }
}

fn not_iam(spec: &Spec) -> NodeError {
    NodeError::Other(anyhow::anyhow!("{} is not an IAM kind", spec.describe()))
}

/// The spec's tags as IAM takes them at create.
fn iam_tags(tags: &Tags) -> Result<Option<Vec<aws_sdk_iam::types::Tag>>, NodeError> {
    if tags.is_empty() {
        return Ok(None);
    }
    let tags = tags.iter().map(|(key, value)| {
        aws_sdk_iam::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
            .map_err(|e| NodeError::Other(e.into()))
    });
    tags.collect::<Result<Vec<_>, _>>().map(Some)
}

fn gone(e: &NodeError) -> bool {
    e.to_string().contains("NoSuchEntity")
}

impl Iam {
    pub fn new(aws: Arc<Aws>, spec: Spec) -> Self {
        Iam { aws, spec }
    }

    fn role_name(&self) -> &str {
        match &self.spec {
            Spec::IamRole(IamRole { name, .. }) => name,
            Spec::PolicyAttachment(PolicyAttachment { role_name, .. })
            | Spec::TrustPolicy(TrustPolicy { role_name, .. }) => role_name,
            _ => "",
        }
    }

    fn policy_arn(&self) -> String {
        let name = match &self.spec {
            Spec::IamPolicy(IamPolicy { name, .. }) => name,
            Spec::PolicyAttachment(PolicyAttachment { policy_name, .. }) => policy_name,
            _ => "",
        };
        policy_arn(&self.aws.account, name)
    }

    fn policy(&self, inputs: &Inputs, spec: &IamPolicy) -> Result<Document, NodeError> {
        let bucket = inputs.output(&spec.bucket, "name")?;
        let (region, account) = (&self.aws.region, &self.aws.account);
        Ok(match spec.grantee {
            Grantee::Tableflow => documents::tableflow_policy(bucket, region, account),
            Grantee::Snowflake => documents::snowflake_policy(bucket, region, account),
        })
    }

    /// The trust a role is made with: A2's from the provider integration, A3's Glue only.
    fn initial_trust(inputs: &Inputs, spec: &IamRole) -> Result<Document, NodeError> {
        Ok(match &spec.trust {
            InitialTrust::Integration(integration) => documents::tableflow_trust(
                inputs.output(integration, "iam_role_arn")?,
                inputs.output(integration, "external_id")?,
            ),
            InitialTrust::Glue => documents::snowflake_trust_initial(),
        })
    }

    /// A3's trust once the volume and the integration have described themselves.
    fn snowflake_trust(inputs: &Inputs, spec: &TrustPolicy) -> Result<Document, NodeError> {
        let of = |node: &str| -> Result<(String, String), NodeError> {
            Ok((
                inputs.output(node, "iam_user_arn")?.to_string(),
                inputs.output(node, "external_id")?.to_string(),
            ))
        };
        let (volume, catalog) = (of(&spec.volume)?, of(&spec.catalog)?);
        Ok(documents::snowflake_trust(
            (&volume.0, &volume.1),
            (&catalog.0, &catalog.1),
        ))
    }

    /// What this node's `find` read, kept for its `drift`: a role's trust, or a policy's default
    /// version id. `None` when `find` found nothing to keep (a thing it is about to make).
    fn memo_key(&self) -> String {
        format!("iam {} {}", self.spec.describe(), self.role_name())
    }

    async fn keep(&self, inputs: &Inputs, read: Option<String>) -> Result<(), NodeError> {
        inputs
            .memo()
            .get_or_try_init(&self.memo_key(), || async { Ok::<_, NodeError>(read) })
            .await?;
        Ok(())
    }

    /// What `find` kept, or (when `find` did not run first) a read of it now.
    async fn kept(&self, inputs: &Inputs) -> Result<Option<String>, NodeError> {
        let read = || async {
            match &self.spec {
                Spec::IamPolicy(_) => self.default_version().await,
                _ => self.read_trust().await,
            }
        };
        let found = inputs
            .memo()
            .get_or_try_init(&self.memo_key(), read)
            .await?;
        Ok((*found).clone())
    }

    async fn default_version(&self) -> Result<Option<String>, NodeError> {
        let arn = self.policy_arn();
        match self.aws.iam.get_policy().policy_arn(&arn).send().await {
            Ok(out) => Ok(out
                .policy()
                .and_then(|p| p.default_version_id())
                .map(str::to_string)),
            Err(e) => {
                let e = sdk_error("GetPolicy", e);
                if gone(&e) { Ok(None) } else { Err(e) }
            }
        }
    }

    async fn read_trust(&self) -> Result<Option<String>, NodeError> {
        match self
            .aws
            .iam
            .get_role()
            .role_name(self.role_name())
            .send()
            .await
        {
            Ok(out) => Ok(out.role().map(|r| {
                r.assume_role_policy_document()
                    .unwrap_or_default()
                    .to_string()
            })),
            Err(e) => {
                let e = sdk_error("GetRole", e);
                if gone(&e) { Ok(None) } else { Err(e) }
            }
        }
    }

    /// One version of the managed policy, as text.
    async fn policy_text(&self, version: &str) -> Result<Option<String>, NodeError> {
        let out = self
            .aws
            .iam
            .get_policy_version()
            .policy_arn(self.policy_arn())
            .version_id(version)
            .send()
            .await
            .map_err(|e| sdk_error("GetPolicyVersion", e))?;
        Ok(out
            .policy_version()
            .and_then(|v| v.document())
            .map(str::to_string))
    }

    /// A new default version with the stack's document. IAM keeps at most five versions: the
    /// oldest one that is not the default makes room.
    async fn set_policy(&self, doc: &Document) -> Result<(), NodeError> {
        let iam = &self.aws.iam;
        let arn = self.policy_arn();
        let versions = iam
            .list_policy_versions()
            .policy_arn(&arn)
            .send()
            .await
            .map_err(|e| sdk_error("ListPolicyVersions", e))?;
        let mut old: Vec<_> = versions
            .versions()
            .iter()
            .filter(|v| !v.is_default_version())
            .collect();
        if versions.versions().len() >= 5 {
            old.sort_by_key(|v| v.create_date().map(|d| d.secs()));
            if let Some(id) = old.first().and_then(|v| v.version_id()) {
                iam.delete_policy_version()
                    .policy_arn(&arn)
                    .version_id(id)
                    .send()
                    .await
                    .map_err(|e| sdk_error("DeletePolicyVersion", e))?;
            }
        }
        iam.create_policy_version()
            .policy_arn(&arn)
            .policy_document(doc.to_json())
            .set_as_default(true)
            .send()
            .await
            .map_err(|e| sdk_error("CreatePolicyVersion", e))?;
        Ok(())
    }

    /// What the stack wants this node's document to be, and what IAM has: `None` when the node
    /// has no document of its own to keep (A3's role, whose trust its trust node keeps).
    async fn documents(&self, inputs: &Inputs) -> Result<Option<(Document, String)>, NodeError> {
        let (wanted, found) = match &self.spec {
            Spec::IamPolicy(spec) => {
                let Some(version) = self.kept(inputs).await? else {
                    return Ok(None);
                };
                (
                    self.policy(inputs, spec)?,
                    self.policy_text(&version).await?,
                )
            }
            Spec::IamRole(spec) if matches!(spec.trust, InitialTrust::Integration(_)) => {
                (Self::initial_trust(inputs, spec)?, self.kept(inputs).await?)
            }
            Spec::TrustPolicy(spec) => (
                Self::snowflake_trust(inputs, spec)?,
                self.kept(inputs).await?,
            ),
            _ => return Ok(None),
        };
        Ok(found.map(|found| (wanted, found)))
    }

    async fn set_trust(&self, doc: &Document) -> Result<(), NodeError> {
        let role = self.role_name();
        self.aws
            .retry
            .run("UpdateAssumeRolePolicy", || async {
                self.aws
                    .iam
                    .update_assume_role_policy()
                    .role_name(role)
                    .policy_document(doc.to_json())
                    .send()
                    .await
                    .map_err(|e| NotYet(sdk_error("UpdateAssumeRolePolicy", e)))
            })
            .await
            .map_err(|e| e.0)?;
        Ok(())
    }
}

#[async_trait]
impl Resource for Iam {
    async fn find(
        &self,
        inputs: &Inputs,
        known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let iam = &self.aws.iam;
        match &self.spec {
            Spec::IamPolicy(_) => {
                let version = self.default_version().await?;
                self.keep(inputs, version.clone()).await?;
                Ok(version.map(|_| Record::new(self.policy_arn())))
            }
            Spec::IamRole(_) => {
                let trust = self.read_trust().await?;
                self.keep(inputs, trust.clone()).await?;
                Ok(trust.map(|_| {
                    let name = self.role_name();
                    Record::new(name).with("arn", self.aws.role_arn(name))
                }))
            }
            Spec::PolicyAttachment(_) => {
                let attached = iam
                    .list_attached_role_policies()
                    .role_name(self.role_name())
                    .send()
                    .await;
                match attached {
                    Ok(out) => {
                        let arn = self.policy_arn();
                        let found = out
                            .attached_policies()
                            .iter()
                            .any(|p| p.policy_arn() == Some(arn.as_str()));
                        Ok(found.then(|| Record::new(format!("{} -> {arn}", self.role_name()))))
                    }
                    Err(e) => {
                        let e = sdk_error("ListAttachedRolePolicies", e);
                        if gone(&e) { Ok(None) } else { Err(e) }
                    }
                }
            }
            // Before it is recorded, the trust "exists" once the role trusts exactly what
            // Snowflake described; once recorded, a trust edited since is drift.
            Spec::TrustPolicy(spec) => {
                let wanted = Self::snowflake_trust(inputs, spec)?;
                let current = self.read_trust().await?;
                let exists = match known {
                    Some(_) => current.is_some(),
                    None => current.as_deref().and_then(Document::parse).as_ref() == Some(&wanted),
                };
                self.keep(inputs, current.filter(|_| exists)).await?;
                Ok(exists.then(|| {
                    Record::new(self.role_name())
                        .with("trusts", "snowflake volume and glue integration")
                }))
            }
            other => Err(not_iam(other)),
        }
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        let iam = &self.aws.iam;
        match &self.spec {
            Spec::IamPolicy(spec) => {
                iam.create_policy()
                    .policy_name(&spec.name)
                    .policy_document(self.policy(inputs, spec)?.to_json())
                    .description(&spec.description)
                    .set_tags(iam_tags(&spec.tags)?)
                    .send()
                    .await
                    .map_err(|e| sdk_error("CreatePolicy", e))?;
                Ok(Record::new(self.policy_arn()))
            }
            Spec::IamRole(spec) => {
                let name = self.role_name();
                let trust = Self::initial_trust(inputs, spec)?.to_json();
                let tags = iam_tags(&spec.tags)?;
                self.aws
                    .retry
                    .run("CreateRole", || async {
                        iam.create_role()
                            .role_name(name)
                            .assume_role_policy_document(&trust)
                            .set_tags(tags.clone())
                            .send()
                            .await
                            .map_err(|e| NotYet(sdk_error("CreateRole", e)))
                    })
                    .await
                    .map_err(|e| e.0)?;
                Ok(Record::new(name).with("arn", self.aws.role_arn(name)))
            }
            Spec::PolicyAttachment(_) => {
                iam.attach_role_policy()
                    .role_name(self.role_name())
                    .policy_arn(self.policy_arn())
                    .send()
                    .await
                    .map_err(|e| sdk_error("AttachRolePolicy", e))?;
                Ok(Record::new(format!(
                    "{} -> {}",
                    self.role_name(),
                    self.policy_arn()
                )))
            }
            Spec::TrustPolicy(spec) => {
                self.set_trust(&Self::snowflake_trust(inputs, spec)?)
                    .await?;
                Ok(Record::new(self.role_name())
                    .with("trusts", "snowflake volume and glue integration"))
            }
            other => Err(not_iam(other)),
        }
    }

    /// A policy or trust document edited by hand. Documents are compared as IAM parses them
    /// (order of keys and spacing aside); one that does not parse as ours differs.
    async fn drift(&self, inputs: &Inputs, _record: &Record) -> Result<Option<Change>, NodeError> {
        let Some((wanted, found)) = self.documents(inputs).await? else {
            return Ok(None);
        };
        if Document::parse(&found).as_ref() == Some(&wanted) {
            return Ok(None);
        }
        let attribute = match &self.spec {
            Spec::IamPolicy(_) => "policy document",
            _ => "trust policy",
        };
        let what = vec![Diff::new(
            attribute,
            fingerprint(&wanted.to_json()),
            format!("{} (edited)", fingerprint(&found)),
        )];
        Ok(Some(Change::Update { what }))
    }

    async fn apply(
        &self,
        inputs: &Inputs,
        record: &Record,
        change: &Change,
    ) -> Result<Record, NodeError> {
        match &self.spec {
            Spec::IamPolicy(spec) => self.set_policy(&self.policy(inputs, spec)?).await?,
            Spec::IamRole(spec) => self.set_trust(&Self::initial_trust(inputs, spec)?).await?,
            Spec::TrustPolicy(spec) => {
                self.set_trust(&Self::snowflake_trust(inputs, spec)?)
                    .await?
            }
            other => {
                return Err(anyhow::anyhow!("{} cannot {change}", other.describe()).into());
            }
        }
        Ok(record.clone())
    }

    async fn delete(&self, _inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        let iam = &self.aws.iam;
        let result = match &self.spec {
            Spec::IamPolicy(_) => {
                // Only a policy's default version may remain when it is deleted.
                if let Ok(versions) = iam
                    .list_policy_versions()
                    .policy_arn(self.policy_arn())
                    .send()
                    .await
                {
                    for v in versions
                        .versions()
                        .iter()
                        .filter(|v| !v.is_default_version())
                    {
                        if let Some(id) = v.version_id() {
                            let _ = iam
                                .delete_policy_version()
                                .policy_arn(self.policy_arn())
                                .version_id(id)
                                .send()
                                .await;
                        }
                    }
                }
                iam.delete_policy()
                    .policy_arn(self.policy_arn())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| sdk_error("DeletePolicy", e))
            }
            Spec::IamRole(_) => iam
                .delete_role()
                .role_name(self.role_name())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteRole", e)),
            Spec::PolicyAttachment(_) => iam
                .detach_role_policy()
                .role_name(self.role_name())
                .policy_arn(self.policy_arn())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DetachRolePolicy", e)),
            // The trust goes with its role.
            Spec::TrustPolicy(_) => Ok(()),
            other => Err(not_iam(other)),
        };
        match result {
            Err(e) if gone(&e) => Ok(()),
            other => other,
        }
    }
}
