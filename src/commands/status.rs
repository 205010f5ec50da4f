//! What the state records, as a table or JSON; with --refresh, checked against the clouds.

use serde_json::json;

use crate::cli::{OutputMode, StatusArgs};
use crate::engine::{Engine, Ledger, Options, Outcome, Silent};
use crate::error::{Error, UsageError};
use crate::printer::Printer;
use crate::settings;
use crate::stack::{self, Direction, NotBuilt};
use crate::state::Status;

use super::backend::Backend;
use super::declared::Declared;

pub async fn run(args: StatusArgs, printer: &Printer) -> Result<(), Error> {
    let settings::StackSettings {
        names,
        state: location,
        stackfile,
        ..
    } = settings::stack(args.stack)?;
    // Resolved as `create` resolves them: flag, then file, then the AWS profile's region.
    let mut cloud = args.cloud;
    cloud.region = settings::region(cloud.region, &stackfile);
    let aws = crate::settings::Aws {
        profile: cloud.profile.clone(),
        region: cloud.region.clone(),
    };
    let backend = Backend::open(&location, &aws).await?;
    let clouds = if args.refresh {
        Some(settings::clouds(cloud, None)?)
    } else {
        None
    };
    // A check only looks things up, but reads keys as `create` would.
    let rotation = settings::rotation(None, None, &stackfile);
    let connected = match &clouds {
        Some(c) => Some(super::connect::connect(c, &names, rotation, None).await?),
        None => None,
    };
    let loaded = backend.load(names.stack()).await?.map(|mut doc| {
        stack::legacy_rename(&mut doc);
        doc
    });
    let declared = Declared::new(
        &names,
        &stackfile,
        connected.as_ref(),
        loaded.as_ref(),
        stack::Marker::new(names.stack()),
    );
    if let Some(connected) = &connected {
        connected
            .load_key_secrets(&declared.client_secrets())
            .await?;
    }
    let graph = match &connected {
        Some(connected) => declared.graph(&connected.providers(), Direction::Backward),
        None => declared.graph(&NotBuilt, Direction::Backward),
    }
    .map_err(UsageError::from)?;
    let Some(doc) = loaded else {
        match printer.mode() {
            OutputMode::Json => {
                printer.json(&json!({"event": "status", "stack": names.stack(), "nodes": []}))
            }
            OutputMode::Human => printer.data(&format!(
                "no state at {}: nothing is recorded for stack {}",
                location,
                names.stack()
            ))?,
        }
        return Ok(());
    };

    let refreshed = match clouds {
        Some(_) => {
            // A check writes nothing; the ledger's saves go nowhere.
            let ledger = Ledger::new(
                doc.clone(),
                Box::new(std::sync::Arc::new(crate::engine::MemorySink::default())),
            );
            let engine = Engine::new(&graph, &ledger, &Silent, Options::default());
            let report = engine.check().await;
            if let Some(first) = report.failures.first() {
                return Err(Error::Failed {
                    command: "status",
                    node: first.node.clone(),
                    cause: first.error.to_string(),
                    more: String::new(),
                });
            }
            Some(report)
        }
        None => None,
    };
    let exists = |node: &str| {
        refreshed.as_ref().map(|r| match r.outcome(node) {
            Some(Outcome::Exists) => "yes",
            Some(Outcome::Missing) => "MISSING",
            _ => "?",
        })
    };

    // Rows in the order of the stack declaration; anything unknown to this version comes last.
    let mut ids: Vec<&String> = graph
        .nodes()
        .iter()
        .map(|n| &n.id)
        .filter(|id| doc.nodes.contains_key(*id))
        .collect();
    ids.extend(doc.nodes.keys().filter(|id| graph.position(id).is_none()));
    // The label every other command prints for it.
    let label = |id: &str| match graph.position(id) {
        Some(i) => graph.node(i).label.clone(),
        None => id.to_string(),
    };

    if printer.mode() == OutputMode::Json {
        let nodes: Vec<_> = ids
            .iter()
            .map(|id| {
                let entry = &doc.nodes[*id];
                json!({
                    "node": id,
                    "label": label(id),
                    "id": entry.record.id,
                    "status": entry.status,
                    "outputs": entry.record.outputs,
                    "created_at": entry.created_at,
                    "updated_at": entry.updated_at,
                    "exists": exists(id),
                })
            })
            .collect();
        printer.json(&json!({"event": "status", "stack": doc.stack, "nodes": nodes}));
        return Ok(());
    }
    let mut rows = vec![vec![
        "RESOURCE".to_string(),
        "NODE".into(),
        "ID".into(),
        "STATUS".into(),
        "UPDATED".into(),
    ]];
    if refreshed.is_some() {
        rows[0].push("EXISTS".into());
    }
    for id in &ids {
        let entry = &doc.nodes[*id];
        let status = match entry.status {
            Status::Ready => "ready",
            Status::Creating => "creating",
        };
        let mut row = vec![
            label(id),
            id.to_string(),
            entry.record.id.clone(),
            status.into(),
            entry
                .updated_at
                .round(jiff::Unit::Second)
                .unwrap_or(entry.updated_at)
                .to_string(),
        ];
        if let Some(e) = exists(id) {
            row.push(e.into());
        }
        rows.push(row);
    }
    let mut text = table(&rows);
    text.push_str(&format!(
        "{} of {} resources recorded for stack {}\n",
        ids.len(),
        graph.len(),
        doc.stack
    ));
    printer.data(&text)?;
    Ok(())
}

fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| format!("{s:<w$}", w = widths[c]))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
