//! Runs a resource graph. Knows nothing of any cloud: nodes are [`Resource`]s, and everything
//! cloud-specific lives behind that trait.

mod event;
mod graph;
mod interrupt;
mod kind;
mod ledger;
mod memo;
mod node;
mod poll;
mod report;
mod retry;
mod run;
#[doc(hidden)]
pub mod testing;

pub use event::{Event, Observer, Outcome, Silent, Step, WAIT_TOLD_EVERY};
pub use graph::{Graph, GraphError};
pub use kind::{Any, Kind, KindOf, Ref, ids, known_as, name_or};
pub use ledger::{Ledger, MemorySink, StateSink};
pub use memo::Memo;
pub use node::{
    Change, Diff, Inputs, Node, NodeError, Outputs, Readiness, Record, Relabel, Resource, Rotation,
    fingerprint,
};
pub use poll::PollPolicy;
pub use report::{Failure, Options, Report};
pub use retry::{RetryPolicy, Transient};
pub use run::Engine;
