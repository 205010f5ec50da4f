//! Taking over a stack deploy.sh built. The seed's stack is built in the stand-ins as its
//! Terraform builds it (the seed's names, its bucket with a whole UUID, its secrets' layouts),
//! every object is read back from the stand-ins into a Terraform state in the JSON form
//! `terraform state pull` writes (format version 4, the seed's resource addresses), kickstart's
//! own state is thrown away; then `import terraform` records the stack, `plan` has nothing to
//! create, `create` creates nothing and `delete` leaves nothing in any stand-in.

use crate::common;

use std::collections::BTreeMap;

use common::clouds::{self, CONFLUENT_KEY, CONFLUENT_SECRET, emulators};
use common::{FULL, Test};
use local_cloud::snowflake::Kind;
use serde_json::{Value, json};

/// A GET of the Confluent emulator, with the Cloud key or another (the Flink key).
fn get_as(path: &str, key: &str, secret: &str) -> Value {
    use base64::Engine as _;
    use std::io::{Read as _, Write as _};
    let host = emulators().url.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAuthorization: Basic {token}\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap_or("null").trim())
        .unwrap_or(Value::Null)
}

fn get(path: &str) -> Value {
    get_as(path, CONFLUENT_KEY, CONFLUENT_SECRET)
}

fn data(v: Value) -> Vec<Value> {
    v["data"].as_array().cloned().unwrap_or_default()
}

fn named<'a>(items: &'a [Value], pointer: &str, name: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i.pointer(pointer).and_then(Value::as_str) == Some(name))
        .unwrap_or_else(|| panic!("no {name} among {items:?}"))
}

/// One resource of a v4 state, as Terraform writes it.
fn resource(module: Option<&str>, mode: &str, kind: &str, name: &str, attrs: Vec<Value>) -> Value {
    let provider = match kind.split('_').next().unwrap_or_default() {
        "confluent" => "provider[\"registry.terraform.io/confluentinc/confluent\"]",
        "snowflake" => "provider[\"registry.terraform.io/snowflake-labs/snowflake\"]",
        "random" => "provider[\"registry.terraform.io/hashicorp/random\"]",
        _ => "provider[\"registry.terraform.io/hashicorp/aws\"]",
    };
    let many = attrs.len() > 1;
    let instances: Vec<Value> = attrs
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let mut inst = json!({"schema_version": 0, "attributes": a,
                "sensitive_attributes": [], "dependencies": []});
            if many {
                inst["index_key"] = json!(i);
            }
            inst
        })
        .collect();
    let mut r = json!({"mode": mode, "type": kind, "name": name, "provider": provider,
        "instances": instances});
    if let Some(m) = module {
        r["module"] = json!(m);
    }
    r
}

fn managed(kind: &str, name: &str, attrs: Value) -> Value {
    resource(None, "managed", kind, name, vec![attrs])
}

async fn secret_text(sm: &aws_sdk_secretsmanager::Client, name: &str) -> Value {
    let v = sm.get_secret_value().secret_id(name).send().await.unwrap();
    serde_json::from_str(v.secret_string().unwrap()).unwrap()
}

/// Rewrites the service user's key-pair secret as the seed's rotation Lambda writes it: its key
/// names only, without what kickstart adds (fingerprints, creation times).
async fn seed_key_pair_secret(sm: &aws_sdk_secretsmanager::Client) {
    let name = "/snowflake_resource/tableflow_kickstarter";
    let mut v = secret_text(sm, name).await;
    v.as_object_mut()
        .unwrap()
        .retain(|k, _| !k.ends_with("_fingerprint") && !k.ends_with("_created_at"));
    sm.put_secret_value()
        .secret_id(name)
        .secret_string(v.to_string())
        .send()
        .await
        .unwrap();
}

/// Everything the stand-ins hold of the stack, read back, as deploy.sh's Terraform state.
async fn terraform_state() -> Value {
    let envs = data(get("/org/v2/environments"));
    let env = named(&envs, "/display_name", "tableflow_kickstarter").clone();
    let env_id = env["id"].as_str().unwrap().to_string();
    let cluster = data(get(&format!("/cmk/v2/clusters?environment={env_id}")))[0].clone();
    let lkc = cluster["id"].as_str().unwrap().to_string();
    let sr = data(get(&format!("/srcm/v3/clusters?environment={env_id}")))[0].clone();
    let pool = data(get(&format!("/fcpm/v2/compute-pools?environment={env_id}")))[0].clone();
    let pim = data(get(&format!("/pim/v1/integrations?environment={env_id}")))[0].clone();
    let org = data(get("/org/v2/organizations"))[0]["id"].clone();
    let accounts = data(get("/iam/v2/service-accounts"));
    let keys = data(get("/iam/v2/api-keys"));

    let config = clouds::moto_sdk().await;
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let s3 = clouds::moto_s3().await;
    let flink = secret_text(&sm, "/confluent_cloud_resource/tableflow_kickstarter/flink").await;
    let tableflow =
        secret_text(&sm, "/confluent_cloud_resource/tableflow_kickstarter/tableflow").await;
    let tci = data(get_as(
        &format!("/tableflow/v1/catalog-integrations?environment={env_id}&spec.kafka_cluster={lkc}"),
        tableflow["api.key"].as_str().unwrap(),
        tableflow["api.key.secret"].as_str().unwrap(),
    ))[0]
        .clone();
    let statements = data(get_as(
        &format!("/sql/v1/organizations/{}/environments/{env_id}/statements", org.as_str().unwrap()),
        flink["api.key"].as_str().unwrap(),
        flink["api.key.secret"].as_str().unwrap(),
    ));
    let statement = statements
        .iter()
        .find(|s| s["name"].as_str().unwrap().starts_with("ctas-stock-trades-with-totals-"))
        .unwrap()["name"]
        .clone();
    let bucket = s3.list_buckets().send().await.unwrap().buckets()[0]
        .name()
        .unwrap()
        .to_string();
    let role = |name: &'static str| {
        let iam = iam.clone();
        async move {
            let r = iam.get_role().role_name(name).send().await.unwrap();
            json!({"id": name, "name": name, "arn": r.role().unwrap().arn()})
        }
    };
    let policy_arn = |name: &str| format!("arn:aws:iam::123456789012:policy/{name}");

    let mut r = vec![
        managed("confluent_environment", "tableflow_kickstarter",
            json!({"id": env_id, "display_name": env["display_name"], "resource_name": env["metadata"]["resource_name"]})),
        managed("confluent_kafka_cluster", "kafka_cluster",
            json!({"id": lkc, "display_name": cluster["spec"]["display_name"], "availability": "SINGLE_ZONE", "standard": [{}]})),
        resource(None, "data", "confluent_schema_registry_cluster", "env", vec![json!({"id": sr["id"]})]),
        managed("confluent_flink_compute_pool", "env", json!({"id": pool["id"], "display_name": pool["spec"]["display_name"]})),
        managed("confluent_provider_integration", "tableflow", json!({"id": pim["id"], "display_name": pim["display_name"]})),
        managed("confluent_catalog_integration", "tableflow", json!({"id": tci["id"], "display_name": tci["spec"]["display_name"]})),
        managed("confluent_kafka_topic", "stock_trades", json!({"id": format!("{lkc}/stock_trades"), "topic_name": "stock_trades"})),
        managed("confluent_connector", "source", json!({"id": "lcc-seed", "config_nonsensitive": {"name": "SampleSourceConnector"}})),
        resource(Some("module.create_set_1"), "managed", "confluent_flink_statement", "statement",
            vec![json!({"id": statement, "statement_name": statement})]),
        resource(Some("module.create_set_1"), "managed", "random_uuid", "flink_statement", vec![json!({"id": "u"})]),
        managed("random_uuid", "s3_bucket", json!({"id": bucket.trim_start_matches("tableflow-kickstarter-")})),
        managed("aws_s3_bucket", "iceberg_bucket", json!({"id": bucket, "bucket": bucket})),
        managed("aws_iam_role", "tableflow_s3_glue_role", role("tableflow_s3_glue_role").await),
        managed("aws_iam_role", "snowflake_s3_glue_role", role("snowflake_s3_glue_role").await),
        managed("aws_iam_policy", "tableflow_s3_glue_access_policy",
            json!({"id": policy_arn("tableflow_s3_glue_access_policy"), "arn": policy_arn("tableflow_s3_glue_access_policy")})),
        managed("aws_iam_policy", "snowflake_s3_glue_role_access_policy",
            json!({"id": policy_arn("snowflake_s3_glue_role_access_policy"), "arn": policy_arn("snowflake_s3_glue_role_access_policy")})),
        managed("aws_iam_role_policy_attachment", "tableflow_s3_glue_policy_attachment",
            json!({"role": "tableflow_s3_glue_role", "policy_arn": policy_arn("tableflow_s3_glue_access_policy")})),
        managed("aws_iam_role_policy_attachment", "snowflake_s3_glue_policy_attachment",
            json!({"role": "snowflake_s3_glue_role", "policy_arn": policy_arn("snowflake_s3_glue_role_access_policy")})),
    ];
    for (tf, display) in [
        ("app_manager", "tableflow_app_manager"),
        ("app_consumer", "tableflow_app_consumer"),
        ("app_producer", "tableflow_app_producer"),
        ("app_connector", "tableflow_app_connector"),
        ("schema_registry_cluster_api", "tableflow_kickstarter_schema_registry_cluster_api"),
        ("flink_sql_runner", "tableflow_kickstarter_flink_sql_statements_runner"),
    ] {
        let sa = named(&accounts, "/display_name", display);
        r.push(managed("confluent_service_account", tf, json!({"id": sa["id"], "display_name": display})));
    }
    let sa_id = |display: &str| named(&accounts, "/display_name", display)["id"].as_str().unwrap().to_string();
    for (module, owner) in [
        ("module.kafka_app_manager_api_key", "tableflow_app_manager"),
        ("module.kafka_app_consumer_api_key", "tableflow_app_consumer"),
        ("module.kafka_app_producer_api_key", "tableflow_app_producer"),
        ("module.schema_registry_cluster_api_key_rotation", "tableflow_kickstarter_schema_registry_cluster_api"),
        ("module.flink_api_key_rotation", "tableflow_kickstarter_flink_sql_statements_runner"),
    ] {
        let owned: Vec<Value> = keys
            .iter()
            .filter(|k| k["spec"]["owner"]["id"] == sa_id(owner).as_str())
            .filter(|k| module != "module.kafka_app_manager_api_key" || k["spec"]["resource"]["id"] != "tableflow")
            .map(|k| json!({"id": k["id"], "display_name": k["spec"]["display_name"]}))
            .collect();
        r.push(resource(Some(module), "managed", "confluent_api_key", "resouce_api_key", owned));
    }
    let tableflow_keys: Vec<Value> = keys
        .iter()
        .filter(|k| k["spec"]["resource"]["id"] == "tableflow")
        .map(|k| json!({"id": k["id"]}))
        .collect();
    r.push(resource(Some("module.tableflow_api_key"), "managed", "confluent_api_key", "resouce_api_key", tableflow_keys));
    for topic in ["stock_trades", "stock_trades_with_totals"] {
        r.push(managed("confluent_tableflow_topic", topic, json!({"id": topic, "display_name": topic})));
    }
    for (tf, path) in [
        ("schema_registry_cluster_api_key_python_client", "schema_registry_cluster/python_client"),
        ("kafka_app_manager_cluster_api_key", "kafka_cluster/app_manager/python_client"),
        ("kafka_app_consumer_api_key", "kafka_cluster/app_consumer/python_client"),
        ("kafka_app_producer_api_key", "kafka_cluster/app_producer/python_client"),
        ("flink_api_key", "flink"),
        ("tableflow_api_key", "tableflow"),
    ] {
        let name = format!("/confluent_cloud_resource/tableflow_kickstarter/{path}");
        r.push(managed("aws_secretsmanager_secret", tf, json!({"id": name, "name": name})));
    }
    let rotation = Some("module.snowflake_user_rsa_key_pairs_rotation");
    r.push(resource(rotation, "managed", "aws_secretsmanager_secret", "secrets",
        vec![json!({"name": "/snowflake_resource/tableflow_kickstarter"})]));
    r.push(resource(rotation, "managed", "aws_lambda_function", "lambda_function",
        vec![json!({"function_name": "tableflow_kickstarter"})]));
    r.push(resource(rotation, "managed", "aws_iam_role", "lambda_execution_role",
        vec![json!({"name": "tableflow_kickstarter_role"})]));
    for (tf, name) in [
        ("snowflake_warehouse", "TABLEFLOW_KICKSTARTER_WAREHOUSE"),
        ("snowflake_database", "TABLEFLOW_KICKSTARTER_DATABASE"),
        ("snowflake_schema", "TABLEFLOW_KICKSTARTER_SCHEMA"),
    ] {
        r.push(managed(tf, "tableflow_kickstarter", json!({"id": name, "name": name})));
    }
    r.push(managed("snowflake_external_volume", "tableflow_kickstarter_volume", json!({"name": "TABLEFLOW_KICKSTARTER_VOLUME"})));
    r.push(managed("snowflake_execute", "catalog_integration", json!({"id": "x"})));
    r.push(managed("snowflake_execute", "snowflake_stock_trades_iceberg_table", json!({"id": "y"})));
    r.push(managed("snowflake_execute", "snowflake_stock_trades_with_totals_iceberg_table", json!({"id": "z"})));
    r.push(managed("snowflake_user", "user", json!({"name": "TABLEFLOW_KICKSTARTER_USER"})));
    r.push(managed("snowflake_account_role", "security_admin_role", json!({"name": "TABLEFLOW_KICKSTARTER_SECURITY_ADMIN_ROLE"})));
    r.push(managed("snowflake_account_role", "system_admin_role", json!({"name": "TABLEFLOW_KICKSTARTER_SYSTEM_ADMIN_ROLE"})));
    json!({"version": 4, "terraform_version": "1.9.5", "serial": 42,
        "lineage": "3f0c1d2e-seed", "outputs": {}, "resources": r, "check_results": null})
}

/// Whether any stand-in still holds something of the stack.
async fn leftovers() -> BTreeMap<&'static str, usize> {
    let config = clouds::moto_sdk().await;
    let iam = aws_sdk_iam::Client::new(&config);
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    let s3 = clouds::moto_s3().await;
    let sf = &emulators().snowflake;
    // The emulator's own admin user stays; only the stack's objects count.
    let ours = |kind| {
        sf.names(kind)
            .iter()
            .filter(|n| n.starts_with("TABLEFLOW_KICKSTARTER"))
            .count()
    };
    BTreeMap::from([
        ("environments", data(get("/org/v2/environments")).len()),
        ("service accounts", data(get("/iam/v2/service-accounts")).len()),
        ("api keys", data(get("/iam/v2/api-keys")).len()),
        ("buckets", s3.list_buckets().send().await.unwrap().buckets().len()),
        ("roles", iam.list_roles().send().await.unwrap().roles().len()),
        ("secrets", sm.list_secrets().send().await.unwrap().secret_list().len()),
        ("snowflake users", ours(Kind::User)),
        ("snowflake roles", ours(Kind::Role)),
        ("snowflake databases", ours(Kind::Database)),
        ("snowflake volumes", ours(Kind::ExternalVolume)),
        ("iceberg tables", sf.names(Kind::IcebergTable).len()),
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_deploy_sh_built_is_imported_planned_taken_over_and_deleted() {
    // The seed's bucket name ends in a whole UUID: made first, kickstart's create takes it over.
    let s3 = clouds::moto_s3().await;
    let seed_bucket = "tableflow-kickstarter-6f1c2a5e-8d0b-4b7e-9d7a-0c1e2f3a4b5c";
    s3.create_bucket().bucket(seed_bucket).send().await.unwrap();
    let (_, dir) = tokio::task::spawn_blocking(|| Test::new().args(["create"]).args(FULL).status(0).run())
        .await
        .unwrap();
    let buckets = s3.list_buckets().send().await.unwrap();
    assert_eq!(buckets.buckets().len(), 1, "the seed's bucket was adopted, not doubled");
    let sm = aws_sdk_secretsmanager::Client::new(&clouds::moto_sdk().await);
    seed_key_pair_secret(&sm).await;
    let state = terraform_state().await;
    std::fs::remove_file(dir.path().join("kickstart.state.json")).unwrap();
    std::fs::write(dir.path().join("terraform.tfstate"), state.to_string()).unwrap();

    let d = dir.path().to_path_buf();
    let (import, plan, create) = tokio::task::spawn_blocking(move || {
        // No stand-in is reachable from the import: it reads the file and writes the state only.
        let (import, _) = Test::new()
            .in_dir(&d)
            .args(["import", "terraform", "terraform.tfstate"])
            .bare()
            .status(0)
            .stdout_has("not managed: module.snowflake_user_rsa_key_pairs_rotation.aws_lambda_function.lambda_function: remove it with")
            .run();
        let (plan, _) = Test::new().in_dir(&d).args(["plan"]).args(FULL).status(0).stdout_has("plan: 0 to create").run();
        let (create, _) = Test::new().in_dir(&d).args(["create"]).args(FULL).status(0).run();
        (import, plan, create)
    })
    .await
    .unwrap();
    assert!(import.stdout.contains("imported "), "{}", import.stdout);
    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("kickstart.state.json")).unwrap()).unwrap();
    assert_eq!(recorded["nodes"]["confluent.environment"]["id"], state["resources"][0]["instances"][0]["attributes"]["id"]);
    let nodes = &recorded["nodes"];
    assert_eq!(nodes["aws.s3_bucket"]["id"], seed_bucket);
    let tf_statement = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "confluent_flink_statement")
        .unwrap()["instances"][0]["attributes"]["statement_name"]
        .clone();
    assert_eq!(nodes["confluent.flink_statement"]["id"], tf_statement);
    // What the import recorded is looked up by its id and waited for (or rotated: the seed's
    // key-pair secret says nothing of its keys' age), never adopted by name again.
    let imported: usize = import.stdout.split_whitespace().nth(1).unwrap().parse().unwrap();
    let count = |what: &str| -> usize {
        let line = plan.stdout.lines().find(|l| l.starts_with("plan:")).unwrap();
        let at = line.find(what).unwrap();
        line[..at].trim_end().rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert!(imported > 40, "{}", import.stdout);
    assert_eq!(count("to wait for") + count("to rotate"), imported, "{}", plan.stdout);
    assert!(!create.stderr.contains("created "), "create made something new:\n{}", create.stderr);
    assert_eq!(s3.list_buckets().send().await.unwrap().buckets()[0].name(), Some(seed_bucket));

    let d = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || Test::new().in_dir(&d).args(["delete"]).args(FULL).status(0).run())
        .await
        .unwrap();
    let left = leftovers().await;
    assert!(left.values().all(|n| *n == 0), "left in the stand-ins: {left:?}");
}

#[test]
fn a_state_of_another_configuration_version_or_a_damaged_file_is_refused_with_nothing_recorded() {
    for (text, says) in [
        (r#"{"version": 5, "resources": []}"#, "format version 5"),
        (r#"{"version": 4, "resources": [{"mode": "managed", "type": "aws_s3_bucket", "name": "b", "instances": []}]}"#,
            "is not of deploy.sh's configuration"),
        (r#"{"version": 4, "resources": [{"mode": "#, "is damaged"),
    ] {
        let t = Test::new();
        std::fs::write(t.path("tf.json"), text).unwrap();
        let (_, dir) = t
            .args(["import", "terraform", "tf.json"])
            .status(2)
            .stderr_has(says)
            .stderr_lines(1)
            .run();
        assert!(!dir.path().join("kickstart.state.json").exists(), "{says}: nothing recorded");
    }
}
