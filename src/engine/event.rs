//! What the engine reports as it goes. The printer turns these into lines or JSON.

use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Creating,
    Waiting,
    Rotating,
    /// Setting drifted attributes back, or replacing what cannot be; the phase says which.
    Repairing,
    Deleting,
}

/// How a node ended. The `Would*` kinds are `plan`'s; `Exists`/`Missing` are `status --refresh`'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Adopted,
    Resumed,
    Rotated,
    /// Drift set back in place.
    Updated,
    /// Drift the API cannot undo in place: deleted and made again.
    Replaced,
    Unchanged,
    Deleted,
    Absent,
    WouldCreate,
    WouldAdopt,
    WouldWait,
    WouldRotate,
    WouldUpdate,
    WouldReplace,
    /// Recorded, and no longer part of the stack.
    WouldDelete,
    Exists,
    Missing,
}

impl Outcome {
    /// What `plan` reports for it: did (or would) the run change something?
    pub fn is_change(self) -> bool {
        !matches!(
            self,
            Outcome::Unchanged | Outcome::Absent | Outcome::Exists | Outcome::Missing
        )
    }

    pub fn verb(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Adopted => "adopted",
            Outcome::Resumed => "ready",
            Outcome::Rotated => "rotated",
            Outcome::Updated => "updated",
            Outcome::Replaced => "replaced",
            Outcome::Unchanged => "unchanged",
            Outcome::Deleted => "deleted",
            Outcome::Absent => "absent",
            Outcome::WouldCreate => "create",
            Outcome::WouldAdopt => "adopt",
            Outcome::WouldWait => "wait",
            Outcome::WouldRotate => "rotate",
            Outcome::WouldUpdate => "update",
            Outcome::WouldReplace => "replace",
            Outcome::WouldDelete => "delete",
            Outcome::Exists => "exists",
            Outcome::Missing => "missing",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Start {
        node: String,
        label: String,
    },
    /// A step begun, or a wait in `phase` going on: said again while it lasts (see [`Waits`]).
    Step {
        node: String,
        step: Step,
        /// The cloud's own word for where it is (PROVISIONING), while waiting.
        #[serde(skip_serializing_if = "Option::is_none")]
        phase: Option<String>,
    },
    /// The node's label now that it has the name chosen at create (a bucket's, a statement's).
    Named {
        node: String,
        label: String,
    },
    Finish {
        node: String,
        outcome: Outcome,
        elapsed_ms: u64,
    },
    Fail {
        node: String,
        error: String,
        elapsed_ms: u64,
    },
}

/// How often a wait in one phase is told again, so that a long one shows it is still going.
pub const WAIT_TOLD_EVERY: Duration = Duration::from_secs(30);

/// Which of a wait's phases are worth an event: a new one, or the same one after
/// [`WAIT_TOLD_EVERY`] of silence.
#[derive(Default)]
pub struct Waits {
    last: Option<(String, Instant)>,
}

impl Waits {
    pub fn tells(&mut self, phase: &str) -> bool {
        let now = Instant::now();
        let tell = match &self.last {
            Some((last, at)) => last != phase || now - *at >= WAIT_TOLD_EVERY,
            None => true,
        };
        if tell {
            self.last = Some((phase.to_string(), now));
        }
        tell
    }
}

/// Hears every event; must be cheap, since the engine calls it inline.
pub trait Observer: Send + Sync {
    fn event(&self, event: Event);
}

/// For callers that do not want to hear anything.
pub struct Silent;

impl Observer for Silent {
    fn event(&self, _: Event) {}
}
