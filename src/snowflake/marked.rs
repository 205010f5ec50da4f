//! The comments of the account's warehouses, databases, roles and users: where Snowflake keeps
//! what made an object. Reads only; what a comment means is for the caller.

use super::{Snowflake, text};
use crate::engine::NodeError;

/// Each SHOW, and the role that sees every object of its kind (the roles the stack makes them as).
const SHOWS: [(&str, &str, &str); 4] = [
    ("SHOW WAREHOUSES", "SYSADMIN", "Snowflake warehouse"),
    ("SHOW DATABASES", "SYSADMIN", "Snowflake database"),
    ("SHOW ROLES", "SECURITYADMIN", "Snowflake role"),
    ("SHOW USERS", "SECURITYADMIN", "Snowflake user"),
];

/// Each object with a comment: what it is, and its comment.
pub async fn comments(sf: &Snowflake) -> Result<Vec<(String, String)>, NodeError> {
    let mut found = Vec::new();
    for (show, role, what) in SHOWS {
        for row in sf.run(role, show).await? {
            let (Some(name), Some(comment)) = (text(&row, "name"), text(&row, "comment")) else {
                continue;
            };
            if !comment.is_empty() {
                found.push((format!("{what} {name}"), comment));
            }
        }
    }
    Ok(found)
}
