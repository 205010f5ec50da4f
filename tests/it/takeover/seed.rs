//! deploy.sh's stack as its Terraform state would hold it, read back from the stand-ins: the
//! seed's resource addresses in the JSON form `terraform state pull` writes (format version 4).

use crate::common;

use common::clouds::{self, CONFLUENT_KEY, CONFLUENT_SECRET, emulators};
use serde_json::{Value, json};
/// A GET of the Confluent emulator, with the Cloud key or another (the Flink key).
pub(super) fn get_as(path: &str, key: &str, secret: &str) -> Value {
    call("GET", path, key, secret, None)
}

/// One call to the Confluent emulator, answered with its JSON body.
pub(super) fn call(
    method: &str,
    path: &str,
    key: &str,
    secret: &str,
    body: Option<&Value>,
) -> Value {
    use base64::Engine as _;
    use std::io::{Read as _, Write as _};
    let host = emulators().url.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"));
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAuthorization: Basic {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap_or("null").trim())
        .unwrap_or(Value::Null)
}

pub(super) fn get(path: &str) -> Value {
    get_as(path, CONFLUENT_KEY, CONFLUENT_SECRET)
}

pub(super) fn data(v: Value) -> Vec<Value> {
    v["data"].as_array().cloned().unwrap_or_default()
}

pub(super) fn named<'a>(items: &'a [Value], pointer: &str, name: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i.pointer(pointer).and_then(Value::as_str) == Some(name))
        .unwrap_or_else(|| panic!("no {name} among {items:?}"))
}

/// One resource of a v4 state, as Terraform writes it.
pub(super) fn resource(
    module: Option<&str>,
    mode: &str,
    kind: &str,
    name: &str,
    attrs: Vec<Value>,
) -> Value {
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

pub(super) fn managed(kind: &str, name: &str, attrs: Value) -> Value {
    resource(None, "managed", kind, name, vec![attrs])
}

pub(super) async fn secret_text(sm: &aws_sdk_secretsmanager::Client, name: &str) -> Value {
    let v = sm.get_secret_value().secret_id(name).send().await.unwrap();
    serde_json::from_str(v.secret_string().unwrap()).unwrap()
}

/// Rewrites the service user's key-pair secret as the seed's rotation Lambda writes it: its key
/// names only, without what kickstart adds (fingerprints, creation times).
pub(super) async fn seed_key_pair_secret(sm: &aws_sdk_secretsmanager::Client) {
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
pub(super) async fn terraform_state() -> Value {
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
    let tableflow = secret_text(
        &sm,
        "/confluent_cloud_resource/tableflow_kickstarter/tableflow",
    )
    .await;
    let tci = data(get_as(
        &format!(
            "/tableflow/v1/catalog-integrations?environment={env_id}&spec.kafka_cluster={lkc}"
        ),
        tableflow["api.key"].as_str().unwrap(),
        tableflow["api.key.secret"].as_str().unwrap(),
    ))[0]
        .clone();
    let statements = data(get_as(
        &format!(
            "/sql/v1/organizations/{}/environments/{env_id}/statements",
            org.as_str().unwrap()
        ),
        flink["api.key"].as_str().unwrap(),
        flink["api.key.secret"].as_str().unwrap(),
    ));
    let statement = statements
        .iter()
        .find(|s| {
            s["name"]
                .as_str()
                .unwrap()
                .starts_with("ctas-stock-trades-with-totals-")
        })
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
        managed(
            "confluent_environment",
            "tableflow_kickstarter",
            json!({"id": env_id, "display_name": env["display_name"], "resource_name": env["metadata"]["resource_name"]}),
        ),
        managed(
            "confluent_kafka_cluster",
            "kafka_cluster",
            json!({"id": lkc, "display_name": cluster["spec"]["display_name"], "availability": "SINGLE_ZONE", "standard": [{}]}),
        ),
        resource(
            None,
            "data",
            "confluent_schema_registry_cluster",
            "env",
            vec![json!({"id": sr["id"]})],
        ),
        managed(
            "confluent_flink_compute_pool",
            "env",
            json!({"id": pool["id"], "display_name": pool["spec"]["display_name"]}),
        ),
        managed(
            "confluent_provider_integration",
            "tableflow",
            json!({"id": pim["id"], "display_name": pim["display_name"]}),
        ),
        managed(
            "confluent_catalog_integration",
            "tableflow",
            json!({"id": tci["id"], "display_name": tci["spec"]["display_name"]}),
        ),
        managed(
            "confluent_kafka_topic",
            "stock_trades",
            json!({"id": format!("{lkc}/stock_trades"), "topic_name": "stock_trades"}),
        ),
        managed(
            "confluent_connector",
            "source",
            json!({"id": "lcc-seed", "config_nonsensitive": {"name": "SampleSourceConnector"}}),
        ),
        resource(
            Some("module.create_set_1"),
            "managed",
            "confluent_flink_statement",
            "statement",
            vec![json!({"id": statement, "statement_name": statement})],
        ),
        resource(
            Some("module.create_set_1"),
            "managed",
            "random_uuid",
            "flink_statement",
            vec![json!({"id": "u"})],
        ),
        managed(
            "random_uuid",
            "s3_bucket",
            json!({"id": bucket.trim_start_matches("tableflow-kickstarter-")}),
        ),
        managed(
            "aws_s3_bucket",
            "iceberg_bucket",
            json!({"id": bucket, "bucket": bucket}),
        ),
        managed(
            "aws_iam_role",
            "tableflow_s3_glue_role",
            role("tableflow_s3_glue_role").await,
        ),
        managed(
            "aws_iam_role",
            "snowflake_s3_glue_role",
            role("snowflake_s3_glue_role").await,
        ),
        managed(
            "aws_iam_policy",
            "tableflow_s3_glue_access_policy",
            json!({"id": policy_arn("tableflow_s3_glue_access_policy"), "arn": policy_arn("tableflow_s3_glue_access_policy")}),
        ),
        managed(
            "aws_iam_policy",
            "snowflake_s3_glue_role_access_policy",
            json!({"id": policy_arn("snowflake_s3_glue_role_access_policy"), "arn": policy_arn("snowflake_s3_glue_role_access_policy")}),
        ),
        managed(
            "aws_iam_role_policy_attachment",
            "tableflow_s3_glue_policy_attachment",
            json!({"role": "tableflow_s3_glue_role", "policy_arn": policy_arn("tableflow_s3_glue_access_policy")}),
        ),
        managed(
            "aws_iam_role_policy_attachment",
            "snowflake_s3_glue_policy_attachment",
            json!({"role": "snowflake_s3_glue_role", "policy_arn": policy_arn("snowflake_s3_glue_role_access_policy")}),
        ),
    ];
    for (tf, display) in [
        ("app_manager", "tableflow_app_manager"),
        ("app_consumer", "tableflow_app_consumer"),
        ("app_producer", "tableflow_app_producer"),
        ("app_connector", "tableflow_app_connector"),
        (
            "schema_registry_cluster_api",
            "tableflow_kickstarter_schema_registry_cluster_api",
        ),
        (
            "flink_sql_runner",
            "tableflow_kickstarter_flink_sql_statements_runner",
        ),
    ] {
        let sa = named(&accounts, "/display_name", display);
        r.push(managed(
            "confluent_service_account",
            tf,
            json!({"id": sa["id"], "display_name": display}),
        ));
    }
    let sa_id = |display: &str| {
        named(&accounts, "/display_name", display)["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for (module, owner) in [
        ("module.kafka_app_manager_api_key", "tableflow_app_manager"),
        (
            "module.kafka_app_consumer_api_key",
            "tableflow_app_consumer",
        ),
        (
            "module.kafka_app_producer_api_key",
            "tableflow_app_producer",
        ),
        (
            "module.schema_registry_cluster_api_key_rotation",
            "tableflow_kickstarter_schema_registry_cluster_api",
        ),
        (
            "module.flink_api_key_rotation",
            "tableflow_kickstarter_flink_sql_statements_runner",
        ),
    ] {
        let owned: Vec<Value> = keys
            .iter()
            .filter(|k| k["spec"]["owner"]["id"] == sa_id(owner).as_str())
            .filter(|k| {
                module != "module.kafka_app_manager_api_key"
                    || k["spec"]["resource"]["id"] != "tableflow"
            })
            .map(|k| json!({"id": k["id"], "display_name": k["spec"]["display_name"]}))
            .collect();
        r.push(resource(
            Some(module),
            "managed",
            "confluent_api_key",
            "resouce_api_key",
            owned,
        ));
    }
    let tableflow_keys: Vec<Value> = keys
        .iter()
        .filter(|k| k["spec"]["resource"]["id"] == "tableflow")
        .map(|k| json!({"id": k["id"]}))
        .collect();
    r.push(resource(
        Some("module.tableflow_api_key"),
        "managed",
        "confluent_api_key",
        "resouce_api_key",
        tableflow_keys,
    ));
    r.extend(role_bindings(org.as_str().unwrap()));
    for topic in ["stock_trades", "stock_trades_with_totals"] {
        r.push(managed(
            "confluent_tableflow_topic",
            topic,
            json!({"id": topic, "display_name": topic}),
        ));
    }
    for (tf, path) in [
        (
            "schema_registry_cluster_api_key_python_client",
            "schema_registry_cluster/python_client",
        ),
        (
            "kafka_app_manager_cluster_api_key",
            "kafka_cluster/app_manager/python_client",
        ),
        (
            "kafka_app_consumer_api_key",
            "kafka_cluster/app_consumer/python_client",
        ),
        (
            "kafka_app_producer_api_key",
            "kafka_cluster/app_producer/python_client",
        ),
        ("flink_api_key", "flink"),
        ("tableflow_api_key", "tableflow"),
    ] {
        let name = format!("/confluent_cloud_resource/tableflow_kickstarter/{path}");
        r.push(managed(
            "aws_secretsmanager_secret",
            tf,
            json!({"id": name, "name": name}),
        ));
    }
    let rotation = Some("module.snowflake_user_rsa_key_pairs_rotation");
    r.push(resource(
        rotation,
        "managed",
        "aws_secretsmanager_secret",
        "secrets",
        vec![json!({"name": "/snowflake_resource/tableflow_kickstarter"})],
    ));
    r.push(resource(
        rotation,
        "managed",
        "aws_lambda_function",
        "lambda_function",
        vec![json!({"function_name": "tableflow_kickstarter"})],
    ));
    r.push(resource(
        rotation,
        "managed",
        "aws_iam_role",
        "lambda_execution_role",
        vec![json!({"name": "tableflow_kickstarter_role"})],
    ));
    for (tf, name) in [
        ("snowflake_warehouse", "TABLEFLOW_KICKSTARTER_WAREHOUSE"),
        ("snowflake_database", "TABLEFLOW_KICKSTARTER_DATABASE"),
        ("snowflake_schema", "TABLEFLOW_KICKSTARTER_SCHEMA"),
    ] {
        r.push(managed(
            tf,
            "tableflow_kickstarter",
            json!({"id": name, "name": name}),
        ));
    }
    r.push(managed(
        "snowflake_external_volume",
        "tableflow_kickstarter_volume",
        json!({"name": "TABLEFLOW_KICKSTARTER_VOLUME"}),
    ));
    r.push(managed(
        "snowflake_execute",
        "catalog_integration",
        json!({"id": "x"}),
    ));
    r.push(managed(
        "snowflake_execute",
        "snowflake_stock_trades_iceberg_table",
        json!({"id": "y"}),
    ));
    r.push(managed(
        "snowflake_execute",
        "snowflake_stock_trades_with_totals_iceberg_table",
        json!({"id": "z"}),
    ));
    r.push(managed(
        "snowflake_user",
        "user",
        json!({"name": "TABLEFLOW_KICKSTARTER_USER"}),
    ));
    r.push(managed(
        "snowflake_account_role",
        "security_admin_role",
        json!({"name": "TABLEFLOW_KICKSTARTER_SECURITY_ADMIN_ROLE"}),
    ));
    r.push(managed(
        "snowflake_account_role",
        "system_admin_role",
        json!({"name": "TABLEFLOW_KICKSTARTER_SYSTEM_ADMIN_ROLE"}),
    ));
    json!({"version": 4, "terraform_version": "1.9.5", "serial": 42,
        "lineage": "3f0c1d2e-seed", "outputs": {}, "resources": r, "check_results": null})
}

/// Flink refuses a plain `CREATE TABLE` whose table exists, as Confluent Cloud does: a statement
/// of the stack's first CTAS without `IF NOT EXISTS` fails once the table is there.
pub(super) async fn plain_create_table_fails() -> String {
    let envs = data(get("/org/v2/environments"));
    let env_id = named(&envs, "/display_name", "tableflow_kickstarter")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let org = data(get("/org/v2/organizations"))[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pool = data(get(&format!("/fcpm/v2/compute-pools?environment={env_id}")))[0]["id"].clone();
    let accounts = data(get("/iam/v2/service-accounts"));
    let runner = named(
        &accounts,
        "/display_name",
        "tableflow_kickstarter_flink_sql_statements_runner",
    )["id"]
        .clone();
    let config = clouds::moto_sdk().await;
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    let flink = secret_text(&sm, "/confluent_cloud_resource/tableflow_kickstarter/flink").await;
    let (key, secret) = (
        flink["api.key"].as_str().unwrap(),
        flink["api.key.secret"].as_str().unwrap(),
    );
    let path = format!("/sql/v1/organizations/{org}/environments/{env_id}/statements");
    let body = json!({"name": "plain-ctas", "spec": {
        "statement": "CREATE TABLE `stock_trades_with_totals` AS SELECT * FROM `stock_trades`;",
        "compute_pool_id": pool, "principal": runner,
        "properties": {"sql.current-catalog": "tableflow_kickstarter", "sql.current-database": "tableflow_kickstarter"}}});
    call("POST", &path, key, secret, Some(&body));
    for _ in 0..100 {
        let s = get_as(&format!("{path}/plain-ctas"), key, secret);
        if s["status"]["phase"] != "PENDING" {
            call("DELETE", &format!("{path}/plain-ctas"), key, secret, None);
            return format!("{} {}", s["status"]["phase"], s["status"]["detail"]);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the statement stayed PENDING")
}

/// The role bindings the stand-in holds, under the seed's resource names (a binding the seed does
/// not make, such as an EnvironmentAdmin, is left out as it would be from its state).
fn role_bindings(org: &str) -> Vec<Value> {
    let all = data(get(&format!(
        "/iam/v2/role-bindings?page_size=100&crn_pattern=crn%3A%2F%2Fconfluent.cloud%2Forganization%3D{org}"
    )));
    all.iter()
        .filter_map(|rb| {
            let role = rb["role_name"].as_str()?;
            let crn = rb["crn_pattern"].as_str()?;
            let last = crn.rsplit('/').next()?.split('=').next()?;
            let name = match (role, last) {
                ("CloudClusterAdmin", "cloud-cluster") => "app_manager_kafka_cluster_admin",
                ("DeveloperRead", "subject") => "schema_registry_developer_read_all_subjects",
                ("DeveloperWrite", "subject") => "schema_registry_developer_write_all_subjects",
                ("ResourceOwner", "provider-integration") => {
                    "app_manager_provider_integration_resource_owner"
                }
                ("FlinkDeveloper", _) => "flink_sql_runner_as_flink_developer",
                ("ResourceOwner", "topic") => "flink_sql_runner_as_resource_owner_topic_access",
                ("ResourceOwner", "transactional-id") => {
                    "flink_sql_runner_as_resource_owner_transactional_access"
                }
                ("ResourceOwner", "subject") => "flink_sql_runner_schema_registry_access",
                ("Assigner", _) => "flink_sql_runner_as_assigner",
                _ => return None,
            };
            Some(managed(
                "confluent_role_binding",
                name,
                json!({"id": rb["id"], "principal": rb["principal"], "role_name": role, "crn_pattern": crn}),
            ))
        })
        .collect()
}
