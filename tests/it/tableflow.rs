//! Tableflow publishes a topic's table to Glue on its own schedule, a while after the topic runs.
//! Until then Snowflake refuses `CREATE ICEBERG TABLE` with 004109 (the catalog table does not
//! exist in the catalog integration), and the Iceberg table node waits for the table instead of
//! failing the run.

use crate::common;

use std::time::Duration;

use common::clouds::OwnEmulators;
use common::{FULL, Test};
use local_cloud::FaultConfig;
use local_cloud::confluent::Delays;

#[tokio::test(flavor = "multi_thread")]
async fn an_iceberg_table_waits_for_tableflow_to_publish_it_to_glue() {
    // A lag far longer than the few calls between a topic running and Snowflake's turn.
    let delays = Delays {
        publish: Duration::from_secs(4),
        ..Delays::uniform(Duration::from_millis(100))
    };
    let own = OwnEmulators::start(delays, FaultConfig::default()).await;
    let env = own.env();
    let (run, dir) = tokio::task::spawn_blocking(move || {
        let mut t = Test::new().args(["create"]).args(FULL);
        for (k, v) in &env {
            t = t.env(k, v);
        }
        t.status(0).stderr_has("create done").run()
    })
    .await
    .unwrap();
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
    let env = own.env();
    tokio::task::spawn_blocking(move || {
        let mut t = Test::new().in_dir(dir.path()).args(["delete"]).args(FULL);
        for (k, v) in &env {
            t = t.env(k, v);
        }
        t.status(0).run()
    })
    .await
    .unwrap();
}
