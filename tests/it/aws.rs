//! The AWS nodes, made by the binary against moto and read back with the SDK: the bucket, both
//! roles' trust and policies, the secrets; a second create adds nothing; delete leaves nothing.

use crate::common;

use std::collections::BTreeMap;

use common::clouds;
use common::{FULL, Test};
use serde_json::Value;

async fn sdk() -> aws_config::SdkConfig {
    clouds::moto_sdk().await
}

/// An IAM document: IAM hands documents back URL-encoded, moto sometimes plain.
fn iam_json(text: &str) -> Value {
    let decoded: String = url::form_urlencoded::parse(format!("d={text}").as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned();
    serde_json::from_str(text)
        .or_else(|_| serde_json::from_str(&decoded))
        .unwrap()
}

/// Everything of the stack that moto holds: bucket names, role names, policy names, secret names.
async fn inventory() -> BTreeMap<&'static str, Vec<String>> {
    let config = sdk().await;
    let s3 = common::clouds::moto_s3().await;
    let iam = aws_sdk_iam::Client::new(&config);
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    let mut out = BTreeMap::new();
    let buckets = s3.list_buckets().send().await.unwrap();
    out.insert(
        "buckets",
        buckets
            .buckets()
            .iter()
            .filter_map(|b| b.name())
            .map(str::to_string)
            .collect(),
    );
    let roles = iam.list_roles().send().await.unwrap();
    out.insert(
        "roles",
        roles
            .roles()
            .iter()
            .map(|r| r.role_name().to_string())
            .collect(),
    );
    let policies = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    out.insert(
        "policies",
        policies
            .policies()
            .iter()
            .filter_map(|p| p.policy_name())
            .map(str::to_string)
            .collect(),
    );
    let glue = aws_sdk_glue::Client::new(&config);
    let mut tables = Vec::new();
    for db in glue.get_databases().send().await.unwrap().database_list() {
        let listed = glue.get_tables().database_name(db.name()).send().await;
        for t in listed.unwrap().table_list() {
            tables.push(format!("{}.{}", db.name(), t.name()));
        }
    }
    out.insert("glue tables", tables);
    let mut objects = Vec::new();
    for b in out["buckets"].clone() {
        let listed = s3.list_objects_v2().bucket(&b).send().await.unwrap();
        objects.extend(
            listed
                .contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_string),
        );
    }
    out.insert("objects", objects);
    let secrets = sm.list_secrets().send().await.unwrap();
    out.insert(
        "secrets",
        secrets
            .secret_list()
            .iter()
            .filter_map(|s| s.name())
            .map(str::to_string)
            .collect(),
    );
    out
}

mod plain {
    /// A GET without a client library: the test's own plain read of the journal.
    pub fn get(url: &str) -> String {
        use std::io::{Read as _, Write as _};
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_once('/').unwrap();
        let mut s = std::net::TcpStream::connect(host).unwrap();
        write!(
            s,
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text.split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .trim()
            .to_string()
    }
}

fn state(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("kickstart.state.json")).unwrap())
        .unwrap()
}

fn output(state: &Value, node: &str, key: &str) -> String {
    state["nodes"][node]["outputs"][key]
        .as_str()
        .unwrap_or_else(|| panic!("{node}.{key}"))
        .to_string()
}

async fn trust_of(role: &str) -> Value {
    let iam = aws_sdk_iam::Client::new(&sdk().await);
    let doc = iam
        .get_role()
        .role_name(role)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .assume_role_policy_document()
        .unwrap()
        .to_string();
    iam_json(&doc)
}

async fn policy_of(name: &str) -> Value {
    let iam = aws_sdk_iam::Client::new(&sdk().await);
    let arn = format!("arn:aws:iam::123456789012:policy/{name}");
    let policy = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    let version = policy
        .policy()
        .unwrap()
        .default_version_id()
        .unwrap()
        .to_string();
    let doc = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id(version)
        .send()
        .await
        .unwrap();
    let text = doc
        .policy_version()
        .unwrap()
        .document()
        .unwrap()
        .to_string();
    iam_json(&text)
}

async fn secret_of(name: &str) -> Value {
    let sm = aws_sdk_secretsmanager::Client::new(&sdk().await);
    let v = sm.get_secret_value().secret_id(name).send().await.unwrap();
    serde_json::from_str(v.secret_string().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_aws_node_reads_back_as_stack_md_says_and_delete_leaves_nothing() {
    let (_, dir) = Test::new().whole_stack("create", None).await;
    let st = state(dir.path());

    // A1: the bucket, in the region.
    let bucket = output(&st, "aws.s3_bucket", "name");
    assert!(bucket.starts_with("tableflow-kickstarter-"), "{bucket}");
    let s3 = clouds::moto_s3().await;
    let location = s3
        .get_bucket_location()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert!(
        location
            .location_constraint()
            .is_none_or(|c| c.as_str().is_empty() || c.as_str() == "us-east-1")
    );

    // A2: Confluent's role with the integration's external id may assume it, and tag its session.
    let confluent_role = output(&st, "confluent.provider_integration", "iam_role_arn");
    let external_id = output(&st, "confluent.provider_integration", "external_id");
    let trust = trust_of("tableflow_s3_glue_role").await;
    let statements = trust["Statement"].as_array().unwrap();
    let assume = statements
        .iter()
        .find(|s| s["Action"][0] == "sts:AssumeRole" && s["Principal"]["AWS"].is_string())
        .unwrap();
    assert_eq!(assume["Principal"]["AWS"], confluent_role.as_str());
    assert_eq!(
        assume["Condition"]["StringEquals"]["sts:ExternalId"],
        external_id.as_str()
    );
    assert!(
        statements
            .iter()
            .any(|s| s["Action"][0] == "sts:TagSession")
    );
    assert!(
        statements
            .iter()
            .any(|s| s["Principal"]["Service"] == "glue.amazonaws.com")
    );
    let policy = policy_of("tableflow_s3_glue_access_policy").await;
    let all = policy.to_string();
    assert!(
        all.contains(&format!("arn:aws:s3:::{bucket}/*"))
            && all.contains("s3:PutObject")
            && all.contains("glue:CreateTable"),
        "{all}"
    );

    // A3: trusts the volume's and the integration's IAM users, each with its own external id.
    let trust = trust_of("snowflake_s3_glue_role").await;
    for node in ["snowflake.external_volume", "snowflake.catalog_integration"] {
        let (user, id) = (
            output(&st, node, "iam_user_arn"),
            output(&st, node, "external_id"),
        );
        let found = trust["Statement"].as_array().unwrap().iter().any(|s| {
            s["Principal"]["AWS"] == user.as_str()
                && s["Condition"]["StringEquals"]["sts:ExternalId"] == id.as_str()
        });
        assert!(found, "{node} is not trusted: {trust}");
    }
    let all = policy_of("snowflake_s3_glue_role_access_policy")
        .await
        .to_string();
    assert!(
        all.contains("s3:DeleteObjectVersion") && all.contains("glue:GetTables"),
        "{all}"
    );

    // A4: each client secret holds the active key in STACK.md's keys.
    let kafka = secret_of(
        "/confluent_cloud_resource/tableflow_kickstarter/kafka_cluster/app_producer/python_client",
    )
    .await;
    assert_eq!(
        kafka["sasl.username"],
        output(&st, "confluent.api_key.app_producer_kafka", "key").as_str()
    );
    assert!(kafka["sasl.password"].as_str().unwrap().len() >= 32);
    assert_eq!(
        kafka["bootstrap.servers"],
        output(&st, "confluent.kafka_cluster", "bootstrap").as_str()
    );
    assert!(
        !kafka["bootstrap.servers"]
            .as_str()
            .unwrap()
            .starts_with("SASL_SSL://")
    );
    let sr = secret_of(
        "/confluent_cloud_resource/tableflow_kickstarter/schema_registry_cluster/python_client",
    )
    .await;
    assert_eq!(
        sr["schema.registry.basic.auth.credentials.source"],
        "USER_INFO"
    );
    assert!(
        sr["schema.registry.basic.auth.user.info"]
            .as_str()
            .unwrap()
            .contains(':')
    );
    let flink = secret_of("/confluent_cloud_resource/tableflow_kickstarter/flink").await;
    assert_eq!(
        flink["compute.pool.id"],
        st["nodes"]["confluent.compute_pool"]["id"]
    );
    assert_eq!(
        flink["principal.id"],
        st["nodes"]["confluent.service_account.flink_statements_runner"]["id"]
    );
    let tableflow = secret_of("/confluent_cloud_resource/tableflow_kickstarter/tableflow").await;
    assert_eq!(
        tableflow["kafka.cluster.id"],
        st["nodes"]["confluent.kafka_cluster"]["id"]
    );
    // A5: the Snowflake key pairs, active slot 1.
    let pairs = secret_of("/snowflake_resource/tableflow_kickstarter").await;
    assert_eq!(pairs["active_key_number"], 1);
    // In the seed's key names, so that its readers keep working.
    assert_eq!(
        pairs["snowflake_service_user"],
        "TABLEFLOW_KICKSTARTER_USER"
    );
    assert!(pairs["snowflake_rsa_private_key_1_pem"].is_string());

    // A second create makes no new AWS resource. Tableflow publishes a table to Glue on its own
    // schedule, once the topic runs; the second table may follow the create by a moment.
    let mut before = inventory().await;
    for _ in 0..50 {
        if before["glue tables"].len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        before = inventory().await;
    }
    let d = dir.path().to_path_buf();
    Test::new()
        .in_dir(&d)
        .args(["create"])
        .args(FULL)
        .status(0)
        .run_async()
        .await;
    assert_eq!(inventory().await, before);

    // Tableflow wrote each table's first metadata file into the bucket as the customer's role,
    // and its catalog sync published a Glue database named after the cluster, a table per topic.
    let glue = aws_sdk_glue::Client::new(&sdk().await);
    let lkc = st["nodes"]["confluent.kafka_cluster"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        before["glue tables"],
        [
            format!("{lkc}.stock_trades"),
            format!("{lkc}.stock_trades_with_totals")
        ]
    );
    let tables = glue.get_tables().database_name(&lkc).send().await.unwrap();
    for t in tables.table_list() {
        let metadata = &t.parameters().unwrap()["metadata_location"];
        let key = metadata.splitn(4, '/').nth(3).unwrap();
        assert!(
            before["objects"].iter().any(|o| o == key),
            "{metadata} is in the bucket: {:?}",
            before["objects"]
        );
    }

    // Delete leaves nothing of the stack, the Glue database included.
    Test::new().whole_stack("delete", Some(dir.path())).await;
    let left = inventory().await;
    assert!(left.values().all(Vec::is_empty), "left in moto: {left:?}");
    let databases = glue.get_databases().send().await.unwrap();
    assert!(
        databases.database_list().is_empty(),
        "the Glue database is gone"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_after_a_create_that_failed_half_way_leaves_nothing() {
    // No time to wait for anything: the first node that must wait (the cluster) fails, while the
    // nodes that need no wait (the bucket, Snowflake's first objects) are made alongside.
    let (_, dir) = tokio::task::spawn_blocking(|| {
        Test::new()
            .args(["create", "--wait-timeout=0s"])
            .args(FULL)
            .status(1)
            .run()
    })
    .await
    .unwrap();
    let made = inventory().await;
    assert!(
        !made["buckets"].is_empty() || !made["secrets"].is_empty(),
        "something was made before the failure: {made:?}"
    );
    Test::new().whole_stack("delete", Some(dir.path())).await;
    let left = inventory().await;
    assert!(left.values().all(Vec::is_empty), "left in moto: {left:?}");
}

#[test]
fn an_unknown_profile_is_refused_before_anything_is_touched() {
    let (run, dir) = Test::new()
        .args(["create", "--profile=nosuchprofile"])
        .args(FULL.iter().filter(|f| !f.starts_with("--profile")))
        .status(2)
        .stderr_has("AWS profile 'nosuchprofile' is not in ~/.aws/config")
        .stderr_lines(1)
        .run();
    assert!(run.stdout.is_empty());
    assert!(!dir.path().join("kickstart.state.json").exists());
    // Not one call reached the emulators.
    let journal = plain::get(&format!("{}/_local/journal", clouds::emulators().url));
    assert_eq!(journal, "[]");
}

async fn state_bucket(name: &str) -> aws_sdk_s3::Client {
    let s3 = clouds::moto_s3().await;
    s3.create_bucket().bucket(name).send().await.unwrap();
    s3
}

#[tokio::test(flavor = "multi_thread")]
async fn state_in_s3_lets_another_machine_delete_and_its_lock_keeps_runs_apart() {
    let s3 = state_bucket("ci-state").await;
    let state = "--state=s3://ci-state/kickstart/dev.json";
    Test::new()
        .args(["create", state])
        .args(FULL)
        .status(0)
        .run_async()
        .await;
    let object = s3
        .get_object()
        .bucket("ci-state")
        .key("kickstart/dev.json")
        .send()
        .await
        .unwrap();
    let doc: Value =
        serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(doc["stack"], "tableflow_kickstarter");
    assert!(doc["nodes"].as_object().unwrap().len() > 60);
    let lock = s3
        .get_object()
        .bucket("ci-state")
        .key("kickstart/dev.json.lock")
        .send()
        .await;
    assert!(lock.is_err(), "the lock is released when the run ends");

    // Another job holds the lock: a second run is refused at once, naming it.
    let holder = serde_json::json!({"pid": 4242, "host": "ci-runner-7", "started_at": "2026-11-24T10:00:00Z", "command": "create"});
    s3.put_object()
        .bucket("ci-state")
        .key("kickstart/dev.json.lock")
        .body(holder.to_string().into_bytes().into())
        .send()
        .await
        .unwrap();
    Test::new()
            .args(["rotate", state])
            .args(FULL)
            .status(1)
            .stderr_has("s3://ci-state/kickstart/dev.json is locked by `kickstart create` (pid [PID] on ci-runner-7")
            .run_async()
    .await;
    s3.delete_object()
        .bucket("ci-state")
        .key("kickstart/dev.json.lock")
        .send()
        .await
        .unwrap();

    // The delete job runs elsewhere: a fresh directory, the same state.
    Test::new()
        .args(["delete", state])
        .args(FULL)
        .status(0)
        .stderr_has("delete done")
        .run_async()
        .await;
    let mut left = inventory().await;
    left.get_mut("buckets").unwrap().retain(|b| b != "ci-state");
    assert!(left.values().all(Vec::is_empty), "left in moto: {left:?}");
    let gone = s3
        .get_object()
        .bucket("ci-state")
        .key("kickstart/dev.json")
        .send()
        .await;
    assert!(gone.is_err(), "an empty state is removed");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_snowflake_admin_connection_comes_from_its_secret_when_no_flags_give_it() {
    use base64::Engine as _;
    let pem = std::fs::read(&clouds::emulators().admin_key_file).unwrap();
    let secret = serde_json::json!({
        "account": clouds::SNOWFLAKE_ACCOUNT,
        "user": "ADMIN",
        "active_key_number": 1,
        "private_key_1": base64::engine::general_purpose::STANDARD.encode(pem),
    });
    let sm = aws_sdk_secretsmanager::Client::new(&sdk().await);
    sm.create_secret()
        .name("/snowflake_admin_credentials")
        .secret_string(secret.to_string())
        .send()
        .await
        .unwrap();
    // The admin connection is not in the environment: only the secret can give it.
    let test = || {
        Test::new()
            .without("SNOWFLAKE_ACCOUNT")
            .without("SNOWFLAKE_USER")
            .without("SNOWFLAKE_PRIVATE_KEY_FILE")
    };
    let (_, dir) = test().whole_stack("create", None).await;
    let st = state(dir.path());
    assert!(st["nodes"]["snowflake.iceberg_table.stock_trades"].is_object());
    test().whole_stack("delete", Some(dir.path())).await;
}
