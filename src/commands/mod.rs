//! One function per command; each returns a result, and `lib::main` turns it into an exit status.

mod deploy;
mod graph;
mod status;

use clap::CommandFactory as _;

use crate::cli::{Cli, Command};
use crate::error::Error;
use crate::printer::Printer;

pub use deploy::Verb;

use secrecy::SecretString;

use crate::settings::SnowflakeAdmin;
use crate::snowflake::{Admin, Snowflake, SnowflakeProvider};

use std::sync::Arc;

use crate::clock::SystemClock;
use crate::confluent::{self, Confluent, ConfluentProvider};
use crate::engine::RetryPolicy;
use crate::settings::{Clouds, Rotation};
use crate::stack::Names;
use crate::vault::Vault;

/// The Confluent nodes of a run, sharing one client and one vault.
fn confluent_provider(clouds: &Clouds, names: &Names, rotation: Rotation) -> ConfluentProvider {
    let c = &clouds.confluent;
    let region = clouds.aws.region.clone();
    ConfluentProvider(Confluent::new(confluent::Settings {
        endpoint: c.endpoint.clone(),
        api_key: c.api_key.clone(),
        api_secret: c.api_secret.clone(),
        names: names.clone(),
        region: region.unwrap_or_else(|| "us-east-1".into()),
        // Known once the AWS module's preflight has asked STS.
        aws_account: None,
        rotation,
        clock: Arc::new(SystemClock),
        vault: Arc::new(Vault::default()),
        retry: RetryPolicy::default(),
    }))
}

pub async fn run(cli: Cli, printer: &Printer) -> Result<(), Error> {
    match cli.command {
        Command::Create(args) => deploy::run(Verb::Create, args, printer).await,
        Command::Delete(args) => deploy::run(Verb::Delete, args, printer).await,
        Command::Plan(args) => deploy::run(Verb::Plan, args, printer).await,
        Command::Rotate(args) => deploy::run(Verb::Rotate, args, printer).await,
        Command::Status(args) => status::run(args, printer).await,
        Command::Graph(args) => graph::run(args, printer),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "kickstart", &mut out);
            printer.data(&String::from_utf8_lossy(&out))?;
            Ok(())
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            printer.data(&String::from_utf8_lossy(&out))?;
            Ok(())
        }
    }
}

/// The Snowflake nodes of a run, sharing the admin sessions.
fn snowflake_provider(clouds: &Clouds, names: &Names, rotation: Rotation) -> SnowflakeProvider {
    let s = &clouds.snowflake;
    let admin = match &s.admin {
        SnowflakeAdmin::Direct {
            account,
            user,
            key_file,
        } => std::fs::read_to_string(key_file).ok().map(|pem| Admin {
            account: account.clone(),
            user: user.clone(),
            private_key_pem: SecretString::from(pem),
        }),
        // Reading the admin secret from Secrets Manager is the AWS module's.
        SnowflakeAdmin::Secret(_) => None,
    };
    SnowflakeProvider(Snowflake::new(crate::snowflake::Settings {
        names: names.clone(),
        admin,
        endpoint: s.endpoint.clone(),
        warehouse: s.warehouse.clone(),
        aws_account: None,
        region: clouds
            .aws
            .region
            .clone()
            .unwrap_or_else(|| "us-east-1".into()),
        rotation,
        clock: Arc::new(SystemClock),
        vault: Arc::new(Vault::default()),
        retry: RetryPolicy::default(),
    }))
}
