//! All output goes through here. Human mode: progress lines (and spinners on a terminal) on
//! stderr, a command's data on stdout. JSON mode: newline-delimited events and a summary on stdout.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal as _, Write as _};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::json;

use crate::cli::OutputMode;
use crate::engine::{Event, Graph, Observer, Outcome, Report, Step};
use crate::error::Error;

/// The spinners of this process, if any, so that log lines can be written around them.
static BARS: OnceLock<MultiProgress> = OnceLock::new();

/// Where log lines go: stderr, with the spinners lifted out of the way while a line is written.
pub struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match BARS.get() {
            Some(bars) => bars.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

pub struct Printer {
    mode: OutputMode,
    /// Spinners for running nodes; only when a person watches a terminal.
    bars: Option<MultiProgress>,
    running: Mutex<HashMap<String, ProgressBar>>,
    labels: Mutex<HashMap<String, String>>,
    /// When each node started, and the phase last shown of its wait.
    nodes: Mutex<HashMap<String, (Instant, Option<String>)>>,
    started: Instant,
    /// The stack this printer tells of, when one run works on several at once (gc): every
    /// line and event names it, and each stack's nodes are its own.
    stack: Option<String>,
}

impl Printer {
    pub fn new(mode: OutputMode) -> Self {
        let watched = mode == OutputMode::Human && std::io::stderr().is_terminal();
        Printer {
            mode,
            bars: watched.then(|| {
                BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
                    .clone()
            }),
            running: Mutex::default(),
            labels: Mutex::default(),
            nodes: Mutex::default(),
            started: Instant::now(),
            stack: None,
        }
    }

    /// A printer for one of several stacks a run works on at once: the same output and clock,
    /// its own nodes (the stacks share node ids), its lines and events naming the stack.
    pub fn for_stack(&self, stack: &str) -> Printer {
        Printer {
            mode: self.mode,
            bars: self.bars.clone(),
            running: Mutex::default(),
            labels: Mutex::default(),
            nodes: Mutex::default(),
            started: self.started,
            stack: Some(stack.to_string()),
        }
    }

    /// `NAME: ` before a line about one of several stacks.
    fn whose(&self) -> String {
        self.stack
            .as_ref()
            .map(|s| format!("{s}: "))
            .unwrap_or_default()
    }

    pub fn mode(&self) -> OutputMode {
        self.mode
    }

    /// Learns every node's label, so that lines about nodes that never started can name them.
    pub fn know(&self, graph: &Graph) {
        let mut labels = self.labels.lock().unwrap();
        for node in graph.nodes() {
            labels.insert(node.id.clone(), node.label.clone());
        }
    }

    fn label(&self, node: &str) -> String {
        let labels = self.labels.lock().unwrap();
        labels
            .get(node)
            .cloned()
            .unwrap_or_else(|| node.to_string())
    }

    /// A progress line on stderr, above any spinners.
    pub fn progress(&self, text: &str) {
        if self.mode != OutputMode::Human {
            return;
        }
        let line = format!(
            "[{:>7}] {}{text}",
            seconds(self.started.elapsed()),
            self.whose()
        );
        match &self.bars {
            Some(bars) => {
                let _ = bars.println(line);
            }
            None => eprintln!("{line}"),
        }
    }

    /// A warning: stderr in human mode, an event in JSON mode.
    pub fn warn(&self, text: &str) {
        match self.mode {
            OutputMode::Human => eprintln!("warning: {}{text}", self.whose()),
            OutputMode::Json => self.json(&json!({"event": "warning", "message": text})),
        }
    }

    /// A command's result for people (a table, DOT, a script) on stdout.
    pub fn data(&self, text: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            out.write_all(b"\n")?;
        }
        out.flush()
    }

    /// One JSON object on one line of stdout (naming the stack, for one of several).
    pub fn json(&self, value: &impl Serialize) {
        let mut value = serde_json::to_value(value).expect("output always serializes");
        if let (Some(stack), Some(object)) = (&self.stack, value.as_object_mut()) {
            object.insert("stack".into(), json!(stack));
        }
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer(&mut out, &value);
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }

    pub fn error(&self, error: &Error) {
        self.clear();
        eprintln!("error: {error}");
        if self.mode == OutputMode::Json {
            self.json(&json!({
                "event": "error",
                "message": error.to_string(),
                "exit_code": error.exit_code(),
            }));
        }
    }

    /// The last word on a run of the engine.
    pub fn summary(&self, command: &str, report: &Report) {
        self.clear();
        let mut counts: BTreeMap<Outcome, usize> = BTreeMap::new();
        for (_, outcome) in &report.outcomes {
            *counts.entry(*outcome).or_default() += 1;
        }
        match self.mode {
            OutputMode::Json => {
                let counts: BTreeMap<&str, usize> =
                    counts.iter().map(|(o, n)| (o.verb(), *n)).collect();
                let failures: Vec<_> = report
                    .failures
                    .iter()
                    .map(|f| json!({"node": f.node, "error": f.error.to_string()}))
                    .collect();
                self.json(&json!({
                    "event": "summary",
                    "command": command,
                    "ok": report.ok(),
                    "interrupted": report.interrupted,
                    "elapsed_ms": report.elapsed.as_millis() as u64,
                    "counts": counts,
                    "failures": failures,
                }));
            }
            OutputMode::Human => {
                let mut parts: Vec<String> = counts
                    .iter()
                    .filter(|(o, _)| !matches!(o, Outcome::Absent))
                    .map(|(o, n)| format!("{n} {}", o.verb()))
                    .collect();
                if !report.failures.is_empty() {
                    parts.push(format!("{} failed", report.failures.len()));
                }
                let state = if report.ok() { "done" } else { "stopped" };
                let parts = if parts.is_empty() {
                    "nothing to do".to_string()
                } else {
                    parts.join(", ")
                };
                eprintln!(
                    "{}{command} {state} in {}s: {parts}",
                    self.whose(),
                    seconds(report.elapsed)
                );
            }
        }
    }

    fn clear(&self) {
        for (_, bar) in self.running.lock().unwrap().drain() {
            bar.finish_and_clear();
        }
    }

    fn spin(&self, node: &str, label: &str) {
        let Some(bars) = &self.bars else { return };
        let style = ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed}")
            .expect("the template is valid");
        let bar = bars.add(ProgressBar::new_spinner().with_style(style));
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        self.running.lock().unwrap().insert(node.to_string(), bar);
    }

    fn unspin(&self, node: &str) {
        self.nodes.lock().unwrap().remove(node);
        if let Some(bar) = self.running.lock().unwrap().remove(node) {
            bar.finish_and_clear();
        }
    }

    fn set_message(&self, node: &str, message: String) {
        if let Some(bar) = self.running.lock().unwrap().get(node) {
            bar.set_message(message);
        }
    }

    fn rename(&self, node: &str, label: &str) {
        self.labels
            .lock()
            .unwrap()
            .insert(node.to_string(), label.to_string());
        if let Some(bar) = self.running.lock().unwrap().get(node) {
            bar.set_prefix(label.to_string());
        }
    }

    /// A wait's line: what is awaited, the cloud's word for where it is, and how long the node
    /// has taken so far. `None` when a spinner already shows it: the phase has not changed.
    fn waiting(&self, node: &str, phase: &str) -> Option<String> {
        let mut nodes = self.nodes.lock().unwrap();
        let (started, shown) = nodes
            .entry(node.to_string())
            .or_insert_with(|| (Instant::now(), None));
        let again = shown.as_deref() == Some(phase);
        *shown = Some(phase.to_string());
        let took = duration(started.elapsed());
        drop(nodes);
        if again && self.bars.is_some() {
            return None;
        }
        Some(format!("waiting for {}: {phase}, {took}", self.label(node)))
    }
}

impl Observer for Printer {
    fn event(&self, event: Event) {
        if self.mode == OutputMode::Json {
            let mut value = serde_json::to_value(&event).expect("events always serialize");
            value["t_ms"] = json!(self.started.elapsed().as_millis() as u64);
            self.json(&value);
            return;
        }
        match event {
            Event::Start { node, label } => {
                self.labels
                    .lock()
                    .unwrap()
                    .insert(node.clone(), label.clone());
                self.nodes
                    .lock()
                    .unwrap()
                    .insert(node.clone(), (Instant::now(), None));
                self.spin(&node, &label);
            }
            Event::Named { node, label } => self.rename(&node, &label),
            Event::Step {
                node,
                step: Step::Waiting,
                phase: Some(phase),
            } => {
                self.set_message(&node, phase.clone());
                if let Some(line) = self.waiting(&node, &phase) {
                    self.progress(&line);
                }
            }
            Event::Step { node, step, phase } => {
                let verb = match step {
                    Step::Creating => "creating",
                    Step::Waiting => "waiting for",
                    Step::Rotating => "rotating",
                    Step::Repairing => "repairing",
                    Step::Deleting => "deleting",
                };
                let phase = phase.map(|p| format!(" ({p})")).unwrap_or_default();
                self.set_message(&node, format!("{verb}{phase}"));
                self.progress(&format!("{verb} {}{phase}", self.label(&node)));
            }
            Event::Finish {
                node,
                outcome,
                elapsed_ms,
            } => {
                self.unspin(&node);
                let worth_a_line = matches!(
                    outcome,
                    Outcome::Created
                        | Outcome::Adopted
                        | Outcome::Resumed
                        | Outcome::Rotated
                        | Outcome::Updated
                        | Outcome::Replaced
                        | Outcome::Deleted
                );
                if worth_a_line {
                    let took = seconds(Duration::from_millis(elapsed_ms));
                    let label = self.label(&node);
                    self.progress(&format!("{} {label} in {took}s", outcome.verb()));
                }
            }
            Event::Fail {
                node,
                error,
                elapsed_ms,
            } => {
                self.unspin(&node);
                let took = seconds(Duration::from_millis(elapsed_ms));
                let label = self.label(&node);
                self.progress(&format!("FAILED {label} after {took}s: {error}"));
            }
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

/// `12.3s`, and past a minute `2m10s`: a long wait's length at a glance.
fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{}s", seconds(d)),
        60..3600 => format!("{}m{}s", secs / 60, secs % 60),
        _ => format!("{}h{}m", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_says_what_is_awaited_where_it_is_and_for_how_long() {
        let printer = Printer::new(OutputMode::Human);
        printer.event(Event::Start {
            node: "c".into(),
            label: "connector SampleSourceConnector".into(),
        });
        if let Some((started, _)) = printer.nodes.lock().unwrap().get_mut("c") {
            *started -= Duration::from_secs(130);
        }
        assert_eq!(
            printer.waiting("c", "PROVISIONING").as_deref(),
            Some("waiting for connector SampleSourceConnector: PROVISIONING, 2m10s")
        );
        printer.event(Event::Named {
            node: "c".into(),
            label: "connector lcc-1".into(),
        });
        assert!(
            printer
                .waiting("c", "RUNNING")
                .unwrap()
                .starts_with("waiting for connector lcc-1: RUNNING, 2m1")
        );
    }

    #[test]
    fn durations_read_at_a_glance() {
        for (secs, shown) in [(12.34, "12.3s"), (130.0, "2m10s"), (3725.0, "1h2m")] {
            assert_eq!(duration(Duration::from_secs_f64(secs)), shown);
        }
    }
}
