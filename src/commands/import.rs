//! `kickstart import terraform STATE_FILE`: records what deploy.sh's Terraform state holds, under
//! the lock, in one write; a refused file records nothing.

use crate::cli::{ImportArgs, ImportFrom};
use crate::error::{Error, UsageError};
use crate::import;
use crate::printer::Printer;
use crate::settings;
use crate::state::{StateDoc, Status};

use super::backend::Backend;

pub async fn run(args: ImportArgs, printer: &Printer) -> Result<(), Error> {
    let ImportFrom::Terraform {
        state_file,
        stack,
        aws,
    } = args.from;
    let settings::StackSettings {
        names,
        state: location,
        stackfile,
        ..
    } = settings::stack(stack)?;
    let path = state_file.display().to_string();
    let text = std::fs::read_to_string(&state_file).map_err(|e| {
        UsageError::from(import::terraform::TerraformError::Read {
            path: path.clone(),
            reason: e.to_string(),
        })
    })?;
    // Everything is checked before the kickstart state is even opened.
    let takeover = import::take_over(&path, &text, &names).map_err(UsageError::from)?;
    let backend = Backend::open(&location, &settings::state_aws(aws, &stackfile)).await?;
    let held = backend.lock("import", std::time::Duration::ZERO).await?;
    let result = record(&backend, &names, &location, takeover, printer).await;
    held.release().await;
    result
}

async fn record(
    backend: &Backend,
    names: &crate::stack::Names,
    location: &crate::state::Location,
    takeover: import::Takeover,
    printer: &Printer,
) -> Result<(), Error> {
    let stack = names.stack();
    let mut doc = backend
        .load(stack)
        .await?
        .unwrap_or_else(|| StateDoc::new(stack));
    if !doc.nodes.is_empty() {
        return Err(UsageError::StateNotEmpty {
            path: location.to_string(),
            count: doc.nodes.len(),
        }
        .into());
    }
    let count = takeover.records.len();
    for (node, record) in takeover.records {
        // Not yet seen ready: the next `create` looks each one up before it relies on it.
        doc.put(&node, record, Status::Creating)?;
    }
    backend.sink().save(&doc).await?;
    let mut text =
        format!("imported {count} resources into {location}; nothing in any cloud was changed\n");
    for (address, how) in &takeover.not_managed {
        text.push_str(&format!("not managed: {address}: remove it with {how}\n"));
    }
    for address in &takeover.unknown {
        text.push_str(&format!(
            "not recognised: {address}: left as it is, kickstart does not manage it\n"
        ));
    }
    text.push_str(
        "next: `kickstart plan` shows what is left to do; `kickstart create` checks every imported resource and takes the stack over\n",
    );
    printer.data(&text)?;
    Ok(())
}
