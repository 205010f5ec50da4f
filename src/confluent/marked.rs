//! The descriptions of every service account in the organization: where Confluent keeps what
//! made an account. Reads only; what a description means is for the caller.

use super::Confluent;
use super::client::Auth;
use crate::engine::NodeError;

/// Each service account with a description: what it is, and its description.
pub async fn descriptions(cc: &Confluent) -> Result<Vec<(String, String)>, NodeError> {
    let accounts = cc
        .client
        .list("/iam/v2/service-accounts", &Auth::Cloud)
        .await?;
    Ok(accounts
        .iter()
        .filter_map(|a| {
            let description = a["description"].as_str().filter(|d| !d.is_empty())?;
            let name = a["display_name"].as_str().unwrap_or_default();
            let id = a["id"].as_str().unwrap_or_default();
            Some((
                format!("service account {name} ({id})"),
                description.to_string(),
            ))
        })
        .collect())
}
