//! Reaching the clouds: the preflight (who are we in AWS, in which region; is the Confluent Cloud
//! key accepted; can the Snowflake admin log in), the key secrets this run will need, and one
//! provider per cloud sharing them. Runs before any node, with quick retries, so that a wrong
//! credential or an unreachable endpoint touches nothing and is reported in seconds.

use std::sync::Arc;

use secrecy::SecretString;

use crate::aws::{self, Aws, AwsProvider};
use crate::clock::{Clock, SystemClock};
use crate::confluent::{self, Confluent, ConfluentProvider};
use crate::engine::RetryPolicy;
use crate::error::Error;
use crate::settings::{Clouds, Rotation, SnowflakeAdmin};
use crate::snowflake::{self, Admin, Snowflake, SnowflakeProvider};
use crate::stack::{ByCloud, Names};
use crate::vault::Vault;

pub struct Connected {
    confluent: ConfluentProvider,
    aws: AwsProvider,
    snowflake: SnowflakeProvider,
}

impl Connected {
    /// Reads every secret the stack keeps keys in, so this run holds the active keys' secrets.
    /// Done under the lock: a run that held it before may just have rotated a key.
    pub async fn load_key_secrets(&self, clients: &[aws::kinds::Secret]) -> Result<(), Error> {
        self.aws
            .0
            .load_key_secrets(clients)
            .await
            .map_err(|e| Error::Preflight(e.to_string()))
    }

    /// The AWS account, which the stack's role ARNs name.
    pub fn account(&self) -> &str {
        &self.aws.0.account
    }

    pub fn region(&self) -> &str {
        &self.aws.0.region
    }

    /// Each cloud's client, for reads outside the graph (`doctor`, orphan discovery).
    pub fn clients(&self) -> (&Confluent, &Aws, &Snowflake) {
        (&self.confluent.0, &self.aws.0, &self.snowflake.sf)
    }

    pub fn providers(&self) -> ByCloud<'_> {
        ByCloud {
            confluent: &self.confluent,
            aws: &self.aws,
            snowflake: &self.snowflake,
        }
    }
}

/// How long a new Confluent key or role binding may take to be honoured, unless `--wait-timeout`
/// says otherwise: the 20 minutes Confluent's Terraform provider waits for a new Kafka key.
const PROPAGATION: std::time::Duration = std::time::Duration::from_secs(20 * 60);

pub async fn connect(
    clouds: &Clouds,
    names: &Names,
    rotation: Rotation,
    wait_timeout: Option<std::time::Duration>,
) -> Result<Connected, Error> {
    let preflight = |e: &dyn std::fmt::Display| Error::Preflight(e.to_string());
    let profile = clouds.aws.profile.as_deref();
    let sdk = aws::load(profile, clouds.aws.region.as_deref())
        .await
        .map_err(|e| preflight(&e))?;
    let vault = Arc::new(Vault::default());
    let retry = RetryPolicy::default();
    let aws = Aws::connect(&sdk, profile, vault.clone(), retry.clone())
        .await
        .map_err(|e| preflight(&e))?;
    let admin = match &clouds.snowflake.admin {
        SnowflakeAdmin::Direct {
            account,
            user,
            key_file,
        } => Admin {
            account: account.clone(),
            user: user.clone(),
            private_key_pem: SecretString::from(
                std::fs::read_to_string(key_file).map_err(|e| preflight(&e))?,
            ),
        },
        SnowflakeAdmin::Secret(name) => {
            aws.snowflake_admin(name).await.map_err(|e| preflight(&e))?
        }
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let c = &clouds.confluent;
    let confluent = Confluent::new(confluent::Settings {
        endpoint: c.endpoint.clone(),
        api_key: c.api_key.clone(),
        api_secret: c.api_secret.clone(),
        region: aws.region.clone(),
        rotation,
        clock: clock.clone(),
        vault: vault.clone(),
        retry: retry.clone(),
        propagation: wait_timeout.unwrap_or(PROPAGATION),
    });
    let sf = Snowflake::new(snowflake::Settings {
        admin: Some(admin),
        endpoint: clouds.snowflake.endpoint.clone(),
        warehouse: clouds.snowflake.warehouse.clone(),
        rotation,
        clock,
        vault,
        retry,
    });
    // Both at once: each is a round trip or two, and the run waits for them before anything.
    tokio::try_join!(
        async { confluent.preflight().await.map_err(|e| preflight(&e)) },
        async { sf.preflight().await.map_err(|e| preflight(&e)) },
    )?;
    // The key pairs live in Secrets Manager; the Snowflake side reads and writes them there.
    let store = Arc::new(aws::SecretsManager(
        aws.clone(),
        format!("kickstart stack {}", names.stack()),
    ));
    Ok(Connected {
        confluent: ConfluentProvider(confluent),
        aws: AwsProvider(aws),
        snowflake: SnowflakeProvider { sf, store },
    })
}

/// `create`'s share of `kickstart doctor`: every cloud's permission check, before the lock and
/// any node. A missing permission stops the run with nothing touched; a check a cloud would not
/// answer (IAM's simulator not served, say) does not, and is logged.
pub async fn permitted(connected: &Connected, decls: &[crate::stack::Decl]) -> Result<(), Error> {
    let checks = super::doctor::checks(connected, decls).await;
    for c in &checks {
        if let crate::checks::Verdict::Unchecked { why } = &c.verdict {
            tracing::info!("{}: {}: could not check: {why}", c.cloud, c.what);
        }
    }
    let missing: Vec<String> = checks
        .iter()
        .filter_map(|c| match &c.verdict {
            crate::checks::Verdict::Missing { grant } => {
                Some(format!("{}: {}: {grant}", c.cloud, c.what))
            }
            _ => None,
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::Preflight(format!(
        "the credentials lack what the stack needs, so nothing was touched: {}; `kickstart doctor` lists every check",
        missing.join("; ")
    )))
}
