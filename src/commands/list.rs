//! `kickstart list`: every stack recorded under a shared state place, one line each. Reads only
//! and takes no lock, so it can run beside the runs it reports on.

use jiff::Timestamp;
use serde::Serialize;

use crate::cli::{ListArgs, OutputMode};
use crate::error::Error;
use crate::printer::Printer;
use crate::settings;
use crate::state::lifetime::shown;
use crate::state::{LastRun, StateDoc};

use super::fleet::Fleet;

#[derive(Debug, Serialize)]
struct Row {
    name: String,
    created_at: Option<Timestamp>,
    last_run: Option<LastRun>,
    expires_at: Option<Timestamp>,
    expired: bool,
    resources: usize,
}

impl Row {
    fn new(doc: &StateDoc, now: Timestamp) -> Row {
        Row {
            name: doc.stack.clone(),
            created_at: doc.created(),
            last_run: doc.last_run.clone(),
            expires_at: doc.expires_at,
            expired: doc.expired(now),
            resources: doc.nodes.len(),
        }
    }
}

pub async fn run(args: ListArgs, printer: &Printer) -> Result<(), Error> {
    let aws = settings::Aws {
        profile: args.aws.profile,
        region: args.aws.region,
    };
    let fleet = Fleet::open(&args.state, &aws).await?;
    let now = Timestamp::now();
    let mut rows = Vec::new();
    for stack in fleet.stacks().await? {
        match fleet.read(&stack).await {
            Ok(Some(doc)) => rows.push(Row::new(&doc, now)),
            // Removed (by a delete or a gc) since the place was listed.
            Ok(None) => {}
            Err(e) => printer.warn(&format!("left out {stack}: {e}")),
        }
    }
    if printer.mode() == OutputMode::Json {
        // One array, whole, so that a script parses the fleet at once.
        printer.json(&rows);
        return Ok(());
    }
    if rows.is_empty() {
        printer.data(&format!("no stacks under {}", fleet.shown()))?;
        return Ok(());
    }
    printer.data(&table(&rows))?;
    Ok(())
}

fn table(rows: &[Row]) -> String {
    let never = || "-".to_string();
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|row| {
            let (last, result) = match &row.last_run {
                Some(run) => (
                    format!("{} {}", run.command, shown(run.at)),
                    run.result.to_string(),
                ),
                None => (never(), never()),
            };
            let expires = match row.expires_at {
                Some(at) if row.expired => format!("{} (expired)", shown(at)),
                Some(at) => shown(at),
                None => "never".to_string(),
            };
            [
                row.name.clone(),
                row.created_at.map_or_else(never, shown),
                last,
                result,
                expires,
                row.resources.to_string(),
            ]
        })
        .collect();
    let head = [
        "NAME",
        "CREATED",
        "LAST RUN",
        "RESULT",
        "EXPIRES",
        "RESOURCES",
    ];
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].len())
                .chain([head[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut text = line(&head);
    for row in &cells {
        text.push_str(&line(&row.each_ref().map(String::as_str)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Record, RunResult, Status};

    #[test]
    fn a_row_tells_name_times_result_expiry_and_count() {
        let now: Timestamp = "2026-12-03T07:00:00Z".parse().unwrap();
        let mut doc = StateDoc::new("ci_a");
        doc.created_at = Some("2026-12-03T06:00:00.25Z".parse().unwrap());
        doc.expires_at = Some("2026-12-03T06:30:00Z".parse().unwrap());
        doc.last_run = Some(LastRun {
            command: "create".into(),
            at: "2026-12-03T06:10:00Z".parse().unwrap(),
            result: RunResult::Failed,
        });
        doc.put("a", Record::new("id"), Status::Ready).unwrap();
        let kept = StateDoc::new("ci_b");
        let text = table(&[Row::new(&doc, now), Row::new(&kept, now)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "NAME  CREATED               LAST RUN                     RESULT  EXPIRES                         RESOURCES",
                "ci_a  2026-12-03T06:00:00Z  create 2026-12-03T06:10:00Z  failed  2026-12-03T06:30:00Z (expired)  1",
                "ci_b  -                     -                            -       never                           0",
            ]
        );
    }
}
