//! A2 and A3: each an IAM role, a managed policy and its attachment; and A3's trust policy,
//! rewritten in place once Snowflake has said which IAM users and external ids it uses.
//! IAM is eventually consistent: refusals of a principal that was just made are retried.

use std::sync::Arc;

use async_trait::async_trait;

use super::documents::{self, Document};
use super::kinds::{
    Grantee, IamPolicy, IamRole, InitialTrust, PolicyAttachment, Spec, TrustPolicy,
};
use super::{Aws, policy_arn, sdk_error};
use crate::engine::{Inputs, Kind as _, NodeError, Record, Resource, Transient};

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

    async fn current_trust(&self) -> Result<Option<Document>, NodeError> {
        match self
            .aws
            .iam
            .get_role()
            .role_name(self.role_name())
            .send()
            .await
        {
            Ok(out) => Ok(out
                .role()
                .and_then(|r| r.assume_role_policy_document())
                .and_then(Document::parse)),
            Err(e) => {
                let e = sdk_error("GetRole", e);
                if gone(&e) { Ok(None) } else { Err(e) }
            }
        }
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
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let iam = &self.aws.iam;
        match &self.spec {
            Spec::IamPolicy(_) => match iam.get_policy().policy_arn(self.policy_arn()).send().await
            {
                Ok(_) => Ok(Some(Record::new(self.policy_arn()))),
                Err(e) => {
                    let e = sdk_error("GetPolicy", e);
                    if gone(&e) { Ok(None) } else { Err(e) }
                }
            },
            Spec::IamRole(_) => Ok(self.current_trust().await?.map(|_| {
                let name = self.role_name();
                Record::new(name).with("arn", self.aws.role_arn(name))
            })),
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
            // The trust "exists" once the role trusts exactly what Snowflake described.
            Spec::TrustPolicy(spec) => {
                let wanted = Self::snowflake_trust(inputs, spec)?;
                let current = self.current_trust().await?;
                Ok((current.as_ref() == Some(&wanted)).then(|| {
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
                    .send()
                    .await
                    .map_err(|e| sdk_error("CreatePolicy", e))?;
                Ok(Record::new(self.policy_arn()))
            }
            Spec::IamRole(spec) => {
                let name = self.role_name();
                let trust = Self::initial_trust(inputs, spec)?.to_json();
                self.aws
                    .retry
                    .run("CreateRole", || async {
                        iam.create_role()
                            .role_name(name)
                            .assume_role_policy_document(&trust)
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
