//! The provider for clouds whose module is not built yet: every call fails loudly, naming the
//! node, so that nothing ever pretends to have made a resource.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Decl, Provider};
use crate::engine::{Inputs, NodeError, Record, Resource};

pub struct NotBuilt;

impl Provider for NotBuilt {
    fn resource(&self, decl: &Decl) -> Arc<dyn Resource> {
        Arc::new(Missing {
            node: decl.id.clone(),
            cloud: decl.cloud().name(),
        })
    }
}

struct Missing {
    node: String,
    cloud: &'static str,
}

impl Missing {
    fn refuse<T>(&self) -> Result<T, NodeError> {
        Err(NodeError::NotImplemented {
            node: self.node.clone(),
            cloud: self.cloud.to_string(),
        })
    }
}

#[async_trait]
impl Resource for Missing {
    async fn find(&self, _: &Inputs, _: Option<&Record>) -> Result<Option<Record>, NodeError> {
        self.refuse()
    }

    async fn create(&self, _: &Inputs) -> Result<Record, NodeError> {
        self.refuse()
    }

    async fn delete(&self, _: &Inputs, _: &Record) -> Result<(), NodeError> {
        self.refuse()
    }
}
