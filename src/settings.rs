//! Resolved inputs: what each command needs, checked together before anything is touched.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::cli::{CloudArgs, EngineArgs, OutputMode, RunArgs, StackArgs};
use crate::error::UsageError;
use crate::stack::Names;
use crate::state::Location;

#[derive(Debug)]
pub struct Settings {
    pub names: Names,
    pub stackfile: crate::config::Stackfile,
    pub state: Location,
    pub engine: EngineSettings,
    pub rotation: Rotation,
    pub clouds: Clouds,
}

#[derive(Clone, Debug)]
pub struct EngineSettings {
    pub concurrency: usize,
    pub lock_timeout: Duration,
    pub wait_timeout: Option<Duration>,
    pub output: OutputMode,
}

pub use crate::engine::Rotation;

#[derive(Debug)]
pub struct Clouds {
    pub aws: Aws,
    pub confluent: Confluent,
    pub snowflake: Snowflake,
}

#[derive(Debug)]
pub struct Aws {
    pub profile: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug)]
pub struct Confluent {
    pub endpoint: url::Url,
    pub api_key: String,
    pub api_secret: SecretString,
}

#[derive(Debug)]
pub struct Snowflake {
    pub warehouse: Option<String>,
    pub endpoint: Option<url::Url>,
    pub admin: SnowflakeAdmin,
}

/// Where the admin connection comes from.
#[derive(Debug, PartialEq, Eq)]
pub enum SnowflakeAdmin {
    /// A Secrets Manager secret, by name.
    Secret(String),
    Direct {
        account: String,
        user: String,
        key_file: PathBuf,
    },
}

/// What a command needs beyond the cloud credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    pub warehouse: bool,
}

impl Settings {
    pub fn resolve(args: RunArgs, needs: Needs, output: OutputMode) -> Result<Self, UsageError> {
        let warehouse = match args.snowflake_warehouse {
            None if needs.warehouse => return Err(UsageError::MissingWarehouse),
            w => w,
        };
        let (names, state) = stack(args.stack);
        Ok(Settings {
            names,
            stackfile: crate::config::Stackfile::default_stack(),
            state,
            engine: engine(args.engine, output),
            rotation: Rotation {
                day_count: args.day_count,
                keys_to_retain: args.number_of_api_keys_to_retain,
            },
            clouds: clouds(args.cloud, warehouse)?,
        })
    }
}

pub fn stack(args: StackArgs) -> (Names, Location) {
    (Names::new(&args.stack_name), args.state)
}

pub fn engine(args: EngineArgs, output: OutputMode) -> EngineSettings {
    EngineSettings {
        concurrency: args.concurrency,
        lock_timeout: args.lock_timeout,
        wait_timeout: args.wait_timeout,
        output,
    }
}

pub fn clouds(args: CloudArgs, warehouse: Option<String>) -> Result<Clouds, UsageError> {
    let api_key = args
        .confluent_api_key
        .ok_or(UsageError::MissingConfluentKey)?;
    let api_secret = args
        .confluent_api_secret
        .ok_or(UsageError::MissingConfluentSecret)?;
    let admin = match (
        args.snowflake_account,
        args.snowflake_user,
        args.snowflake_private_key_file,
    ) {
        (None, None, None) => SnowflakeAdmin::Secret(args.snowflake_admin_secret),
        (Some(account), Some(user), Some(key_file)) => {
            if std::fs::File::open(&key_file).is_err() {
                return Err(UsageError::UnreadableKeyFile {
                    path: key_file.display().to_string(),
                });
            }
            SnowflakeAdmin::Direct {
                account,
                user,
                key_file,
            }
        }
        (account, user, key) => {
            let named = [
                (account.is_some(), "--snowflake-account"),
                (user.is_some(), "--snowflake-user"),
                (key.is_some(), "--snowflake-private-key-file"),
            ];
            let pick = |present: bool| {
                named
                    .iter()
                    .find(|(p, _)| *p == present)
                    .map_or("", |(_, n)| *n)
            };
            return Err(UsageError::PartialSnowflakeAdmin {
                given: pick(true),
                missing: pick(false),
            });
        }
    };
    Ok(Clouds {
        aws: Aws {
            profile: args.profile,
            region: args.region,
        },
        confluent: Confluent {
            endpoint: args.confluent_endpoint,
            api_key,
            api_secret,
        },
        snowflake: Snowflake {
            warehouse,
            endpoint: args.snowflake_endpoint,
            admin,
        },
    })
}
