//! The engine's hold on the state: one document in memory, saved after every change, one save at
//! a time and in order, so the saved document is always one the run really passed through.

use async_trait::async_trait;
use tokio::sync::Mutex;

use crate::state::Record;
use crate::state::{FileStore, StateDoc, StateError, Status};

/// Where saved documents go.
#[async_trait]
pub trait StateSink: Send + Sync {
    async fn save(&self, doc: &StateDoc) -> Result<(), StateError>;
}

#[async_trait]
impl StateSink for FileStore {
    async fn save(&self, doc: &StateDoc) -> Result<(), StateError> {
        FileStore::save(self, doc)
    }
}

pub struct Ledger {
    doc: Mutex<StateDoc>,
    sink: Box<dyn StateSink>,
    /// What each node is declared as, recorded with it (opaque to the engine).
    specs: std::collections::BTreeMap<String, serde_json::Value>,
}

impl Ledger {
    pub fn new(doc: StateDoc, sink: Box<dyn StateSink>) -> Self {
        Ledger {
            doc: Mutex::new(doc),
            sink,
            specs: Default::default(),
        }
    }

    /// Records each node's declaration with it, whenever the node is recorded.
    pub fn with_specs(
        mut self,
        specs: std::collections::BTreeMap<String, serde_json::Value>,
    ) -> Self {
        self.specs = specs;
        self
    }

    pub async fn snapshot(&self) -> StateDoc {
        self.doc.lock().await.clone()
    }

    pub async fn put(&self, node: &str, record: Record, status: Status) -> Result<(), StateError> {
        let mut doc = self.doc.lock().await;
        doc.put(node, record, status)?;
        if let Some(spec) = self.specs.get(node) {
            doc.set_spec(node, spec.clone());
        }
        self.sink.save(&doc).await
    }

    /// Records each recorded node's declaration where the state lacks it or holds an older one
    /// (a state an earlier version wrote), in one save; none when nothing differs.
    pub async fn record_specs(&self) -> Result<(), StateError> {
        let mut doc = self.doc.lock().await;
        let mut changed = false;
        for (node, spec) in &self.specs {
            if let Some(entry) = doc.nodes.get(node)
                && entry.spec.as_ref() != Some(spec)
            {
                doc.set_spec(node, spec.clone());
                changed = true;
            }
        }
        if changed {
            self.sink.save(&doc).await?;
        }
        Ok(())
    }

    /// Changes what the document says of the stack as a whole (its lifetime, its last run), and
    /// saves it.
    pub async fn amend(&self, change: impl FnOnce(&mut StateDoc)) -> Result<(), StateError> {
        let mut doc = self.doc.lock().await;
        change(&mut doc);
        self.sink.save(&doc).await
    }

    pub async fn remove(&self, node: &str) -> Result<(), StateError> {
        let mut doc = self.doc.lock().await;
        doc.remove(node);
        self.sink.save(&doc).await
    }
}

/// Keeps every saved document, so tests can restart from any point a real run could have died at.
#[derive(Default)]
pub struct MemorySink {
    pub saved: std::sync::Mutex<Vec<StateDoc>>,
}

#[async_trait]
impl StateSink for std::sync::Arc<MemorySink> {
    async fn save(&self, doc: &StateDoc) -> Result<(), StateError> {
        self.saved.lock().unwrap().push(doc.clone());
        Ok(())
    }
}
