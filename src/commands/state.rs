//! `kickstart state forget ID`: drops one resource from the state, under the lock, without
//! touching any cloud, and says what stays behind.

use crate::cli::{StateAction, StateArgs};
use crate::error::{Error, UsageError};
use crate::printer::Printer;
use crate::settings;
use crate::stack::{self, Stack};

use super::backend::Backend;

pub async fn run(args: StateArgs, printer: &Printer) -> Result<(), Error> {
    let StateAction::Forget { id, stack, aws } = args.action;
    let settings::StackSettings {
        names,
        state: location,
        stackfile,
        ..
    } = settings::stack(stack)?;
    let backend = Backend::open(&location, &settings::state_aws(aws, &stackfile)).await?;
    let held = backend
        .lock("state forget", std::time::Duration::ZERO)
        .await?;
    let result = async {
        let mut doc = backend
            .load(names.stack())
            .await?
            .ok_or_else(|| not_recorded(&location, &id))?;
        stack::legacy_rename(&mut doc);
        let entry = doc
            .nodes
            .remove(&id)
            .ok_or_else(|| not_recorded(&location, &id))?;
        backend.sink().save(&doc).await?;
        let declared = stack::declare(&Stack::offline(&names, &stackfile));
        let what = match (entry.spec.as_ref().and_then(stack::recorded_label), declared.iter().find(|d| d.id == id)) {
            (Some((label, cloud)), _) => format!("{label}, in {}", cloud.name()),
            (None, Some(decl)) => format!("{}, in {}", decl.spec_label(), decl.cloud().name()),
            (None, None) => "recorded without its settings".to_string(),
        };
        let mut text = format!(
            "forgot {id} ({what}; its id there: {}). Nothing was deleted: it stays in the cloud until you remove it yourself\n",
            entry.record.id
        );
        if declared.iter().any(|d| d.id == id) {
            text.push_str(
                "the stack file still declares it: the next `kickstart create` looks it up by name and adopts it, or makes it anew\n",
            );
        }
        printer.data(&text)?;
        Ok(())
    }
    .await;
    held.release().await;
    result
}

fn not_recorded(location: &crate::state::Location, id: &str) -> Error {
    UsageError::NotRecorded {
        path: location.to_string(),
        id: id.to_string(),
    }
    .into()
}
