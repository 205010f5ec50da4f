//! Snowflake drift against the emulator: a user's default changed by hand, a grant revoked.

use super::{Context, Diff, Outcome, diffs, nothing_to_do};
use crate::snowflake::snowflake;

#[tokio::test(flavor = "multi_thread")]
async fn a_snowflake_user_default_changed_by_hand_is_set_again() {
    let w = snowflake().start().await;
    let ledger = w.ledger();
    let made = w.engine(&ledger).create().await;
    assert!(made.ok(), "{:?}", made.failures);
    nothing_to_do(&w.engine(&ledger).plan().await);

    let user = w.names.upper("USER");
    let role = w.names.upper("SYSTEM_ADMIN_ROLE");
    w.sf()
        .run(
            "SECURITYADMIN",
            &format!("ALTER USER \"{user}\" SET DEFAULT_ROLE = PUBLIC"),
        )
        .await
        .unwrap();

    let plan = w.engine(&ledger).plan().await;
    assert!(plan.ok(), "{:?}", plan.failures);
    assert_eq!(plan.outcome("snowflake.user"), Some(Outcome::WouldUpdate));
    assert_eq!(
        diffs(&plan, "snowflake.user"),
        vec![Diff::new("default_role", role.as_str(), "PUBLIC")]
    );

    let repaired = w.engine(&ledger).create().await;
    assert!(repaired.ok(), "{:?}", repaired.failures);
    assert_eq!(repaired.outcome("snowflake.user"), Some(Outcome::Updated));
    nothing_to_do(&w.engine(&ledger).plan().await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_snowflake_grant_is_missing_and_granted_again() {
    let w = snowflake().start().await;
    let ledger = w.ledger();
    let made = w.engine(&ledger).create().await;
    assert!(made.ok(), "{:?}", made.failures);

    let user = w.names.upper("USER");
    let role = w.names.upper("SECURITY_ADMIN_ROLE");
    w.sf()
        .run(
            "SECURITYADMIN",
            &format!("REVOKE ROLE \"{role}\" FROM USER \"{user}\""),
        )
        .await
        .unwrap();
    let granted = |w: &Context| {
        w.emulator
            .grants()
            .contains(&(format!("ROLE {role}"), user.clone()))
    };
    assert!(!granted(&w), "revoked behind kickstart's back");

    let grant = "snowflake.grant.security_admin_role";
    let plan = w.engine(&ledger).plan().await;
    assert!(plan.ok(), "{:?}", plan.failures);
    assert_eq!(plan.outcome(grant), Some(Outcome::WouldCreate));

    let repaired = w.engine(&ledger).create().await;
    assert!(repaired.ok(), "{:?}", repaired.failures);
    assert_eq!(repaired.outcome(grant), Some(Outcome::Created));
    assert!(granted(&w));
    nothing_to_do(&w.engine(&ledger).plan().await);
}
