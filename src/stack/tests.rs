//! The stack declaration checked against STACK.md.

use super::ids::*;
use super::*;
use crate::confluent::kinds::{self as confluent, Scope};
use crate::snowflake::kinds::{self as sf, Privilege};

fn declare_for(stack: &str) -> Vec<Decl> {
    let file = Stackfile::default_stack();
    declare(&Stack::offline(&Names::new(stack), &file))
}

fn decls() -> Vec<Decl> {
    declare_for(DEFAULT_STACK)
}

fn graph_for(stack: &str) -> Result<Graph, GraphError> {
    graph_of(declare_for(stack), &NotBuilt, Direction::Forward)
}

#[test]
fn the_stack_graph_is_acyclic_and_every_dependency_exists() {
    for stack in [DEFAULT_STACK, "team_b"] {
        let graph = graph_for(stack);
        assert!(graph.is_ok(), "{stack}: {:?}", graph.err());
    }
}

#[test]
fn every_row_of_stack_md_is_a_node() {
    let decls = decls();
    let refs: std::collections::BTreeSet<&str> =
        decls.iter().map(|d| d.reference.as_str()).collect();
    for prefix_count in [("C", 14), ("A", 6), ("S", 6)] {
        for i in 1..=prefix_count.1 {
            let r = format!("{}{i}", prefix_count.0);
            assert!(refs.contains(r.as_str()), "no node for {r}");
        }
    }
    let count = |kind: &str| {
        decls
            .iter()
            .filter(|d| !d.retired && recorded_spec(d)["spec"]["spec"]["kind"] == kind)
            .count()
    };
    assert_eq!(count("service_account"), 6);
    // app_manager, the SR account's two, the Flink runner's five, the integration's owner.
    assert_eq!(count("role_binding"), 9);
    assert_eq!(count("api_key"), 6);
    assert_eq!(count("acl"), 7);
    // Six client secrets, and the key pairs.
    assert_eq!(count("secret"), 6);
    assert_eq!(count("key_pairs"), 1);
    assert_eq!(count("iceberg_table"), 2);
    assert_eq!(decls.len(), 74);
}

#[test]
fn the_cross_cloud_cycles_are_broken_in_the_agreed_order() {
    let graph = graph_for(DEFAULT_STACK).unwrap();
    let before = |a: &str, b: &str| {
        let order = graph.topo_order();
        let pos = |id| order.iter().position(|&i| graph.node(i).id == id).unwrap();
        pos(a) < pos(b)
    };
    // C12 -> A2 -> C13
    assert!(before(PROVIDER, TABLEFLOW_ROLE));
    assert!(before(TABLEFLOW_ROLE, "confluent.tableflow.stock_trades"));
    // S4/S5 -> A3 trust -> S6
    assert!(before(VOLUME, SNOWFLAKE_TRUST));
    assert!(before(SF_CATALOG, SNOWFLAKE_TRUST));
    assert!(before(
        SNOWFLAKE_TRUST,
        "snowflake.iceberg_table.stock_trades"
    ));
    // Delete runs backwards: the statement goes before its output topic, the catalog sync
    // before its Glue database.
    assert!(before(TOTALS_TOPIC, STATEMENT));
    assert!(before(GLUE_DB, CATALOG));
}

#[test]
fn names_follow_the_stack_name() {
    let decls = declare_for("team_b");
    let has = |needle: &str| decls.iter().any(|d| d.label().contains(needle));
    assert!(has("team_b_tableflow_app_manager"));
    assert!(has("TEAM_B_WAREHOUSE"));
    assert!(has("/confluent_cloud_resource/team_b/flink"));
    assert!(!has("tableflow_kickstarter"));
}

#[test]
fn the_flink_runner_has_least_privilege() {
    let decls = decls();
    let runner = "confluent.service_account.flink_statements_runner";
    let roles: Vec<(String, Scope, String)> = decls
        .iter()
        .filter_map(|d| match &d.spec {
            Spec::Confluent(confluent::Spec::RoleBinding(b)) if b.principal.id() == runner => {
                Some((b.role.clone(), b.on.clone(), b.pattern.clone()))
            }
            _ => None,
        })
        .collect();
    let cluster = || Scope::Cluster(crate::engine::Ref::new(CLUSTER));
    let owner = |on, pattern: &str| ("ResourceOwner".to_string(), on, pattern.to_string());
    assert_eq!(
        roles,
        vec![
            ("FlinkDeveloper".into(), Scope::Organization, String::new()),
            owner(cluster(), "/kafka=<lkc>/topic=*"),
            owner(cluster(), "/kafka=<lkc>/transactional-id=*"),
            owner(
                Scope::SchemaRegistry(crate::engine::Ref::new(SR)),
                "/subject=*"
            ),
            (
                "Assigner".into(),
                Scope::Organization,
                "/service-account=<principal>".into()
            ),
        ]
    );
}

#[test]
fn what_earlier_versions_made_is_retired_and_nothing_live_depends_on_it() {
    let mut decls = decls();
    let mut doc = crate::state::StateDoc::new(DEFAULT_STACK);
    for id in [
        CONNECTOR_KEY,
        CONNECTOR_SECRET,
        FLINK_ADMIN,
        "confluent.connector",
    ] {
        doc.put(
            id,
            crate::state::Record::new("x"),
            crate::state::Status::Ready,
        )
        .unwrap();
    }
    assert!(legacy_rename(&mut doc));
    assert!(doc.nodes.contains_key(CONNECTOR));
    let unknown = prune(&mut decls, &doc, &Names::new(DEFAULT_STACK));
    assert!(unknown.is_empty(), "{unknown:?}");
    let retired: Vec<&str> = decls
        .iter()
        .filter(|d| d.retired)
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(retired, vec![CONNECTOR_SECRET, CONNECTOR_KEY, FLINK_ADMIN]);
    for d in decls.iter().filter(|d| !d.retired) {
        assert!(
            d.deps().iter().all(|x| !retired.contains(&x.as_str())),
            "{} depends on a retired node",
            d.id
        );
    }
    let forward = graph_of(decls.clone(), &NotBuilt, Direction::Forward).unwrap();
    let backward = graph_of(decls, &NotBuilt, Direction::Backward).unwrap();
    // The old secret holds the old key: deleting, it goes first either way.
    let at = |g: &Graph, id: &str| g.position(id).unwrap();
    let (secret, key) = (CONNECTOR_SECRET, CONNECTOR_KEY);
    assert!(
        forward
            .deps(at(&forward, key))
            .contains(&at(&forward, secret))
    );
    assert!(
        backward
            .deps(at(&backward, secret))
            .contains(&at(&backward, key))
    );
}

#[test]
fn a_node_the_file_no_longer_declares_is_retired_from_its_recorded_spec() {
    let decls = decls();
    let topic = decls
        .iter()
        .find(|d| d.id == "confluent.topic.stock_trades")
        .unwrap();
    let mut doc = crate::state::StateDoc::new(DEFAULT_STACK);
    doc.put(
        "confluent.topic.old",
        crate::state::Record::new("old"),
        crate::state::Status::Ready,
    )
    .unwrap();
    let mut renamed = recorded_spec(topic);
    renamed["spec"]["spec"]["name"] = "old".into();
    doc.set_spec("confluent.topic.old", renamed);
    doc.put(
        "confluent.topic.lost",
        crate::state::Record::new("lost"),
        crate::state::Status::Ready,
    )
    .unwrap();
    let mut all = decls.clone();
    let unknown = prune(&mut all, &doc, &Names::new(DEFAULT_STACK));
    assert_eq!(unknown, vec!["confluent.topic.lost".to_string()]);
    let old = all.iter().find(|d| d.id == "confluent.topic.old").unwrap();
    assert!(old.retired);
    assert!(old.label().contains("topic old"));
    assert_eq!(old.deps(), topic.deps());
}

#[test]
fn snowflake_grants_follow_the_seed() {
    let decls = decls();
    let grants: Vec<(&str, &str, &str)> = decls
        .iter()
        .filter_map(|d| match &d.spec {
            Spec::Snowflake(sf::Spec::Grant(sf::Grant {
                grant:
                    Privilege::Usage {
                        privilege,
                        object_type,
                        role,
                        ..
                    },
                ..
            })) => Some((privilege.as_str(), object_type.as_str(), role.as_str())),
            _ => None,
        })
        .collect();
    let system = "TABLEFLOW_KICKSTARTER_SYSTEM_ADMIN_ROLE";
    let security = "TABLEFLOW_KICKSTARTER_SECURITY_ADMIN_ROLE";
    assert_eq!(
        grants,
        vec![
            ("USAGE", "WAREHOUSE", system),
            ("USAGE", "DATABASE", system),
            ("USAGE", "SCHEMA", system),
            ("USAGE", "EXTERNAL VOLUME", system),
            ("USAGE", "INTEGRATION", system),
            ("ALL PRIVILEGES", "USER", security),
        ]
    );
}
