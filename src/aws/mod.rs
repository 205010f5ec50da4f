//! AWS: the bucket, the two IAM roles with their policies, the Secrets Manager secrets, and the
//! Glue database Tableflow's catalog sync makes, over the AWS SDK for Rust.

mod admin_secret;
mod bucket;
pub mod doctor;
mod documents;
mod glue;
mod iam;
pub mod kinds;
mod lake_formation;
pub mod marked;
pub mod retries;
mod secrets;
mod state;

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use secrecy::SecretString;

pub use secrets::SecretsManager;
pub use state::{S3Lock, S3Store, stacks_under};

use crate::engine::{NodeError, Resource, RetryPolicy};
use crate::vault::Vault;
use kinds::Spec;

/// What every AWS node shares.
pub struct Aws {
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub glue: aws_sdk_glue::Client,
    pub lakeformation: aws_sdk_lakeformation::Client,
    pub account: String,
    /// Who STS says we are (`arn:aws:sts::…:assumed-role/…` for an SSO login): what `doctor`
    /// asks IAM's policy simulator about.
    pub caller: String,
    pub region: String,
    pub vault: Arc<Vault>,
    pub retry: RetryPolicy,
    /// The client secrets `load_key_secrets` read, each kept for its node's one lookup.
    preloaded: secrets::Preloaded,
}

/// Why AWS could not be reached before anything was done.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error(
        "AWS profile '{0}' is not in ~/.aws/config or ~/.aws/credentials: check the name, or create it with `aws configure sso --profile {0}`"
    )]
    UnknownProfile(String),
    #[error(
        "the AWS SSO login of profile '{0}' is missing or expired: run `aws sso login --profile {0}`"
    )]
    SsoExpired(String),
    #[error("no AWS region: pass --region or set AWS_REGION, or give the profile a region")]
    NoRegion,
    #[error("AWS refused the credentials ({0}): check --profile or the AWS environment")]
    Refused(String),
    #[error(
        "cannot reach AWS STS at {endpoint} ({detail}): check AWS_ENDPOINT_URL, the region and the network"
    )]
    Unreachable { endpoint: String, detail: String },
}

/// Loads the SDK configuration the way the AWS CLI does: the profile (SSO included), the region,
/// and `AWS_ENDPOINT_URL` for a local stand-in.
pub async fn load(
    profile: Option<&str>,
    region: Option<&str>,
) -> Result<SdkConfig, PreflightError> {
    if let Some(p) = profile {
        // The SDK falls through to instance metadata for an unknown profile; say so instead.
        if !profile_exists(p) {
            return Err(PreflightError::UnknownProfile(p.to_string()));
        }
    }
    // The bound our own policy has, for any client made from this configuration alone; the
    // clients kickstart builds also wait out throttles (see `retries`).
    let retry = retries::retry_config(&RetryPolicy::default());
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry);
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_string()));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(PreflightError::NoRegion);
    }
    Ok(config)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

fn profile_exists(profile: &str) -> bool {
    let home = std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    let files = [
        std::env::var_os("AWS_CONFIG_FILE")
            .map(Into::into)
            .unwrap_or_else(|| home.join(".aws/config")),
        std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
            .map(Into::into)
            .unwrap_or_else(|| home.join(".aws/credentials")),
    ];
    files.iter().any(|f: &std::path::PathBuf| {
        std::fs::read_to_string(f).is_ok_and(|text| {
            text.lines()
                .map(str::trim)
                .any(|l| l == format!("[profile {profile}]") || l == format!("[{profile}]"))
        })
    })
}

impl Aws {
    /// Asks STS who we are: the preflight that runs before any cloud is touched.
    pub async fn connect(
        config: &SdkConfig,
        profile: Option<&str>,
        vault: Arc<Vault>,
        retry: RetryPolicy,
    ) -> Result<Arc<Aws>, PreflightError> {
        // A few quick attempts, as the other clouds' preflights: an endpoint that is not there
        // should fail in seconds.
        let quick = aws_config::retry::RetryConfig::standard()
            .with_max_attempts(5)
            .with_max_backoff(std::time::Duration::from_secs(2));
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(config)
                .retry_config(quick)
                .build(),
        );
        let who = sts.get_caller_identity().send().await.map_err(|e| {
            let text = format!("{}", aws_sdk_sts::error::DisplayErrorContext(&e));
            if let aws_sdk_sts::error::SdkError::DispatchFailure(d) = &e
                && (d.is_io() || d.is_timeout())
            {
                let detail = crate::http::root_cause(&e);
                PreflightError::Unreachable {
                    endpoint: config.endpoint_url().map_or_else(
                        || {
                            format!(
                                "sts.{}.amazonaws.com",
                                config.region().map_or("", |r| r.as_ref())
                            )
                        },
                        str::to_string,
                    ),
                    detail,
                }
            } else if let Some(refusal) = e.as_service_error() {
                // STS answered: a wrong or unknown key is InvalidClientTokenId, a wrong secret
                // SignatureDoesNotMatch; only expired session credentials mean a new login.
                use aws_sdk_sts::error::ProvideErrorMetadata as _;
                match (refusal.code(), profile) {
                    (Some("ExpiredToken"), Some(p)) => PreflightError::SsoExpired(p.to_string()),
                    (Some(code), _) => PreflightError::Refused(format!(
                        "{code}: {}",
                        refusal.message().unwrap_or_default()
                    )),
                    (None, _) => PreflightError::Refused(first_line(&text)),
                }
            } else if text.contains("SSO") || text.contains("sso") || text.contains("token") {
                // No request was sent: the credentials could not be had, as when an SSO login
                // has run out.
                PreflightError::SsoExpired(profile.unwrap_or("default").to_string())
            } else {
                PreflightError::Refused(first_line(&text))
            }
        })?;
        let account = who.account().unwrap_or_default().to_string();
        let caller = who.arn().unwrap_or_default().to_string();
        let region = config
            .region()
            .map(|r| r.to_string())
            .ok_or(PreflightError::NoRegion)?;
        // With a custom endpoint (a local stand-in), S3 must address buckets by path.
        let mut s3 = aws_sdk_s3::config::Builder::from(config);
        if config.endpoint_url().is_some() {
            s3 = s3.force_path_style(true);
        }
        Ok(Arc::new(Aws {
            s3: retries::s3(s3, &retry),
            iam: retries::iam(config.into(), &retry),
            secrets: retries::secrets_manager(config.into(), &retry),
            glue: retries::glue(config.into(), &retry),
            lakeformation: retries::lakeformation(config.into(), &retry),
            account,
            caller,
            region,
            vault,
            retry,
            preloaded: Default::default(),
        }))
    }

    /// Reads the client secrets, so this run holds the active keys' secrets.
    pub async fn load_key_secrets(&self, clients: &[kinds::Secret]) -> Result<(), NodeError> {
        secrets::load_key_secrets(self, clients).await
    }

    /// The Snowflake admin connection from its secret (`/snowflake_admin_credentials`).
    pub async fn snowflake_admin(&self, name: &str) -> Result<crate::snowflake::Admin, NodeError> {
        secrets::snowflake_admin(self, name).await
    }

    pub fn role_arn(&self, name: &str) -> String {
        role_arn(&self.account, name)
    }
}

/// An IAM role's ARN, known before the role exists: how other clouds are told whom to trust.
pub fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

/// An IAM managed policy's ARN.
pub fn policy_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:policy/{name}")
}

/// An AWS SDK error, with the service's own code and message.
pub fn sdk_error<E, R>(what: &str, e: aws_sdk_s3::error::SdkError<E, R>) -> NodeError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    NodeError::Other(anyhow::anyhow!(
        "AWS refused {what}: {}",
        aws_sdk_s3::error::DisplayErrorContext(&e)
    ))
}

/// Gives each AWS node its implementation.
pub struct AwsProvider(pub Arc<Aws>);

impl AwsProvider {
    pub fn resource(&self, spec: &Spec) -> Arc<dyn Resource> {
        let aws = self.0.clone();
        match spec {
            Spec::Bucket(k) => Arc::new(bucket::BucketNode::new(aws, k.clone())),
            Spec::IamPolicy(_)
            | Spec::IamRole(_)
            | Spec::PolicyAttachment(_)
            | Spec::TrustPolicy(_) => Arc::new(iam::Iam::new(aws, spec.clone())),
            Spec::Secret(k) => Arc::new(secrets::ClientSecret::new(aws, k.clone())),
            Spec::GlueDatabase(k) => Arc::new(glue::Glue::new(aws, k.clone())),
        }
    }
}

/// Keeps a secret's text out of Debug output while it is passed around.
pub fn secret(text: String) -> SecretString {
    SecretString::from(text)
}
