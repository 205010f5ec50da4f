//! Tableflow publishes a topic's table to Glue on its own schedule, a while after the topic runs.
//! Until then Snowflake refuses `CREATE ICEBERG TABLE` with 004109 (the catalog table does not
//! exist in the catalog integration), and the Iceberg table node waits for the table instead of
//! failing the run.

use crate::common;

use common::Test;

use std::time::Duration;

use common::clouds::{self, OwnEmulators};
use local_cloud::FaultConfig;
use local_cloud::confluent::Delays;

#[tokio::test(flavor = "multi_thread")]
async fn an_iceberg_table_waits_for_tableflow_to_publish_it_to_glue() {
    // A lag far longer than the few calls between a topic running and Snowflake's turn.
    let delays = Delays {
        publish: Duration::from_secs(4),
        ..clouds::delays()
    };
    let own = OwnEmulators::start(delays, FaultConfig::default()).await;
    let (run, dir) = Test::new()
        .envs(own.env())
        .whole_stack("create", None)
        .await;
    for table in ["STOCK_TRADES", "STOCK_TRADES_WITH_TOTALS"] {
        let table = format!(
            "Snowflake Iceberg table TABLEFLOW_KICKSTARTER_DATABASE.TABLEFLOW_KICKSTARTER_SCHEMA.{table}"
        );
        let waited =
            format!("waiting for {table}: waiting for Tableflow to publish the table to Glue, ");
        assert!(run.stderr.contains(&waited), "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("created {table} in ")),
            "{}",
            run.stderr
        );
    }
    // What the wait was on: Snowflake's 004109, the real answer before the sync, and nothing else.
    let refused: Vec<_> = own
        .snowflake
        .refused()
        .into_iter()
        .filter(|(statement, _)| statement == "CREATE ICEBERG")
        .collect();
    assert!(!refused.is_empty(), "no CREATE ICEBERG TABLE was refused");
    assert!(
        refused.iter().all(|(_, code)| code == "004109"),
        "{refused:?}"
    );
    Test::new()
        .envs(own.env())
        .whole_stack("delete", Some(dir.path()))
        .await;
}
