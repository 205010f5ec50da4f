//! A declared node and how the declaration becomes the engine's graph: each cloud's provider
//! gives each node its implementation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::spec::spec_of;
use super::{Cloud, Spec};
use crate::aws::AwsProvider;
use crate::confluent::ConfluentProvider;
use crate::engine::{Graph, GraphError, KindOf, Node, Ref, Relabel, Resource};
use crate::snowflake::SnowflakeProvider;

/// One declared node, before a cloud module has given it a way to run. Its dependencies are the
/// references its spec holds.
#[derive(Clone, Debug)]
pub struct Decl {
    pub id: String,
    /// Its row in STACK.md (C2, A1, S4, ...), for the design's readers: labels never show it.
    pub reference: String,
    pub spec: Spec,
    /// In the state but no longer declared: `create` deletes it (see [`Node::retired`]).
    pub retired: bool,
    /// The id the state records for it, if any: a name chosen at create shows in its label.
    pub known: Option<String>,
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

    /// What the node is, without its STACK.md row.
    pub fn spec_label(&self) -> String {
        self.spec.kind().describe()
    }

    /// What every line about it says: what it is, named as in its cloud.
    pub fn label(&self) -> String {
        let kind = self.spec.kind();
        let label = match &self.known {
            Some(id) => kind.named(id),
            None => kind.describe(),
        };
        retired_label(label, self.retired)
    }

    /// Its label once it has the id `id`, for the engine to tell once it has made it.
    fn relabel(&self) -> Relabel {
        let (spec, retired) = (self.spec.clone(), self.retired);
        Arc::new(move |id| retired_label(spec.kind().named(id), retired))
    }
}

fn retired_label(label: String, retired: bool) -> String {
    if retired {
        format!("{label} (no longer part of the stack)")
    } else {
        label
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

/// Which way a graph is run: `create` and `plan` go forward, `delete` backward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
}

/// The runnable graph of these declarations. A retired node's references to nodes that are
/// neither declared nor recorded are dropped: nothing is left to order it against. Run forward,
/// retired nodes are deleted, so between two of them the edge turns round: what depended on
/// the other goes first, as it would in a delete.
pub fn graph_of(
    decls: Vec<Decl>,
    provider: &dyn Provider,
    direction: Direction,
) -> Result<Graph, GraphError> {
    let known: BTreeSet<String> = decls.iter().map(|d| d.id.clone()).collect();
    let retired: BTreeSet<String> = decls
        .iter()
        .filter(|d| d.retired)
        .map(|d| d.id.clone())
        .collect();
    let mut deps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for decl in &decls {
        let mine = deps.entry(decl.id.clone()).or_default();
        for dep in decl.deps() {
            if decl.retired && !known.contains(&dep) {
                continue;
            }
            let turned = direction == Direction::Forward && decl.retired && retired.contains(&dep);
            if !turned {
                mine.push(dep);
            }
        }
        if direction == Direction::Forward && decl.retired {
            for dep in decl.deps().into_iter().filter(|d| retired.contains(d)) {
                deps.entry(dep).or_default().push(decl.id.clone());
            }
        }
    }
    let nodes = decls
        .into_iter()
        .map(|decl| {
            let (typical, deadline) = decl.spec.kind().timing();
            Node {
                label: decl.label(),
                relabel: Some(decl.relabel()),
                group: decl.cloud().name(),
                typical,
                deadline,
                resource: provider.resource(&decl),
                retired: decl.retired,
                deps: deps.remove(&decl.id).unwrap_or_default(),
                id: decl.id,
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
            known: None,
        });
        Ref::new(id)
    }
}
