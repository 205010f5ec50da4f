//! What exists: for each node its id, outputs and times. Versioned JSON; never a secret.

mod file;
pub mod lifetime;
pub mod location;
mod lock;
mod record;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use file::FileStore;
pub use lifetime::{LastRun, RunResult};
pub use location::StateArg;
pub use lock::{LockHolder, StateLock};
pub use record::{Outputs, Record};

/// Where the state lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    File(std::path::PathBuf),
    /// `s3://bucket/key`, for CI jobs that create on one machine and delete on another.
    S3 {
        bucket: String,
        key: String,
    },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// The document format; a newer tool may read older documents, never the other way round.
pub const VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateDoc {
    pub version: u32,
    pub stack: String,
    /// When the first create began; none in documents older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// The last create, delete or rotate, however it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<LastRun>,
    /// When `gc` may remove the stack (`create --ttl`); none: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(default)]
    pub nodes: BTreeMap<String, Entry>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The cloud accepted the create; it was not yet seen ready. The next run resumes waiting.
    Creating,
    Ready,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(flatten)]
    pub record: Record,
    /// What the stack declared the node as (its kind and settings), so that a node the stack no
    /// longer declares can still be deleted. Opaque here; never a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<serde_json::Value>,
    pub status: Status,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read state {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write state {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "state {path} is not a kickstart state document ({reason}); move it aside or pass another --state"
    )]
    Corrupt { path: String, reason: String },
    #[error(
        "state {path} has format version {found}, newer than this kickstart reads ({VERSION}); upgrade kickstart"
    )]
    TooNew { path: String, found: u32 },
    #[error(
        "state {path} belongs to stack '{found}', not '{expected}'; pass --stack-name {found} or another --state"
    )]
    OtherStack {
        path: String,
        found: String,
        expected: String,
    },
    #[error(
        "state {path} is locked by {holder}; wait for that run to finish, or pass --lock-timeout to wait for it"
    )]
    Locked { path: String, holder: LockHolder },
    #[error(
        "refusing to record output '{key}' of {node}: it looks like a secret, and secrets never go into the state"
    )]
    SecretLike { node: String, key: String },
}

impl StateDoc {
    pub fn new(stack: &str) -> Self {
        StateDoc {
            version: VERSION,
            stack: stack.to_string(),
            created_at: None,
            last_run: None,
            expires_at: None,
            nodes: BTreeMap::new(),
        }
    }

    /// When the stack was first made: recorded, else (a document older than the field) its
    /// oldest resource's time.
    pub fn created(&self) -> Option<Timestamp> {
        self.created_at
            .or_else(|| self.nodes.values().map(|e| e.created_at).min())
    }

    /// Whether `gc` may remove it at `now`.
    pub fn expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    pub fn record(&self, node: &str) -> Option<&Record> {
        self.nodes.get(node).map(|e| &e.record)
    }

    pub fn is_ready(&self, node: &str) -> bool {
        self.nodes
            .get(node)
            .is_some_and(|e| e.status == Status::Ready)
    }

    /// Records a node, keeping when it was first made. Refuses outputs named like secrets: a
    /// last guard behind the type system, which keeps secrets out of `Record` in the first place.
    pub fn put(&mut self, node: &str, record: Record, status: Status) -> Result<(), StateError> {
        if let Some(key) = record.outputs.keys().find(|k| looks_secret(k)) {
            return Err(StateError::SecretLike {
                node: node.to_string(),
                key: key.clone(),
            });
        }
        let now = Timestamp::now();
        let created_at = self.nodes.get(node).map_or(now, |e| e.created_at);
        let spec = self.nodes.get(node).and_then(|e| e.spec.clone());
        self.nodes.insert(
            node.to_string(),
            Entry {
                record,
                spec,
                status,
                created_at,
                updated_at: now,
            },
        );
        Ok(())
    }

    /// Records what the node was declared as.
    pub fn set_spec(&mut self, node: &str, spec: serde_json::Value) {
        if let Some(entry) = self.nodes.get_mut(node) {
            entry.spec = Some(spec);
        }
    }

    /// Moves a node recorded under an id an earlier version used to the id it has now.
    pub fn rename(&mut self, from: &str, to: &str) -> bool {
        if self.nodes.contains_key(to) {
            return false;
        }
        match self.nodes.remove(from) {
            Some(entry) => {
                self.nodes.insert(to.to_string(), entry);
                true
            }
            None => false,
        }
    }

    pub fn remove(&mut self, node: &str) {
        self.nodes.remove(node);
    }

    /// Parses and checks a document read from `path`.
    pub fn from_json(path: &str, text: &str, stack: &str) -> Result<StateDoc, StateError> {
        #[derive(Deserialize)]
        struct Versioned {
            version: u32,
        }
        let corrupt = |e: serde_json::Error| StateError::Corrupt {
            path: path.to_string(),
            reason: e.to_string(),
        };
        let Versioned { version } = serde_json::from_str(text).map_err(corrupt)?;
        if version > VERSION {
            return Err(StateError::TooNew {
                path: path.to_string(),
                found: version,
            });
        }
        let doc: StateDoc = serde_json::from_str(text).map_err(corrupt)?;
        if doc.stack != stack {
            return Err(StateError::OtherStack {
                path: path.to_string(),
                found: doc.stack,
                expected: stack.to_string(),
            });
        }
        Ok(doc)
    }
}

fn looks_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["secret", "password", "private", "token", "jwt"]
        .iter()
        .any(|word| key.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_created_at_and_refuses_secret_like_outputs() {
        let mut doc = StateDoc::new("s");
        doc.put("a", Record::new("id-1"), Status::Creating).unwrap();
        let created = doc.nodes["a"].created_at;
        doc.put("a", Record::new("id-1").with("arn", "x"), Status::Ready)
            .unwrap();
        assert_eq!(doc.nodes["a"].created_at, created);
        assert!(doc.is_ready("a"));
        let err = doc
            .put("b", Record::new("k").with("api_secret", "x"), Status::Ready)
            .unwrap_err();
        assert!(matches!(err, StateError::SecretLike { .. }));
        assert!(doc.record("b").is_none());
    }

    #[test]
    fn refuses_newer_versions_and_other_stacks() {
        let newer = r#"{"version": 99, "stack": "s", "nodes": {}}"#;
        assert!(matches!(
            StateDoc::from_json("p", newer, "s"),
            Err(StateError::TooNew { found: 99, .. })
        ));
        let older = r#"{"version": 1, "stack": "s", "nodes": {}}"#;
        let older = StateDoc::from_json("p", older, "s").unwrap();
        assert_eq!((older.created_at, older.expires_at), (None, None));
        assert!(!older.expired(Timestamp::now()));
        let other = r#"{"version": 1, "stack": "t", "nodes": {}}"#;
        assert!(matches!(
            StateDoc::from_json("p", other, "s"),
            Err(StateError::OtherStack { .. })
        ));
        assert!(matches!(
            StateDoc::from_json("p", "{\"version\": 1, \"sta", "s"),
            Err(StateError::Corrupt { .. })
        ));
    }
}
