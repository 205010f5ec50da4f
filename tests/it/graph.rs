//! `kickstart graph`: valid DOT that holds every node of STACK.md.

use crate::common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use common::Test;
use kickstart::stack::{self, DEFAULT_STACK, Names};

#[test]
fn graph_is_valid_dot_with_every_node_and_edge() {
    let (run, _) = Test::new().args(["graph"]).status(0).run();
    let (names, file) = (
        Names::new(DEFAULT_STACK),
        kickstart::config::Stackfile::default_stack(),
    );
    let decls = stack::declare(&stack::Stack::offline(&names, &file));
    for decl in &decls {
        // Drawn under the label every other command gives it.
        let drawn = format!("\"{}\" [label=\"{}\"];", decl.id, decl.label());
        assert!(run.stdout.contains(&drawn), "no {drawn}");
        for dep in &decl.deps() {
            assert!(
                run.stdout
                    .contains(&format!("\"{dep}\" -> \"{}\";", decl.id)),
                "{dep} -> {}",
                decl.id
            );
        }
    }
    // Every row of STACK.md (C1..C14, A1..A6, S1..S6) is a node drawn.
    let rows = stack_md_rows();
    assert!(rows.len() >= 26, "{rows:?}");
    for row in rows {
        assert!(
            decls.iter().any(|d| d.reference == row),
            "no node for {row}"
        );
    }

    // A missing `dot` fails the test rather than passing it unparsed: `./test` installs graphviz.
    let mut dot = Command::new("dot")
        .arg("-Tcanon")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("graphviz's dot does not run ({e}): ./test installs it"));
    dot.stdin
        .take()
        .unwrap()
        .write_all(run.stdout.as_bytes())
        .unwrap();
    let out = dot.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "dot rejected the graph: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "dot warned: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The row references of STACK.md's tables, from the shared copy beside the checkout: a list
/// written here would pass whatever STACK.md says.
fn stack_md_rows() -> Vec<String> {
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/STACK.md");
    let text = std::fs::read_to_string(shared).unwrap_or_else(|e| {
        panic!("STACK.md is not at {shared} ({e}): the graph is checked against it")
    });
    text.lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(' ').next())
        .filter(|r| {
            r.len() >= 2
                && r[..1].chars().all(|c| "CAS".contains(c))
                && r[1..].chars().all(|c| c.is_ascii_digit())
        })
        .map(str::to_string)
        .collect()
}
