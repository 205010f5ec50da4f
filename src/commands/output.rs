//! `kickstart output [NAME]`: what the stack gives the user, read from the state alone (no cloud
//! is asked): every output as a table or one JSON object, or one output's bare value for scripts.

use crate::cli::{OutputArgs, OutputMode};
use crate::error::{Error, UsageError};
use crate::printer::Printer;
use crate::settings;
use crate::stack;

use super::backend::Backend;
use super::declared::Declared;
use super::outputs;

pub async fn run(args: OutputArgs, printer: &Printer) -> Result<(), Error> {
    let settings::StackSettings {
        names,
        state: location,
        stackfile,
        ..
    } = settings::stack(args.stack)?;
    let aws = settings::state_aws(args.aws, &stackfile);
    let backend = Backend::open(&location, &aws).await?;
    let no_state = || UsageError::NoState {
        path: location.to_string(),
        stack: names.stack().to_string(),
    };
    let mut doc = backend.load(names.stack()).await?.ok_or_else(no_state)?;
    if doc.nodes.is_empty() {
        return Err(no_state().into());
    }
    stack::legacy_rename(&mut doc);
    let declared = Declared::new(
        &names,
        &stackfile,
        None,
        Some(&doc),
        stack::Marker::new(names.stack()),
    );
    let all = outputs::outputs(&declared.decls, Some(&doc));

    let Some(name) = args.name else {
        match printer.mode() {
            OutputMode::Json => printer.json(&outputs::json(&all)),
            OutputMode::Human => printer.data(&outputs::table(&all))?,
        }
        return Ok(());
    };
    let Some(chosen) = all.iter().find(|o| o.name == name) else {
        let names: Vec<&str> = all.iter().map(|o| o.name.as_str()).collect();
        return Err(UsageError::UnknownOutput {
            name,
            names: names.join(", "),
        }
        .into());
    };
    let Some(value) = &chosen.value else {
        return Err(UsageError::OutputNotYet { name }.into());
    };
    // The bare value, so that `$(kickstart output bootstrap_servers)` is the value itself; in
    // JSON, the value as a JSON string.
    match printer.mode() {
        OutputMode::Json => printer.json(value),
        OutputMode::Human => printer.data(value)?,
    }
    Ok(())
}
