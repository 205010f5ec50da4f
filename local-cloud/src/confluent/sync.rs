//! Tableflow's work in the customer's AWS account, done in the background as the real service
//! does it: a topic on the customer's bucket becomes RUNNING once its first Iceberg metadata file
//! is written there, and a Glue catalog integration becomes CONNECTED once it has published a
//! database named after the cluster id with a table per Tableflow topic (the Confluent docs: "the
//! database and table names map directly to their corresponding cluster ID and topic name").
//! Either fails, in the spec's FAILED phase, when the customer's role will not let Confluent in.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::world::{Table, World, now_rfc3339};
use crate::customer_aws::{CustomerAws, Role, first_metadata};

#[derive(Debug)]
pub enum Job {
    /// A topic's first snapshot on the customer's bucket.
    Materialize {
        lkc: String,
        topic: String,
        role: Role,
        region: String,
        bucket: String,
        table: Table,
    },
    /// A catalog integration's sync of the cluster's tables into Glue.
    Publish {
        catalog: String,
        lkc: String,
        role: Role,
        region: String,
        tables: Vec<Table>,
    },
}

impl Job {
    /// The key under which the job is marked as under way, so that it is started once.
    pub fn key(&self) -> String {
        match self {
            Job::Materialize { lkc, topic, .. } => format!("topic {lkc}/{topic}"),
            Job::Publish { catalog, .. } => format!("catalog {catalog}"),
        }
    }
}

pub async fn run(job: Job, world: Arc<Mutex<World>>, aws: CustomerAws) {
    let key = job.key();
    match job {
        Job::Materialize {
            lkc,
            topic,
            role,
            region,
            bucket,
            table,
        } => {
            let done = async {
                let session = aws.assume(&role, &region).await?;
                let object = table
                    .metadata
                    .strip_prefix(&format!("s3://{bucket}/"))
                    .unwrap_or(&table.metadata);
                let body = first_metadata(&table.location);
                aws.put_object(&session, &bucket, object, body).await
            }
            .await;
            let mut w = world.lock().unwrap_or_else(|e| e.into_inner());
            w.under_way.remove(&key);
            let Some(t) = w.tableflow_topics.get_mut(&(lkc.clone(), topic.clone())) else {
                return;
            };
            match done {
                Ok(()) => {
                    t.json["status"]["phase"] = json!("RUNNING");
                    t.json["spec"]["storage"]["table_path"] = json!(table.location);
                    let written = Some(std::time::Instant::now());
                    w.tables.insert((lkc, topic), Table { written, ..table });
                }
                Err(e) => {
                    t.json["status"]["phase"] = json!("FAILED");
                    t.json["status"]["error_message"] = json!(e);
                    t.json["status"]["failing_table_formats"] =
                        json!([{"format": "ICEBERG", "error_message": e}]);
                }
            }
        }
        Job::Publish {
            catalog,
            lkc,
            role,
            region,
            tables,
        } => {
            let done = async {
                let session = aws.assume(&role, &region).await?;
                let database = json!({"DatabaseInput": {"Name": lkc}});
                aws.glue(&session, "CreateDatabase", database).await?;
                for t in &tables {
                    aws.glue(&session, "CreateTable", glue_table(&lkc, t))
                        .await?;
                }
                Ok::<_, String>(())
            }
            .await;
            let mut w = world.lock().unwrap_or_else(|e| e.into_inner());
            w.under_way.remove(&key);
            if done.is_ok() {
                for t in &tables {
                    w.published.insert((lkc.clone(), t.topic.clone()));
                }
            }
            let Some(c) = w.catalog_integrations.get_mut(&catalog) else {
                return;
            };
            match done {
                Ok(()) => {
                    c.json["status"] = json!({"phase": "CONNECTED", "last_sync_at": now_rfc3339()});
                }
                Err(e) => {
                    c.json["status"] = json!({"phase": "FAILED", "error_message": e});
                }
            }
        }
    }
}

/// An Iceberg table as Glue holds one registered from outside: its metadata file is the table.
fn glue_table(database: &str, t: &Table) -> Value {
    json!({
        "DatabaseName": database,
        "TableInput": {
            "Name": t.topic,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"table_type": "ICEBERG", "metadata_location": t.metadata},
            "StorageDescriptor": {"Location": t.location},
        },
    })
}
