//! Every Snowflake node against the emulator, through the engine and the real connector: create,
//! adopt, DESCRIBE outputs, key-pair logins and rotation, hostile names, delete, no leaked keys.
//! Confluent and AWS nodes are stood in for, except the key pairs (A5), whose logic is Snowflake's.

use crate::common;

use common::capture::Captured;
use common::clouds::{SNOWFLAKE_ACCOUNT, SNOWFLAKE_IAM_USER as IAM_USER};
use common::context::{Context, Setup};
use kickstart::engine::{Outcome, Record};
use kickstart::snowflake;
use local_cloud::snowflake::Kind;
use secrecy::{ExposeSecret as _, SecretString};

const KEY_PAIRS: &str = "aws.secret.snowflake_key_pairs";

/// Real Snowflake nodes; the Confluent stand-in records the cluster and the table's base path
/// that the volume and the tables are made from. The drift tests start from it too.
pub(crate) fn snowflake() -> Setup {
    Context::snowflake()
        .recorded("confluent.kafka_cluster", Record::new("lkc-abc12"))
        .recorded(
            "confluent.tableflow.stock_trades",
            Record::new("stock_trades").with(
                "base_path",
                "s3://tableflow-kickstarter-0a1b/10011010/org/env-abc12/lkc-abc12/v1/",
            ),
        )
}

/// The key-pair secret the real A5 node wrote, as a document.
async fn key_pairs(w: &Context) -> serde_json::Value {
    let secret = w.store().read(&w.names.snowflake_secret()).await;
    let secret = secret.unwrap().expect("the key-pair secret is written");
    serde_json::from_str(secret.expose_secret()).unwrap()
}

/// The service user's private key of `slot`, as the secret holds it.
async fn private_key(w: &Context, slot: u8) -> SecretString {
    use base64::Engine as _;
    let doc = key_pairs(w).await;
    let b64 = doc[format!("snowflake_rsa_private_key_{slot}_pem")]
        .as_str()
        .unwrap();
    let pem = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    SecretString::from(String::from_utf8(pem).unwrap())
}

/// Logs in as the service user with `pem` through the real connector; `Err` carries the code.
async fn login(w: &Context, pem: &SecretString) -> Result<String, String> {
    let user = w.names.upper("USER");
    let client = w
        .sf()
        .client(SNOWFLAKE_ACCOUNT, &user, pem, None)
        .map_err(|e| e.to_string())?;
    let session = client
        .create_session()
        .await
        .map_err(|e| e.snowflake_message().unwrap_or("no message").to_string())?;
    let rows: Vec<_> = session
        .query("SELECT CURRENT_USER()")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    Ok(snowflake::text(&rows[0], "VALUE").unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_snowflake_object_is_created_described_adopted_and_dropped() {
    let w = snowflake().start().await;
    let ledger = w.ledger();
    let report = w.engine(&ledger).create().await;
    assert!(report.ok(), "{:?}", report.failures);

    assert_eq!(
        w.emulator.names(Kind::Warehouse),
        ["TABLEFLOW_KICKSTARTER_WAREHOUSE"]
    );
    assert_eq!(
        w.emulator.names(Kind::Database),
        ["TABLEFLOW_KICKSTARTER_DATABASE"]
    );
    assert_eq!(
        w.emulator.names(Kind::Schema),
        ["TABLEFLOW_KICKSTARTER_DATABASE.TABLEFLOW_KICKSTARTER_SCHEMA"]
    );
    assert_eq!(w.emulator.names(Kind::Role).len(), 2);
    assert!(
        w.emulator
            .names(Kind::User)
            .contains(&"TABLEFLOW_KICKSTARTER_USER".to_string())
    );
    assert_eq!(
        w.emulator.names(Kind::ExternalVolume),
        ["TABLEFLOW_KICKSTARTER_VOLUME"]
    );
    assert_eq!(
        w.emulator.names(Kind::CatalogIntegration),
        ["TABLEFLOW_KICKSTARTER_CATALOG_INTEGRATION"]
    );
    assert_eq!(w.emulator.names(Kind::IcebergTable).len(), 2);
    let grants = w.emulator.grants();
    let to_user = grants
        .iter()
        .filter(|(_, to)| to == "TABLEFLOW_KICKSTARTER_USER")
        .count();
    let usage = grants
        .iter()
        .filter(|(what, to)| {
            what.starts_with("USAGE") && to == "TABLEFLOW_KICKSTARTER_SYSTEM_ADMIN_ROLE"
        })
        .count();
    assert_eq!((to_user, usage), (2, 5), "{grants:?}");

    // What A3's trust policy needs, parsed from the DESCRIBEs.
    let state = ledger.snapshot().await;
    for node in ["snowflake.external_volume", "snowflake.catalog_integration"] {
        let r = state.record(node).unwrap();
        assert_eq!(r.outputs["iam_user_arn"], IAM_USER, "{node}");
        assert!(
            r.outputs["external_id"].starts_with("LOCALCLOUD_SFCRole="),
            "{node}"
        );
    }

    w.create_again_only_reads(&ledger).await;

    let gone = w.engine(&ledger).delete().await;
    assert!(gone.ok(), "{:?}", gone.failures);
    for kind in [
        Kind::Warehouse,
        Kind::Database,
        Kind::Schema,
        Kind::Role,
        Kind::ExternalVolume,
        Kind::CatalogIntegration,
        Kind::IcebergTable,
    ] {
        assert!(
            w.emulator.names(kind).is_empty(),
            "{kind:?} left: {:?}",
            w.emulator.names(kind)
        );
    }
    assert_eq!(w.emulator.names(Kind::User), ["ADMIN"]);
    let left: Vec<_> = w
        .emulator
        .grants()
        .into_iter()
        .filter(|(what, to)| to != "ADMIN" || what.contains("TABLEFLOW"))
        .collect();
    assert!(left.is_empty(), "grants left: {left:?}");
    w.cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_service_user_logs_in_with_its_keys_through_two_rotations() {
    let w = snowflake().start().await;
    let ledger = w.ledger();
    assert!(w.engine(&ledger).create().await.ok());
    let first = private_key(&w, 1).await;
    assert_eq!(
        login(&w, &first).await.unwrap(),
        "TABLEFLOW_KICKSTARTER_USER"
    );

    w.clock.advance_days(31);
    let report = w.engine(&ledger).rotate().await;
    assert!(report.ok(), "{:?}", report.failures);
    assert_eq!(report.outcome(KEY_PAIRS), Some(Outcome::Rotated));
    assert_eq!(report.outcome("snowflake.user"), Some(Outcome::Rotated));
    let second = private_key(&w, 2).await;
    assert_eq!(
        login(&w, &second).await.unwrap(),
        "TABLEFLOW_KICKSTARTER_USER",
        "the new key works"
    );
    assert!(
        login(&w, &first).await.is_ok(),
        "the previous key still works until the next rotation"
    );

    w.clock.advance_days(31);
    assert!(w.engine(&ledger).rotate().await.ok());
    let third = private_key(&w, 1).await;
    assert!(login(&w, &third).await.is_ok());
    assert!(login(&w, &second).await.is_ok());
    let refused = login(&w, &first).await.unwrap_err();
    assert!(
        refused.starts_with("JWT token is invalid."),
        "the oldest key is refused: {refused}"
    );
    w.cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_name_is_quoted_and_injects_nothing() {
    // The CLI refuses such a stack name; the SQL must hold even if it got through.
    let hostile = "x\"; DROP DATABASE ADMIN_DB; --";
    let w = snowflake().stack_name(hostile).start().await;
    let ledger = w.ledger();
    let report = w.engine(&ledger).create().await;
    assert!(report.ok(), "{:?}", report.failures);
    let databases = w.emulator.names(Kind::Database);
    assert_eq!(
        databases,
        [format!("{}_DATABASE", hostile.to_ascii_uppercase())],
        "one database, named literally"
    );
    let executed = w.emulator.executed();
    assert!(
        executed.iter().any(|s| s == "CREATE DATABASE"),
        "{executed:?}"
    );
    assert!(
        !executed.iter().any(|s| s.starts_with("DROP")),
        "a statement was injected: {executed:?}"
    );
    w.cloud.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn no_key_or_token_reaches_the_trace_log_or_the_state_file() {
    let (captured, _guard) = Captured::trace();

    let w = snowflake().start().await;
    let ledger = w.file_ledger();
    let state_file = w.state_file();
    assert!(w.engine(&ledger).create().await.ok());
    w.clock.advance_days(31);
    assert!(w.engine(&ledger).rotate().await.ok());
    let doc = key_pairs(&w).await;
    w.cloud.stop().await;

    let logs = captured.text();
    let state = std::fs::read_to_string(state_file).unwrap();
    assert!(logs.len() > 1000, "trace logging was captured");
    for slot in ["1", "2"] {
        for field in ["snowflake_rsa_private_key", "snowflake_rsa_public_key"] {
            let value = doc[format!("{field}_{slot}_pem")].as_str().unwrap();
            // Any 40-character piece would do; the middle of the key is never boilerplate.
            let piece = &value[value.len() / 2..value.len() / 2 + 40];
            assert!(!logs.contains(piece), "{slot}.{field} is in the trace log");
            assert!(
                !state.contains(piece),
                "{slot}.{field} is in the state file"
            );
        }
    }
    assert!(!logs.contains("eyJ"), "a JWT is in the trace log");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_refuses_tables_before_their_volume_and_catalog_and_account_objects_to_sysadmin()
 {
    let w = snowflake().start().await;
    let code = |r: Result<
        Vec<snowflake_connector_rs::DynamicRow>,
        kickstart::engine::NodeError,
    >| match r {
        Err(kickstart::engine::NodeError::Other(e)) => e
            .downcast_ref::<snowflake::SqlError>()
            .and_then(|s| s.code.clone()),
        _ => None,
    };
    assert!(
        w.sf()
            .run("SYSADMIN", "CREATE DATABASE IF NOT EXISTS \"D\"")
            .await
            .is_ok()
    );
    assert!(
        w.sf()
            .run("SYSADMIN", "CREATE SCHEMA IF NOT EXISTS \"D\".\"S\"")
            .await
            .is_ok()
    );
    let table = snowflake::sql::create_table("D", "S", "T", "NO_VOLUME", "NO_CATALOG", "t");
    assert_eq!(
        code(w.sf().run("SYSADMIN", &table).await).as_deref(),
        Some("002003"),
        "no such volume"
    );
    let volume = snowflake::sql::create_volume(&snowflake::sql::Volume {
        name: "V",
        location: "l",
        base_url: "s3://b/v1/",
        role_arn: "arn:aws:iam::123456789012:role/r",
    });
    assert_eq!(
        code(w.sf().run("SYSADMIN", &volume).await).as_deref(),
        Some("003001"),
        "account objects need ACCOUNTADMIN"
    );
    // As Snowflake words it: the account is named, not the object.
    let refused = w
        .sf()
        .run("SYSADMIN", &volume)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("Insufficient privileges to operate on account '"),
        "{refused}"
    );
    assert!(w.sf().run("ACCOUNTADMIN", &volume).await.is_ok());
    let table = snowflake::sql::create_table("D", "S", "T", "V", "NO_CATALOG", "t");
    assert_eq!(
        code(w.sf().run("SYSADMIN", &table).await).as_deref(),
        Some("002003"),
        "no such catalog integration"
    );
    assert_eq!(
        code(w.sf().run("SYSADMIN", "SELECT * FROM T").await).as_deref(),
        Some("001003"),
        "what it does not know is a syntax error"
    );
    w.cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_iceberg_table_needs_a_role_that_lets_snowflake_in_and_its_table_in_glue() {
    let w = snowflake().customer_aws().start().await;
    let code = |r: Result<
        Vec<snowflake_connector_rs::DynamicRow>,
        kickstart::engine::NodeError,
    >| {
        match r {
            Err(kickstart::engine::NodeError::Other(e)) => e
                .downcast_ref::<snowflake::SqlError>()
                .map(|s| (s.code.clone().unwrap_or_default(), s.message.clone())),
            _ => None,
        }
    };
    let role = "arn:aws:iam::123456789012:role/sf_glue_role";
    for (who, sql) in [
        (
            "SYSADMIN",
            "CREATE DATABASE IF NOT EXISTS \"D\"".to_string(),
        ),
        ("SYSADMIN", "CREATE SCHEMA IF NOT EXISTS \"D\".\"S\"".into()),
        (
            "ACCOUNTADMIN",
            snowflake::sql::create_volume(&snowflake::sql::Volume {
                name: "V",
                location: "l",
                base_url: "s3://b/v1/",
                role_arn: role,
            }),
        ),
        (
            "ACCOUNTADMIN",
            snowflake::sql::create_catalog(&snowflake::sql::Catalog {
                name: "C",
                namespace: "lkc-abc12",
                role_arn: role,
                account: "123456789012",
                region: "us-east-1",
            }),
        ),
    ] {
        w.sf().run(who, &sql).await.unwrap();
    }
    let table = snowflake::sql::create_table("D", "S", "T", "V", "C", "stock_trades");

    // No such role in the account: Snowflake cannot get in.
    let (c, message) = code(w.sf().run("SYSADMIN", &table).await).unwrap();
    assert!(
        c == "091003" && message.contains("Unable to assume role"),
        "{c} {message}"
    );

    // A role that trusts Snowflake's IAM user, but Glue has no such table yet.
    let config = common::clouds::moto_sdk().await;
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": IAM_USER}, "Action": "sts:AssumeRole"}]});
    aws_sdk_iam::Client::new(&config)
        .create_role()
        .role_name("sf_glue_role")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    // Snowflake's answer before Tableflow's catalog sync: the catalog table is not there yet.
    let (c, message) = code(w.sf().run("SYSADMIN", &table).await).unwrap();
    assert_eq!(
        (c.as_str(), message.as_str()),
        (
            "004109",
            "Catalog table lkc-abc12.stock_trades does not exist in catalog integration C."
        )
    );
    assert!(w.emulator.names(Kind::IcebergTable).is_empty());

    // Once Tableflow's catalog sync has published it, the table is made.
    let glue = aws_sdk_glue::Client::new(&config);
    let db = aws_sdk_glue::types::DatabaseInput::builder()
        .name("lkc-abc12")
        .build()
        .unwrap();
    glue.create_database()
        .database_input(db)
        .send()
        .await
        .unwrap();
    let t = aws_sdk_glue::types::TableInput::builder()
        .name("stock_trades")
        .build()
        .unwrap();
    glue.create_table()
        .database_name("lkc-abc12")
        .table_input(t)
        .send()
        .await
        .unwrap();
    w.sf().run("SYSADMIN", &table).await.unwrap();
    assert_eq!(w.emulator.names(Kind::IcebergTable), ["D.S.T"]);
    w.cloud.stop().await;
}
