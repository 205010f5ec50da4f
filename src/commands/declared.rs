//! The stack as this run sees it: what the stack file declares, plus what the state records
//! that the file no longer declares (retired, to be deleted), in one list of declarations.

use std::collections::BTreeMap;

use crate::aws;
use crate::config::Stackfile;
use crate::engine::{Graph, GraphError};
use crate::stack::{self, Decl, Direction, Marker, Names, Provider, Spec, Stack};
use crate::state::StateDoc;

use super::connect::Connected;

pub struct Declared {
    pub decls: Vec<Decl>,
    /// Recorded nodes that cannot be rebuilt: an earlier kickstart recorded them without a spec.
    pub unknown: Vec<String>,
}

impl Declared {
    pub fn new(
        names: &Names,
        file: &Stackfile,
        connected: Option<&Connected>,
        doc: Option<&StateDoc>,
        marker: Marker,
    ) -> Declared {
        let stack = Stack {
            names,
            file,
            aws_account: connected.map(Connected::account),
            region: connected.map(Connected::region),
            state: doc,
            marker,
        };
        let mut decls = stack::declare(&stack);
        let unknown = match doc {
            Some(doc) => stack::prune(&mut decls, doc, names),
            None => Vec::new(),
        };
        Declared { decls, unknown }
    }

    /// Every client secret, retired ones too: their keys may still be in use this run.
    pub fn client_secrets(&self) -> Vec<aws::kinds::Secret> {
        self.decls
            .iter()
            .filter_map(|d| match &d.spec {
                Spec::Aws(aws::kinds::Spec::Secret(s)) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    /// What the state records with each declared node.
    pub fn specs(&self) -> BTreeMap<String, serde_json::Value> {
        self.decls
            .iter()
            .filter(|d| !d.retired)
            .map(|d| (d.id.clone(), stack::recorded_spec(d)))
            .collect()
    }

    pub fn graph(
        &self,
        provider: &dyn Provider,
        direction: Direction,
    ) -> Result<Graph, GraphError> {
        stack::graph_of(self.decls.clone(), provider, direction)
    }

    /// A warning for recorded nodes nothing can delete, or `None`.
    pub fn unknown_warning(&self) -> Option<String> {
        let first = self.unknown.first()?;
        Some(format!(
            "the state records {} node(s) the stack file no longer declares, recorded by an earlier kickstart without their settings ({first}{}): remove them by hand, then `kickstart state forget ID`",
            self.unknown.len(),
            if self.unknown.len() > 1 { ", ..." } else { "" }
        ))
    }
}
