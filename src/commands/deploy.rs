//! create, delete, plan and rotate: resolve the inputs, take the lock, run the engine, report.

use serde_json::json;

use crate::cli::{OutputMode, RunArgs};
use crate::engine::{Change, Engine, Ledger, Options, Outcome, PollPolicy, Report};
use crate::error::{Error, UsageError};
use crate::printer::Printer;
use crate::settings::{Needs, Settings};
use crate::stack;
use crate::state::{LastRun, Location, RunResult, StateDoc, StateError};

use super::backend::Backend;
use super::declared::Declared;
use super::outputs;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Create,
    Delete,
    Plan,
    Rotate,
}

impl Verb {
    pub fn name(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Delete => "delete",
            Verb::Plan => "plan",
            Verb::Rotate => "rotate",
        }
    }
}

/// Runs the verb; `Ok(true)` when the run has (for `plan`: would have) changes to make.
pub async fn run(verb: Verb, args: RunArgs, printer: &Printer) -> Result<bool, Error> {
    run_with(verb, args, None, printer).await
}

/// As [`run`], with the expiry `create --ttl` asks for.
pub async fn run_with(
    verb: Verb,
    args: RunArgs,
    ttl: Option<jiff::Timestamp>,
    printer: &Printer,
) -> Result<bool, Error> {
    let needs = Needs {
        warehouse: verb != Verb::Delete,
    };
    let mut settings = Settings::resolve(args, needs, printer.mode())?;
    settings.ttl = ttl;
    let backend = Backend::open(&settings.state, &settings.clouds.aws).await?;
    // Before the lock and any node: who we are in AWS, and whether every cloud takes our
    // credentials. All of it reads, so a refusal leaves nothing behind, not even a lock.
    let connected = connect(&settings).await?;
    if verb == Verb::Create {
        let declared = super::doctor::declared(&settings, &connected);
        // The checks guard what is still to make. A stack the state records whole was made with
        // these permissions, and its re-run stays at one read per resource.
        let doc = backend.load(settings.names.stack()).await?;
        let whole = doc.is_some_and(|doc| {
            declared
                .decls
                .iter()
                .filter(|d| !d.retired)
                .all(|d| doc.is_ready(&d.id))
        });
        if !whole {
            super::connect::permitted(&connected, &declared.decls).await?;
        }
    }
    // A CI runner starts with no folder for the place its stacks share; make it, as S3 needs
    // no folder made. Only for a shared place: a one-file path keeps failing on a typo.
    if let (Some(_), Location::File(path), false) =
        (&settings.place, &settings.state, verb == Verb::Plan)
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| StateError::Write {
            path: dir.display().to_string(),
            source,
        })?;
    }
    // plan only reads, so it neither takes nor waits for the lock.
    let held = match verb {
        Verb::Plan => None,
        _ => Some(
            backend
                .lock(verb.name(), settings.engine.lock_timeout)
                .await?,
        ),
    };
    let result = locked(verb, &settings, &backend, &connected, printer).await;
    if let Some(held) = held {
        held.release().await;
    }
    result
}

/// `kickstart delete` of the stack `settings` name, for a caller that already holds its lock
/// (gc); with no state it deletes what it finds by name, as `delete` does.
pub(super) async fn delete_held(
    settings: &Settings,
    backend: &Backend,
    printer: &Printer,
) -> Result<(), Error> {
    let connected = connect(settings).await?;
    locked(Verb::Delete, settings, backend, &connected, printer)
        .await
        .map(drop)
}

/// Before the lock and any node: who we are in AWS, and whether every cloud takes our
/// credentials. All of it reads, so a refusal leaves nothing behind, not even a lock.
pub(super) async fn connect(settings: &Settings) -> Result<super::connect::Connected, Error> {
    super::connect::connect(
        &settings.clouds,
        &settings.names,
        settings.rotation,
        settings.engine.wait_timeout,
    )
    .await
}

/// The run itself, while the lock is held.
async fn locked(
    verb: Verb,
    settings: &Settings,
    backend: &Backend,
    connected: &super::connect::Connected,
    printer: &Printer,
) -> Result<bool, Error> {
    let stack = settings.names.stack();
    let loaded = backend.load(stack).await?;
    let existed = loaded.is_some();
    let mut doc = loaded.unwrap_or_else(|| StateDoc::new(stack));
    stack::legacy_rename(&mut doc);
    if verb == Verb::Create {
        doc.created_at.get_or_insert_with(jiff::Timestamp::now);
        // A create without --ttl keeps the expiry an earlier one recorded.
        if settings.ttl.is_some() {
            doc.expires_at = settings.ttl;
        }
    }
    let declared = Declared::new(
        &settings.names,
        &settings.stackfile,
        Some(connected),
        Some(&doc),
        marker(settings, &doc),
    );
    if let Some(warning) = declared.unknown_warning() {
        printer.warn(&warning);
    }
    let ledger = Ledger::new(doc, backend.sink()).with_specs(declared.specs());
    // A stack's `list` line must not show an older run as its last when this one fails before
    // its first node (the key secrets unreadable): an existing state records the failure. A new
    // stack's stays unwritten, as nothing was touched.
    if let Err(e) = connected.load_key_secrets(&declared.client_secrets()).await {
        if existed && verb != Verb::Plan {
            ledger
                .amend(|doc| doc.last_run = Some(run_of(verb, RunResult::Failed)))
                .await?;
        }
        return Err(e);
    }
    let direction = match verb {
        Verb::Delete => stack::Direction::Backward,
        _ => stack::Direction::Forward,
    };
    let graph = declared
        .graph(&connected.providers(), direction)
        .map_err(UsageError::from)?;
    printer.know(&graph);
    // Under the lock, the state learns what each recorded node is declared as, so that it can
    // still be deleted once the file no longer declares it. plan writes nothing.
    if verb != Verb::Plan {
        ledger.record_specs().await?;
    }
    // The stack's lifetime is recorded before any resource is made, so that a create that dies
    // half way still leaves a stack gc can collect.
    if verb == Verb::Create {
        ledger.amend(|_| {}).await?;
    }
    let options = Options {
        concurrency: settings.engine.concurrency,
        poll: PollPolicy::default(),
        deadline: settings.engine.wait_timeout,
        interruptible: true,
    };
    let engine = Engine::new(&graph, &ledger, printer, options);
    let report = match verb {
        Verb::Create => engine.create().await,
        Verb::Delete => engine.delete().await,
        Verb::Plan => engine.plan().await,
        Verb::Rotate => engine.rotate().await,
    };
    if verb == Verb::Plan && report.ok() {
        print_plan(printer, &graph, &report)?;
    }
    // Some nodes are always looked up (the Schema Registry, the Glue database); an adopted
    // environment is what shows a stack that something else built.
    if verb == Verb::Create && report.outcome(stack::ids::ENV) == Some(Outcome::Adopted) {
        printer.warn(&unidentified(
            &settings.names,
            report.count(Outcome::Adopted),
        ));
    }
    let gone = verb == Verb::Delete && report.ok() && ledger.snapshot().await.nodes.is_empty();
    if gone {
        backend.remove().await?;
    } else if verb != Verb::Plan && (existed || verb == Verb::Create) {
        // A delete from names alone that left nothing behind has no state to tell of its run.
        ledger
            .amend(|doc| doc.last_run = Some(last_run(verb, &report)))
            .await?;
    }
    // What the user now has, once the stack is all there: in JSON an event before the summary
    // (the summary stays the last word), for people on stdout after it.
    let outputs = match verb == Verb::Create && report.ok() {
        true => Some(outputs::outputs(
            &declared.decls,
            Some(&ledger.snapshot().await),
        )),
        false => None,
    };
    if let Some(outputs) = &outputs
        && printer.mode() == OutputMode::Json
    {
        printer.json(&json!({"event": "outputs", "outputs": outputs::json(outputs)}));
    }
    printer.summary(verb.name(), &report);
    if let Some(outputs) = &outputs
        && printer.mode() == OutputMode::Human
    {
        printer.data(&format!("outputs:\n{}", outputs::table(outputs)))?;
    }
    let changes = report.outcomes.iter().any(|(_, o)| o.is_change());
    outcome(verb, report).map(|()| changes)
}

/// What the stack's resources are marked with: its name, its expiry, and the shared place its
/// state is recorded under.
fn marker(settings: &Settings, doc: &StateDoc) -> stack::Marker {
    stack::Marker {
        expires_at: doc.expires_at,
        state: settings.place.clone(),
        ..stack::Marker::new(settings.names.stack())
    }
}

fn last_run(verb: Verb, report: &Report) -> LastRun {
    // As the run's exit says: a failure first, then an interruption.
    let result = match (report.failures.is_empty(), report.interrupted) {
        (false, _) => RunResult::Failed,
        (true, true) => RunResult::Interrupted,
        (true, false) => RunResult::Ok,
    };
    run_of(verb, result)
}

fn run_of(verb: Verb, result: RunResult) -> LastRun {
    LastRun {
        command: verb.name().to_string(),
        at: jiff::Timestamp::now(),
        result,
    }
}

fn print_plan(
    printer: &Printer,
    graph: &crate::engine::Graph,
    report: &Report,
) -> Result<(), Error> {
    let changed = graph.nodes().iter().filter_map(|node| {
        let outcome = report.outcome(&node.id).filter(|o| o.is_change())?;
        Some((node, outcome, report.change(&node.id)))
    });
    if printer.mode() == OutputMode::Json {
        // One object per node that would change, with its drift attribute by attribute.
        for (node, outcome, change) in changed {
            printer.json(&serde_json::json!({
                "event": "plan",
                "node": node.id,
                "label": node.label,
                "action": outcome.verb(),
                "change": change,
            }));
        }
        return Ok(());
    }
    let mut text = String::new();
    for (node, outcome, change) in changed {
        text.push_str(&format!("{:<8} {}\n", outcome.verb(), node.label));
        match change {
            Some(Change::Update { what }) => {
                for diff in what {
                    text.push_str(&format!("{:<8}   {diff}\n", ""));
                }
            }
            Some(Change::Replace { why }) => text.push_str(&format!("{:<8}   {why}\n", "")),
            Some(Change::Rotate { reason }) => {
                text.push_str(&format!("{:<8}   {reason}\n", ""));
            }
            None => {}
        }
    }
    let count = |o| report.count(o);
    let delete = match count(Outcome::WouldDelete) {
        0 => String::new(),
        n => format!(", {n} to delete"),
    };
    let drift = match (count(Outcome::WouldUpdate), count(Outcome::WouldReplace)) {
        (0, 0) => String::new(),
        (u, 0) => format!(", {u} to update"),
        (u, r) => format!(", {u} to update, {r} to replace"),
    };
    text.push_str(&format!(
        "plan: {} to create, {} to adopt, {} to rotate{drift}{delete}, {} to wait for, {} unchanged\n",
        count(Outcome::WouldCreate),
        count(Outcome::WouldAdopt),
        count(Outcome::WouldRotate),
        count(Outcome::WouldWait),
        count(Outcome::Unchanged),
    ));
    printer.data(&text)?;
    Ok(())
}

/// What a stack deploy.sh built holds beside what kickstart finds by name: without the Terraform
/// state these have no name kickstart can be sure of, so it says so rather than pass over them.
fn unidentified(names: &stack::Names, adopted: usize) -> String {
    let stack = names.stack();
    format!(
        "adopted {adopted} existing resources by name. If deploy.sh built this stack, kickstart could not identify, and leaves alone: \
         its key-pair rotation Lambda `{stack}` with the role `{stack}_role` and policy `{stack}_policy`, \
         its finished DROP statement `dt-stock-trades-with-totals-<uuid>`, and the role Terraform named for A3's trust update; \
         run `kickstart import terraform FILE` on `terraform state pull` output to list each with how to remove it"
    )
}

fn outcome(verb: Verb, report: Report) -> Result<(), Error> {
    if let Some(first) = report.failures.first() {
        let more = match report.failures.len() {
            1 => String::new(),
            n => format!(" (and {} more failures)", n - 1),
        };
        return Err(Error::Failed {
            command: verb.name(),
            node: first.node.clone(),
            cause: first.error.to_string(),
            more,
        });
    }
    if report.interrupted {
        return Err(Error::Interrupted {
            command: verb.name(),
        });
    }
    Ok(())
}
