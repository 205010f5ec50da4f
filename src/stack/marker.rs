//! The stack's mark on what it makes: its name, when it may be removed, and under which state
//! location it is recorded. Resources that can carry it (AWS tags, Confluent descriptions,
//! Snowflake comments) do, so that a stack can still be found, and removed, when its state is lost;
//! the location keeps `gc --orphans` of one location away from the stacks of another.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    pub stack: String,
    /// When the stack may be removed (`create --ttl`); none: kept until deleted.
    pub expires_at: Option<Timestamp>,
    /// The state location (folder or s3:// prefix) the stack is recorded under, as shown to users.
    pub state: Option<String>,
}

impl Marker {
    /// A stack's mark before its expiry and state location are known.
    pub fn new(stack: &str) -> Self {
        Marker {
            stack: stack.to_string(),
            expires_at: None,
            state: None,
        }
    }
}
