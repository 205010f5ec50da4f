//! Every Confluent node against the emulator, through the engine: create, adopt, rotate, delete.
//! The AWS and Snowflake nodes are stood in for by recorded values (their modules are separate).

use crate::common;

use std::time::Duration;

use common::capture::Captured;
use common::clouds::{CONFLUENT_KEY as KEY, CONFLUENT_SECRET as SECRET};
use common::context::{Context, Setup};
use kickstart::engine::{Outcome, Record};
use local_cloud::FaultConfig;
use secrecy::ExposeSecret as _;
use serde_json::Value;

const BUCKET: &str = "tableflow-kickstarter-3f1c";

/// Real Confluent nodes; the AWS stand-in records the bucket Tableflow writes to.
fn confluent() -> Setup {
    let bucket = Record::new("aws.s3_bucket").with("name", BUCKET);
    Context::confluent().recorded("aws.s3_bucket", bucket)
}

/// The test's own read of the emulator, as the organisation's admin.
async fn get(w: &Context, path: &str) -> Value {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", w.cloud.url()))
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

async fn count(w: &Context, path: &str) -> usize {
    let v = get(w, path).await;
    v["data"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_confluent_node_is_created_adopted_and_deleted() {
    let w = confluent().start().await;
    let ledger = w.ledger();
    let report = w.engine(&ledger).create().await;
    assert!(report.ok(), "{:?}", report.failures);

    let state = ledger.snapshot().await;
    let env = state.record("confluent.environment").unwrap().id.clone();
    let lkc = state.record("confluent.kafka_cluster").unwrap().id.clone();
    assert_eq!(count(&w, "/org/v2/environments").await, 1);
    assert_eq!(
        count(&w, &format!("/cmk/v2/clusters?environment={env}")).await,
        1
    );
    assert_eq!(count(&w, "/iam/v2/service-accounts").await, 6);
    // The stack's six keys, beside the Cloud API key the organization lists too.
    assert_eq!(count(&w, "/iam/v2/api-keys").await, 7);
    assert_eq!(
        count(
            &w,
            "/iam/v2/role-bindings?crn_pattern=crn://confluent.cloud/"
        )
        .await,
        // The stack's nine, and the Cloud API key owner's OrganizationAdmin.
        10
    );
    assert_eq!(
        count(&w, &format!("/fcpm/v2/compute-pools?environment={env}")).await,
        1
    );
    assert_eq!(
        count(&w, &format!("/pim/v1/integrations?environment={env}")).await,
        1
    );
    let connector = get(
        &w,
        &format!(
            "/connect/v1/environments/{env}/clusters/{lkc}/connectors/SampleSourceConnector/status"
        ),
    )
    .await;
    assert_eq!(connector["connector"]["state"], "RUNNING");

    // What other clouds consume is recorded: the table base path and the integration's trust values.
    let tableflow = state.record("confluent.tableflow.stock_trades").unwrap();
    let base = &tableflow.outputs["base_path"];
    assert!(
        base.starts_with(&format!("s3://{BUCKET}/")) && base.ends_with("/v1/"),
        "{base}"
    );
    let pim = state.record("confluent.provider_integration").unwrap();
    assert!(pim.outputs["iam_role_arn"].starts_with("arn:aws:iam::"));
    assert_eq!(
        pim.outputs["customer_role_arn"],
        "arn:aws:iam::123456789012:role/tableflow_s3_glue_role"
    );
    assert!(!pim.outputs["external_id"].is_empty());
    let statement = state
        .record("confluent.topic.stock_trades_with_totals")
        .unwrap();
    assert_eq!(statement.id, "stock_trades_with_totals");

    // A second create only reads.
    w.create_again_only_reads(&ledger).await;

    // Delete leaves nothing of the stack, and deletes each thing itself rather than leaving it
    // to a cascade.
    let gone = w.engine(&ledger).delete().await;
    assert!(gone.ok(), "{:?}", gone.failures);
    let deletes: Vec<String> = w
        .cloud
        .journal
        .calls()
        .into_iter()
        .filter(|c| c.method == "DELETE" && c.status < 300)
        .map(|c| c.path)
        .collect();
    for what in [
        "/connectors/SampleSourceConnector",
        "/statements/",
        "/compute-pools/",
        "/pim/v1/integrations/",
        "/tableflow-topics/stock_trades",
        "/tableflow-topics/stock_trades_with_totals",
        "/catalog-integrations/",
        "/topics/stock_trades",
        "/topics/stock_trades_with_totals",
        "/acls",
        "/cmk/v2/clusters/",
        "/org/v2/environments/",
    ] {
        assert!(
            deletes.iter().any(|p| p.contains(what)),
            "no DELETE of {what}: {deletes:#?}"
        );
    }
    assert_eq!(deletes.iter().filter(|p| p.contains("/acls")).count(), 7);
    assert_eq!(
        deletes.iter().filter(|p| p.contains("/api-keys/")).count(),
        6
    );
    assert_eq!(count(&w, "/org/v2/environments").await, 0);
    assert_eq!(count(&w, "/iam/v2/service-accounts").await, 0);
    assert_eq!(
        count(&w, "/iam/v2/api-keys").await,
        1,
        "the Cloud API key alone"
    );
    assert_eq!(
        count(
            &w,
            "/iam/v2/role-bindings?crn_pattern=crn://confluent.cloud/"
        )
        .await,
        // Only the Cloud API key owner's OrganizationAdmin is left.
        1
    );
    assert!(ledger.snapshot().await.nodes.is_empty());
    w.cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_rotate_on_the_day_count_and_keep_the_retained_number() {
    let w = confluent().start().await;
    let ledger = w.ledger();
    assert!(w.engine(&ledger).create().await.ok());
    let sa = ledger
        .snapshot()
        .await
        .record("confluent.service_account.app_manager")
        .unwrap()
        .id
        .clone();
    let lkc = ledger
        .snapshot()
        .await
        .record("confluent.kafka_cluster")
        .unwrap()
        .id
        .clone();
    let path = format!("/iam/v2/api-keys?spec.owner={sa}&spec.resource={lkc}");
    async fn ids(w: &Context, path: &str) -> Vec<String> {
        let v = get(w, path).await;
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_string())
            .collect()
    }
    let day0 = ids(&w, &path).await;
    assert_eq!(day0.len(), 1);

    // Not due: nothing changes.
    w.cloud.journal.clear();
    let rotate = w.engine(&ledger).rotate().await;
    assert!(rotate.ok() && rotate.count(Outcome::Rotated) == 0);
    assert!(w.cloud.journal.calls().is_empty());

    w.clock.advance_days(31);
    let rotate = w.engine(&ledger).rotate().await;
    assert!(rotate.ok(), "{:?}", rotate.failures);
    assert_eq!(
        rotate.count(Outcome::Rotated),
        6,
        "every key is due; the connector runs as its account, with no key"
    );
    assert_eq!(
        rotate.outcome("confluent.connector.SampleSourceConnector"),
        Some(Outcome::Unchanged)
    );
    let day31 = ids(&w, &path).await;
    assert_eq!(day31.len(), 2);
    let active = ledger
        .snapshot()
        .await
        .record("confluent.api_key.app_manager_kafka")
        .unwrap()
        .id
        .clone();
    assert_eq!(active, day31[1], "the newest key is the active one");
    let topics = format!("{}/kafka/v3/clusters/{lkc}/topics", w.cloud.url());
    let secret = w.vault.get(&active).unwrap();
    // A new key propagates: refused for a moment, then accepted.
    let mut status = 0;
    for _ in 0..50 {
        let with_active = reqwest::Client::new()
            .get(&topics)
            .basic_auth(&active, Some(secret.expose_secret()))
            .send()
            .await
            .unwrap();
        status = with_active.status().as_u16();
        if status == 200 {
            break;
        }
        assert!(
            matches!(status, 401 | 403),
            "refused only while propagating: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200, "Kafka REST accepts the new key");

    w.clock.advance_days(31);
    let rotate = w.engine(&ledger).rotate().await;
    assert!(rotate.ok(), "{:?}", rotate.failures);
    let day62 = ids(&w, &path).await;
    assert_eq!(day62.len(), 2, "still two keys");
    assert!(!day62.contains(&day0[0]), "the first key was deleted");
    assert_eq!(day62[0], day31[1], "the previous active key is kept");
    // The first key's secret is gone from the vault; the emulator refuses any call with its id.
    let first = reqwest::Client::new()
        .get(&topics)
        .basic_auth(&day0[0], Some("whatever"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 401);
    w.cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn create_and_delete_succeed_through_injected_throttling_and_server_errors() {
    let faults = FaultConfig {
        throttle_rate: 0.1,
        error_rate: 0.1,
        retry_after_secs: 0,
        seed: 11,
        ..FaultConfig::default()
    };
    let w = confluent().faults(faults).start().await;
    let ledger = w.ledger();
    let report = w.engine(&ledger).create().await;
    assert!(report.ok(), "{:?}", report.failures);
    let injected = w
        .cloud
        .journal
        .calls()
        .iter()
        .filter(|c| c.injected)
        .count();
    // About one mutating call in five; none at all would mean the faults never fired.
    assert!(
        injected >= 1,
        "the fault layer should have answered some calls"
    );
    let gone = w.engine(&ledger).delete().await;
    assert!(gone.ok(), "{:?}", gone.failures);
    // The checks below are the test's own reads: no faults for them.
    w.cloud.faults.set(FaultConfig::default());
    assert_eq!(count(&w, "/org/v2/environments").await, 0);
    assert_eq!(count(&w, "/iam/v2/service-accounts").await, 0);
    w.cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanent_refusal_fails_fast_with_the_servers_message() {
    let w = confluent().confluent_secret("wrong-secret").start().await;
    let ledger = w.ledger();
    let started = std::time::Instant::now();
    let report = w.engine(&ledger).create().await;
    assert!(!report.ok());
    let first = report.failures[0].error.to_string();
    assert!(
        first.contains("answered 401") && first.contains("Unauthorized"),
        "{first}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a 401 is not retried: {:?}",
        started.elapsed()
    );
    assert!(w.cloud.journal.served().is_empty(), "nothing was made");
    w.cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tableflow_fails_when_the_customer_role_does_not_let_confluent_in() {
    // The role A2 names exists in the customer's account, but trusts only Glue, as it does
    // before its trust is rewritten: Tableflow cannot assume it, as STS would refuse it.
    let w = confluent().customer_aws().start().await;
    let iam = aws_sdk_iam::Client::new(&common::clouds::moto_sdk().await);
    let glue_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"glue.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name("tableflow_s3_glue_role")
        .assume_role_policy_document(glue_only)
        .send()
        .await
        .unwrap();
    let report = w.engine(&w.ledger()).create().await;
    let failures: Vec<String> = report
        .failures
        .iter()
        .map(|f| f.error.to_string())
        .collect();
    assert!(
        failures.iter().any(|f| f.contains(
            "Unable to assume role arn:aws:iam::123456789012:role/tableflow_s3_glue_role"
        )),
        "{failures:?}"
    );
    let buckets = common::clouds::moto_s3()
        .await
        .list_buckets()
        .send()
        .await
        .unwrap();
    assert!(buckets.buckets().is_empty(), "nothing was written");
    w.cloud.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_reaches_the_trace_log_or_the_state_file() {
    let (captured, _guard) = Captured::trace();

    let w = confluent().start().await;
    let ledger = w.file_ledger();
    let state_file = w.state_file();
    let report = w.engine(&ledger).create().await;
    assert!(report.ok(), "{:?}", report.failures);
    w.cloud.stop().await;

    let mut secrets: Vec<String> = w
        .vault
        .all()
        .iter()
        .map(|s| s.expose_secret().to_string())
        .collect();
    assert_eq!(secrets.len(), 6, "one secret per key");
    secrets.push(SECRET.to_string());
    let logs = captured.text();
    let state = std::fs::read_to_string(state_file).unwrap();
    assert!(logs.len() > 1000, "trace logging was captured");
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret is in the trace log"
        );
        assert!(
            !state.contains(secret.as_str()),
            "a secret is in the state file"
        );
    }
}

mod real;
