//! Resolved inputs: what each command needs, checked together before anything is touched.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::cli::{CloudArgs, EngineArgs, OutputMode, RunArgs, StackArgs};
use crate::config::{self, Stackfile};
use crate::error::UsageError;
use crate::stack::{DEFAULT_STACK, Names};
use crate::state::Location;

/// Without a flag or the file saying otherwise: the seed's rotation.
const DAY_COUNT: u32 = 30;
const KEYS_TO_RETAIN: u32 = 2;

#[derive(Clone, Debug)]
pub struct Settings {
    pub names: Names,
    pub state: Location,
    /// The shared place (folder, s3 prefix) the state is under, as users wrote it; the stack's
    /// marks record it.
    pub place: Option<String>,
    /// The expiry `create --ttl` asks for; none keeps what the state records.
    pub ttl: Option<jiff::Timestamp>,
    pub engine: EngineSettings,
    pub rotation: Rotation,
    pub clouds: Clouds,
    pub stackfile: Stackfile,
}

/// The stack a command works on: its names, where its state lives, and its file.
#[derive(Debug)]
pub struct StackSettings {
    pub names: Names,
    pub state: Location,
    pub place: Option<String>,
    pub stackfile: Stackfile,
}

#[derive(Clone, Debug)]
pub struct EngineSettings {
    pub concurrency: usize,
    pub lock_timeout: Duration,
    pub wait_timeout: Option<Duration>,
    pub output: OutputMode,
}

pub use crate::engine::Rotation;

#[derive(Clone, Debug)]
pub struct Clouds {
    pub aws: Aws,
    pub confluent: Confluent,
    pub snowflake: Snowflake,
}

#[derive(Clone, Debug)]
pub struct Aws {
    pub profile: Option<String>,
    pub region: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Confluent {
    pub endpoint: url::Url,
    pub api_key: String,
    pub api_secret: SecretString,
}

#[derive(Clone, Debug)]
pub struct Snowflake {
    pub warehouse: Option<String>,
    pub endpoint: Option<url::Url>,
    pub admin: SnowflakeAdmin,
}

/// Where the admin connection comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// The stack file is read and checked first: a bad file is the first thing a user hears of.
    pub fn resolve(
        mut args: RunArgs,
        needs: Needs,
        output: OutputMode,
    ) -> Result<Self, UsageError> {
        let StackSettings {
            names,
            state,
            place,
            stackfile,
        } = stack(args.stack)?;
        let warehouse = match args.snowflake_warehouse {
            None if needs.warehouse => return Err(UsageError::MissingWarehouse),
            w => w,
        };
        let rotation = rotation(
            args.day_count,
            args.number_of_api_keys_to_retain,
            &stackfile,
        );
        args.cloud.region = region(args.cloud.region, &stackfile);
        Ok(Settings {
            names,
            state,
            place,
            ttl: None,
            engine: engine(args.engine, output),
            rotation,
            clouds: clouds(args.cloud, warehouse)?,
            stackfile,
        })
    }
}

/// The stack file (named, or ./kickstart.toml, or the built-in one), checked; and the stack name
/// it resolves to, a flag's first.
pub fn stack_file(
    config: Option<std::path::PathBuf>,
    stack_name: Option<String>,
) -> Result<(Names, Stackfile), UsageError> {
    let stackfile = config::load(config::choose(config).as_deref())?;
    let name = stack_name
        .or_else(|| (stackfile.config.stack.name.as_ref()).map(|n| n.get_ref().clone()))
        .unwrap_or_else(|| DEFAULT_STACK.to_string());
    Ok((Names::new(&name), stackfile))
}

pub fn stack(args: StackArgs) -> Result<StackSettings, UsageError> {
    let (names, stackfile) = stack_file(args.config, args.stack_name)?;
    Ok(StackSettings {
        state: args.state.resolve(names.stack()),
        place: args.state.place(),
        names,
        stackfile,
    })
}

/// The rotation the flags say, else the file, else the seed's.
pub fn rotation(day_count: Option<u32>, keys: Option<u32>, stackfile: &Stackfile) -> Rotation {
    let file = &stackfile.config.rotation;
    Rotation {
        day_count: day_count
            .or(file.day_count.as_ref().map(|d| *d.get_ref()))
            .unwrap_or(DAY_COUNT),
        keys_to_retain: keys
            .or(file.keys_to_retain.as_ref().map(|k| *k.get_ref()))
            .unwrap_or(KEYS_TO_RETAIN),
    }
}

/// The AWS settings of a command that reaches only the state.
pub fn state_aws(args: crate::cli::StateAwsArgs, stackfile: &Stackfile) -> Aws {
    Aws {
        profile: args.profile,
        region: region(args.region, stackfile),
    }
}

/// The region a flag (or AWS_REGION) names, else the file's; None leaves it to the AWS profile.
pub fn region(flag: Option<String>, stackfile: &Stackfile) -> Option<String> {
    flag.or_else(|| (stackfile.config.stack.region.as_ref()).map(|r| r.get_ref().clone()))
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

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command, PlanArgs};

    fn resolve(file: Option<&str>, flags: &[&str]) -> Result<Settings, UsageError> {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec![
            "kickstart",
            "plan",
            "--confluent-api-key=k",
            "--confluent-api-secret=s",
        ];
        let path = dir.path().join("stack.toml");
        let config = format!("--config={}", path.display());
        if let Some(text) = file {
            std::fs::write(&path, text).unwrap();
            args.push(&config);
        }
        args.extend(flags);
        let Command::Plan(PlanArgs { run, .. }) = Cli::try_parse_from(args).unwrap().command else {
            unreachable!("parsed as plan")
        };
        Settings::resolve(run, Needs { warehouse: false }, OutputMode::Human)
    }

    const FILE: &str = "[stack]\nname = \"from_file\"\nregion = \"eu-west-2\"\n\n\
        [topics.t.tableflow]\n\n[rotation]\nday_count = 7\nkeys_to_retain = 3\n";

    #[test]
    fn a_flag_wins_over_the_file_which_wins_over_the_default() {
        let built_in = resolve(None, &[]).unwrap();
        assert_eq!(built_in.names.stack(), DEFAULT_STACK);
        assert_eq!(
            built_in.rotation,
            Rotation {
                day_count: 30,
                keys_to_retain: 2
            }
        );
        assert_eq!(built_in.clouds.aws.region, None);
        assert_eq!(built_in.stackfile.path, None);

        let file = resolve(Some(FILE), &[]).unwrap();
        assert_eq!(file.names.stack(), "from_file");
        assert_eq!(
            file.rotation,
            Rotation {
                day_count: 7,
                keys_to_retain: 3
            }
        );
        assert_eq!(file.clouds.aws.region.as_deref(), Some("eu-west-2"));
        assert!(file.stackfile.config.topics.contains_key("t"));

        let flags = [
            "--stack-name=from_flag",
            "--region=us-west-2",
            "--day-count=9",
            "--number-of-api-keys-to-retain=4",
        ];
        let flagged = resolve(Some(FILE), &flags).unwrap();
        assert_eq!(flagged.names.stack(), "from_flag");
        assert_eq!(
            flagged.rotation,
            Rotation {
                day_count: 9,
                keys_to_retain: 4
            }
        );
        assert_eq!(flagged.clouds.aws.region.as_deref(), Some("us-west-2"));
    }

    #[test]
    fn a_bad_file_is_a_usage_error_before_anything_else() {
        // Credentials are missing too; the file is what the user hears of first.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[topics.t.tableflow]\n\n[rotation]\nday_count = 0\n").unwrap();
        let config = format!("--config={}", path.display());
        let Command::Plan(PlanArgs { run, .. }) =
            Cli::try_parse_from(["kickstart", "plan", &config])
                .unwrap()
                .command
        else {
            unreachable!("parsed as plan")
        };
        let error =
            Settings::resolve(run, Needs { warehouse: true }, OutputMode::Human).unwrap_err();
        assert!(matches!(error, UsageError::Config(_)), "{error}");
        let line = error.line();
        assert!(
            line.starts_with(&format!("{}:4:13: 0 is out of range; ", path.display())),
            "{line}"
        );
    }
}
