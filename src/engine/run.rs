//! Runs the graph: every node whose dependencies are done is started, up to the concurrency limit,
//! longest remaining path first. On a failure nothing new starts; what runs is let finish.

use std::collections::{BTreeMap, BinaryHeap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use tokio::time::Instant;

use super::event::{Event, Observer, Outcome, Step, Waits};
use super::graph::Graph;
use super::interrupt::interrupted;
use super::ledger::Ledger;
use super::memo::Memo;
use super::node::{Change, Inputs, Node, NodeError, Readiness, Record};
use super::report::{Failure, Options, Report};
use super::report::{done, would};
use crate::state::{StateDoc, Status};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Dependencies first: create, plan, rotate, status.
    Forward,
    /// Dependents first: delete.
    Backward,
}

pub struct Engine<'a> {
    graph: &'a Graph,
    ledger: &'a Ledger,
    observer: &'a dyn Observer,
    options: Options,
    /// What this run's nodes share; a new one for each run.
    memo: Mutex<Arc<Memo>>,
    /// The changes found by this run's nodes, for its report.
    changes: Mutex<Vec<(String, Change)>>,
}

impl<'a> Engine<'a> {
    pub fn new(
        graph: &'a Graph,
        ledger: &'a Ledger,
        observer: &'a dyn Observer,
        options: Options,
    ) -> Self {
        Engine {
            graph,
            ledger,
            observer,
            options,
            memo: Default::default(),
            changes: Default::default(),
        }
    }

    /// Brings every node up: adopt what exists, create what does not, wait until ready, apply
    /// due rotations. State is saved after each node.
    pub async fn create(&self) -> Report {
        let state = self.ledger.snapshot().await;
        self.schedule(Direction::Forward, |i| self.create_node(i, &state))
            .await
    }

    /// What `create` would do, without changing anything anywhere.
    pub async fn plan(&self) -> Report {
        let state = self.ledger.snapshot().await;
        let seen = Mutex::new(BTreeMap::new());
        self.schedule(Direction::Forward, |i| self.plan_node(i, &state, &seen))
            .await
    }

    /// Only the changes (rotations) that are due, on what the state records.
    pub async fn rotate(&self) -> Report {
        let state = self.ledger.snapshot().await;
        self.schedule(Direction::Forward, |i| self.rotate_node(i, &state))
            .await
    }

    /// Whether each recorded node still exists.
    pub async fn check(&self) -> Report {
        let state = self.ledger.snapshot().await;
        let missing = Mutex::new(std::collections::BTreeSet::new());
        self.schedule(Direction::Forward, |i| self.check_node(i, &state, &missing))
            .await
    }

    /// Takes everything down, dependents first. Nodes the state does not know are first looked
    /// up by name (so a lost or partial state still deletes what is there), then deleted.
    pub async fn delete(&self) -> Report {
        let state = self.ledger.snapshot().await;
        let missing = self
            .graph
            .nodes()
            .iter()
            .any(|n| state.record(&n.id).is_none());
        let mut discovery = Report::default();
        if missing {
            discovery = self
                .schedule(Direction::Forward, |i| self.discover_node(i))
                .await;
            if !discovery.ok() {
                return discovery;
            }
        }
        let state = self.ledger.snapshot().await;
        let mut report = self
            .schedule(Direction::Backward, |i| self.delete_node(i, &state))
            .await;
        report.elapsed += discovery.elapsed;
        report
    }

    async fn schedule<F, Fut>(&self, direction: Direction, work: F) -> Report
    where
        F: Fn(usize) -> Fut,
        Fut: Future<Output = Result<Outcome, NodeError>>,
    {
        *self.memo.lock().unwrap() = Arc::default();
        self.changes.lock().unwrap().clear();
        let started = Instant::now();
        let graph = self.graph;
        let forward = direction == Direction::Forward;
        let before = |i: usize| {
            if forward {
                graph.deps(i)
            } else {
                graph.dependents(i)
            }
        };
        let after = |i: usize| {
            if forward {
                graph.dependents(i)
            } else {
                graph.deps(i)
            }
        };
        let priority = graph.remaining_path(forward, |n| n.typical);
        let mut blockers: Vec<usize> = (0..graph.len()).map(|i| before(i).len()).collect();
        // Ties go to the node declared first, so runs are repeatable.
        let mut ready: BinaryHeap<(Duration, std::cmp::Reverse<usize>)> = (0..graph.len())
            .filter(|&i| blockers[i] == 0)
            .map(|i| (priority[i], std::cmp::Reverse(i)))
            .collect();
        let mut running = FuturesUnordered::new();
        let mut report = Report::default();
        let mut interrupt = std::pin::pin!(interrupted(self.options.interruptible));
        let limit = self.options.concurrency.max(1);
        loop {
            let stopping = !report.failures.is_empty() || report.interrupted;
            while !stopping && running.len() < limit {
                let Some((_, std::cmp::Reverse(i))) = ready.pop() else {
                    break;
                };
                let node = graph.node(i);
                let job = work(i);
                running.push(async move {
                    let t = Instant::now();
                    (i, job.await, t.elapsed())
                });
                tracing::debug!(node = %node.id, "started");
            }
            if running.is_empty() {
                break;
            }
            let (i, result, took) = tokio::select! {
                Some(done) = running.next() => done,
                () = &mut interrupt, if !report.interrupted => {
                    report.interrupted = true;
                    continue;
                }
            };
            let id = graph.node(i).id.clone();
            let elapsed_ms = took.as_millis() as u64;
            match result {
                Ok(outcome) => {
                    self.observer.event(Event::Finish {
                        node: id.clone(),
                        outcome,
                        elapsed_ms,
                    });
                    report.outcomes.push((id, outcome));
                    for &j in after(i) {
                        blockers[j] -= 1;
                        if blockers[j] == 0 {
                            ready.push((priority[j], std::cmp::Reverse(j)));
                        }
                    }
                }
                Err(error) => {
                    self.observer.event(Event::Fail {
                        node: id.clone(),
                        error: error.to_string(),
                        elapsed_ms,
                    });
                    report.failures.push(Failure { node: id, error });
                }
            }
        }
        report.elapsed = started.elapsed();
        report.changes = std::mem::take(&mut *self.changes.lock().unwrap());
        report
    }

    /// A due change first (a rotation also writes what drifted), else drift.
    async fn change(
        &self,
        node: &Node,
        inputs: &Inputs,
        record: &Record,
    ) -> Result<Option<Change>, NodeError> {
        match node.resource.due(inputs, record).await? {
            Some(change) => Ok(Some(change)),
            None => node.resource.drift(inputs, record).await,
        }
    }

    fn found(&self, node: &Node, change: &Change) {
        self.changes
            .lock()
            .unwrap()
            .push((node.id.clone(), change.clone()));
    }

    /// Carries out a change `due` found, saying first what it is. A replacement is the
    /// engine's own: delete, wait until gone, create, wait until ready.
    async fn carry_out(
        &self,
        node: &Node,
        inputs: &Inputs,
        record: &Record,
        change: &Change,
    ) -> Result<Record, NodeError> {
        self.found(node, change);
        if change.is_rotation() {
            self.step(node, Step::Rotating, None);
        } else {
            self.step(node, Step::Repairing, Some(&change.to_string()));
        }
        match change {
            Change::Replace { .. } => {
                self.take_down(node, inputs, record).await?;
                self.step(node, Step::Creating, None);
                let made = node.resource.create(inputs).await?;
                self.wait(node, inputs, made).await
            }
            _ => node.resource.apply(inputs, record, change).await,
        }
    }

    fn start(&self, node: &Node) {
        self.observer.event(Event::Start {
            node: node.id.clone(),
            label: node.label.clone(),
        });
    }

    fn step(&self, node: &Node, step: Step, phase: Option<&str>) {
        self.observer.event(Event::Step {
            node: node.id.clone(),
            step,
            phase: phase.map(str::to_string),
        });
    }

    /// Tells the node's label once its id is known, where that changes it.
    fn named(&self, node: &Node, record: &Record) {
        let Some(relabel) = &node.relabel else { return };
        let label = relabel(&record.id);
        if label != node.label {
            self.observer.event(Event::Named {
                node: node.id.clone(),
                label,
            });
        }
    }

    /// The records of a node's dependencies, as the ledger holds them now.
    async fn inputs(&self, i: usize) -> Inputs {
        let doc = self.ledger.snapshot().await;
        self.inputs_from(i, &doc, &BTreeMap::new())
    }

    fn inputs_from(&self, i: usize, doc: &StateDoc, extra: &BTreeMap<String, Record>) -> Inputs {
        let records = self
            .graph
            .deps(i)
            .iter()
            .filter_map(|&d| {
                let id = &self.graph.node(d).id;
                let record = extra.get(id).or_else(|| doc.record(id))?;
                Some((id.clone(), record.clone()))
            })
            .collect();
        Inputs::new(records).in_run(self.memo.lock().unwrap().clone())
    }

    fn deadline(&self, node: &Node) -> Duration {
        self.options.deadline.unwrap_or(node.deadline)
    }

    async fn create_node(&self, i: usize, state: &StateDoc) -> Result<Outcome, NodeError> {
        let node = self.graph.node(i);
        let resource = &node.resource;
        let known = state.record(&node.id);
        if node.retired {
            let Some(record) = known else {
                return Ok(Outcome::Absent);
            };
            self.start(node);
            let inputs = self.inputs(i).await;
            self.remove(node, &inputs, record).await?;
            return Ok(Outcome::Deleted);
        }
        self.start(node);
        let inputs = self.inputs(i).await;
        let (mut record, mut outcome) = match resource.find(&inputs, known).await? {
            // What a lookup returns can be less than what readiness once added: keep both.
            Some(found) if state.is_ready(&node.id) => {
                (merged(known.cloned(), found), Outcome::Unchanged)
            }
            Some(found) => {
                let outcome = if known.is_some() {
                    Outcome::Resumed
                } else {
                    Outcome::Adopted
                };
                (self.wait(node, &inputs, found).await?, outcome)
            }
            None => {
                self.step(node, Step::Creating, None);
                let made = match resource.create(&inputs).await {
                    Ok(made) => made,
                    // An answer lost after the service acted makes the re-try find the thing
                    // the first try made (a 409, "already exists"): look again, and adopt it.
                    Err(e) => match resource.find(&inputs, known).await {
                        Ok(Some(found)) => found,
                        _ => return Err(e),
                    },
                };
                self.ledger
                    .put(&node.id, made.clone(), Status::Creating)
                    .await
                    .map_err(anyhow::Error::from)?;
                (self.wait(node, &inputs, made).await?, Outcome::Created)
            }
        };
        if let Some(change) = self.change(node, &inputs, &record).await? {
            record = self.carry_out(node, &inputs, &record, &change).await?;
            if outcome == Outcome::Unchanged {
                outcome = done(&change);
            }
        }
        self.named(node, &record);
        let unchanged = outcome == Outcome::Unchanged && known == Some(&record);
        if !unchanged {
            self.ledger
                .put(&node.id, record, Status::Ready)
                .await
                .map_err(anyhow::Error::from)?;
        }
        Ok(outcome)
    }

    /// Records the node as on its way (so a cut-off wait resumes next run), then polls.
    async fn wait(
        &self,
        node: &Node,
        inputs: &Inputs,
        record: Record,
    ) -> Result<Record, NodeError> {
        self.ledger
            .put(&node.id, record.clone(), Status::Creating)
            .await
            .map_err(anyhow::Error::from)?;
        let mut waits = Waits::default();
        self.options
            .poll
            .until_ready(
                self.deadline(node),
                || node.resource.ready(inputs, &record),
                |phase| {
                    if waits.tells(phase) {
                        self.step(node, Step::Waiting, Some(phase));
                    }
                },
            )
            .await
    }

    async fn plan_node(
        &self,
        i: usize,
        state: &StateDoc,
        seen: &Mutex<BTreeMap<String, Record>>,
    ) -> Result<Outcome, NodeError> {
        let node = self.graph.node(i);
        if node.retired {
            return Ok(match state.record(&node.id) {
                Some(_) => Outcome::WouldDelete,
                None => Outcome::Absent,
            });
        }
        let inputs = {
            let seen = seen.lock().unwrap();
            // A dependency that does not exist yet means this node cannot exist either.
            let absent = self
                .graph
                .deps(i)
                .iter()
                .any(|&d| !seen.contains_key(&self.graph.node(d).id));
            if absent {
                return Ok(Outcome::WouldCreate);
            }
            self.inputs_from(i, state, &seen)
        };
        self.start(node);
        let known = state.record(&node.id);
        let Some(found) = node.resource.find(&inputs, known).await? else {
            return Ok(Outcome::WouldCreate);
        };
        let outcome = if let Some(change) = self.change(node, &inputs, &found).await? {
            let outcome = would(&change);
            self.found(node, &change);
            outcome
        } else if known.is_none() {
            Outcome::WouldAdopt
        } else if !state.is_ready(&node.id) {
            Outcome::WouldWait
        } else {
            Outcome::Unchanged
        };
        seen.lock().unwrap().insert(node.id.clone(), found);
        Ok(outcome)
    }

    async fn rotate_node(&self, i: usize, state: &StateDoc) -> Result<Outcome, NodeError> {
        let node = self.graph.node(i);
        let Some(known) = state.record(&node.id).filter(|_| !node.retired) else {
            return Ok(Outcome::Absent);
        };
        let inputs = self.inputs(i).await;
        // Drift is `create`'s to repair; this command only rotates keys.
        let Some(change) = node.resource.due(&inputs, known).await? else {
            return Ok(Outcome::Unchanged);
        };
        self.start(node);
        let record = self.carry_out(node, &inputs, known, &change).await?;
        self.ledger
            .put(&node.id, record, Status::Ready)
            .await
            .map_err(anyhow::Error::from)?;
        Ok(Outcome::Rotated)
    }

    async fn check_node(
        &self,
        i: usize,
        state: &StateDoc,
        missing: &Mutex<std::collections::BTreeSet<usize>>,
    ) -> Result<Outcome, NodeError> {
        let node = self.graph.node(i);
        let Some(known) = state.record(&node.id) else {
            return Ok(Outcome::Absent);
        };
        // What lived in something that is gone (a topic in a deleted cluster, reached with a key
        // that went with it) is gone too: asking would only be refused.
        let orphaned = {
            let missing = missing.lock().unwrap();
            self.graph.deps(i).iter().any(|d| missing.contains(d))
        };
        let found = !orphaned
            && node
                .resource
                .find(&self.inputs_from(i, state, &BTreeMap::new()), Some(known))
                .await?
                .is_some();
        if found {
            Ok(Outcome::Exists)
        } else {
            missing.lock().unwrap().insert(i);
            Ok(Outcome::Missing)
        }
    }

    async fn discover_node(&self, i: usize) -> Result<Outcome, NodeError> {
        let node = self.graph.node(i);
        let doc = self.ledger.snapshot().await;
        if doc.record(&node.id).is_some() {
            return Ok(Outcome::Exists);
        }
        let all_deps_exist = self
            .graph
            .deps(i)
            .iter()
            .all(|&d| doc.record(&self.graph.node(d).id).is_some());
        if !all_deps_exist {
            return Ok(Outcome::Absent);
        }
        let inputs = self.inputs_from(i, &doc, &BTreeMap::new());
        match node.resource.find(&inputs, None).await? {
            Some(found) => {
                // The delete that follows names what it found, as a run that made it would.
                self.named(node, &found);
                self.ledger
                    .put(&node.id, found, Status::Ready)
                    .await
                    .map_err(anyhow::Error::from)?;
                Ok(Outcome::Exists)
            }
            None => Ok(Outcome::Absent),
        }
    }

    async fn delete_node(&self, i: usize, state: &StateDoc) -> Result<Outcome, NodeError> {
        let node = self.graph.node(i);
        let Some(record) = state.record(&node.id) else {
            return Ok(Outcome::Absent);
        };
        self.start(node);
        let inputs = self.inputs_from(i, state, &BTreeMap::new());
        self.remove(node, &inputs, record).await?;
        Ok(Outcome::Deleted)
    }

    /// Deletes a node and waits until it is gone, so that what it depends on is deleted only
    /// after it; a refusal for now (a parent whose children are still going) is asked again.
    /// Both waits share the node's deadline.
    async fn remove(&self, node: &Node, inputs: &Inputs, record: &Record) -> Result<(), NodeError> {
        self.take_down(node, inputs, record).await?;
        self.ledger
            .remove(&node.id)
            .await
            .map_err(anyhow::Error::from)?;
        Ok(())
    }

    /// Deletes a node in the cloud and waits until it is gone; the state is left as it is.
    async fn take_down(
        &self,
        node: &Node,
        inputs: &Inputs,
        record: &Record,
    ) -> Result<(), NodeError> {
        self.step(node, Step::Deleting, None);
        let started = Instant::now();
        let deadline = self.deadline(node);
        let mut waits = Waits::default();
        let mut shown = |phase: &str| {
            if waits.tells(phase) {
                self.step(node, Step::Waiting, Some(phase));
            }
        };
        let poll = &self.options.poll;
        poll.until_ready(
            deadline,
            || async {
                match node.resource.delete(inputs, record).await {
                    Ok(()) => Ok(Readiness::Ready(record.clone())),
                    Err(NodeError::Busy { message }) => Ok(Readiness::Pending { phase: message }),
                    Err(e) => Err(e),
                }
            },
            &mut shown,
        )
        .await?;
        poll.until_ready(
            deadline.saturating_sub(started.elapsed()),
            || async {
                Ok(match node.resource.gone(inputs, record).await? {
                    None => Readiness::Ready(record.clone()),
                    Some(phase) => Readiness::Pending { phase },
                })
            },
            &mut shown,
        )
        .await?;
        Ok(())
    }
}

fn merged(known: Option<Record>, found: Record) -> Record {
    let Some(mut record) = known else {
        return found;
    };
    record.id = found.id;
    record.outputs.extend(found.outputs);
    record
}
