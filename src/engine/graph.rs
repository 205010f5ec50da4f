//! The dependency graph, checked once when it is built: every dependency names a node, no id is
//! used twice, and there is no cycle. Everything the engine later does relies on that.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::node::Node;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GraphError {
    #[error("node {0} is declared twice")]
    Duplicate(String),
    #[error("node {node} depends on {dep}, which is not in the graph")]
    UnknownDependency { node: String, dep: String },
    #[error("the graph has a cycle through: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
}

#[derive(Debug)]
pub struct Graph {
    nodes: Vec<Node>,
    index: HashMap<String, usize>,
    deps: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
    /// Indices in an order where every node comes after its dependencies.
    topo: Vec<usize>,
}

impl Graph {
    pub fn new(nodes: Vec<Node>) -> Result<Graph, GraphError> {
        let mut index = HashMap::new();
        for (i, node) in nodes.iter().enumerate() {
            if index.insert(node.id.clone(), i).is_some() {
                return Err(GraphError::Duplicate(node.id.clone()));
            }
        }
        let mut deps = vec![Vec::new(); nodes.len()];
        let mut dependents = vec![Vec::new(); nodes.len()];
        for (i, node) in nodes.iter().enumerate() {
            for dep in &node.deps {
                let &d = index
                    .get(dep)
                    .ok_or_else(|| GraphError::UnknownDependency {
                        node: node.id.clone(),
                        dep: dep.clone(),
                    })?;
                deps[i].push(d);
                dependents[d].push(i);
            }
        }
        let topo = topological_order(&nodes, &deps, &dependents)?;
        Ok(Graph {
            nodes,
            index,
            deps,
            dependents,
            topo,
        })
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn deps(&self, i: usize) -> &[usize] {
        &self.deps[i]
    }

    pub fn dependents(&self, i: usize) -> &[usize] {
        &self.dependents[i]
    }

    pub fn topo_order(&self) -> &[usize] {
        &self.topo
    }

    /// For each node, the longest chain of `cost` from it to the end of the graph, itself included,
    /// following dependents (`forward`) or dependencies (backward, as delete runs).
    pub fn remaining_path(&self, forward: bool, cost: impl Fn(&Node) -> Duration) -> Vec<Duration> {
        let mut rest = vec![Duration::ZERO; self.nodes.len()];
        let order: Box<dyn Iterator<Item = &usize>> = if forward {
            Box::new(self.topo.iter().rev())
        } else {
            Box::new(self.topo.iter())
        };
        for &i in order {
            let next = if forward {
                &self.dependents[i]
            } else {
                &self.deps[i]
            };
            let tail = next.iter().map(|&j| rest[j]).max().unwrap_or_default();
            rest[i] = cost(&self.nodes[i]) + tail;
        }
        rest
    }

    /// The longest chain of `cost` through the graph: no schedule can finish faster.
    pub fn critical_path(&self, cost: impl Fn(&Node) -> Duration) -> Duration {
        self.remaining_path(true, cost)
            .into_iter()
            .max()
            .unwrap_or_default()
    }

    /// Graphviz DOT, one cluster per group, edges from a dependency to what needs it.
    pub fn to_dot(&self, title: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "digraph {} {{", quote(title));
        let _ = writeln!(out, "  rankdir=LR;");
        let _ = writeln!(
            out,
            "  node [shape=box, style=rounded, fontname=\"Helvetica\"];"
        );
        let mut groups: Vec<&str> = self.nodes.iter().map(|n| n.group).collect();
        groups.dedup();
        groups.sort_unstable();
        groups.dedup();
        for group in groups {
            let _ = writeln!(out, "  subgraph {} {{", quote(&format!("cluster_{group}")));
            let _ = writeln!(out, "    label={};", quote(group));
            for node in self.nodes.iter().filter(|n| n.group == group) {
                let _ = writeln!(
                    out,
                    "    {} [label={}];",
                    quote(&node.id),
                    quote(&node.label)
                );
            }
            let _ = writeln!(out, "  }}");
        }
        for &i in &self.topo {
            for &d in &self.deps[i] {
                let (from, to) = (&self.nodes[d].id, &self.nodes[i].id);
                let _ = writeln!(out, "  {} -> {};", quote(from), quote(to));
            }
        }
        out.push_str("}\n");
        out
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Kahn's algorithm; what is left over lies on or behind a cycle, which is then named.
fn topological_order(
    nodes: &[Node],
    deps: &[Vec<usize>],
    dependents: &[Vec<usize>],
) -> Result<Vec<usize>, GraphError> {
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut ready: Vec<usize> = (0..nodes.len()).filter(|&i| waiting[i] == 0).collect();
    ready.reverse();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(i) = ready.pop() {
        order.push(i);
        for &j in &dependents[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.push(j);
            }
        }
    }
    if order.len() == nodes.len() {
        return Ok(order);
    }
    // Walk dependencies among the leftovers until a node repeats: that loop is the cycle.
    let start = (0..nodes.len()).find(|&i| waiting[i] > 0).unwrap_or(0);
    let mut path = vec![start];
    let mut at = start;
    loop {
        at = *deps[at]
            .iter()
            .find(|&&d| waiting[d] > 0)
            .expect("a node left over has a dependency left over");
        if let Some(pos) = path.iter().position(|&p| p == at) {
            let mut cycle: Vec<String> = path[pos..].iter().map(|&i| nodes[i].id.clone()).collect();
            cycle.reverse();
            cycle.push(cycle[0].clone());
            return Err(GraphError::Cycle(cycle));
        }
        path.push(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testing::node;

    #[test]
    fn rejects_unknown_dependencies_and_duplicates() {
        let err = Graph::new(vec![node("a", &["b"])]).unwrap_err();
        assert_eq!(
            err,
            GraphError::UnknownDependency {
                node: "a".into(),
                dep: "b".into()
            }
        );
        let err = Graph::new(vec![node("a", &[]), node("a", &[])]).unwrap_err();
        assert_eq!(err, GraphError::Duplicate("a".into()));
    }

    #[test]
    fn names_the_cycle() {
        let err = Graph::new(vec![
            node("root", &[]),
            node("a", &["root", "c"]),
            node("b", &["a"]),
            node("c", &["b"]),
        ])
        .unwrap_err();
        let GraphError::Cycle(cycle) = err else {
            panic!("expected a cycle, got {err:?}")
        };
        assert_eq!(cycle.first(), cycle.last());
        assert_eq!(cycle.len(), 4, "{cycle:?}");
        for id in ["a", "b", "c"] {
            assert!(cycle.contains(&id.to_string()), "{cycle:?}");
        }
    }

    #[test]
    fn critical_path_follows_the_longest_chain() {
        let secs = |n: &Node| Duration::from_secs(n.id.len() as u64);
        // a(1) -> bbb(3) -> dddd(4); a -> cc(2) -> dddd: longest is 1 + 3 + 4.
        let g = Graph::new(vec![
            node("a", &[]),
            node("bbb", &["a"]),
            node("cc", &["a"]),
            node("dddd", &["bbb", "cc"]),
        ])
        .unwrap();
        assert_eq!(g.critical_path(secs), Duration::from_secs(8));
        let back = g.remaining_path(false, secs);
        assert_eq!(back[g.position("dddd").unwrap()], Duration::from_secs(8));
    }
}
