//! `kickstart`: deploys and tears down the stack of STACK.md. The binary is `main` below; the
//! library is what the tests and the benchmark drive.

pub mod aws;
pub mod checks;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod confluent;
pub mod engine;
pub mod error;
pub mod http;
pub mod import;
pub mod printer;
pub mod settings;
pub mod snowflake;
pub mod stack;
pub mod state;
pub mod vault;

use std::process::ExitCode;

use clap::Parser as _;
use clap::error::ErrorKind;

use crate::cli::{Cli, OutputMode};
use crate::error::{Error, UsageError};
use crate::printer::Printer;

/// Parses the command line, runs the command, and turns its result into an exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    init_tracing(cli.global.verbosity());
    let printer = Printer::new(cli.global.output);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts");
    match runtime.block_on(commands::run(cli, &printer)) {
        Ok(done) => ExitCode::from(done.exit_code()),
        Err(error) => {
            printer.error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}

/// Help and version print as clap has them; every other parse error becomes one line, exit 2.
fn clap_error(e: clap::Error) -> ExitCode {
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let line = match e.kind() {
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
            "no command given: run `kickstart create ...`, or `kickstart --help` for every command"
                .to_string()
        }
        _ => one_line(&e.render().to_string()),
    };
    let error = Error::Usage(UsageError::Parse(line));
    Printer::new(OutputMode::Human).error(&error);
    ExitCode::from(error.exit_code())
}

/// clap's first paragraph, on one line, with a pointer to the help of the command at hand.
fn one_line(rendered: &str) -> String {
    let first = rendered.split("\n\n").next().unwrap_or(rendered);
    let mut line = first.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(rest) = line.strip_prefix("error: ") {
        line = rest.to_string();
    }
    let command = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .filter(|a| {
            [
                "create",
                "delete",
                "plan",
                "status",
                "graph",
                "rotate",
                "output",
                "completions",
                "init",
                "state",
                "validate",
            ]
            .contains(&a.as_str())
        });
    let help = match command {
        Some(c) => format!("kickstart {c} --help"),
        None => "kickstart --help".to_string(),
    };
    format!("{line} (see `{help}`)")
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "kickstart=info,warn",
        2 => "kickstart=debug,info",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| printer::LogWriter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
