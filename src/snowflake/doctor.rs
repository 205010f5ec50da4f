//! Whether the Snowflake admin may build the stack: the stack's SQL runs as ACCOUNTADMIN (the
//! external volume and the catalog integration, account-level objects), SECURITYADMIN (users,
//! roles, grants) and SYSADMIN (warehouse, database, schema, tables). `SHOW GRANTS TO USER`,
//! which any user may run about themselves, lists the roles granted to the admin; a system role
//! also brings those beneath it (ACCOUNTADMIN holds SECURITYADMIN and SYSADMIN).

use super::sql::ident;
use super::{Snowflake, text};
use crate::checks::Check;

const CLOUD: &str = "snowflake";

/// Each role the stack's sessions use, and what for.
const NEEDED: &[(&str, &str)] = &[
    (
        "ACCOUNTADMIN",
        "its external volume and catalog integration",
    ),
    ("SECURITYADMIN", "its user, roles and grants"),
    (
        "SYSADMIN",
        "its warehouse, database, schema and Iceberg tables",
    ),
];

/// The system roles that hold `role`, directly or not.
fn above(role: &str) -> &'static [&'static str] {
    match role {
        "SECURITYADMIN" | "SYSADMIN" => &["ACCOUNTADMIN"],
        "USERADMIN" => &["SECURITYADMIN", "ACCOUNTADMIN"],
        _ => &[],
    }
}

/// Whether a user granted `granted` may use `role`.
pub fn usable(granted: &[String], role: &str) -> bool {
    let has = |r: &str| granted.iter().any(|g| g.eq_ignore_ascii_case(r));
    has(role) || above(role).iter().any(|r| has(r))
}

pub async fn check(sf: &Snowflake) -> Vec<Check> {
    let user = sf
        .admin
        .as_ref()
        .map_or("", |a| a.user.as_str())
        .to_string();
    let what = |role: &str, for_what: &str| {
        format!("the admin user {user} may use role {role} (the stack makes {for_what} with it)")
    };
    // In the SYSADMIN session the preflight opened (one call fewer than a session of its own):
    // a user may list their own roles whatever role they are in.
    let statement = format!("SHOW GRANTS TO USER {}", ident(&user));
    let granted: Vec<String> = match sf.run("SYSADMIN", &statement).await {
        Ok(rows) => rows.iter().filter_map(|r| text(r, "role")).collect(),
        Err(e) => {
            return NEEDED
                .iter()
                .map(|(role, for_what)| {
                    Check::unchecked(
                        CLOUD,
                        what(role, for_what),
                        format!("SHOW GRANTS TO USER failed: {e}"),
                    )
                })
                .collect();
        }
    };
    NEEDED
        .iter()
        .map(|(role, for_what)| {
            if usable(&granted, role) {
                Check::held(CLOUD, what(role, for_what))
            } else {
                Check::missing(
                    CLOUD,
                    what(role, for_what),
                    format!(
                        "a user with ACCOUNTADMIN runs GRANT ROLE {role} TO USER {}",
                        ident(&user)
                    ),
                )
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::usable;

    #[test]
    fn a_system_role_brings_those_beneath_it() {
        let accountadmin = vec!["ACCOUNTADMIN".to_string()];
        assert!(usable(&accountadmin, "SYSADMIN"));
        assert!(usable(&accountadmin, "SECURITYADMIN"));
        let sysadmin = vec!["SYSADMIN".to_string(), "SECURITYADMIN".to_string()];
        assert!(!usable(&sysadmin, "ACCOUNTADMIN"));
        assert!(usable(&sysadmin, "SYSADMIN"));
        assert!(!usable(&[], "SYSADMIN"));
    }
}
