//! What the state keeps of one resource that exists; the engine hands these to the resources.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Recorded facts about a resource (ids, ARNs, endpoints). Never a secret: the state stores these.
pub type Outputs = BTreeMap<String, String>;

/// What the engine keeps of one resource that exists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The cloud's own id (or the name, where the cloud has no other id).
    pub id: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: Outputs,
}

impl Record {
    pub fn new(id: impl Into<String>) -> Self {
        Record {
            id: id.into(),
            outputs: Outputs::new(),
        }
    }

    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.outputs.insert(key.into(), value.into());
        self
    }
}
