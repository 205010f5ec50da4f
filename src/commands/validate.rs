//! `kickstart validate [PATH]`: only the checks every command makes of its stack file first.

use serde_json::json;

use crate::cli::{OutputMode, ValidateArgs};
use crate::config;
use crate::error::{Error, UsageError};
use crate::printer::Printer;

pub fn run(args: ValidateArgs, printer: &Printer) -> Result<(), Error> {
    let file = config::load(config::choose(args.path).as_deref()).map_err(UsageError::from)?;
    let c = &file.config;
    let counts = [
        ("topic", c.topics.len()),
        ("connector", c.connectors.len()),
        ("statement", c.statements.len()),
    ];
    match printer.mode() {
        OutputMode::Json => printer.json(&json!({
            "event": "validate",
            "path": file.shown(),
            "valid": true,
            "topics": c.topics.len(),
            "connectors": c.connectors.len(),
            "statements": c.statements.len(),
        })),
        OutputMode::Human => {
            let counted: Vec<String> = counts
                .iter()
                .map(|(what, n)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
                .collect();
            printer.data(&format!("{}: valid ({})", file.shown(), counted.join(", ")))?;
        }
    }
    Ok(())
}
