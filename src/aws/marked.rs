//! What AWS holds tagged with a given prefix: buckets of this region, IAM roles, the account's
//! own IAM policies and Secrets Manager secrets, each with its tags. Reads only; what the tags
//! mean is for the caller.

use futures_util::StreamExt as _;

use super::kinds::Tags;
use super::{Aws, sdk_error};
use crate::engine::NodeError;

/// How many tag reads run at once: a large account has hundreds of roles, one read each.
const AT_ONCE: usize = 8;

/// Each resource carrying a tag whose key starts with `prefix`: what it is, and all its tags.
pub async fn tagged(aws: &Aws, prefix: &str) -> Result<Vec<(String, Tags)>, NodeError> {
    let (buckets, roles, policies, secrets) =
        tokio::try_join!(buckets(aws), roles(aws), policies(aws), secrets(aws))?;
    Ok(buckets
        .into_iter()
        .chain(roles)
        .chain(policies)
        .chain(secrets)
        .filter(|(_, tags)| tags.keys().any(|k| k.starts_with(prefix)))
        .collect())
}

/// The buckets of this client's region: a bucket elsewhere answers a tag read with a redirect,
/// and the stack's bucket is in its own region anyway.
async fn buckets(aws: &Aws) -> Result<Vec<(String, Tags)>, NodeError> {
    // Asked by region, ListBuckets answers in pages.
    let mut names: Vec<String> = Vec::new();
    let mut pages = aws
        .s3
        .list_buckets()
        .bucket_region(&aws.region)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ListBuckets", e))?;
        let here = page
            .buckets()
            .iter()
            .filter(|b| b.bucket_region().is_none_or(|r| r == aws.region));
        names.extend(here.filter_map(|b| b.name().map(str::to_string)));
    }
    let reads = names.into_iter().map(|name| async move {
        let tags = match aws.s3.get_bucket_tagging().bucket(&name).send().await {
            Ok(out) => out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            Err(e) => {
                let e = sdk_error("GetBucketTagging", e);
                let text = e.to_string();
                // No tags at all, a bucket gone since the list, or one in another region.
                let passed = ["NoSuchTagSet", "NoSuchBucket", "PermanentRedirect"];
                if !passed.iter().any(|p| text.contains(p)) {
                    return Err(e);
                }
                Tags::new()
            }
        };
        Ok((format!("S3 bucket {name}"), tags))
    });
    collect(reads).await
}

async fn roles(aws: &Aws) -> Result<Vec<(String, Tags)>, NodeError> {
    let mut names = Vec::new();
    let mut pages = aws.iam.list_roles().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ListRoles", e))?;
        names.extend(page.roles().iter().map(|r| r.role_name().to_string()));
    }
    // ListRoles leaves tags out; each role's are read on their own.
    let reads = names.into_iter().map(|name| async move {
        let tags = match aws.iam.list_role_tags().role_name(&name).send().await {
            Ok(out) => iam_tags(out.tags()),
            Err(e) => gone(sdk_error("ListRoleTags", e))?,
        };
        Ok((format!("IAM role {name}"), tags))
    });
    collect(reads).await
}

/// The account's own managed policies (not AWS's): a policy left alone, its role gone, still
/// names its stack.
async fn policies(aws: &Aws) -> Result<Vec<(String, Tags)>, NodeError> {
    let mut found = Vec::new();
    let mut pages = aws
        .iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ListPolicies", e))?;
        found.extend(
            page.policies()
                .iter()
                .filter_map(|p| Some((p.policy_name()?.to_string(), p.arn()?.to_string()))),
        );
    }
    // ListPolicies leaves tags out too.
    let reads = found.into_iter().map(|(name, arn)| async move {
        let tags = match aws.iam.list_policy_tags().policy_arn(&arn).send().await {
            Ok(out) => iam_tags(out.tags()),
            Err(e) => gone(sdk_error("ListPolicyTags", e))?,
        };
        Ok((format!("IAM policy {name}"), tags))
    });
    collect(reads).await
}

fn iam_tags(tags: &[aws_sdk_iam::types::Tag]) -> Tags {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// No tags for what was deleted since it was listed; any other failure fails the discovery.
fn gone(e: NodeError) -> Result<Tags, NodeError> {
    match e.to_string().contains("NoSuchEntity") {
        true => Ok(Tags::new()),
        false => Err(e),
    }
}

/// ListSecrets gives each secret's tags with it: one call per page.
async fn secrets(aws: &Aws) -> Result<Vec<(String, Tags)>, NodeError> {
    let mut found = Vec::new();
    let mut pages = aws.secrets.list_secrets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ListSecrets", e))?;
        for secret in page.secret_list() {
            let tags: Tags = secret
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                .collect();
            let name = secret.name().unwrap_or_default();
            found.push((format!("secret {name}"), tags));
        }
    }
    Ok(found)
}

/// Runs the reads a few at a time; the first failure fails them all.
async fn collect<F>(reads: impl Iterator<Item = F>) -> Result<Vec<(String, Tags)>, NodeError>
where
    F: Future<Output = Result<(String, Tags), NodeError>>,
{
    let results: Vec<_> = futures_util::stream::iter(reads)
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    results.into_iter().collect()
}
