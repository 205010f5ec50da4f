//! What the real service does that a kind stand-in would not: earlier stacks' grants to retire,
//! and reads of deleted objects that answer 403.

use super::*;
use kickstart::engine::Ledger;

/// A whole stack made in a fresh emulator.
async fn created() -> (Context, Ledger) {
    let w = confluent().start().await;
    let ledger = w.ledger();
    let report = w.engine(&ledger).create().await;
    assert!(report.ok(), "{:?}", report.failures);
    (w, ledger)
}

/// A stack made by an earlier version: the connector ran with a key of its own account (kept in
/// a client secret of its own) and the Flink runner was EnvironmentAdmin. `plan` shows them as
/// deletes, and `create` removes them once the connector runs as its account.
#[tokio::test(flavor = "multi_thread")]
async fn an_earlier_stacks_connector_key_and_environment_admin_are_retired_by_create() {
    use kickstart::stack::ids;
    use kickstart::state::Status;
    let (mut w, ledger) = created().await;
    let state = ledger.snapshot().await;
    let id = |node: &str| state.record(node).unwrap().id.clone();
    let (env, lkc) = (id(ids::ENV), id(ids::CLUSTER));
    let connector_sa = id("confluent.service_account.app_connector");
    let runner = id("confluent.service_account.flink_statements_runner");
    let env_crn = state.record(ids::ENV).unwrap().outputs["crn"].clone();

    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        http.post(format!("{}{path}", w.cloud.url()))
            .basic_auth(KEY, Some(SECRET))
            .json(&body)
            .send()
    };
    let key: Value = post(
        "/iam/v2/api-keys",
        serde_json::json!({"spec": {"owner": {"id": connector_sa}, "resource": {"id": lkc, "environment": env}}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let binding: Value = post(
        "/iam/v2/role-bindings",
        serde_json::json!({"principal": format!("User:{runner}"), "role_name": "EnvironmentAdmin", "crn_pattern": env_crn}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let key_id = key["id"].as_str().unwrap();
    let old = [
        (
            ids::CONNECTOR_KEY,
            Record::new(key_id).with("key", key_id).with(
                "created_at",
                key["metadata"]["created_at"].as_str().unwrap(),
            ),
        ),
        (
            ids::FLINK_ADMIN,
            Record::new(binding["id"].as_str().unwrap()),
        ),
        (
            ids::CONNECTOR_SECRET,
            Record::new("aws.secret.app_connector"),
        ),
    ];
    for (node, record) in old.clone() {
        ledger.put(node, record, Status::Ready).await.unwrap();
    }
    // Six of the stack, the earlier one, and the Cloud API key the organization lists too.
    assert_eq!(count(&w, "/iam/v2/api-keys").await, 8);
    // What the state records and the stack no longer declares joins the graph, retired.
    w.include_retired(&ledger.snapshot().await);

    let plan = w.engine(&ledger).plan().await;
    assert!(plan.ok(), "{:?}", plan.failures);
    for (node, _) in &old {
        assert_eq!(plan.outcome(node), Some(Outcome::WouldDelete), "{node}");
    }
    assert_eq!(plan.count(Outcome::WouldDelete), 3);

    let again = w.engine(&ledger).create().await;
    assert!(again.ok(), "{:?}", again.failures);
    let state = ledger.snapshot().await;
    for (node, _) in &old {
        assert_eq!(again.outcome(node), Some(Outcome::Deleted), "{node}");
        assert!(state.record(node).is_none(), "{node} is still recorded");
    }
    assert_eq!(count(&w, "/iam/v2/api-keys").await, 7);
    let admins = format!("/iam/v2/role-bindings?crn_pattern={env_crn}&role_name=EnvironmentAdmin");
    assert_eq!(count(&w, &admins).await, 0);
    w.cloud.stop().await;
}

/// The real service answers a read of a deleted cluster with 403, as it answers a read it
/// forbids; `status --refresh` (the engine's check) confirms it against the list and reports the
/// cluster missing rather than failing.
#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_deleted_behind_our_back_reads_403_and_counts_as_missing() {
    use kickstart::stack::ids;
    let (w, ledger) = created().await;
    let state = ledger.snapshot().await;
    let (env, lkc) = (
        state.record(ids::ENV).unwrap().id.clone(),
        state.record(ids::CLUSTER).unwrap().id.clone(),
    );
    let cluster = format!("{}/cmk/v2/clusters/{lkc}?environment={env}", w.cloud.url());
    let http = reqwest::Client::new();
    let deleted = http.delete(&cluster).basic_auth(KEY, Some(SECRET));
    assert_eq!(deleted.send().await.unwrap().status(), 204);
    let mut status = 0;
    for _ in 0..100 {
        let read = http.get(&cluster).basic_auth(KEY, Some(SECRET));
        status = read.send().await.unwrap().status().as_u16();
        if status != 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        status, 403,
        "a gone cluster reads as forbidden, as on the real service"
    );

    let check = w.engine(&ledger).check().await;
    assert!(check.ok(), "{:?}", check.failures);
    assert_eq!(check.outcome(ids::CLUSTER), Some(Outcome::Missing));
    assert_eq!(check.outcome(ids::ENV), Some(Outcome::Exists));
    w.cloud.stop().await;
}

/// Connect reads a connector back as the recording shows: each expansion asked for, the id as
/// `lcc-…`, the config with the keys the service adds, the account it runs as.
#[tokio::test(flavor = "multi_thread")]
async fn connectors_read_back_with_the_recorded_expansions() {
    use kickstart::stack::ids;
    let (w, ledger) = created().await;
    let state = ledger.snapshot().await;
    let (env, lkc) = (
        state.record(ids::ENV).unwrap().id.clone(),
        state.record(ids::CLUSTER).unwrap().id.clone(),
    );
    let base = format!("/connect/v1/environments/{env}/clusters/{lkc}/connectors");
    let all = get(&w, &format!("{base}?expand=info,status,id")).await;
    let c = &all["SampleSourceConnector"];
    assert!(c["id"]["id"].as_str().unwrap().starts_with("lcc-"), "{all}");
    assert_eq!(c["id"]["id_type"], "ID");
    assert_eq!(c["status"]["connector"]["state"], "RUNNING");
    let config = &c["info"]["config"];
    for added in ["cloud.provider", "kafka.endpoint", "kafka.region"] {
        assert!(config[added].is_string(), "{added} is missing: {config}");
    }
    assert_eq!(config["kafka.auth.mode"], "SERVICE_ACCOUNT");
    let only_status = get(&w, &format!("{base}?expand=status")).await;
    let c = &only_status["SampleSourceConnector"];
    assert!(c["status"].is_object() && c["info"].is_null() && c["id"].is_null());
    w.cloud.stop().await;
}
