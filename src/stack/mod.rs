//! The whole deployment: every resource of STACK.md, built from the stack file (`kickstart.toml`,
//! or the embedded default) into nodes whose specs hold typed references to each other. The
//! engine runs it; `graph` draws it. The default stack is what the Terraform configuration said.

mod decl;
pub mod ids;
mod lake;
mod marker;
mod names;
mod not_built;
mod prune;
mod spec;
mod streaming;

use decl::Decls;

pub use decl::{ByCloud, Decl, Direction, Provider, graph_of};
pub use marker::Marker;
pub use names::{DEFAULT_STACK, Names};
pub use not_built::NotBuilt;
pub use prune::{legacy_rename, prune, recorded_label, recorded_spec};
pub use spec::{Cloud, Spec};

use crate::config::Stackfile;
use crate::engine::{Graph, GraphError};
use crate::state::StateDoc;

/// What the declaration is built from: the file, the names derived from the stack name, and
/// what only the clouds can say (the AWS account and region), where known.
pub struct Stack<'a> {
    pub names: &'a Names,
    pub file: &'a Stackfile,
    pub aws_account: Option<&'a str>,
    pub region: Option<&'a str>,
    /// What exists already, where known: some choices keep to what was made (see `lake`).
    pub state: Option<&'a StateDoc>,
    /// What the resources that can carry it say about the stack.
    pub marker: Marker,
}

impl<'a> Stack<'a> {
    /// Before any cloud is reached: the account and region are not known yet.
    pub fn offline(names: &'a Names, file: &'a Stackfile) -> Self {
        Stack {
            names,
            file,
            aws_account: None,
            region: None,
            state: None,
            marker: Marker::new(names.stack()),
        }
    }

    fn account(&self) -> &str {
        self.aws_account.unwrap_or("<aws account>")
    }

    fn region(&self) -> &str {
        self.region.unwrap_or("<region>")
    }
}

/// Every node the stack file declares.
pub fn declare(stack: &Stack) -> Vec<Decl> {
    let mut d = Decls::default();
    let streaming = streaming::declare(&mut d, stack);
    lake::declare(&mut d, stack, &streaming);
    if let Some(state) = stack.state {
        for decl in &mut d.0 {
            decl.known = state.record(&decl.id).map(|r| r.id.clone());
        }
    }
    d.0
}

/// The runnable graph of the stack file's nodes.
pub fn graph(stack: &Stack, provider: &dyn Provider) -> Result<Graph, GraphError> {
    graph_of(declare(stack), provider, Direction::Forward)
}

#[cfg(test)]
mod label_tests;
#[cfg(test)]
mod mark_tests;
#[cfg(test)]
mod tests;
