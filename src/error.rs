//! The errors a command ends with, and the exit status each one means.

use crate::state::StateError;

/// Bad usage or input: found before anything in any cloud is touched. Exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// clap's own message, already reduced to one line.
    #[error("{0}")]
    Parse(String),
    #[error("missing the Confluent Cloud API key")]
    MissingConfluentKey,
    #[error("missing the Confluent Cloud API secret")]
    MissingConfluentSecret,
    #[error("missing the Snowflake warehouse for the admin session")]
    MissingWarehouse,
    #[error("incomplete Snowflake admin connection: {given} given without {missing}")]
    PartialSnowflakeAdmin {
        given: &'static str,
        missing: &'static str,
    },
    #[error("cannot read the Snowflake private key file {path}")]
    UnreadableKeyFile { path: String },
    #[error("{0}")]
    Graph(#[from] crate::engine::GraphError),
    #[error("{0}")]
    Terraform(#[from] crate::import::terraform::TerraformError),
    #[error("the state {path} already records {count} resources of this stack")]
    StateNotEmpty { path: String, count: usize },
    /// The stack file: its message already holds the place and what to write.
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{path} already exists")]
    InitExists { path: String },
    #[error("cannot write {path} ({reason})")]
    InitUnwritable { path: String, reason: String },
    #[error("the state {path} records no resource {id}")]
    NotRecorded { path: String, id: String },
    #[error("no state at {path} records anything of stack {stack}")]
    NoState { path: String, stack: String },
    #[error("the stack has no output {name}; its outputs are {names}")]
    UnknownOutput { name: String, names: String },
    #[error("output {name} is not known yet: what gives it has not been created")]
    OutputNotYet { name: String },
    #[error("gc works on a place many stacks share, and {given} is one stack's state")]
    NotShared { given: String },
}

impl UsageError {
    /// What to do about it.
    pub fn help(&self) -> &'static str {
        match self {
            UsageError::Parse(_) => "",
            UsageError::MissingConfluentKey => {
                "pass --confluent-api-key or set CONFLUENT_CLOUD_API_KEY (an organization-level Cloud API key)"
            }
            UsageError::MissingConfluentSecret => {
                "pass --confluent-api-secret or set CONFLUENT_CLOUD_API_SECRET"
            }
            UsageError::MissingWarehouse => {
                "pass --snowflake-warehouse NAME or set SNOWFLAKE_WAREHOUSE"
            }
            UsageError::PartialSnowflakeAdmin { .. } => {
                "give --snowflake-account, --snowflake-user and --snowflake-private-key-file together, or none of them to read the admin secret from Secrets Manager"
            }
            UsageError::UnreadableKeyFile { .. } => {
                "check the path given to --snowflake-private-key-file (or SNOWFLAKE_PRIVATE_KEY_FILE)"
            }
            UsageError::Graph(_) => {
                "this is a bug in kickstart's stack declaration; please report it"
            }
            // Its message already says what to do.
            UsageError::Terraform(_) => "",
            UsageError::StateNotEmpty { .. } => {
                "import only into a new state: pass another --state, or run `kickstart create` to adopt by name"
            }
            UsageError::Config(_) => "",
            UsageError::InitExists { .. } => {
                "remove it to start over, or pass another path: kickstart init PATH"
            }
            UsageError::NotRecorded { .. } => "`kickstart status` lists the ids the state records",
            UsageError::NoState { .. } => {
                "run `kickstart create` first, or pass the --state (and --stack-name) it used"
            }
            UsageError::UnknownOutput { .. } => {
                "pass one of them, or none to see them all with their values"
            }
            UsageError::OutputNotYet { .. } => "run `kickstart create` to finish the stack",
            UsageError::NotShared { .. } => {
                "pass --state FOLDER/ or --state s3://bucket/prefix/, the place the stacks were created under"
            }
            UsageError::InitUnwritable { .. } => {
                "pass a path in a directory that exists and that you may write to"
            }
        }
    }

    /// The one line a person reads.
    pub fn line(&self) -> String {
        match self.help() {
            "" => self.to_string(),
            help => format!("{self}: {help}"),
        }
    }
}

/// How a command ended badly.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", .0.line())]
    Usage(#[from] UsageError),
    #[error(transparent)]
    State(#[from] StateError),
    /// The clouds could not be reached, or would not take the credentials: nothing was touched.
    #[error("{0}")]
    Preflight(String),
    /// A node failed; the state records how far the run got.
    #[error(
        "{command} failed at {node}: {cause}{more}; the state records what was done, so running `kickstart {command}` again continues from there"
    )]
    Failed {
        command: &'static str,
        node: String,
        cause: String,
        more: String,
    },
    #[error(
        "{command} was interrupted; the state records what was done, so running `kickstart {command}` again continues from there"
    )]
    Interrupted { command: &'static str },
    /// `doctor` found permissions the stack needs that the credentials lack (each line says how
    /// to grant one).
    #[error(
        "{count} permission(s) the stack needs are missing: grant them as each `missing` line says, then run `kickstart doctor` again"
    )]
    Missing { count: usize },
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// Some stacks gc meant to remove are still there; the others were removed.
    #[error(
        "gc could not remove {count} stack(s): {names}; each one's error is above, and `kickstart gc` again retries them"
    )]
    GcFailed { count: usize, names: String },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Preflight(_) => 2,
            Error::Interrupted { .. } => 130,
            _ => 1,
        }
    }
}
