//! A declared node and how the declaration becomes the engine's graph: each cloud's provider
//! gives each node its implementation.

use std::sync::Arc;

use super::{Cloud, Names, Spec, declare};
use crate::engine::{Graph, GraphError, Node, Resource};

/// One declared node, before a cloud module has given it a way to run.
#[derive(Clone, Debug)]
pub struct Decl {
    pub id: String,
    /// Its row in STACK.md (C2, A1, S4, ...).
    pub reference: &'static str,
    pub cloud: Cloud,
    pub spec: Spec,
    pub deps: Vec<String>,
    /// Made by an earlier version of the stack; `create` removes it (see [`Node::retired`]).
    pub retired: bool,
}

impl Decl {
    pub fn label(&self) -> String {
        let label = format!("{} {}", self.reference, self.spec.describe());
        if self.retired {
            format!("{label} (made by an earlier version; no longer part of the stack)")
        } else {
            label
        }
    }
}

/// Gives each declared node its implementation: that is each cloud module's job.
pub trait Provider {
    fn resource(&self, decl: &Decl) -> Arc<dyn Resource>;
}

/// Gives each node the provider of its own cloud.
pub struct ByCloud<'a> {
    pub confluent: &'a dyn Provider,
    pub aws: &'a dyn Provider,
    pub snowflake: &'a dyn Provider,
}

impl Provider for ByCloud<'_> {
    fn resource(&self, decl: &Decl) -> Arc<dyn Resource> {
        match decl.cloud {
            Cloud::Confluent => self.confluent.resource(decl),
            Cloud::Aws => self.aws.resource(decl),
            Cloud::Snowflake => self.snowflake.resource(decl),
        }
    }
}

/// The runnable graph of the stack.
pub fn graph(names: &Names, provider: &dyn Provider) -> Result<Graph, GraphError> {
    let nodes = declare(names)
        .into_iter()
        .map(|decl| {
            let (typical, deadline) = decl.spec.timing();
            Node {
                label: decl.label(),
                group: decl.cloud.name(),
                typical,
                deadline,
                resource: provider.resource(&decl),
                retired: decl.retired,
                id: decl.id,
                deps: decl.deps,
            }
        })
        .collect();
    Graph::new(nodes)
}

#[derive(Default)]
pub(super) struct Decls(pub(super) Vec<Decl>);

impl Decls {
    pub(super) fn add(
        &mut self,
        id: &str,
        reference: &'static str,
        cloud: Cloud,
        spec: Spec,
        deps: &[&str],
    ) {
        self.0.push(Decl {
            id: id.to_string(),
            reference,
            cloud,
            spec,
            deps: deps.iter().map(|d| d.to_string()).collect(),
            retired: false,
        });
    }

    /// A node an earlier version of the stack made and this one does not want any more.
    pub(super) fn retire(
        &mut self,
        id: &str,
        reference: &'static str,
        cloud: Cloud,
        spec: Spec,
        deps: &[&str],
    ) {
        self.add(id, reference, cloud, spec, deps);
        if let Some(last) = self.0.last_mut() {
            last.retired = true;
        }
    }
}
