//! What a run is given (its options) and what it gives back (its report), and how a change a
//! node reports becomes the outcome the report shows.

use std::time::Duration;

use super::event::Outcome;
use super::node::{Change, NodeError};
use super::poll::PollPolicy;

#[derive(Clone, Debug)]
pub struct Options {
    pub concurrency: usize,
    pub poll: PollPolicy,
    /// Replaces every node's own readiness deadline.
    pub deadline: Option<Duration>,
    /// Stop starting nodes on Ctrl-C (off in tests, which have no terminal).
    pub interruptible: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: 8,
            poll: PollPolicy::default(),
            deadline: None,
            interruptible: false,
        }
    }
}

#[derive(Debug)]
pub struct Failure {
    pub node: String,
    pub error: NodeError,
}

/// What a run did, node by node, and what stopped it.
#[derive(Debug, Default)]
pub struct Report {
    pub outcomes: Vec<(String, Outcome)>,
    pub failures: Vec<Failure>,
    /// What each changed (or, for `plan`, would change) node differs in: drift and rotations.
    pub changes: Vec<(String, Change)>,
    pub interrupted: bool,
    pub elapsed: Duration,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failures.is_empty() && !self.interrupted
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.outcomes.iter().filter(|(_, o)| *o == outcome).count()
    }

    pub fn outcome(&self, node: &str) -> Option<Outcome> {
        self.outcomes
            .iter()
            .find(|(n, _)| n == node)
            .map(|(_, o)| *o)
    }

    pub fn change(&self, node: &str) -> Option<&Change> {
        self.changes.iter().find(|(n, _)| n == node).map(|(_, c)| c)
    }
}

/// What `plan` reports for a change that is due.
pub(super) fn would(change: &Change) -> Outcome {
    match change {
        Change::Rotate { .. } => Outcome::WouldRotate,
        Change::Update { .. } => Outcome::WouldUpdate,
        Change::Replace { .. } => Outcome::WouldReplace,
    }
}

/// What `create` reports once it carried out a change.
pub(super) fn done(change: &Change) -> Outcome {
    match change {
        Change::Rotate { .. } => Outcome::Rotated,
        Change::Update { .. } => Outcome::Updated,
        Change::Replace { .. } => Outcome::Replaced,
    }
}
