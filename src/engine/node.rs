//! What a node of the graph is to the engine: something that can be found, created, waited for,
//! changed and deleted. The engine calls these; each cloud module implements them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use super::Memo;

pub use crate::state::{Outputs, Record};

/// The answer of one readiness check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// Ready; the record may carry outputs that only appear once ready (a table path, say).
    Ready(Record),
    /// Still on its way; `phase` is what the cloud says (PROVISIONING, PENDING, ...).
    Pending { phase: String },
}

/// A change to a resource that exists, found by [`Resource::due`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A key that is old enough to be replaced.
    Rotate { reason: String },
    /// Attributes that drifted from the stack and can be set again in place.
    Update { what: Vec<Diff> },
    /// Drift the API cannot undo in place: the resource is deleted and made again.
    Replace { why: String },
}

/// One attribute that differs: what the stack wants and what the cloud has. A secret's values
/// are fingerprints (see [`fingerprint`]), never the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub attribute: String,
    pub wanted: String,
    pub found: String,
}

impl Diff {
    pub fn new(
        attribute: impl Into<String>,
        wanted: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Diff {
            attribute: attribute.into(),
            wanted: wanted.into(),
            found: found.into(),
        }
    }

    /// A value the cloud does not have at all.
    pub fn unset(attribute: impl Into<String>, wanted: impl Into<String>) -> Self {
        Diff::new(attribute, wanted, "(unset)")
    }
}

impl std::fmt::Display for Diff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Read as "it is X, and the stack makes it Y again".
        write!(f, "{}: {} -> {}", self.attribute, self.found, self.wanted)
    }
}

/// A short, stable stand-in for a secret's value: enough to tell two apart, nothing to learn
/// the secret from (12 hex digits of its SHA-256).
pub fn fingerprint(secret: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(secret.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

impl Change {
    pub fn is_rotation(&self) -> bool {
        matches!(self, Change::Rotate { .. })
    }

    /// Drift from the stack, as against a due rotation.
    pub fn is_drift(&self) -> bool {
        !self.is_rotation()
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Rotate { reason } => write!(f, "rotate ({reason})"),
            Change::Update { what } => {
                let parts: Vec<String> = what.iter().map(Diff::to_string).collect();
                write!(f, "update ({})", parts.join("; "))
            }
            Change::Replace { why } => write!(f, "replace ({why})"),
        }
    }
}

/// When keys are rotated: a new one once the newest is `day_count` days old, and at most
/// `keys_to_retain` per owner kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotation {
    pub day_count: u32,
    pub keys_to_retain: u32,
}

/// The records of a node's dependencies, by node id: how one node reads another's outputs.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    records: BTreeMap<String, Record>,
    memo: Arc<Memo>,
}

impl Inputs {
    pub fn new(records: BTreeMap<String, Record>) -> Self {
        Inputs {
            records,
            memo: Arc::default(),
        }
    }

    /// The same inputs, sharing `memo` with the other nodes of the run.
    pub fn in_run(mut self, memo: Arc<Memo>) -> Self {
        self.memo = memo;
        self
    }

    /// Reads this run's nodes share; see [`Memo`].
    pub fn memo(&self) -> &Memo {
        &self.memo
    }

    pub fn record(&self, node: &str) -> Result<&Record, NodeError> {
        self.records
            .get(node)
            .ok_or_else(|| NodeError::MissingInput {
                node: node.to_string(),
                key: "id".to_string(),
            })
    }

    /// Every dependency's record, by node id.
    pub fn records(&self) -> impl Iterator<Item = (&String, &Record)> {
        self.records.iter()
    }

    pub fn id(&self, node: &str) -> Result<&str, NodeError> {
        Ok(&self.record(node)?.id)
    }

    pub fn output(&self, node: &str, key: &str) -> Result<&str, NodeError> {
        self.record(node)?
            .outputs
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| NodeError::MissingInput {
                node: node.to_string(),
                key: key.to_string(),
            })
    }
}

/// Why one node failed. The engine adds which node it was.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("not implemented yet: {node} (the {cloud} module is not built)")]
    NotImplemented { node: String, cloud: String },
    #[error("missing input: {node}.{key} was not recorded")]
    MissingInput { node: String, key: String },
    #[error("not ready after {}s (last phase: {phase}); run the command again to keep waiting", after.as_secs())]
    WaitTimedOut { phase: String, after: Duration },
    /// The cloud refuses for now and says why (a parent whose children are still going): the
    /// engine asks again until the node's deadline.
    #[error("{message}")]
    Busy { message: String },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// One kind of resource, as the engine drives it. Every method may be called again after a crash,
/// so each must be safe to repeat: `find` before `create` is what makes a re-run adopt.
#[async_trait]
pub trait Resource: Send + Sync {
    /// Look the resource up: by `known` (what the state recorded) when given, else by its
    /// deterministic name. `None` means it does not exist.
    async fn find(
        &self,
        inputs: &Inputs,
        known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError>;

    /// Ask the cloud to make it. Returns as soon as the cloud has accepted it.
    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError>;

    /// One readiness check; the engine's poller calls it until ready or the deadline.
    async fn ready(&self, _inputs: &Inputs, record: &Record) -> Result<Readiness, NodeError> {
        Ok(Readiness::Ready(record.clone()))
    }

    /// A change that is due on an existing resource (a key rotation). Read-only.
    async fn due(&self, _inputs: &Inputs, _record: &Record) -> Result<Option<Change>, NodeError> {
        Ok(None)
    }

    /// How the resource differs from the stack (edited behind kickstart's back): what `plan`
    /// shows and `create` repairs. Read-only; `rotate` does not ask.
    async fn drift(&self, _inputs: &Inputs, _record: &Record) -> Result<Option<Change>, NodeError> {
        Ok(None)
    }

    /// Carry out a change that [`Resource::due`] or [`Resource::drift`] reported.
    async fn apply(
        &self,
        _inputs: &Inputs,
        _record: &Record,
        change: &Change,
    ) -> Result<Record, NodeError> {
        Err(NodeError::Other(anyhow::anyhow!(
            "this resource cannot {change}"
        )))
    }

    /// Delete it. A resource that is already gone counts as deleted.
    async fn delete(&self, inputs: &Inputs, record: &Record) -> Result<(), NodeError>;

    /// One check after `delete`: `None` once it is gone, or the phase it is still in (deletes
    /// that the cloud carries out in the background). The engine polls until the deadline.
    async fn gone(&self, _inputs: &Inputs, _record: &Record) -> Result<Option<String>, NodeError> {
        Ok(None)
    }
}

/// A node's label given its id: see [`Node::relabel`].
pub type Relabel = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// A node of the graph: a resource, where it sits, and how long it may take.
#[derive(Clone)]
pub struct Node {
    /// Stable id, independent of the stack name: `confluent.kafka_cluster`.
    pub id: String,
    /// What a person reads: `Kafka cluster tableflow_kickstarter`.
    pub label: String,
    /// Its label once the cloud has given it an id (its record's), where the id is the name
    /// chosen at create (a bucket's, a statement's): the engine tells it with [`Event::Named`].
    ///
    /// [`Event::Named`]: super::Event::Named
    pub relabel: Option<Relabel>,
    /// Which group it is drawn in (the cloud); the engine does not interpret it.
    pub group: &'static str,
    pub deps: Vec<String>,
    /// How long it usually takes; the scheduler starts the longest remaining path first.
    pub typical: Duration,
    /// How long a readiness wait may last before the run gives up (and the next run resumes).
    pub deadline: Duration,
    pub resource: Arc<dyn Resource>,
    /// Made by an earlier version of the stack and no longer wanted: `create` deletes it when
    /// the state records it, and nothing depends on it.
    pub retired: bool,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.id)
            .field("deps", &self.deps)
            .finish_non_exhaustive()
    }
}
