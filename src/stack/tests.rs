//! The stack declaration checked against STACK.md.

use super::*;

fn decls() -> Vec<Decl> {
    declare(&Names::new(DEFAULT_STACK))
}

#[test]
fn the_stack_graph_is_acyclic_and_every_dependency_exists() {
    for stack in [DEFAULT_STACK, "team_b"] {
        let graph = graph(&Names::new(stack), &NotBuilt);
        assert!(graph.is_ok(), "{stack}: {:?}", graph.err());
    }
}

#[test]
fn every_row_of_stack_md_is_a_node() {
    let decls = decls();
    let refs: std::collections::BTreeSet<&str> = decls.iter().map(|d| d.reference).collect();
    for prefix_count in [("C", 14), ("A", 6), ("S", 6)] {
        for i in 1..=prefix_count.1 {
            let r = format!("{}{i}", prefix_count.0);
            assert!(refs.contains(r.as_str()), "no node for {r}");
        }
    }
    let live = |f: fn(&Spec) -> bool| decls.iter().filter(|d| !d.retired && f(&d.spec)).count();
    let count = live;
    assert_eq!(count(|s| matches!(s, Spec::ServiceAccount { .. })), 6);
    // app_manager, the SR account's two, the Flink runner's five, the integration's owner.
    assert_eq!(count(|s| matches!(s, Spec::RoleBinding { .. })), 9);
    assert_eq!(count(|s| matches!(s, Spec::ApiKey { .. })), 6);
    assert_eq!(count(|s| matches!(s, Spec::Acl { .. })), 7);
    assert_eq!(count(|s| matches!(s, Spec::Secret { .. })), 7);
    assert_eq!(count(|s| matches!(s, Spec::IcebergTable { .. })), 2);
}

#[test]
fn the_cross_cloud_cycles_are_broken_in_the_agreed_order() {
    let graph = graph(&Names::new(DEFAULT_STACK), &NotBuilt).unwrap();
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
    let decls = declare(&Names::new("team_b"));
    let has = |needle: &str| decls.iter().any(|d| d.label().contains(needle));
    assert!(has("team_b_tableflow_app_manager"));
    assert!(has("TEAM_B_WAREHOUSE"));
    assert!(has("/confluent_cloud_resource/team_b/flink"));
    assert!(!has("tableflow_kickstarter"));
}

#[test]
fn the_flink_runner_has_least_privilege_and_earlier_grants_are_retired() {
    let decls = decls();
    let runner = "confluent.service_account.flink_statements_runner";
    let roles: Vec<(&str, &str, &str)> = decls
        .iter()
        .filter(|d| !d.retired && d.deps.iter().any(|x| x == runner))
        .filter_map(|d| match d.spec {
            Spec::RoleBinding { role, on, pattern } => Some((role, on, pattern)),
            _ => None,
        })
        .collect();
    assert_eq!(
        roles,
        vec![
            ("FlinkDeveloper", ids::ORGANIZATION, ""),
            ("ResourceOwner", CLUSTER, "/kafka=<lkc>/topic=*"),
            ("ResourceOwner", CLUSTER, "/kafka=<lkc>/transactional-id=*"),
            ("ResourceOwner", SR, "/subject=*"),
            (
                "Assigner",
                ids::ORGANIZATION,
                "/service-account=<principal>"
            ),
        ]
    );
    let retired: Vec<&str> = decls
        .iter()
        .filter(|d| d.retired)
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(retired, vec![CONNECTOR_KEY, CONNECTOR_SECRET, FLINK_ADMIN]);
    // Nothing live depends on a retired node.
    for d in decls.iter().filter(|d| !d.retired) {
        assert!(
            d.deps.iter().all(|x| !retired.contains(&x.as_str())),
            "{} depends on a retired node",
            d.id
        );
    }
}

#[test]
fn snowflake_grants_follow_the_seed() {
    let decls = decls();
    let grants: Vec<(&str, &str, &str)> = decls
        .iter()
        .filter_map(|d| match &d.spec {
            Spec::Grant(Grant::Usage {
                privilege,
                object_type,
                role,
                ..
            }) => Some((*privilege, *object_type, role.as_str())),
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
