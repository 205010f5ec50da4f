//! Taking over a stack deploy.sh built. The seed's stack is built in the stand-ins as its
//! Terraform builds it (the seed's names, its bucket with a whole UUID, its secrets' layouts),
//! every object is read back from the stand-ins into a Terraform state in the JSON form
//! `terraform state pull` writes (format version 4, the seed's resource addresses), kickstart's
//! own state is thrown away; then `import terraform` records the stack, `plan` has nothing to
//! create, `create` creates nothing and `delete` leaves nothing in any stand-in.

mod seed;

use crate::common;

use std::collections::BTreeMap;

use common::clouds::{self, emulators};
use common::{FULL, Test};
use local_cloud::snowflake::Kind;
use serde_json::Value;

use seed::{data, get, seed_key_pair_secret, terraform_state};

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
        (
            "service accounts",
            data(get("/iam/v2/service-accounts")).len(),
        ),
        // The organization lists the Cloud API key too; it is not the stack's.
        (
            "api keys",
            data(get("/iam/v2/api-keys"))
                .iter()
                .filter(|k| k["id"] != clouds::CONFLUENT_KEY)
                .count(),
        ),
        (
            "buckets",
            s3.list_buckets().send().await.unwrap().buckets().len(),
        ),
        (
            "roles",
            iam.list_roles().send().await.unwrap().roles().len(),
        ),
        (
            "secrets",
            sm.list_secrets().send().await.unwrap().secret_list().len(),
        ),
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
    let (_, dir) = Test::new().whole_stack("create", None).await;
    let buckets = s3.list_buckets().send().await.unwrap();
    assert_eq!(
        buckets.buckets().len(),
        1,
        "the seed's bucket was adopted, not doubled"
    );
    let refused = seed::plain_create_table_fails().await;
    assert!(
        refused.contains("FAILED") && refused.contains("already exists"),
        "{refused}"
    );
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
    let recorded: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("kickstart.state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        recorded["nodes"]["confluent.environment"]["id"],
        state["resources"][0]["instances"][0]["attributes"]["id"]
    );
    let nodes = &recorded["nodes"];
    assert_eq!(nodes["aws.s3_bucket"]["id"], seed_bucket);
    let binding = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "app_manager_kafka_cluster_admin")
        .expect("the cluster admin binding was read back")["instances"][0]["attributes"]["id"]
        .clone();
    assert_eq!(
        nodes["confluent.role_binding.app_manager_cluster_admin"]["id"],
        binding
    );
    let tf_statement = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "confluent_flink_statement")
        .unwrap()["instances"][0]["attributes"]["statement_name"]
        .clone();
    assert_eq!(
        nodes["confluent.flink_statement.ctas_stock_trades_with_totals"]["id"],
        tf_statement
    );
    // What the import recorded is looked up by its id and waited for (or rotated: the seed's
    // key-pair secret says nothing of its keys' age), never adopted by name again.
    let imported: usize = import
        .stdout
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let count = |what: &str| -> usize {
        let line = plan
            .stdout
            .lines()
            .find(|l| l.starts_with("plan:"))
            .unwrap();
        let at = line.find(what).unwrap();
        line[..at]
            .trim_end()
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(imported > 40, "{}", import.stdout);
    assert_eq!(
        count("to wait for") + count("to rotate"),
        imported,
        "{}",
        plan.stdout
    );
    assert!(
        !create.stderr.contains("created "),
        "create made something new:\n{}",
        create.stderr
    );
    assert_eq!(
        s3.list_buckets().send().await.unwrap().buckets()[0].name(),
        Some(seed_bucket)
    );

    Test::new().whole_stack("delete", Some(dir.path())).await;
    let left = leftovers().await;
    assert!(
        left.values().all(|n| *n == 0),
        "left in the stand-ins: {left:?}"
    );
}

#[test]
fn a_state_of_another_configuration_version_or_a_damaged_file_is_refused_with_nothing_recorded() {
    for (text, says) in [
        (r#"{"version": 5, "resources": []}"#, "format version 5"),
        (
            r#"{"version": 4, "resources": [{"mode": "managed", "type": "aws_s3_bucket", "name": "b", "instances": []}]}"#,
            "is not of deploy.sh's configuration",
        ),
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
        assert!(
            !dir.path().join("kickstart.state.json").exists(),
            "{says}: nothing recorded"
        );
    }
}
