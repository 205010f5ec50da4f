//! Snowflake, emulated at its wire protocol as snowflake-connector-rs speaks it
//! (`shared/specs/snowflake/WIRE.md`): key-pair login checked for real, and the statements the
//! stack sends, run against a registry of the account's objects.

// Handlers answer `Result<Response, Response>`, axum's idiom.
#![allow(clippy::result_large_err)]

mod describe;
mod glue;
pub mod jwt;
mod lex;
mod registry;
mod sql;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::journal::ReadOnly;
use registry::{Registry, Session, SfError, Table};
pub use sql::Kind;

#[derive(Clone, Debug)]
pub struct SnowflakeConfig {
    /// The account identifier (`ORG-ACCOUNT`), as logins name it.
    pub account: String,
    pub admin_user: String,
    /// The admin's public key: the base64 body of its SPKI PEM.
    pub admin_public_key: String,
    /// The IAM user Snowflake's volumes and Glue integrations act as (in the describes).
    pub iam_user_arn: String,
}

#[derive(Clone)]
pub struct Snowflake {
    config: Arc<SnowflakeConfig>,
    registry: Arc<Mutex<Registry>>,
    sessions: Arc<Mutex<HashMap<String, Session>>>,
    /// The first two words of every statement that succeeded, in order, for tests.
    executed: Arc<Mutex<Vec<String>>>,
    /// The customer's AWS account, where Iceberg tables are read from Glue.
    aws: Option<crate::customer_aws::CustomerAws>,
}

impl Snowflake {
    pub fn new(config: SnowflakeConfig) -> Self {
        let mut registry = Registry {
            iam_user_arn: config.iam_user_arn.clone(),
            ..Registry::default()
        };
        let admin = config.admin_user.to_ascii_uppercase();
        let mut props = BTreeMap::new();
        props.insert(
            "RSA_PUBLIC_KEY".into(),
            sql::Value::Str(config.admin_public_key.clone()),
        );
        registry.objects.insert(
            (Kind::User, admin.clone()),
            registry::Object {
                name: admin.clone(),
                props,
                created_on: String::new(),
                external_id: String::new(),
            },
        );
        for role in ["ACCOUNTADMIN", "SECURITYADMIN", "SYSADMIN", "USERADMIN"] {
            registry.roles_of.insert((role.to_string(), admin.clone()));
        }
        Snowflake {
            config: Arc::new(config),
            registry: Arc::new(Mutex::new(registry)),
            sessions: Arc::default(),
            executed: Arc::default(),
            aws: None,
        }
    }

    /// Iceberg tables on a Glue catalog integration are checked in the customer's AWS account at
    /// `endpoint` (moto): the roles' trust, and the table in Glue.
    pub fn with_customer_aws(mut self, endpoint: &str) -> Self {
        self.aws = Some(crate::customer_aws::CustomerAws::new(endpoint));
        self
    }

    /// Names of the objects of one kind, for tests that check what is left.
    pub fn names(&self, kind: Kind) -> Vec<String> {
        let registry = self.registry.lock().unwrap();
        registry
            .objects
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n.clone())
            .collect()
    }

    /// The first two words of every statement that succeeded, in order.
    pub fn executed(&self) -> Vec<String> {
        self.executed.lock().unwrap().clone()
    }

    /// Every grant, as `(what, to)`: roles to users, and USAGE on objects to roles; for tests.
    pub fn grants(&self) -> Vec<(String, String)> {
        let registry = self.registry.lock().unwrap();
        let roles = registry
            .roles_of
            .iter()
            .map(|(r, u)| (format!("ROLE {r}"), u.clone()));
        let usage = registry
            .usage
            .iter()
            .map(|(_, o, r)| (format!("USAGE {o}"), r.clone()));
        roles.chain(usage).collect()
    }
}

pub fn router(snowflake: Snowflake) -> Router {
    Router::new()
        .route("/session/v1/login-request", post(login))
        .route("/queries/v1/query-request", post(query))
        .with_state(snowflake)
}

/// A refused login changes nothing, so the journal leaves it out.
fn login_failure(code: &str, message: String) -> Response {
    let body = json!({"success": false, "code": code, "message": message, "data": null});
    let mut response = Json(body).into_response();
    response.extensions_mut().insert(ReadOnly);
    response
}

async fn login(
    State(sf): State<Snowflake>,
    Query(q): Query<BTreeMap<String, String>>,
    bytes: Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&bytes) else {
        return login_failure("390100", "Malformed login request.".into());
    };
    let data = &body["data"];
    let account = data["ACCOUNT_NAME"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let user = data["LOGIN_NAME"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let invalid = || {
        login_failure(
            "390144",
            format!("JWT token is invalid. [{}]", uuid::Uuid::new_v4()),
        )
    };
    if account != sf.config.account.to_ascii_uppercase() || data["AUTHENTICATOR"] != "SNOWFLAKE_JWT"
    {
        return invalid();
    }
    let token = data["TOKEN"].as_str().unwrap_or_default();
    let now = jiff::Timestamp::now().as_second();
    let registry = sf.registry.lock().unwrap();
    if let Err(why) = jwt::verify(token, &account, &user, &registry.user_keys(&user), now) {
        tracing::debug!(%user, "login refused: {why}");
        return invalid();
    }
    let role = match q.get("roleName") {
        Some(r) if !registry.user_has_role(&user, r) => {
            return login_failure(
                "390189",
                format!("Role '{r}' specified in the connect string is not granted to this user."),
            );
        }
        Some(r) => r.clone(),
        None => "PUBLIC".into(),
    };
    drop(registry);
    let session_token = format!("local-{}", uuid::Uuid::new_v4().simple());
    sf.sessions.lock().unwrap().insert(
        session_token.clone(),
        Session {
            user,
            role: role.clone(),
            warehouse: q.get("warehouse").cloned(),
        },
    );
    let mut response = Json(json!({
        "success": true, "code": null, "message": null,
        "data": {"token": session_token, "validityInSeconds": 3600, "sessionInfo": {"roleName": role}},
    }))
    .into_response();
    response.extensions_mut().insert(ReadOnly);
    response
}

fn table_json(t: &Table, query_id: &str) -> Value {
    let rowtype: Vec<Value> = t
        .columns
        .iter()
        .map(|c| json!({"name": c, "database": "", "schema": "", "table": "", "type": "text", "nullable": true, "scale": null, "precision": null, "length": 16777216, "byteLength": 16777216}))
        .collect();
    json!({
        "success": true, "code": null, "message": null,
        "data": {
            "queryId": query_id, "queryResultFormat": "json", "rowtype": rowtype,
            "rowset": t.rows, "total": t.rows.len(), "returned": t.rows.len(), "sqlState": "00000",
        },
    })
}

fn error_json(e: &SfError, query_id: &str) -> Value {
    json!({
        "success": false, "code": e.code, "message": e.message,
        "data": {"queryId": query_id, "sqlState": e.sql_state, "errorCode": e.code, "internalError": false},
    })
}

async fn query(State(sf): State<Snowflake>, headers: HeaderMap, bytes: Bytes) -> Response {
    let query_id = uuid::Uuid::new_v4().to_string();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Snowflake Token=\""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or_default()
        .to_string();
    let expired = || {
        let e = SfError {
            code: "390112",
            sql_state: "08001",
            message: "Your session has expired. Please login again.".into(),
        };
        Json(error_json(&e, &query_id)).into_response()
    };
    if !sf.sessions.lock().unwrap().contains_key(&token) {
        return expired();
    }
    let sql_text = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|b| b["sqlText"].as_str().map(str::to_string))
        .unwrap_or_default();
    let parsed = sql::parse(&sql_text).map_err(|e| registry::syntax(&e.0));
    // An Iceberg table is read from the customer's account before it exists here.
    let outside = match (&parsed, &sf.aws) {
        (
            Ok(sql::Stmt::Create {
                kind: Kind::IcebergTable,
                name,
                props,
                ..
            }),
            Some(aws),
        ) => {
            let check = sf.registry.lock().unwrap().glue_check(name, props);
            match check {
                Some(c) => glue::check(aws, &c).await,
                None => Ok(()),
            }
        }
        _ => Ok(()),
    };
    let mut sessions = sf.sessions.lock().unwrap();
    let Some(session) = sessions.get_mut(&token) else {
        return expired();
    };
    let result = parsed
        .and_then(|stmt| outside.map(|()| stmt))
        .and_then(|stmt| sf.registry.lock().unwrap().execute(session, stmt));
    let (body, read_only) = match result {
        Ok(table) => {
            let words: Vec<&str> = sql_text.split_whitespace().take(2).collect();
            sf.executed
                .lock()
                .unwrap()
                .push(words.join(" ").to_ascii_uppercase());
            (table_json(&table, &query_id), table.read_only)
        }
        Err(e) => (error_json(&e, &query_id), true),
    };
    // Statements carry public keys; the emulator logs only their first word.
    let verb = sql_text.split_whitespace().next().unwrap_or_default();
    tracing::debug!(%verb, ok = body["success"].as_bool(), "snowflake query");
    let mut response = Json(body).into_response();
    if read_only {
        response.extensions_mut().insert(ReadOnly);
    }
    response
}
