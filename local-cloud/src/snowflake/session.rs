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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::jwt::tests::{key, token};
    use super::super::{Snowflake, SnowflakeConfig, router};

    async fn post(url: &str, token: Option<&str>, body: Value) -> Value {
        let mut request = reqwest::Client::new().post(url).json(&body);
        if let Some(t) = token {
            request = request.header("Authorization", format!("Snowflake Token=\"{t}\""));
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    #[tokio::test]
    async fn the_master_token_renews_the_session_and_a_logout_ends_both() {
        let (private, public) = key();
        let sf = Snowflake::new(SnowflakeConfig {
            account: "ORG-ACCT".into(),
            admin_user: "ADMIN".into(),
            admin_public_key: public.clone(),
            iam_user_arn: String::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router(sf)).await });

        let now = jiff::Timestamp::now().as_second();
        let jwt = token(&private, &public, "ORG-ACCT.ADMIN", now, now + 600);
        let login = json!({"data": {"ACCOUNT_NAME": "org-acct", "LOGIN_NAME": "admin",
            "AUTHENTICATOR": "SNOWFLAKE_JWT", "TOKEN": jwt}});
        let url = format!("{base}/session/v1/login-request?roleName=SYSADMIN");
        let opened = post(&url, None, login).await;
        assert_eq!(opened["success"], true, "{opened}");
        let data = &opened["data"];
        assert_eq!(data["sessionInfo"]["roleName"], "SYSADMIN");
        let (first, master) = (
            data["token"].as_str().unwrap(),
            data["masterToken"].as_str().unwrap(),
        );
        assert_ne!(first, master);

        let query = format!("{base}/queries/v1/query-request");
        let select = || json!({"sqlText": "SELECT CURRENT_ROLE()"});
        let answer = post(&query, Some(first), select()).await;
        assert_eq!(answer["data"]["rowset"], json!([["SYSADMIN"]]), "{answer}");

        let renewed = post(
            &format!("{base}/session/token-request"),
            Some(master),
            json!({"oldSessionToken": first, "requestType": "RENEW"}),
        )
        .await;
        let second = renewed["data"]["sessionToken"].as_str().unwrap();
        assert_eq!(renewed["data"]["masterToken"], master);
        assert_eq!(post(&query, Some(first), select()).await["code"], "390112");
        assert_eq!(post(&query, Some(second), select()).await["success"], true);
        // Only the master token renews.
        let wrong = post(
            &format!("{base}/session/token-request"),
            Some(second),
            json!({}),
        )
        .await;
        assert_eq!(wrong["code"], "390114");

        let bye = post(
            &format!("{base}/session?delete=true"),
            Some(second),
            json!({}),
        )
        .await;
        assert_eq!(bye["success"], true);
        assert_eq!(post(&query, Some(second), select()).await["code"], "390112");
        let late = post(
            &format!("{base}/session/token-request"),
            Some(master),
            json!({}),
        )
        .await;
        assert_eq!(late["code"], "390114");
    }
}
