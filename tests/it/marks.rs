//! Marks: after a whole `create`, what can carry the stack's mark does (AWS tags, Confluent
//! service account descriptions, Snowflake COMMENTs), as each stand-in shows it to any client;
//! reading the clouds back finds them all; and marks are no drift, even when edited by hand.

use crate::common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::Test;
use common::clouds::{self, CONFLUENT_KEY, CONFLUENT_SECRET};
use kickstart::aws::Aws;
use kickstart::clock::SystemClock;
use kickstart::commands::orphans::discover_in;
use kickstart::confluent::{self, Confluent};
use kickstart::engine::RetryPolicy;
use kickstart::settings::Rotation;
use kickstart::snowflake::{self, Admin, Snowflake};
use kickstart::vault::Vault;
use secrecy::SecretString;
use serde_json::Value;

const STACK: &str = "tableflow_kickstarter";
const MARK: &str = "kickstart stack=tableflow_kickstarter";

fn state(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("kickstart.state.json")).unwrap())
        .unwrap()
}

/// The recorded ids of the nodes whose id starts with `prefix`.
fn recorded(state: &Value, prefix: &str) -> Vec<String> {
    let nodes = state["nodes"].as_object().unwrap();
    let ids: Vec<String> = nodes
        .iter()
        .filter(|(node, _)| node.starts_with(prefix))
        .map(|(_, entry)| entry["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!ids.is_empty(), "nothing recorded under {prefix}");
    ids
}

/// Each cloud's client against the shared stand-ins, as `kickstart` builds them.
async fn clients() -> (Arc<Confluent>, Arc<Aws>, Arc<Snowflake>) {
    let e = clouds::emulators();
    let vault = Arc::new(Vault::default());
    let retry = RetryPolicy::default();
    let rotation = Rotation {
        day_count: 30,
        keys_to_retain: 2,
    };
    let confluent = Confluent::new(confluent::Settings {
        endpoint: e.url.parse().unwrap(),
        api_key: CONFLUENT_KEY.into(),
        api_secret: SecretString::from(CONFLUENT_SECRET),
        region: clouds::REGION.into(),
        rotation,
        clock: Arc::new(SystemClock),
        vault: vault.clone(),
        retry: retry.clone(),
        propagation: Duration::from_secs(60),
    });
    let aws = Aws::connect(
        &clouds::moto_sdk().await,
        None,
        vault.clone(),
        retry.clone(),
    )
    .await
    .unwrap();
    let pem = std::fs::read_to_string(&e.admin_key_file).unwrap();
    let sf = Snowflake::new(snowflake::Settings {
        admin: Some(Admin {
            account: clouds::SNOWFLAKE_ACCOUNT.into(),
            user: "ADMIN".into(),
            private_key_pem: SecretString::from(pem),
        }),
        endpoint: Some(e.url.parse().unwrap()),
        warehouse: Some("COMPUTE_WH".into()),
        rotation,
        clock: Arc::new(SystemClock),
        vault,
        retry,
    });
    (confluent, aws, sf)
}

/// `plan --detailed-exitcode` in `dir`: exit 0 is nothing to do, 2 something.
async fn plan_has_nothing_to_do(dir: &std::path::Path) {
    Test::new()
        .in_dir(dir)
        .args(["plan", "--detailed-exitcode"])
        .args(common::FULL)
        .status(0)
        .stdout_has("plan: 0 to create, 0 to adopt, 0 to rotate, 0 to wait for")
        .run_async()
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn what_a_create_makes_carries_the_mark_and_discovery_finds_every_one() {
    let (_, dir) = Test::new().whole_stack("create", None).await;
    let st = state(dir.path());
    let (confluent, aws, sf) = clients().await;

    // Read back from every cloud with reads only, as `gc --orphans` does.
    let found = discover_in(&confluent, &aws, &sf).await.unwrap();
    let ours: BTreeSet<String> = found
        .iter()
        .filter(|f| f.marker.stack == STACK)
        .map(|f| f.what.clone())
        .collect();
    assert!(
        found.iter().all(|f| f.marker.stack == STACK
            && f.marker.expires_at.is_none()
            && f.marker.state.is_none()),
        "a mark other than this stack's, or with what this build does not set: {found:?}"
    );
    let bucket = recorded(&st, "aws.s3_bucket").remove(0);
    let mut wanted = vec![
        format!("S3 bucket {bucket}"),
        "IAM role tableflow_s3_glue_role".to_string(),
        "IAM role snowflake_s3_glue_role".to_string(),
        "IAM policy tableflow_s3_glue_access_policy".to_string(),
        "IAM policy snowflake_s3_glue_role_access_policy".to_string(),
    ];
    wanted.extend(
        recorded(&st, "aws.secret.")
            .into_iter()
            .map(|name| format!("secret {name}")),
    );
    let upper = STACK.to_uppercase();
    for (what, suffix) in [
        ("warehouse", "WAREHOUSE"),
        ("database", "DATABASE"),
        ("role", "SECURITY_ADMIN_ROLE"),
        ("role", "SYSTEM_ADMIN_ROLE"),
        ("user", "USER"),
    ] {
        wanted.push(format!("Snowflake {what} {upper}_{suffix}"));
    }
    for what in &wanted {
        assert!(
            ours.contains(what),
            "{what} is not found marked in {ours:#?}"
        );
    }
    let accounts = recorded(&st, "confluent.service_account.");
    let marked_accounts = ours
        .iter()
        .filter(|w| w.starts_with("service account "))
        .count();
    assert_eq!(marked_accounts, accounts.len(), "{ours:#?}");
    for id in &accounts {
        assert!(
            ours.iter().any(|w| w.ends_with(&format!("({id})"))),
            "service account {id} is not marked: {ours:#?}"
        );
    }

    // The exact forms each service shows: the tags, the description, the COMMENT.
    let iam = aws_sdk_iam::Client::new(&clouds::moto_sdk().await);
    for policy in [
        "tableflow_s3_glue_access_policy",
        "snowflake_s3_glue_role_access_policy",
    ] {
        let arn = format!("arn:aws:iam::{}:policy/{policy}", aws.account);
        let tags = iam
            .list_policy_tags()
            .policy_arn(&arn)
            .send()
            .await
            .unwrap();
        let stack = tags.tags().iter().find(|t| t.key() == "kickstart:stack");
        assert_eq!(stack.map(|t| t.value()), Some(STACK), "{policy}: {tags:?}");
    }
    let s3 = clouds::moto_s3().await;
    let tagging = s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let tags: Vec<(&str, &str)> = tagging
        .tag_set()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(tags, [("kickstart:stack", STACK)]);
    let e = clouds::emulators();
    let (status, account) = common::census::get(
        &e.url,
        &format!("/iam/v2/service-accounts/{}", accounts[0]),
        CONFLUENT_KEY,
        CONFLUENT_SECRET,
    );
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["description"], MARK);
    for (role, show, name) in [
        (
            "ACCOUNTADMIN",
            "SHOW EXTERNAL VOLUMES",
            format!("{upper}_VOLUME"),
        ),
        (
            "ACCOUNTADMIN",
            "SHOW CATALOG INTEGRATIONS",
            format!("{upper}_CATALOG_INTEGRATION"),
        ),
        ("SYSADMIN", "SHOW WAREHOUSES", format!("{upper}_WAREHOUSE")),
    ] {
        let rows = sf.run(role, show).await.unwrap();
        let row = rows
            .iter()
            .find(|r| snowflake::text(r, "name").as_deref() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("{show} lacks {name}"));
        assert_eq!(
            snowflake::text(row, "comment").as_deref(),
            Some(MARK),
            "{name}"
        );
    }

    plan_has_nothing_to_do(dir.path()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn marks_taken_off_or_edited_by_hand_are_no_drift() {
    let (_, dir) = Test::new().whole_stack("create", None).await;
    let st = state(dir.path());
    let bucket = recorded(&st, "aws.s3_bucket").remove(0);
    let sdk = clouds::moto_sdk().await;
    clouds::moto_s3()
        .await
        .delete_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    aws_sdk_iam::Client::new(&sdk)
        .untag_role()
        .role_name("tableflow_s3_glue_role")
        .tag_keys("kickstart:stack")
        .send()
        .await
        .unwrap();
    let secret = recorded(&st, "aws.secret.").remove(0);
    aws_sdk_secretsmanager::Client::new(&sdk)
        .tag_resource()
        .secret_id(&secret)
        .tags(
            aws_sdk_secretsmanager::types::Tag::builder()
                .key("kickstart:stack")
                .value("someone_else")
                .build(),
        )
        .send()
        .await
        .unwrap();

    plan_has_nothing_to_do(dir.path()).await;
    // Nor does create put them back: marks are written when a resource is made, only.
    Test::new().whole_stack("create", Some(dir.path())).await;
    let tags = clouds::moto_s3()
        .await
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await;
    assert!(
        tags.is_err(),
        "create tagged an adopted bucket again: {tags:?}"
    );
}
