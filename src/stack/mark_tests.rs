//! The stack's mark reaches what can carry it, as plain data each cloud understands: AWS tags,
//! a Confluent description within its bound, a Snowflake COMMENT; and nothing else carries it.

use super::*;
use crate::aws;
use crate::config::Stackfile;
use crate::confluent::kinds::{self as confluent, DESCRIPTION_BUDGET};
use crate::snowflake::kinds as sf;

fn declared_with(marker: Marker) -> Vec<Decl> {
    let names = Names::new("ci_1234");
    let file = Stackfile::default_stack();
    let mut stack = Stack::offline(&names, &file);
    stack.marker = marker;
    declare(&stack)
}

fn expiring(state: &str) -> Marker {
    Marker {
        stack: "ci_1234".into(),
        expires_at: Some("2026-12-03T10:00:00Z".parse().unwrap()),
        state: Some(state.into()),
    }
}

#[test]
fn every_kind_that_can_carry_the_mark_carries_it() {
    let marker = expiring("s3://states/ci/");
    let (tags, text) = (marker.tags(), marker.text());
    let mut marked = 0;
    for d in declared_with(marker.clone()) {
        let what = d.spec.kind().describe();
        match &d.spec {
            Spec::Aws(aws::kinds::Spec::Bucket(aws::kinds::Bucket { tags: t, .. }))
            | Spec::Aws(aws::kinds::Spec::IamRole(aws::kinds::IamRole { tags: t, .. }))
            | Spec::Aws(aws::kinds::Spec::IamPolicy(aws::kinds::IamPolicy { tags: t, .. }))
            | Spec::Aws(aws::kinds::Spec::Secret(aws::kinds::Secret { tags: t, .. }))
            | Spec::Snowflake(sf::Spec::KeyPairs(sf::KeyPairs { tags: t, .. })) => {
                assert_eq!(t, &tags, "{what}");
                marked += 1;
            }
            Spec::Snowflake(
                sf::Spec::Warehouse(sf::Warehouse { comment, .. })
                | sf::Spec::Database(sf::Database { comment, .. })
                | sf::Spec::Role(sf::Role { comment, .. })
                | sf::Spec::User(sf::User { comment, .. })
                | sf::Spec::ExternalVolume(sf::ExternalVolume { comment, .. })
                | sf::Spec::GlueCatalogIntegration(sf::GlueCatalogIntegration { comment, .. }),
            ) => {
                assert_eq!(comment, &text, "{what}");
                marked += 1;
            }
            Spec::Confluent(confluent::Spec::ServiceAccount(a)) => {
                assert_eq!(
                    Marker::parse(&a.description),
                    Some(marker.clone()),
                    "{what}"
                );
                marked += 1;
            }
            _ => {}
        }
    }
    // A bucket, 2 roles, 2 policies, 7 secrets; a warehouse, a database, 2 roles, the user,
    // the volume and the catalog integration; 6 service accounts.
    assert_eq!(marked, 1 + 2 + 2 + 7 + 7 + 6);
}

#[test]
fn a_service_account_description_keeps_to_its_bound_and_never_loses_the_stack() {
    let long = format!("/home/ci/{}/states/", "deep/".repeat(30));
    for d in declared_with(expiring(&long)) {
        if let Spec::Confluent(confluent::Spec::ServiceAccount(a)) = &d.spec {
            assert!(a.description.chars().count() <= DESCRIPTION_BUDGET, "{a:?}");
            let mark = Marker::parse(&a.description).unwrap();
            assert_eq!(mark.stack, "ci_1234");
            assert_eq!(mark.state, None);
            assert!(mark.expires_at.is_some(), "the expiry fits: {a:?}");
        }
    }
}
