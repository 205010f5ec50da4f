//! `kickstart gc`: removes every stack under a shared state place whose expiry has passed, each
//! by the same delete as `kickstart delete`. Safe from many runners at once: a stack is removed
//! only under its own lock, after its state is read again under it.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::StreamExt as _;
use jiff::Timestamp;
use serde_json::json;

use crate::cli::{GcArgs, OutputMode};
use crate::error::{Error, UsageError};
use crate::printer::Printer;
use crate::settings::{Needs, Settings};
use crate::stack::Names;
use crate::state::lifetime::shown;
use crate::state::{StateArg, StateError};

use super::deploy;
use super::fleet::Fleet;

/// Stacks removed at once: enough to overlap their waits, few enough that a fleet's gc does not
/// meet the clouds' rate limits all at once.
const AT_ONCE: usize = 4;

/// Why a stack is to be removed, checked again under its lock.
#[derive(Clone, Copy, Debug)]
pub enum Why {
    /// Its state says it expired by then.
    Expired(Timestamp),
    /// Found by the marks on its resources, with no state.
    Orphan,
}

/// How the removal of one stack ended, short of an error.
#[derive(Debug, PartialEq, Eq)]
pub enum Removal {
    Removed,
    /// Left alone, and why (another run holds it, it is gone, it was given a new expiry).
    Skipped(String),
}

pub async fn run(args: GcArgs, printer: &Printer) -> Result<(), Error> {
    let now = Timestamp::now();
    let GcArgs {
        run,
        dry_run: dry,
        orphans,
    } = args;
    let state = match &run.stack.state {
        StateArg::One(location) => {
            return Err(UsageError::NotShared {
                given: location.to_string(),
            }
            .into());
        }
        shared => shared.clone(),
    };
    // As `delete` resolves them; each stack's name and state are filled in as it is removed.
    let template = Settings::resolve(run, Needs { warehouse: false }, printer.mode())?;
    let fleet = Fleet::open(&state, &template.clouds.aws).await?;
    let recorded = fleet.stacks().await?;
    let mut due: Vec<(String, Why)> = Vec::new();
    for stack in &recorded {
        if valid_name(stack).is_none() {
            printer.warn(&format!(
                "left out {stack}: not a stack name kickstart makes"
            ));
            continue;
        }
        match fleet.read(stack).await {
            Ok(Some(doc)) if doc.expired(now) => due.push((stack.clone(), Why::Expired(now))),
            Ok(_) => {}
            Err(e) => printer.warn(&format!("left out {stack}: {e}")),
        }
    }
    if orphans {
        let place = fleet.place().place().unwrap_or_else(|| fleet.shown());
        let orphans = orphan_names(&template, &place, &recorded, now).await?;
        due.extend(orphans.into_iter().map(|name| (name, Why::Orphan)));
    }
    if dry {
        return dry_run(&fleet, &due, printer).await;
    }
    if due.is_empty() {
        printer.progress(&format!("gc: no stack under {} has expired", fleet.shown()));
        return Ok(());
    }
    let results: Vec<(String, Result<Removal, Error>)> = futures_util::stream::iter(due)
        .map(|(stack, why)| {
            let (template, fleet) = (&template, &fleet);
            async move {
                let result = remove_stack(&stack, why, template, fleet, printer).await;
                (stack, result)
            }
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    let mut failed = Vec::new();
    for (stack, result) in results {
        match result {
            Ok(Removal::Removed) => tell(printer, &stack, "removed", ""),
            Ok(Removal::Skipped(why)) => tell(printer, &stack, "skipped", &why),
            Err(e) => {
                tell(printer, &stack, "failed", &e.to_string());
                failed.push(stack);
            }
        }
    }
    match failed.len() {
        0 => Ok(()),
        count => {
            failed.sort();
            Err(Error::GcFailed {
                count,
                names: failed.join(", "),
            })
        }
    }
}

/// The stacks found by the marks on their resources, recorded under `place`, expired by `now`,
/// with no state there (`known` lists those with one).
pub async fn orphan_names(
    settings: &Settings,
    place: &str,
    known: &[String],
    now: Timestamp,
) -> Result<Vec<String>, Error> {
    let connected = deploy::connect(settings).await?;
    let found = super::orphans::discover(&connected).await?;
    let known: BTreeSet<String> = known.iter().cloned().collect();
    Ok(super::orphans::orphans(&found, place, &known, now))
}

/// Removes one stack by name, as `kickstart delete --stack-name NAME` under this place would,
/// holding its lock throughout. Works with no state at all (an orphan): delete then finds its
/// resources by name.
pub async fn remove_stack(
    stack: &str,
    why: Why,
    template: &Settings,
    fleet: &Fleet,
    printer: &Printer,
) -> Result<Removal, Error> {
    let settings = Settings {
        names: Names::new(stack),
        state: fleet.place().resolve(stack),
        place: fleet.place().place(),
        ..template.clone()
    };
    let backend = fleet.backend(stack);
    // Another gc (or a create) holding it is at work on it: leave it to that run.
    let held = match backend.lock("gc", Duration::ZERO).await {
        Ok(held) => held,
        Err(StateError::Locked { holder, .. }) => {
            return Ok(Removal::Skipped(format!("locked by {holder}")));
        }
        Err(e) => return Err(e.into()),
    };
    let result = async {
        // Read again under the lock: what was listed may have been removed or renewed since.
        let doc = backend.load(stack).await?;
        match (why, doc) {
            (Why::Expired(_), None) => {
                return Ok(Removal::Skipped("already removed".into()));
            }
            (Why::Expired(now), Some(doc)) if !doc.expired(now) => {
                return Ok(Removal::Skipped("its expiry was renewed".into()));
            }
            (Why::Orphan, Some(_)) => {
                return Ok(Removal::Skipped("it has a state now".into()));
            }
            _ => {}
        }
        printer.progress(&format!("gc: removing {stack}"));
        // Stacks are removed several at a time: each tells of its own nodes, by name.
        deploy::delete_held(&settings, &backend, &printer.for_stack(stack)).await?;
        Ok(Removal::Removed)
    }
    .await;
    held.release().await;
    result
}

/// A file's stack name, when it is one `--stack-name` accepts.
fn valid_name(stack: &str) -> Option<String> {
    crate::cli::parse::stack_name(stack).ok()
}

async fn dry_run(fleet: &Fleet, due: &[(String, Why)], printer: &Printer) -> Result<(), Error> {
    if due.is_empty() && printer.mode() == OutputMode::Human {
        printer.data(&format!("gc: no stack under {} has expired", fleet.shown()))?;
    }
    for (stack, why) in due {
        let detail = match why {
            Why::Expired(_) => match fleet.read(stack).await {
                Ok(Some(doc)) => {
                    format!("expired {}", doc.expires_at.map_or_else(String::new, shown))
                }
                _ => "expired".to_string(),
            },
            Why::Orphan => "its resources' marks say it expired; it has no state".to_string(),
        };
        match printer.mode() {
            OutputMode::Json => printer.json(&json!({
                "event": "gc", "stack": stack, "action": "would_remove", "detail": detail,
            })),
            OutputMode::Human => printer.data(&format!("would remove {stack} ({detail})"))?,
        }
    }
    Ok(())
}

/// One line per stack: on stderr for people, an event in JSON.
fn tell(printer: &Printer, stack: &str, action: &str, detail: &str) {
    match printer.mode() {
        OutputMode::Json => printer.json(&json!({
            "event": "gc", "stack": stack, "action": action, "detail": detail,
        })),
        OutputMode::Human if detail.is_empty() => {
            printer.progress(&format!("gc: {action} {stack}"))
        }
        OutputMode::Human => printer.progress(&format!("gc: {action} {stack}: {detail}")),
    }
}
