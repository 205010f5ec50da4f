//! Whether the AWS identity may build and remove the stack's AWS resources: IAM's policy
//! simulator (`iam:SimulatePrincipalPolicy`, a read) is asked, per resource the stack declares,
//! about every action kickstart calls on it. An assumed role (an SSO login) is simulated as its
//! IAM role. Where the endpoint does not serve the simulator, or the identity may not call it,
//! the check says it could not tell. Lake Formation, which the simulator cannot see, is asked
//! apart (`lake_formation`).

use std::collections::BTreeMap;

use aws_sdk_iam::types::PolicyEvaluationDecisionType as Decision;

use super::kinds::{InitialTrust, Spec};
use super::{Aws, policy_arn, role_arn};
use crate::checks::Check;

const CLOUD: &str = "aws";

/// The actions kickstart calls on each kind (finding, creating, tagging, changing, deleting).
const ROLE: &[&str] = &[
    "iam:GetRole",
    "iam:CreateRole",
    "iam:TagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRole",
];
const POLICY: &[&str] = &[
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:ListPolicyVersions",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:TagPolicy",
    "iam:DeletePolicy",
];
const BUCKET: &[&str] = &[
    "s3:ListAllMyBuckets",
    "s3:CreateBucket",
    "s3:PutBucketTagging",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:DeleteBucket",
];
const OBJECTS: &[&str] = &["s3:DeleteObject", "s3:DeleteObjectVersion"];
const SECRET: &[&str] = &[
    "secretsmanager:GetSecretValue",
    "secretsmanager:CreateSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:TagResource",
    "secretsmanager:DeleteSecret",
];
const GLUE: &[&str] = &[
    "glue:GetDatabase",
    "glue:GetTables",
    "glue:BatchDeleteTable",
    "glue:DeleteDatabase",
];

/// Each resource ARN the stack's declarations reach, with the actions called on it.
pub fn needs(aws: &Aws, specs: &[&Spec]) -> BTreeMap<String, &'static [&'static str]> {
    let (account, region) = (&aws.account, &aws.region);
    let mut needs = BTreeMap::new();
    for spec in specs {
        match spec {
            Spec::IamRole(r) => {
                needs.insert(role_arn(account, &r.name), ROLE);
            }
            Spec::IamPolicy(p) => {
                needs.insert(policy_arn(account, &p.name), POLICY);
            }
            Spec::Bucket(b) => {
                // The bucket's id is chosen at create; any name under its prefix stands for it.
                let bucket = format!("arn:aws:s3:::{}-0", b.prefix);
                needs.insert(format!("{bucket}/object"), OBJECTS);
                needs.insert(bucket, BUCKET);
            }
            Spec::Secret(s) => {
                // Secrets Manager appends six random characters to a secret's ARN.
                let arn = format!(
                    "arn:aws:secretsmanager:{region}:{account}:secret:{}-AbCdEf",
                    s.name
                );
                needs.insert(arn, SECRET);
            }
            Spec::GlueDatabase(_) => {
                needs.insert(format!("arn:aws:glue:{region}:{account}:database/*"), GLUE);
            }
            Spec::PolicyAttachment(_) | Spec::TrustPolicy(_) => {}
        }
    }
    needs
}

/// The IAM principal behind an STS identity: an assumed role's session is its role (looked up,
/// so a role under a path such as SSO's keeps it); a user or role ARN is itself.
async fn principal(aws: &Aws, iam: &aws_sdk_iam::Client) -> String {
    let caller = &aws.caller;
    let Some(rest) = caller.split_once(":assumed-role/").map(|(_, r)| r) else {
        return caller.clone();
    };
    let name = rest.split('/').next().unwrap_or_default();
    match iam.get_role().role_name(name).send().await {
        Ok(found) => found
            .role()
            .map(|r| r.arn().to_string())
            .unwrap_or_else(|| role_arn(&aws.account, name)),
        Err(_) => role_arn(&aws.account, name),
    }
}

pub async fn check(aws: &Aws, specs: &[&Spec]) -> Vec<Check> {
    let mut checks = simulated(aws, specs).await;
    let role = specs.iter().find_map(|s| match s {
        Spec::IamRole(r) if matches!(r.trust, InitialTrust::Integration(_)) => Some(&r.name),
        _ => None,
    });
    let bucket = specs.iter().find_map(|s| match s {
        Spec::Bucket(b) => Some(&b.prefix),
        _ => None,
    });
    if let (Some(role), Some(bucket)) = (role, bucket) {
        checks.push(super::lake_formation::check(aws, role, bucket).await);
    }
    checks
}

/// What IAM's policy simulator says of each action on each resource.
async fn simulated(aws: &Aws, specs: &[&Spec]) -> Vec<Check> {
    // A few quick tries: an endpoint that does not serve the simulator should say so in seconds.
    let quick = aws_config::retry::RetryConfig::standard()
        .with_max_attempts(2)
        .with_max_backoff(std::time::Duration::from_secs(1));
    let iam =
        aws_sdk_iam::Client::from_conf(aws.iam.config().to_builder().retry_config(quick).build());
    let who = principal(aws, &iam).await;
    let mut checks = Vec::new();
    if !simulable(&who) {
        let what = format!("{who} may build the stack's AWS resources");
        checks.push(Check::unchecked(
            CLOUD,
            what,
            "IAM's policy simulator knows only IAM users and roles (not the root user, nor this identity); check the actions of the stack's IAM, S3, Secrets Manager and Glue resources by hand",
        ));
        return checks;
    }
    for (resource, actions) in needs(aws, specs) {
        let what = format!("{who} may {} on {resource}", actions.join(", "));
        let asked = iam
            .simulate_principal_policy()
            .policy_source_arn(&who)
            .set_action_names(Some(actions.iter().map(|a| a.to_string()).collect()))
            .resource_arns(&resource)
            .send()
            .await;
        let results = match asked {
            Ok(r) => r,
            Err(e) => {
                // The first refusal says it for every resource: the simulator is not there, or
                // not for us.
                let why = format!(
                    "IAM's policy simulator did not answer for {who} ({}); grant iam:SimulatePrincipalPolicy on it to let doctor check, or check the actions of the stack's IAM, S3, Secrets Manager and Glue resources by hand",
                    first_line(&aws_sdk_iam::error::DisplayErrorContext(&e).to_string())
                );
                checks.push(Check::unchecked(
                    CLOUD,
                    format!("{who} may build the stack's AWS resources"),
                    why,
                ));
                break;
            }
        };
        let denied: Vec<&str> = results
            .evaluation_results()
            .iter()
            .filter(|r| *r.eval_decision() != Decision::Allowed)
            .map(|r| r.eval_action_name())
            .collect();
        if denied.is_empty() {
            checks.push(Check::held(CLOUD, what));
        } else {
            checks.push(Check::missing(
                CLOUD,
                format!("{who} may not {} on {resource}", denied.join(", ")),
                format!(
                    "attach to {who} an IAM policy that allows {} on {resource}",
                    denied.join(", ")
                ),
            ));
        }
    }
    checks
}

/// Whether IAM's simulator can be asked about the principal: an IAM user or role ARN.
fn simulable(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let service = parts.nth(2);
    let resource = parts.nth(2).unwrap_or_default();
    service == Some("iam") && (resource.starts_with("user/") || resource.starts_with("role/"))
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_kickstart_calls_is_asked_about_once() {
        let all: Vec<&str> = [ROLE, POLICY, BUCKET, OBJECTS, SECRET, GLUE].concat();
        let mut unique = all.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
        assert!(all.iter().all(|a| a.split_once(':').is_some()));
    }

    #[test]
    fn only_iam_users_and_roles_are_simulated() {
        assert!(simulable("arn:aws:iam::1:user/ci"));
        assert!(simulable(
            "arn:aws:iam::1:role/aws-reserved/sso.amazonaws.com/R"
        ));
        assert!(!simulable("arn:aws:iam::1:root"));
        assert!(!simulable("arn:aws:sts::1:user/moto"));
        assert!(!simulable("arn:aws:sts::1:assumed-role/R/s"));
    }
}
