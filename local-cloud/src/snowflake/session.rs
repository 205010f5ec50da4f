//! Sessions as Snowflake keeps them: a key-pair login opens one with a session token and a master
//! token; the master token renews the session token (`/session/token-request`), a logout
//! (`/session?delete=true`) ends it, and a heartbeat keeps it. The official drivers use all four.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::registry::Session;
use super::{Snowflake, jwt, wire};
use crate::journal::ReadOnly;

#[derive(Default)]
pub struct Sessions {
    by_token: HashMap<String, Session>,
    /// Master token → the session token it renews.
    masters: HashMap<String, String>,
    next_id: u64,
}

impl Sessions {
    pub fn get_mut(&mut self, token: &str) -> Option<&mut Session> {
        self.by_token.get_mut(token)
    }
}

/// The token of `Authorization: Snowflake Token="..."`.
pub fn bearer(headers: &HeaderMap) -> String {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Snowflake Token=\""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or_default()
        .to_string()
}

/// Session calls change nothing in the account, so the journal leaves them out.
fn answer(body: Value) -> Response {
    let mut response = Json(body).into_response();
    response.extensions_mut().insert(ReadOnly);
    response
}

fn new_token() -> String {
    format!("local-{}", uuid::Uuid::new_v4().simple())
}

pub async fn login(
    State(sf): State<Snowflake>,
    Query(q): Query<BTreeMap<String, String>>,
    bytes: Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&bytes) else {
        return answer(wire::refused("390100", "Malformed login request."));
    };
    let data = &body["data"];
    let upper = |k: &str| data[k].as_str().unwrap_or_default().to_ascii_uppercase();
    let (account, user) = (upper("ACCOUNT_NAME"), upper("LOGIN_NAME"));
    let invalid = || answer(wire::refused("390144", "JWT token is invalid."));
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
            let message =
                format!("Role '{r}' specified in the connect string is not granted to this user.");
            return answer(wire::refused("390189", &message));
        }
        Some(r) => r.clone(),
        None => "PUBLIC".into(),
    };
    drop(registry);
    let (token, master_token) = (new_token(), new_token());
    let warehouse = q.get("warehouse").cloned();
    let mut sessions = sf.sessions.lock().unwrap();
    sessions.next_id += 1;
    let session_id = sessions.next_id;
    sessions.masters.insert(master_token.clone(), token.clone());
    sessions.by_token.insert(
        token.clone(),
        Session {
            user: user.clone(),
            role: role.clone(),
            warehouse: warehouse.clone(),
        },
    );
    drop(sessions);
    answer(wire::login_ok(&wire::Opened {
        token: &token,
        master_token: &master_token,
        session_id,
        user: &user,
        role: &role,
        warehouse: warehouse.as_deref(),
        database: q.get("databaseName").map(String::as_str),
        schema: q.get("schemaName").map(String::as_str),
    }))
}

/// `POST /session/token-request`, authorized by the master token: a new session token for the
/// same session.
pub async fn renew(State(sf): State<Snowflake>, headers: HeaderMap) -> Response {
    let master = bearer(&headers);
    let mut sessions = sf.sessions.lock().unwrap();
    let Some(old) = sessions.masters.get(&master).cloned() else {
        return answer(wire::refused(
            "390114",
            "Authentication token has expired.  The user must authenticate again.",
        ));
    };
    let Some(session) = sessions.by_token.remove(&old) else {
        return answer(wire::refused(
            "390112",
            "Your session has expired. Please login again.",
        ));
    };
    let token = new_token();
    sessions.by_token.insert(token.clone(), session);
    sessions.masters.insert(master.clone(), token.clone());
    let id = sessions.next_id;
    answer(json!({
        "data": {
            "sessionToken": token, "validityInSecondsST": wire::TOKEN_VALIDITY,
            "masterToken": master, "validityInSecondsMT": wire::MASTER_VALIDITY, "sessionId": id,
        },
        "code": null, "message": null, "success": true,
    }))
}

/// `POST /session?delete=true`: the session ends, and its tokens with it.
pub async fn logout(
    State(sf): State<Snowflake>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if q.get("delete").map(String::as_str) != Some("true") {
        return answer(wire::refused("390100", "Unsupported session request."));
    }
    let token = bearer(&headers);
    let mut sessions = sf.sessions.lock().unwrap();
    sessions.by_token.remove(&token);
    sessions.masters.retain(|_, t| *t != token);
    answer(wire::ok())
}

pub async fn heartbeat(State(sf): State<Snowflake>, headers: HeaderMap) -> Response {
    if sf
        .sessions
        .lock()
        .unwrap()
        .by_token
        .contains_key(&bearer(&headers))
    {
        answer(wire::ok())
    } else {
        answer(wire::refused(
            "390112",
            "Your session has expired. Please login again.",
        ))
    }
}
