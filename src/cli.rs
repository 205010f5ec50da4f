//! The command line, as clap types only. Values are checked as they are parsed (each parser's
//! message says what to do); what depends on several flags is checked in `settings`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

use crate::state::StateArg;

#[derive(Debug, Parser)]
#[command(
    name = "kickstart",
    version,
    about = "Deploys and tears down a streaming-to-lakehouse stack: Confluent Cloud (Kafka, Flink, \
             Tableflow), AWS (S3, IAM, Glue, Secrets Manager) and Snowflake (Iceberg tables).",
    after_help = "Exit status: 0 done, 1 a failure while running (state recorded; run again to \
                  finish), 2 bad usage or input (nothing touched); `plan --detailed-exitcode` \
                  also exits 2 when there are changes to make."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: Global,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Human progress on stderr, or newline-delimited JSON events and a summary on stdout.
    #[arg(long, value_enum, default_value_t = OutputMode::Human, global = true)]
    pub output: OutputMode,
    /// More log detail on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Detailed logs, as deploy.sh's --debug: the same as -vv.
    #[arg(long, global = true)]
    pub debug: bool,
}

impl Global {
    /// The log detail asked for, by -v count or --debug, whichever asks more.
    pub fn verbosity(&self) -> u8 {
        if self.debug {
            self.verbose.max(2)
        } else {
            self.verbose
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputMode {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Bring the stack up, or finish or repair it; rotates keys that are due.
    Create(CreateArgs),
    /// Take the stack down, including what it caused (Glue database, bucket objects).
    Delete(RunArgs),
    /// Show what `create` would do now, changing nothing.
    Plan(PlanArgs),
    /// Show what the state records; with --refresh, whether each resource still exists.
    Status(StatusArgs),
    /// Print the resource graph as Graphviz DOT (`kickstart graph | dot -Tpng > graph.png`).
    Graph(GraphArgs),
    /// Only the key rotations that are due, for a scheduled job.
    Rotate(RunArgs),
    /// Check, changing nothing, that the credentials may build the stack; say what is missing
    /// in each cloud and how to grant it (exit 1 when something is).
    Doctor(RunArgs),
    /// What the stack gives you, from the state: where to connect, what to query, which secrets
    /// hold the credentials (never their values).
    Output(OutputArgs),
    /// Take over a stack that deploy.sh built, from its Terraform state; changes no cloud.
    Import(ImportArgs),
    /// Write the default stack file to start from (refuses to overwrite).
    Init(InitArgs),
    /// Change the state by hand, without touching any cloud.
    State(StateArgs),
    /// Check a stack file without touching any cloud, for editors and CI.
    Validate(ValidateArgs),
    /// Every stack recorded under a shared state location (a folder or s3://bucket/prefix/).
    List(ListArgs),
    /// Delete every stack under a shared state location whose expiry (`create --ttl`) has passed.
    Gc(GcArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Create(_) => "create",
            Command::Delete(_) => "delete",
            Command::Plan(_) => "plan",
            Command::Status(_) => "status",
            Command::Graph(_) => "graph",
            Command::Rotate(_) => "rotate",
            Command::Doctor(_) => "doctor",
            Command::Output(_) => "output",
            Command::Import(_) => "import",
            Command::Init(_) => "init",
            Command::Validate(_) => "validate",
            Command::State(_) => "state",
            Command::List(_) => "list",
            Command::Gc(_) => "gc",
            Command::Completions { .. } => "completions",
            Command::Man => "man",
        }
    }
}

#[derive(Debug, Args)]
pub struct StackArgs {
    /// The stack file; without it, ./kickstart.toml if there is one, else the built-in stack.
    #[arg(long = "config", env = "KICKSTART_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Name that every resource name derives from; lets two stacks share one account. Overrides
    /// the file's `stack.name`; without either, tableflow_kickstarter.
    #[arg(long, env = "KICKSTART_STACK_NAME", value_parser = parse::stack_name)]
    pub stack_name: Option<String>,
    /// Where the state lives: a local file, s3://bucket/key (shared by CI jobs), or a place many
    /// stacks share, a folder (ending in /) or s3://bucket/prefix/, holding <stack name>.json.
    #[arg(long, env = "KICKSTART_STATE", default_value = "kickstart.state.json", value_parser = parse::state)]
    pub state: StateArg,
}

#[derive(Debug, Args)]
pub struct CloudArgs {
    /// AWS profile (an SSO profile, say); otherwise the standard AWS environment.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// AWS region; otherwise the stack file's `stack.region`, otherwise the profile's.
    #[arg(long, env = "AWS_REGION", value_parser = parse::region)]
    pub region: Option<String>,
    /// Organization-level Confluent Cloud API key.
    #[arg(long, env = "CONFLUENT_CLOUD_API_KEY", value_parser = parse::not_blank)]
    pub confluent_api_key: Option<String>,
    /// Its secret.
    #[arg(long, env = "CONFLUENT_CLOUD_API_SECRET", hide_env_values = true, value_parser = parse::secret)]
    pub confluent_api_secret: Option<SecretString>,
    /// Confluent Cloud API base URL.
    #[arg(long, env = "CONFLUENT_CLOUD_ENDPOINT", default_value = "https://api.confluent.cloud", value_parser = parse::endpoint)]
    pub confluent_endpoint: url::Url,
    /// Snowflake base URL; default https://<account>.snowflakecomputing.com.
    #[arg(long, env = "SNOWFLAKE_ENDPOINT", value_parser = parse::endpoint)]
    pub snowflake_endpoint: Option<url::Url>,
    /// Snowflake account identifier (<org>-<account>) of the admin connection.
    #[arg(long, env = "SNOWFLAKE_ACCOUNT", value_parser = parse::not_blank)]
    pub snowflake_account: Option<String>,
    /// Snowflake admin user.
    #[arg(long, env = "SNOWFLAKE_USER", value_parser = parse::not_blank)]
    pub snowflake_user: Option<String>,
    /// File holding the admin user's unencrypted PKCS#8 PEM private key.
    #[arg(long, env = "SNOWFLAKE_PRIVATE_KEY_FILE")]
    pub snowflake_private_key_file: Option<PathBuf>,
    /// Secrets Manager secret holding the admin connection, used when the three flags above are
    /// not given; deploy.sh's --admin-service-user-secrets-root-path names the same secret.
    #[arg(
        long,
        env = "SNOWFLAKE_ADMIN_SECRET",
        default_value = "/snowflake_admin_credentials",
        visible_alias = "admin-service-user-secrets-root-path",
        alias = "admin-user-secrets-root-path",
        value_parser = parse::secret_name
    )]
    pub snowflake_admin_secret: String,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(flatten)]
    pub cloud: CloudArgs,
    /// Warehouse the admin Snowflake session runs its SQL in.
    #[arg(long, env = "SNOWFLAKE_WAREHOUSE", value_parser = parse::not_blank)]
    pub snowflake_warehouse: Option<String>,
    /// How old (in days) the newest key may get before a new one is made. Overrides the file's
    /// `rotation.day_count`; without either, 30.
    #[arg(long, env = "KICKSTART_DAY_COUNT", value_parser = parse::day_count)]
    pub day_count: Option<u32>,
    /// How many API keys each owner keeps. Overrides the file's `rotation.keys_to_retain`;
    /// without either, 2.
    #[arg(long, env = "KICKSTART_KEYS_TO_RETAIN", value_parser = parse::keys_to_retain)]
    pub number_of_api_keys_to_retain: Option<u32>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// When `kickstart gc` may remove the stack: a duration from now (30m, 4h, 2d), an RFC 3339
    /// time or a date. Without it, a stack keeps the expiry an earlier create recorded, if any.
    #[arg(long, value_parser = parse::ttl, value_name = "DURATION|TIME|DATE")]
    pub ttl: Option<jiff::Timestamp>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The folder (ending in /) or s3://bucket/prefix/ the stacks' states share.
    #[arg(long, env = "KICKSTART_STATE", value_parser = parse::shared_state)]
    pub state: StateArg,
    #[command(flatten)]
    pub aws: StateAwsArgs,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// The flags `delete` takes, so that a pipeline passes both the same ones; --state names the
    /// shared place (a folder ending in /, or s3://bucket/prefix/), and --stack-name is not used:
    /// every expired stack under the place is removed.
    #[command(flatten)]
    pub run: RunArgs,
    /// Only list the stacks that would be removed; takes no lock and touches nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also remove expired stacks found by the marks on their resources that have no state.
    #[arg(long)]
    pub orphans: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status with --detailed-exitcode, as Terraform's: 0 nothing to do, \
                        1 an error, 2 changes to make. Without it, 2 means bad usage or input, as \
                        for every command: with it, 2 means either. Bad usage also writes an \
                        `error:` line on stderr (in JSON, an `error` event); changes to make do \
                        not."
)]
pub struct PlanArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Exit 2 when there are changes to make, 0 when there are none (1 on an error), for CI
    /// checks of drift.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// One output's name (e.g. bootstrap_servers): print only its value, for scripts.
    pub name: Option<String>,
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(flatten)]
    pub aws: StateAwsArgs,
}

/// Where the AWS SDK looks for a state kept in S3, for commands that reach no other cloud.
#[derive(Debug, Args)]
pub struct StateAwsArgs {
    /// AWS profile, for a kickstart state kept in S3.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// AWS region, for a kickstart state kept in S3.
    #[arg(long, env = "AWS_REGION", value_parser = parse::region)]
    pub region: Option<String>,
}

#[derive(Debug, Args)]
pub struct EngineArgs {
    /// How many resources may be worked on at once.
    #[arg(long, env = "KICKSTART_CONCURRENCY", default_value_t = 8, value_parser = parse::concurrency)]
    pub concurrency: usize,
    /// How long to wait for another run's lock on the state (e.g. 30s, 5m); default: fail at once.
    #[arg(long, default_value = "0s", value_parser = parse::duration)]
    pub lock_timeout: Duration,
    /// Replaces every resource's own readiness deadline (e.g. 2h for slow connectors).
    #[arg(long, value_parser = parse::duration)]
    pub wait_timeout: Option<Duration>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub from: ImportFrom,
}

#[derive(Debug, Subcommand)]
pub enum ImportFrom {
    /// Record every resource of deploy.sh's Terraform state (`terraform state pull > FILE`,
    /// format version 4) by its real id; nothing in any cloud is read or changed.
    Terraform {
        /// The state file `terraform state pull` wrote.
        state_file: PathBuf,
        #[command(flatten)]
        stack: StackArgs,
        #[command(flatten)]
        aws: StateAwsArgs,
    },
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Also ask each cloud whether every recorded resource still exists.
    #[arg(long)]
    pub refresh: bool,
    #[command(flatten)]
    pub cloud: CloudArgs,
}

#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(subcommand)]
    pub action: StateAction,
}

#[derive(Debug, Subcommand)]
pub enum StateAction {
    /// Drop a resource from the state without deleting it: kickstart stops managing it, and
    /// says what it leaves in the cloud.
    Forget {
        /// The node's id, as `kickstart status` lists it (e.g. confluent.topic.old_trades).
        id: String,
        #[command(flatten)]
        stack: StackArgs,
        #[command(flatten)]
        aws: StateAwsArgs,
    },
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The stack file; without it, ./kickstart.toml if there is one, else the built-in stack.
    #[arg(long = "config", env = "KICKSTART_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Name that every resource name derives from. Overrides the file's `stack.name`; without
    /// either, tableflow_kickstarter.
    #[arg(long, env = "KICKSTART_STACK_NAME", value_parser = parse::stack_name)]
    pub stack_name: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write it.
    #[arg(default_value = "kickstart.toml")]
    pub path: PathBuf,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The stack file; without it, ./kickstart.toml if there is one, else the built-in stack.
    #[arg(env = "KICKSTART_CONFIG")]
    pub path: Option<PathBuf>,
}

/// Value parsers: each error says what a good value looks like.
pub mod parse {
    use super::*;

    pub fn stack_name(s: &str) -> Result<String, String> {
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        let starts = s.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if (3..=40).contains(&s.len()) && ok_chars && starts {
            Ok(s.to_string())
        } else {
            Err("use 3 to 40 lowercase letters, digits or '_', starting with a letter (e.g. team_a_stack)".into())
        }
    }

    pub fn state(s: &str) -> Result<StateArg, String> {
        StateArg::parse(s)
    }

    /// A place many stacks share, for `list` and `gc`.
    pub fn shared_state(s: &str) -> Result<StateArg, String> {
        match StateArg::parse(s)? {
            StateArg::One(_) => Err(format!(
                "{s} names one stack's state; give the folder (ending in /) or s3://bucket/prefix/ the stacks share"
            )),
            shared => Ok(shared),
        }
    }

    pub fn ttl(s: &str) -> Result<jiff::Timestamp, String> {
        crate::state::lifetime::expiry(s, jiff::Timestamp::now())
    }

    pub fn region(s: &str) -> Result<String, String> {
        let parts: Vec<&str> = s.split('-').collect();
        let shaped = parts.len() >= 3
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
            && parts
                .last()
                .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
        if shaped {
            Ok(s.to_string())
        } else {
            Err("give an AWS region code such as us-east-1 or eu-west-2".into())
        }
    }

    pub fn not_blank(s: &str) -> Result<String, String> {
        if s.trim().is_empty() {
            Err("must not be empty".into())
        } else {
            Ok(s.to_string())
        }
    }

    /// A Secrets Manager secret name: 1 to 512 of the characters AWS allows.
    pub fn secret_name(s: &str) -> Result<String, String> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c);
        if (1..=512).contains(&s.len()) && s.chars().all(allowed) {
            Ok(s.to_string())
        } else {
            Err("give a Secrets Manager secret name, e.g. /snowflake_admin_service_user (letters, digits and /_+=.@-)".into())
        }
    }

    pub fn secret(s: &str) -> Result<SecretString, String> {
        not_blank(s).map(SecretString::from)
    }

    pub fn endpoint(s: &str) -> Result<url::Url, String> {
        match url::Url::parse(s) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u),
            _ => Err(
                "give a base URL such as https://api.confluent.cloud or http://127.0.0.1:8080"
                    .into(),
            ),
        }
    }

    fn whole_number(s: &str, what: &str, min: u64, max: u64) -> Result<u64, String> {
        match s.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(format!("{what} must be a whole number from {min} to {max}")),
        }
    }

    pub fn day_count(s: &str) -> Result<u32, String> {
        whole_number(s, "the day count", 1, 3650).map(|n| n as u32)
    }

    pub fn keys_to_retain(s: &str) -> Result<u32, String> {
        // One key must stay active while the next is made, so fewer than two cannot rotate.
        whole_number(s, "the number of keys to retain", 2, 10).map(|n| n as u32)
    }

    pub fn concurrency(s: &str) -> Result<usize, String> {
        whole_number(s, "concurrency", 1, 64).map(|n| n as usize)
    }

    pub fn duration(s: &str) -> Result<Duration, String> {
        let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
        let scale = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            _ => 0,
        };
        match digits.parse::<u64>() {
            Ok(n) if scale > 0 && n.saturating_mul(scale) <= 7 * 24 * 3600 => {
                Ok(Duration::from_secs(n * scale))
            }
            _ => Err("give a duration such as 30s, 10m or 2h".into()),
        }
    }
}
