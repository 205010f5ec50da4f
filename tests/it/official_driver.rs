//! Snowflake's official Python connector (snowflake-connector-python from PyPI, which `./test`
//! installs into .venv), not the driver kickstart uses, against the Snowflake emulator: its
//! key-pair login, a wrong key refused with Snowflake's answer, and, after a full `create`, the
//! stack's SHOW and DESCRIBE statements read back with the columns and types the official
//! Terraform provider reads from real Snowflake (`shared/fixtures/terraform-provider-snowflake`).

use crate::common;

use common::Test;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::clouds::{OwnEmulators, SNOWFLAKE_ACCOUNT};
use kickstart::stack::{DEFAULT_STACK, Names};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/python/snowflake_official_driver.py"
);

fn python() -> PathBuf {
    let python = std::env::var_os("SNOWFLAKE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python")));
    assert!(
        python.exists(),
        "no Python with Snowflake's connector at {}: run ./test, which installs it",
        python.display()
    );
    python
}

/// Runs the script with `statements` as `role`, logging in with the key in `key_file`.
fn drive(own: &OwnEmulators, key_file: &Path, role: &str, statements: &[String]) -> Value {
    let url = url::Url::parse(&own.cloud.url()).unwrap();
    let job = json!({
        "host": url.host_str().unwrap(), "port": url.port().unwrap(),
        "account": SNOWFLAKE_ACCOUNT, "user": "ADMIN", "key_file": key_file,
        "role": role, "statements": statements,
    });
    let mut child = Command::new(python())
        .arg(SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// What the official Terraform provider reads from real Snowflake.
fn shapes() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/terraform-provider-snowflake/sdk_shapes.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_official_python_driver_logs_in_with_the_key_pair_and_a_wrong_key_is_refused() {
    let own = OwnEmulators::fresh().await;
    let admin_key = own.admin_key_file.path().to_path_buf();
    let answer = drive(&own, &admin_key, "SYSADMIN", &[]);
    assert_eq!(
        answer["session"],
        json!({"role": "SYSADMIN", "user": "ADMIN"}),
        "{answer}"
    );

    let wrong = kickstart::snowflake::KeyPair::generate().unwrap();
    let wrong_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(wrong_file.path(), wrong.private_pem.expose_secret()).unwrap();
    let answer = drive(&own, wrong_file.path(), "SYSADMIN", &[]);
    let refused = &answer["login_error"];
    assert_eq!(refused["errno"], 390144, "{answer}");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("JWT token is invalid.")),
        "{answer}"
    );
    own.cloud.stop().await;
}

/// The columns of one result, as `[name, type]`.
fn columns(result: &Value) -> Vec<(String, String)> {
    result["columns"]
        .as_array()
        .unwrap_or_else(|| panic!("{result}"))
        .iter()
        .map(|c| (c[0].as_str().unwrap().into(), c[1].as_str().unwrap().into()))
        .collect()
}

fn names(result: &Value) -> Vec<String> {
    columns(result).into_iter().map(|(n, _)| n).collect()
}

/// One column of every row.
fn column(result: &Value, name: &str) -> Vec<Value> {
    let at = names(result).iter().position(|n| n == name).unwrap();
    result["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[at].clone())
        .collect()
}

/// A DESCRIBE's `property` → value column.
fn property(result: &Value, value_column: &str, name: &str) -> Value {
    let props = column(result, "property");
    let values = column(result, value_column);
    let at = props
        .iter()
        .position(|p| p == name)
        .unwrap_or_else(|| panic!("no {name}: {result}"));
    values[at].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn after_create_the_stacks_show_and_describe_read_back_through_the_official_driver() {
    let own = OwnEmulators::fresh().await;
    let (_, dir) = Test::new()
        .envs(own.env())
        .whole_stack("create", None)
        .await;

    let n = Names::new(DEFAULT_STACK);
    let (db, schema, user) = (n.upper("DATABASE"), n.upper("SCHEMA"), n.upper("USER"));
    let (volume, catalog) = (n.upper("VOLUME"), n.upper("CATALOG_INTEGRATION"));
    let security = n.upper("SECURITY_ADMIN_ROLE");
    // The usage grants go to the system admin role, the user's default role, as in the seed.
    let system = n.upper("SYSTEM_ADMIN_ROLE");
    let statements = vec![
        format!("SHOW EXTERNAL VOLUMES LIKE '{volume}'"),
        format!("DESCRIBE EXTERNAL VOLUME \"{volume}\""),
        format!("SHOW CATALOG INTEGRATIONS LIKE '{catalog}'"),
        format!("DESCRIBE CATALOG INTEGRATION \"{catalog}\""),
        format!("DESCRIBE USER \"{user}\""),
        format!("SHOW GRANTS TO ROLE \"{system}\""),
        format!("SHOW GRANTS TO USER \"{user}\""),
        format!("SHOW ICEBERG TABLES IN SCHEMA \"{db}\".\"{schema}\""),
        format!("SHOW SCHEMAS LIKE '{schema}' IN DATABASE \"{db}\""),
    ];
    let admin_key = own.admin_key_file.path().to_path_buf();
    let answer = drive(&own, &admin_key, "ACCOUNTADMIN", &statements);
    let results = answer["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    for r in results {
        assert!(r.get("error").is_none(), "{r}");
    }
    let shapes = shapes();
    let text = |names: &[&str]| -> Vec<(String, String)> {
        names
            .iter()
            .map(|n| (n.to_string(), "TEXT".to_string()))
            .collect()
    };

    // SHOW EXTERNAL VOLUMES: the provider's columns; allow_writes a BOOLEAN (the stack's is off).
    let show_volumes = &results[0];
    assert_eq!(
        names(show_volumes),
        strings(&shapes["show_external_volumes"]["columns"])
    );
    assert_eq!(columns(show_volumes)[1].1, "BOOLEAN");
    // Its comment is the stack's mark, set at create.
    let mark = "kickstart stack=tableflow_kickstarter";
    assert_eq!(show_volumes["rows"], json!([[volume, false, mark]]));

    // DESCRIBE EXTERNAL VOLUME: its rows, and the location's JSON with what A3's trust needs.
    let describe_volume = &results[1];
    assert_eq!(
        names(describe_volume),
        strings(&shapes["describe_external_volume"]["columns"])
    );
    assert_eq!(
        property(describe_volume, "property_value", "ALLOW_WRITES"),
        "false"
    );
    let location = property(describe_volume, "property_value", "STORAGE_LOCATION_1");
    let location: Value = serde_json::from_str(location.as_str().unwrap()).unwrap();
    for key in [
        "STORAGE_AWS_IAM_USER_ARN",
        "STORAGE_AWS_EXTERNAL_ID",
        "STORAGE_AWS_ROLE_ARN",
    ] {
        assert!(
            location[key].as_str().is_some_and(|v| !v.is_empty()),
            "{location}"
        );
    }
    assert_eq!(location["STORAGE_PROVIDER"], "S3");

    // SHOW CATALOG INTEGRATIONS: enabled a BOOLEAN, created_on a timestamp, type and category.
    let show_catalogs = &results[2];
    assert_eq!(
        names(show_catalogs),
        strings(&shapes["show_catalog_integrations"]["columns"])
    );
    let types: Vec<String> = columns(show_catalogs).into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        types,
        ["TEXT", "BOOLEAN", "TEXT", "TEXT", "TEXT", "TIMESTAMP_LTZ"]
    );
    let row = &show_catalogs["rows"][0];
    assert_eq!(
        row.as_array().unwrap()[..5],
        [
            json!(catalog),
            json!(true),
            json!("CATALOG"),
            json!("CATALOG"),
            json!(mark)
        ]
    );
    assert!(
        row[5]
            .as_str()
            .is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok()),
        "{row}"
    );

    // DESCRIBE CATALOG INTEGRATION: every property the provider reads, in the real order.
    let describe_catalog = &results[3];
    assert_eq!(
        names(describe_catalog),
        strings(&shapes["describe_catalog_integration_glue"]["columns"])
    );
    assert_eq!(
        column(describe_catalog, "property"),
        shapes["describe_catalog_integration_glue"]["properties"]
            .as_array()
            .unwrap()
            .clone()
    );
    assert_eq!(
        property(describe_catalog, "property_value", "ENABLED"),
        "true"
    );
    assert_eq!(
        property(describe_catalog, "property_value", "CATALOG_SOURCE"),
        "GLUE"
    );

    // DESCRIBE USER: the key fingerprints the rotation compares, an unset one as `null`.
    let describe_user = &results[4];
    assert_eq!(
        columns(describe_user),
        text(&["property", "value", "default", "description"])
    );
    let first = property(describe_user, "value", "RSA_PUBLIC_KEY_FP");
    assert!(
        first.as_str().is_some_and(|f| f.starts_with("SHA256:")),
        "{describe_user}"
    );
    let second = property(describe_user, "value", "RSA_PUBLIC_KEY_2_FP");
    assert!(
        second
            .as_str()
            .is_some_and(|f| f == "null" || f.starts_with("SHA256:")),
        "{describe_user}"
    );

    // SHOW GRANTS TO ROLE: an external volume is granted on as a VOLUME, a catalog integration as an
    // INTEGRATION.
    let grants = &results[5];
    assert_eq!(
        names(grants),
        strings(&shapes["show_grants"]["to_role_columns"])
    );
    let mut on: Vec<Value> = column(grants, "granted_on");
    on.sort_by_key(|v| v.to_string());
    assert_eq!(
        on,
        [
            json!("DATABASE"),
            json!("INTEGRATION"),
            json!("SCHEMA"),
            json!("VOLUME"),
            json!("WAREHOUSE")
        ]
    );
    assert!(
        column(grants, "grant_option").iter().all(|g| g == false),
        "{grants}"
    );

    // SHOW GRANTS TO USER: the stack's two roles.
    let user_grants = &results[6];
    assert_eq!(
        names(user_grants),
        strings(&shapes["show_grants"]["to_user_columns"])
    );
    let roles = column(user_grants, "role");
    for role in [&security, &system] {
        assert!(roles.contains(&json!(role)), "{user_grants}");
    }

    // The Iceberg tables and the schema, by name.
    let tables = column(&results[7], "name");
    for table in ["STOCK_TRADES", "STOCK_TRADES_WITH_TOTALS"] {
        assert!(tables.contains(&json!(table)), "{}", results[7]);
    }
    assert_eq!(column(&results[8], "name"), [json!(schema)]);
    assert_eq!(
        columns(&results[8])[0],
        ("created_on".into(), "TIMESTAMP_LTZ".into())
    );

    Test::new()
        .envs(own.env())
        .whole_stack("delete", Some(dir.path()))
        .await;
    own.cloud.stop().await;
}
