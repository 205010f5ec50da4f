//! Snowflake, emulated at its wire protocol (`shared/specs/snowflake/WIRE.md`) with the real
//! login and query envelopes, so that any official driver can use it: key-pair login checked for
//! real, and the statements the stack sends, run against a registry of the account's objects.

// Handlers answer `Result<Response, Response>`, axum's idiom.
#![allow(clippy::result_large_err)]

mod describe;
mod glue;
pub mod jwt;
mod lex;
mod registry;
mod session;
mod sql;
mod table;
mod wire;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;

use crate::journal::ReadOnly;
use registry::{Registry, SfError};
use session::Sessions;
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
    sessions: Arc<Mutex<Sessions>>,
    /// The first two words of every statement that succeeded, in order, for tests.
    executed: Arc<Mutex<Vec<String>>>,
    /// The first two words and the code of every statement refused, in order, for tests.
    refused: Arc<Mutex<Vec<(String, String)>>>,
    /// The customer's AWS account, where Iceberg tables are read from Glue.
    aws: Option<crate::customer_aws::CustomerAws>,
}

impl Snowflake {
    pub fn new(config: SnowflakeConfig) -> Self {
        let since = jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .map(|t| t.to_string())
            .unwrap_or_default();
        let mut registry = Registry {
            iam_user_arn: config.iam_user_arn.clone(),
            // The account part of `ORG-ACCOUNT`.
            account: config
                .account
                .rsplit('-')
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase(),
            since: since.clone(),
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
                created_on: since,
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
            refused: Arc::default(),
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

    /// The first two words and the code of every statement refused, in order.
    pub fn refused(&self) -> Vec<(String, String)> {
        self.refused.lock().unwrap().clone()
    }

    /// Revokes a role from the admin user, as `REVOKE ROLE … FROM USER` would: for a test of an
    /// admin that holds fewer roles than the stack needs.
    pub fn revoke_from_admin(&self, role: &str) {
        let admin = self.config.admin_user.to_ascii_uppercase();
        let mut registry = self.registry.lock().unwrap();
        registry
            .roles_of
            .remove(&(role.to_ascii_uppercase(), admin));
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
            .map(|(_, o, r, p)| (format!("{p} {o}"), r.clone()));
        roles.chain(usage).collect()
    }
}

pub fn router(snowflake: Snowflake) -> Router {
    Router::new()
        .route("/session/v1/login-request", post(session::login))
        .route("/session/token-request", post(session::renew))
        .route("/session/heartbeat", post(session::heartbeat))
        .route("/session", post(session::logout))
        .route("/queries/v1/query-request", post(query))
        .with_state(snowflake)
}

/// The first two words of a statement, upper-cased: what tests and logs may see of it (the rest
/// can carry public keys).
fn head(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().take(2).collect();
    words.join(" ").to_ascii_uppercase()
}

async fn query(State(sf): State<Snowflake>, headers: HeaderMap, bytes: Bytes) -> Response {
    let query_id = uuid::Uuid::new_v4().to_string();
    let token = session::bearer(&headers);
    let expired = || {
        let e = SfError {
            code: "390112",
            sql_state: "08001",
            message: "Your session has expired. Please login again.".into(),
        };
        Json(wire::error(&e, &query_id)).into_response()
    };
    if sf.sessions.lock().unwrap().get_mut(&token).is_none() {
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
            sf.executed.lock().unwrap().push(head(&sql_text));
            let cx = wire::Context {
                warehouse: session.warehouse.as_deref(),
            };
            (
                wire::result(&table, &query_id, &sql_text, &cx),
                table.read_only,
            )
        }
        Err(e) => {
            sf.refused
                .lock()
                .unwrap()
                .push((head(&sql_text), e.code.to_string()));
            (wire::error(&e, &query_id), true)
        }
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
