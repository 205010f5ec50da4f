//! One function per command; each returns a result, and `lib::main` turns it into an exit status.

mod backend;
mod connect;
mod declared;
mod deploy;
mod doctor;
mod fleet;
mod gc;
mod graph;
mod import;
mod init;
mod list;
pub mod orphans;
mod output;
pub mod outputs;
mod state;
mod status;
mod validate;

use clap::CommandFactory as _;

use crate::cli::{Cli, Command};
use crate::error::Error;
use crate::printer::Printer;

pub use deploy::Verb;

/// How a command that did not fail ended: done, or (`plan --detailed-exitcode`) done with
/// changes to make, which CI reads from the exit status as Terraform's users do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    Done,
    ChangesToMake,
}

impl Done {
    pub fn exit_code(self) -> u8 {
        match self {
            Done::Done => 0,
            Done::ChangesToMake => 2,
        }
    }
}

pub async fn run(cli: Cli, printer: &Printer) -> Result<Done, Error> {
    let done = match cli.command {
        Command::Create(args) => deploy::run_with(Verb::Create, args.run, args.ttl, printer)
            .await
            .map(drop),
        Command::Delete(args) => deploy::run(Verb::Delete, args, printer).await.map(drop),
        Command::Plan(args) => {
            let changes = deploy::run(Verb::Plan, args.run, printer).await?;
            return Ok(match changes {
                true if args.detailed_exitcode => Done::ChangesToMake,
                _ => Done::Done,
            });
        }
        Command::Rotate(args) => deploy::run(Verb::Rotate, args, printer).await.map(drop),
        Command::Doctor(args) => doctor::run(args, printer).await,
        Command::Output(args) => output::run(args, printer).await,
        Command::Status(args) => status::run(args, printer).await,
        Command::Import(args) => import::run(args, printer).await,
        Command::Graph(args) => graph::run(args, printer),
        Command::Init(args) => init::run(args, printer),
        Command::Validate(args) => validate::run(args, printer),
        Command::State(args) => state::run(args, printer).await,
        Command::List(args) => list::run(args, printer).await,
        Command::Gc(args) => gc::run(args, printer).await,
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
    };
    done.map(|()| Done::Done)
}
