//! Stand-ins for the nodes of the clouds a test is not about: each "exists" once created and
//! records what the test says it records.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use kickstart::engine::{Inputs, NodeError, Record, Resource};
use kickstart::stack::{Decl, Provider};

#[derive(Clone, Default)]
pub struct StandIn {
    made: Arc<Mutex<BTreeSet<String>>>,
    records: Arc<BTreeMap<String, Record>>,
}

impl StandIn {
    /// Stand-ins recording `records` for the named nodes and a bare id for the others.
    pub fn new(records: Vec<(&str, Record)>) -> Self {
        let records = records
            .into_iter()
            .map(|(id, r)| (id.to_string(), r))
            .collect();
        StandIn {
            records: Arc::new(records),
            ..StandIn::default()
        }
    }
}

struct Node {
    made: Arc<Mutex<BTreeSet<String>>>,
    record: Record,
}

#[async_trait]
impl Resource for Node {
    async fn find(&self, _: &Inputs, _: Option<&Record>) -> Result<Option<Record>, NodeError> {
        Ok(self
            .made
            .lock()
            .unwrap()
            .contains(&self.record.id)
            .then(|| self.record.clone()))
    }
    async fn create(&self, _: &Inputs) -> Result<Record, NodeError> {
        self.made.lock().unwrap().insert(self.record.id.clone());
        Ok(self.record.clone())
    }
    async fn delete(&self, _: &Inputs, _: &Record) -> Result<(), NodeError> {
        self.made.lock().unwrap().remove(&self.record.id);
        Ok(())
    }
}

impl Provider for StandIn {
    fn resource(&self, decl: &Decl) -> Arc<dyn Resource> {
        let record = self
            .records
            .get(&decl.id)
            .cloned()
            .unwrap_or_else(|| Record::new(&decl.id));
        Arc::new(Node {
            made: self.made.clone(),
            record,
        })
    }
}
