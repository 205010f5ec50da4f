//! `kickstart init [PATH]`: the default stack as a file to start from; never over another file.

use std::io::Write as _;

use serde_json::json;

use crate::cli::{InitArgs, OutputMode};
use crate::config;
use crate::error::{Error, UsageError};
use crate::printer::Printer;

pub fn run(args: InitArgs, printer: &Printer) -> Result<(), Error> {
    let path = args.path;
    let shown = path.display().to_string();
    // create_new: the check for an existing file and the creation are one step.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => UsageError::InitExists {
                path: shown.clone(),
            },
            kind => UsageError::InitUnwritable {
                path: shown.clone(),
                reason: kind.to_string(),
            },
        })?;
    file.write_all(config::DEFAULT.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| UsageError::InitUnwritable {
            path: shown.clone(),
            reason: e.kind().to_string(),
        })?;
    // The next commands find ./kickstart.toml on their own; any other path must be named.
    let (validate, plan) = if shown == config::FILE_NAME {
        (
            "kickstart validate".to_string(),
            "kickstart plan".to_string(),
        )
    } else {
        (
            format!("kickstart validate {shown}"),
            format!("kickstart plan --config {shown}"),
        )
    };
    match printer.mode() {
        OutputMode::Json => printer.json(&json!({
            "event": "init",
            "path": shown,
            "next": [validate, plan],
        })),
        OutputMode::Human => printer.data(&format!(
            "wrote {shown} (the default stack): edit it, check it with `{validate}`, then see what it would build with `{plan}`"
        ))?,
    }
    Ok(())
}
