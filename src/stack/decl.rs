//! A declared node and how the declaration becomes the engine's graph: each cloud's provider
//! gives each node its implementation.

use std::sync::Arc;

use super::spec::spec_of;
use super::{Cloud, Spec};
use crate::aws::AwsProvider;
use crate::confluent::ConfluentProvider;
use crate::engine::{Graph, GraphError, KindOf, Node, Ref, Resource};
use crate::snowflake::SnowflakeProvider;

/// One declared node, before a cloud module has given it a way to run. Its dependencies are the
/// references its spec holds.
#[derive(Clone, Debug)]
pub struct Decl {
    pub id: String,
    /// Its row in STACK.md (C2, A1, S4, ...).
    pub reference: String,
    pub spec: Spec,
    /// In the state but no longer declared: `create` deletes it (see [`Node::retired`]).
    pub retired: bool,
}

impl Decl {
    pub fn cloud(&self) -> Cloud {
        self.spec.cloud()
    }

    pub fn deps(&self) -> Vec<String> {
        let mut deps: Vec<String> = Vec::new();
        for d in self.spec.kind().refs() {
            if !d.is_empty() && !deps.iter().any(|x| x == d) {
                deps.push(d.to_string());
            }
        }
        deps
    }

    pub fn label(&self) -> String {
        let label = format!("{} {}", self.reference, self.spec.kind().describe());
        if self.retired {
            format!("{label} (no longer part of the stack)")
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
        match decl.cloud() {
            Cloud::Confluent => self.confluent.resource(decl),
            Cloud::Aws => self.aws.resource(decl),
            Cloud::Snowflake => self.snowflake.resource(decl),
        }
    }
}

/// Each cloud's provider takes its own cloud's specs; given another's, it builds a node that
/// refuses every call, naming the node.
macro_rules! provides {
    ($provider:ty, $variant:ident) => {
        impl Provider for $provider {
            fn resource(&self, decl: &Decl) -> Arc<dyn Resource> {
                match &decl.spec {
                    Spec::$variant(k) => <$provider>::resource(self, k),
                    _ => super::NotBuilt.resource(decl),
                }
            }
        }
    };
}

provides!(ConfluentProvider, Confluent);
provides!(AwsProvider, Aws);
provides!(SnowflakeProvider, Snowflake);

/// The runnable graph of these declarations. A retired node's references to nodes that are
/// neither declared nor recorded are dropped: nothing is left to order it against.
pub fn graph_of(decls: Vec<Decl>, provider: &dyn Provider) -> Result<Graph, GraphError> {
    let known: std::collections::BTreeSet<String> = decls.iter().map(|d| d.id.clone()).collect();
    let nodes = decls
        .into_iter()
        .map(|decl| {
            let (typical, deadline) = decl.spec.kind().timing();
            let mut deps = decl.deps();
            if decl.retired {
                deps.retain(|d| known.contains(d));
            }
            Node {
                label: decl.label(),
                group: decl.cloud().name(),
                typical,
                deadline,
                resource: provider.resource(&decl),
                retired: decl.retired,
                id: decl.id,
                deps,
            }
        })
        .collect();
    Graph::new(nodes)
}

#[derive(Default)]
pub(super) struct Decls(pub(super) Vec<Decl>);

impl Decls {
    /// Declares a node and gives back the typed reference others hold to it.
    pub(super) fn add<K: KindOf>(
        &mut self,
        id: impl Into<String>,
        reference: &str,
        kind: K,
    ) -> Ref<K>
    where
        Spec: From<K::Cloud>,
    {
        let id = id.into();
        self.0.push(Decl {
            id: id.clone(),
            reference: reference.to_string(),
            spec: spec_of(kind),
            retired: false,
        });
        Ref::new(id)
    }
}
