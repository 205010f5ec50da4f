//! The JSON envelopes Snowflake answers with, as the official drivers' recorded sessions show
//! them (`shared/fixtures/gosnowflake`, `shared/fixtures/snowflake-connector-python`): every field
//! a real login or query answer carries, since each driver requires its own subset of them.

use serde_json::{Value, json};

use super::registry::SfError;
use super::table::{Column, Table, Type};

/// The server version the answers name; drivers only log it.
const SERVER_VERSION: &str = "9.34.0";

/// The session parameters a real account answers a login and each query with (the recorded
/// `select1` answer's), which drivers read for their time zone, formats and prefetching.
pub fn parameters() -> Value {
    json!([
        {"name": "TIMESTAMP_OUTPUT_FORMAT", "value": "YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM"},
        {"name": "CLIENT_PREFETCH_THREADS", "value": 4},
        {"name": "TIME_OUTPUT_FORMAT", "value": "HH24:MI:SS"},
        {"name": "CLIENT_RESULT_CHUNK_SIZE", "value": 16},
        {"name": "TIMESTAMP_TZ_OUTPUT_FORMAT", "value": ""},
        {"name": "CLIENT_SESSION_KEEP_ALIVE", "value": false},
        {"name": "QUERY_CONTEXT_CACHE_SIZE", "value": 5},
        {"name": "CLIENT_METADATA_USE_SESSION_DATABASE", "value": false},
        {"name": "CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED", "value": false},
        {"name": "TIMESTAMP_NTZ_OUTPUT_FORMAT", "value": "YYYY-MM-DD HH24:MI:SS.FF3"},
        {"name": "CLIENT_RESULT_PREFETCH_THREADS", "value": 1},
        {"name": "CLIENT_METADATA_REQUEST_USE_CONNECTION_CTX", "value": false},
        {"name": "CLIENT_HONOR_CLIENT_TZ_FOR_TIMESTAMP_NTZ", "value": true},
        {"name": "CLIENT_MEMORY_LIMIT", "value": 1536},
        {"name": "CLIENT_TIMESTAMP_TYPE_MAPPING", "value": "TIMESTAMP_LTZ"},
        {"name": "TIMEZONE", "value": "America/Los_Angeles"},
        {"name": "CLIENT_RESULT_PREFETCH_SLOTS", "value": 2},
        {"name": "CLIENT_TELEMETRY_ENABLED", "value": false},
        {"name": "CLIENT_USE_V1_QUERY_API", "value": true},
        {"name": "CLIENT_RESULT_COLUMN_CASE_INSENSITIVE", "value": false},
        {"name": "BINARY_OUTPUT_FORMAT", "value": "HEX"},
        {"name": "CLIENT_TELEMETRY_SESSIONLESS_ENABLED", "value": false},
        {"name": "DATE_OUTPUT_FORMAT", "value": "YYYY-MM-DD"},
        {"name": "CLIENT_STAGE_ARRAY_BINDING_THRESHOLD", "value": 65280},
        {"name": "CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY", "value": 3600},
        {"name": "AUTOCOMMIT", "value": true},
        {"name": "TIMESTAMP_LTZ_OUTPUT_FORMAT", "value": ""},
    ])
}

/// What a login opened, for its answer.
pub struct Opened<'a> {
    pub token: &'a str,
    pub master_token: &'a str,
    pub session_id: u64,
    pub user: &'a str,
    pub role: &'a str,
    pub warehouse: Option<&'a str>,
    pub database: Option<&'a str>,
    pub schema: Option<&'a str>,
}

/// How long a session token and a master token live, in seconds (Snowflake's defaults).
pub const TOKEN_VALIDITY: u64 = 3600;
pub const MASTER_VALIDITY: u64 = 14400;

pub fn login_ok(o: &Opened<'_>) -> Value {
    json!({
        "data": {
            "masterToken": o.master_token,
            "token": o.token,
            "validityInSeconds": TOKEN_VALIDITY,
            "masterValidityInSeconds": MASTER_VALIDITY,
            "displayUserName": o.user,
            "serverVersion": SERVER_VERSION,
            "firstLogin": false,
            "remMeToken": null,
            "remMeValidityInSeconds": 0,
            "healthCheckInterval": 45,
            "newClientForUpgrade": null,
            "sessionId": o.session_id,
            "parameters": parameters(),
            "sessionInfo": {
                "databaseName": o.database,
                "schemaName": o.schema,
                "warehouseName": o.warehouse,
                "roleName": o.role,
            },
            "idToken": null,
            "idTokenValidityInSeconds": 0,
            "responseData": null,
            "mfaToken": null,
            "mfaTokenValidityInSeconds": 0,
        },
        "code": null,
        "message": null,
        "success": true,
    })
}

/// A refused login or token request: no data, the code and message (the recorded 390144 body).
pub fn refused(code: &str, message: &str) -> Value {
    json!({"data": null, "code": code, "message": message, "success": false, "headers": null})
}

/// A plain success with no data (logout, heartbeat).
pub fn ok() -> Value {
    json!({"data": null, "code": null, "message": null, "success": true})
}

fn rowtype(c: &Column) -> Value {
    let (ty, length, precision, scale) = match c.ty {
        Type::Text => ("text", json!(16_777_216), Value::Null, Value::Null),
        Type::Boolean => ("boolean", Value::Null, Value::Null, Value::Null),
        Type::TimestampLtz => ("timestamp_ltz", Value::Null, json!(0), json!(3)),
    };
    json!({
        "name": c.name, "database": "", "schema": "", "table": "", "nullable": true,
        "length": length, "type": ty, "scale": scale, "precision": precision,
        "byteLength": length, "collation": null,
    })
}

/// Snowflake's statement type ids: SELECT, the session commands (USE, SHOW, DESCRIBE), and DDL.
fn statement_type(sql: &str) -> u32 {
    let verb = sql
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    match verb.as_str() {
        "SELECT" => 0x1000,
        "USE" | "SHOW" | "DESCRIBE" | "DESC" => 0x4000,
        _ => 0x6000,
    }
}

/// Where the session stands after a statement, as the answer reports it.
pub struct Context<'a> {
    pub warehouse: Option<&'a str>,
}

pub fn result(t: &Table, query_id: &str, sql: &str, cx: &Context<'_>) -> Value {
    let now_ms = jiff::Timestamp::now().as_millisecond();
    json!({
        "data": {
            "parameters": parameters(),
            "rowtype": t.columns.iter().map(rowtype).collect::<Vec<_>>(),
            "rowset": t.rows,
            "total": t.rows.len(),
            "returned": t.rows.len(),
            "queryId": query_id,
            "databaseProvider": null,
            "finalDatabaseName": null,
            "finalSchemaName": null,
            "finalWarehouseName": cx.warehouse,
            "numberOfBinds": 0,
            "arrayBindSupported": false,
            "statementTypeId": statement_type(sql),
            "version": 1,
            "sendResultTime": now_ms,
            "queryResultFormat": "json",
            "queryContext": {"entries": [
                {"id": 0, "timestamp": now_ms * 1000, "priority": 0, "context": ""},
            ]},
        },
        "code": null,
        "message": null,
        "success": true,
    })
}

/// A failed statement: the code and message at the top, and in `data` the query id, SQL state
/// and error code, as Snowflake sends them.
pub fn error(e: &SfError, query_id: &str) -> Value {
    let kind = match e.code {
        "001003" | "002002" | "002003" | "004109" => "COMPILATION",
        "003001" => "ACCESS_CONTROL",
        _ => "EXECUTION",
    };
    json!({
        "data": {
            "internalError": false,
            "unredactedFromSecureObject": false,
            "errorCode": e.code,
            "age": 0,
            "sqlState": e.sql_state,
            "queryId": query_id,
            "line": -1,
            "pos": -1,
            "type": kind,
        },
        "code": e.code,
        "message": e.message,
        "success": false,
        "headers": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snowflake::table::{boolean, text, timestamp};

    /// A recorded answer, from `shared/` beside the repository as the fixtures' README lays it out.
    fn recorded(path: &str) -> Value {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/");
        let text = std::fs::read_to_string(format!("{root}{path}"))
            .unwrap_or_else(|e| panic!("the recording {root}{path} is not there: {e}"));
        let v: Value = serde_json::from_str(&text).unwrap();
        v["mappings"][0]["response"]["jsonBody"].clone()
    }

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    #[test]
    fn a_login_and_a_result_carry_every_field_of_the_recorded_answers() {
        let login = login_ok(&Opened {
            token: "t",
            master_token: "m",
            session_id: 1,
            user: "ADMIN",
            role: "SYSADMIN",
            warehouse: None,
            database: None,
            schema: None,
        });
        let table = Table {
            columns: vec![text("name"), boolean("enabled"), timestamp("created_on")],
            rows: vec![vec![Some("A".into()), Some("1".into()), None]],
            read_only: true,
        };
        let cx = Context {
            warehouse: Some("W"),
        };
        let answer = result(&table, "q", "SHOW CATALOG INTEGRATIONS", &cx);
        let recorded_login =
            recorded("gosnowflake/test_data/wiremock/mappings/auth/password/successful_flow.json");
        assert_eq!(keys(&login), keys(&recorded_login));
        assert_eq!(keys(&login["data"]), keys(&recorded_login["data"]));
        let select = recorded("gosnowflake/test_data/wiremock/mappings/select1.json");
        assert_eq!(keys(&answer["data"]), keys(&select["data"]));
        assert_eq!(
            keys(&answer["data"]["rowtype"][0]),
            keys(&select["data"]["rowtype"][0])
        );
        let types: Vec<&str> = answer["data"]["rowtype"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["text", "boolean", "timestamp_ltz"]);
    }

    #[test]
    fn a_refused_jwt_is_the_recorded_body() {
        let body = refused("390144", "JWT token is invalid.");
        let want = recorded(
            "snowflake-connector-python/test/data/wiremock/mappings/auth/keypair/jwt_token_invalid.json",
        );
        assert_eq!(body, want);
        assert_eq!(body["code"], "390144");
        assert_eq!(body["data"], Value::Null);
    }
}
