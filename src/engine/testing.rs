//! An in-memory cloud for testing and benchmarking the engine itself: it knows nothing of any
//! real cloud, and it is never wired into the stack. Every call is logged with its virtual times.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::node::{Change, Inputs, Node, NodeError, Readiness, Record, Resource};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Find,
    Create,
    Ready,
    Due,
    Apply,
    Delete,
}

#[derive(Clone, Debug)]
pub struct Call {
    pub node: String,
    pub op: Op,
    pub start: Instant,
    pub end: Instant,
}

#[derive(Default)]
struct World {
    existing: BTreeMap<String, Record>,
    calls: Vec<Call>,
    failing: HashSet<(String, Op)>,
    due: HashSet<String>,
    drifted: BTreeMap<String, Change>,
    /// How many `ready` checks answer "pending" after a create, per node.
    polls: BTreeMap<String, u32>,
    serial: u64,
}

/// A cloud in memory: what exists, every call made, and failures to inject.
#[derive(Clone)]
pub struct FakeCloud {
    world: Arc<Mutex<World>>,
    origin: Instant,
}

impl Default for FakeCloud {
    fn default() -> Self {
        FakeCloud {
            world: Arc::default(),
            origin: Instant::now(),
        }
    }
}

impl FakeCloud {
    /// A node of this cloud whose every call takes `latency`.
    pub fn node(&self, id: &str, deps: &[&str], latency: Duration) -> Node {
        Node {
            id: id.to_string(),
            label: format!("fake {id}"),
            relabel: None,
            group: "fake",
            deps: deps.iter().map(|d| d.to_string()).collect(),
            typical: latency,
            deadline: Duration::from_secs(600),
            retired: false,
            resource: Arc::new(FakeResource {
                cloud: self.clone(),
                id: id.to_string(),
                deps: deps.iter().map(|d| d.to_string()).collect(),
                latency,
            }),
        }
    }

    pub fn fail(&self, node: &str, op: Op) {
        self.world.lock().unwrap().failing.insert((node.into(), op));
    }

    pub fn heal(&self) {
        self.world.lock().unwrap().failing.clear();
    }

    pub fn make_due(&self, node: &str) {
        self.world.lock().unwrap().due.insert(node.into());
    }

    /// `node` differs from the stack, as `change` says, until a change or a new create.
    pub fn make_drifted(&self, node: &str, change: Change) {
        self.world
            .lock()
            .unwrap()
            .drifted
            .insert(node.into(), change);
    }

    /// After its create, `node` answers "pending" to this many readiness checks.
    pub fn pending_polls(&self, node: &str, polls: u32) {
        self.world.lock().unwrap().polls.insert(node.into(), polls);
    }

    pub fn exists(&self, node: &str) -> bool {
        self.world.lock().unwrap().existing.contains_key(node)
    }

    pub fn existing(&self) -> Vec<String> {
        self.world
            .lock()
            .unwrap()
            .existing
            .keys()
            .cloned()
            .collect()
    }

    pub fn calls(&self) -> Vec<Call> {
        self.world.lock().unwrap().calls.clone()
    }

    pub fn calls_of(&self, op: Op) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.op == op)
            .map(|c| c.node)
            .collect()
    }

    pub fn clear_calls(&self) {
        self.world.lock().unwrap().calls.clear();
    }

    pub fn since_origin(&self, at: Instant) -> Duration {
        at - self.origin
    }
}

struct FakeResource {
    cloud: FakeCloud,
    id: String,
    deps: Vec<String>,
    latency: Duration,
}

impl FakeResource {
    /// The engine must hand over the record of every dependency, as a real node needs them.
    fn check_inputs(&self, inputs: &Inputs) -> Result<(), NodeError> {
        for dep in &self.deps {
            inputs.id(dep)?;
        }
        Ok(())
    }

    /// Sleeps the latency, logs the call, and fails it when a failure was injected.
    async fn call(&self, op: Op) -> Result<(), NodeError> {
        let start = Instant::now();
        tokio::time::sleep(self.latency).await;
        let mut world = self.cloud.world.lock().unwrap();
        world.calls.push(Call {
            node: self.id.clone(),
            op,
            start,
            end: Instant::now(),
        });
        if world.failing.contains(&(self.id.clone(), op)) {
            return Err(NodeError::Other(anyhow::anyhow!("injected {op:?} failure")));
        }
        Ok(())
    }
}

#[async_trait]
impl Resource for FakeResource {
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        self.call(Op::Find).await?;
        let found = self
            .cloud
            .world
            .lock()
            .unwrap()
            .existing
            .get(&self.id)
            .cloned();
        // A real resource is found through its parents; make sure they were handed over.
        if found.is_some() {
            self.check_inputs(inputs)?;
        }
        Ok(found)
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        self.check_inputs(inputs)?;
        self.call(Op::Create).await?;
        let mut world = self.cloud.world.lock().unwrap();
        world.serial += 1;
        world.drifted.remove(&self.id);
        let record = Record::new(format!("{}-{}", self.id, world.serial)).with("name", &self.id);
        world.existing.insert(self.id.clone(), record.clone());
        Ok(record)
    }

    async fn ready(&self, _inputs: &Inputs, record: &Record) -> Result<Readiness, NodeError> {
        self.call(Op::Ready).await?;
        let mut world = self.cloud.world.lock().unwrap();
        match world.polls.get_mut(&self.id) {
            Some(left) if *left > 0 => {
                *left -= 1;
                Ok(Readiness::Pending {
                    phase: "PROVISIONING".into(),
                })
            }
            _ => Ok(Readiness::Ready(record.clone().with("ready", "yes"))),
        }
    }

    async fn due(&self, _inputs: &Inputs, _record: &Record) -> Result<Option<Change>, NodeError> {
        let due = self.cloud.world.lock().unwrap().due.contains(&self.id);
        Ok(due.then(|| Change::Rotate {
            reason: "older than the day count".into(),
        }))
    }

    async fn drift(&self, _inputs: &Inputs, _record: &Record) -> Result<Option<Change>, NodeError> {
        Ok(self
            .cloud
            .world
            .lock()
            .unwrap()
            .drifted
            .get(&self.id)
            .cloned())
    }

    async fn apply(
        &self,
        _inputs: &Inputs,
        record: &Record,
        _change: &Change,
    ) -> Result<Record, NodeError> {
        self.call(Op::Apply).await?;
        let mut world = self.cloud.world.lock().unwrap();
        world.due.remove(&self.id);
        world.drifted.remove(&self.id);
        let rotated = record.clone().with("rotated", "yes");
        world.existing.insert(self.id.clone(), rotated.clone());
        Ok(rotated)
    }

    async fn delete(&self, _inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        self.call(Op::Delete).await?;
        self.cloud.world.lock().unwrap().existing.remove(&self.id);
        Ok(())
    }
}

/// A node with no latency, for tests of the graph alone.
pub fn node(id: &str, deps: &[&str]) -> Node {
    FakeCloud::default().node(id, deps, Duration::ZERO)
}
