//! A6: the Glue database Tableflow's catalog sync makes, named after the Kafka cluster id. The
//! stack never makes it, but deletes it (tables first), or the next stack would collide with it.

use std::sync::Arc;

use async_trait::async_trait;

use super::kinds::GlueDatabase;
use super::{Aws, sdk_error};
use crate::engine::{Inputs, NodeError, Record, Resource};

pub struct Glue {
    aws: Arc<Aws>,
    spec: GlueDatabase,
}

impl Glue {
    pub fn new(aws: Arc<Aws>, spec: GlueDatabase) -> Self {
        Glue { aws, spec }
    }
}

#[async_trait]
impl Resource for Glue {
    /// Always "found": until the catalog sync makes the database there is only its name to track,
    /// and tracking it is all this node does before delete.
    async fn find(
        &self,
        inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        Ok(Some(
            Record::new(inputs.id(&self.spec.cluster)?).with("made_by", "tableflow catalog sync"),
        ))
    }

    async fn create(&self, inputs: &Inputs) -> Result<Record, NodeError> {
        // The catalog sync makes it; until then there is only its name to record.
        Ok(Record::new(inputs.id(&self.spec.cluster)?).with("made_by", "tableflow catalog sync"))
    }

    async fn delete(&self, _inputs: &Inputs, record: &Record) -> Result<(), NodeError> {
        let glue = &self.aws.glue;
        let tables = match glue.get_tables().database_name(&record.id).send().await {
            Ok(t) => t,
            Err(e) => {
                let e = sdk_error("GetTables", e);
                return if e.to_string().contains("EntityNotFound") {
                    Ok(())
                } else {
                    Err(e)
                };
            }
        };
        let names: Vec<String> = tables
            .table_list()
            .iter()
            .map(|t| t.name().to_string())
            .collect();
        if !names.is_empty() {
            glue.batch_delete_table()
                .database_name(&record.id)
                .set_tables_to_delete(Some(names))
                .send()
                .await
                .map_err(|e| sdk_error("BatchDeleteTable", e))?;
        }
        match glue.delete_database().name(&record.id).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = sdk_error("DeleteDatabase", e);
                if e.to_string().contains("EntityNotFound") {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}
