//! Snowflake: SQL over snowflake-connector-rs with key-pair login, and every Snowflake node of
//! the stack (S1..S6), plus the service user's key pairs (A5's content).

pub mod doctor;
mod grants;
mod keys;
pub mod kinds;
pub mod marked;
mod objects;
pub mod sql;

use std::collections::HashMap;
use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};
use snowflake_connector_rs::{
    AuthConfig, Client, ClientConfig, DynamicRow, EndpointConfig, ErrorKind, KeyPairConfig,
    SessionConfig,
};
use tokio::sync::Mutex;

pub use keys::{
    KeyPair, KeyPairs, MemoryStore, SecretStore, fingerprint, private_key_name, public_key_name,
};

use crate::clock::Clock;
use crate::engine::{NodeError, Resource, RetryPolicy, Rotation, Transient};
use crate::vault::Vault;
use kinds::Spec;

/// The admin connection: who runs the stack's SQL.
pub struct Admin {
    pub account: String,
    pub user: String,
    pub private_key_pem: SecretString,
}

pub struct Settings {
    /// `None` until it is read (from flags, or from the admin secret by the AWS module).
    pub admin: Option<Admin>,
    pub endpoint: Option<url::Url>,
    pub warehouse: Option<String>,
    pub rotation: Rotation,
    pub clock: Arc<dyn Clock>,
    pub vault: Arc<Vault>,
    pub retry: RetryPolicy,
}

/// What every Snowflake node shares: one admin session per role, opened on first use.
pub struct Snowflake {
    admin: Option<Admin>,
    endpoint: Option<url::Url>,
    warehouse: Option<String>,
    pub rotation: Rotation,
    pub clock: Arc<dyn Clock>,
    pub vault: Arc<Vault>,
    retry: RetryPolicy,
    sessions: Mutex<HashMap<&'static str, Arc<snowflake_connector_rs::Session>>>,
}

/// Why Snowflake cannot be used, found before anything is done.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error(
        "cannot reach Snowflake account {account} at {endpoint} ({detail}): check --snowflake-account (or the admin secret), --snowflake-endpoint and the network"
    )]
    Unreachable {
        account: String,
        endpoint: String,
        detail: String,
    },
    #[error(
        "Snowflake refused the admin login of {user} to {account} ({detail}): check --snowflake-user and --snowflake-private-key-file, or the admin secret"
    )]
    Refused {
        user: String,
        account: String,
        detail: String,
    },
}

#[derive(Debug, thiserror::Error)]
enum LoginError {
    #[error(transparent)]
    Sql(SqlError),
    #[error(transparent)]
    Node(NodeError),
}

/// A failed statement or login, with Snowflake's code where it gave one.
#[derive(Debug, thiserror::Error)]
#[error("Snowflake refused {what}: {message}")]
pub struct SqlError {
    pub code: Option<String>,
    pub what: String,
    pub message: String,
    transient: bool,
    /// Snowflake answered 429: the account's limit, which a fleet shares, so it is waited out.
    throttled: bool,
}

impl Transient for SqlError {
    fn is_transient(&self) -> bool {
        self.transient || self.throttled
    }

    fn is_throttle(&self) -> bool {
        self.throttled
    }
}

impl From<SqlError> for NodeError {
    fn from(e: SqlError) -> Self {
        NodeError::Other(e.into())
    }
}

/// Snowflake's code for a failed statement, if the error is one.
fn code(e: &NodeError) -> Option<&str> {
    match e {
        NodeError::Other(e) => e.downcast_ref::<SqlError>()?.code.as_deref(),
        _ => None,
    }
}

/// Snowflake's 002003, "does not exist or not authorized".
pub(crate) fn does_not_exist(e: &NodeError) -> bool {
    code(e) == Some("002003")
}

/// A `CREATE ICEBERG TABLE` whose table the catalog does not hold yet: Snowflake answers 004109
/// ("Catalog table <ns>.<table> does not exist in catalog integration <NAME>.") until Tableflow's
/// sync publishes it, and 002003 where it reads the table's absence as a missing object. Both
/// are a wait for the sync, not a failure.
pub(crate) fn catalog_table_not_yet_there(e: &NodeError) -> bool {
    matches!(code(e), Some("004109" | "002003"))
}

fn sql_error(what: &str, e: &snowflake_connector_rs::Error) -> SqlError {
    let code = e.snowflake_code().map(str::to_string);
    // Network trouble and answers that are not Snowflake's own (throttling, 5xx) are worth another try.
    let transient = matches!(e.kind(), ErrorKind::Network | ErrorKind::Timeout)
        || (code.is_none() && matches!(e.kind(), ErrorKind::Server | ErrorKind::Protocol));
    SqlError {
        throttled: throttled(e),
        code,
        what: what.to_string(),
        // Snowflake breaks its messages ("SQL compilation error:\n..."); an error is one line.
        message: e
            .snowflake_message()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string())
            .replace('\n', " "),
        transient,
    }
}

/// Whether the connector met a 429. It keeps the status to itself and says it only as
/// `HTTP 429: <body>` (a Network error), so that line is what is read. Snowflake's own drivers
/// retry a 429 on login and query requests (gosnowflake retry.go), as we do.
fn throttled(e: &snowflake_connector_rs::Error) -> bool {
    e.kind() == ErrorKind::Network && e.to_string().starts_with("HTTP 429")
}

impl Snowflake {
    pub fn new(s: Settings) -> Arc<Self> {
        Arc::new(Snowflake {
            admin: s.admin,
            endpoint: s.endpoint,
            warehouse: s.warehouse,
            rotation: s.rotation,
            clock: s.clock,
            vault: s.vault,
            retry: s.retry,
            sessions: Mutex::default(),
        })
    }

    fn admin(&self) -> Result<&Admin, NodeError> {
        self.admin.as_ref().ok_or_else(|| {
            NodeError::Other(anyhow::anyhow!(
                "the Snowflake admin connection is not known: pass --snowflake-account, --snowflake-user and --snowflake-private-key-file (reading it from the admin secret arrives with the AWS module)"
            ))
        })
    }

    pub fn admin_account(&self) -> &str {
        self.admin.as_ref().map_or("", |a| a.account.as_str())
    }

    /// A connector client for `user` with `pem`, at our endpoint, in `role`.
    pub fn client(
        &self,
        account: &str,
        user: &str,
        pem: &SecretString,
        role: Option<&str>,
    ) -> Result<Client, SqlError> {
        let auth = AuthConfig::key_pair(KeyPairConfig::from_pem(pem.expose_secret().to_string()));
        let mut session = SessionConfig::new();
        if let Some(role) = role {
            session = session.with_role(role);
        }
        if let Some(w) = &self.warehouse {
            session = session.with_warehouse(w);
        }
        let mut config = ClientConfig::new(user, account, auth).with_session(session);
        if let Some(url) = &self.endpoint {
            config = config.with_endpoint(EndpointConfig::custom_base_url(url.clone()));
        }
        Client::new(config).map_err(|e| sql_error("the connection settings", &e))
    }

    /// Before any node: the admin logs in (as SYSADMIN, the role most statements use), so an
    /// unreachable account or a refused key stops the run before anything is touched.
    pub async fn preflight(&self) -> Result<(), PreflightError> {
        let admin = self.admin().map_err(|e| PreflightError::Refused {
            user: String::new(),
            account: String::new(),
            detail: e.to_string(),
        })?;
        match self
            .session_with("SYSADMIN", &RetryPolicy::preflight())
            .await
        {
            Ok(_) => Ok(()),
            Err(LoginError::Sql(e)) if e.is_transient() => Err(PreflightError::Unreachable {
                account: admin.account.clone(),
                endpoint: self.endpoint.as_ref().map_or_else(
                    || format!("https://{}.snowflakecomputing.com", admin.account),
                    |u| u.to_string(),
                ),
                detail: e.message,
            }),
            Err(e) => Err(PreflightError::Refused {
                user: admin.user.clone(),
                account: admin.account.clone(),
                detail: e.to_string(),
            }),
        }
    }

    async fn session(
        &self,
        role: &'static str,
    ) -> Result<Arc<snowflake_connector_rs::Session>, NodeError> {
        self.session_with(role, &self.retry)
            .await
            .map_err(|e| match e {
                LoginError::Sql(e) => e.into(),
                LoginError::Node(e) => e,
            })
    }

    async fn session_with(
        &self,
        role: &'static str,
        retry: &RetryPolicy,
    ) -> Result<Arc<snowflake_connector_rs::Session>, LoginError> {
        let mut sessions = self.sessions.lock().await;
        if let Some(s) = sessions.get(role) {
            return Ok(s.clone());
        }
        let admin = self.admin().map_err(LoginError::Node)?;
        let client = self
            .client(
                &admin.account,
                &admin.user,
                &admin.private_key_pem,
                Some(role),
            )
            .map_err(LoginError::Sql)?;
        let session = retry
            .run("snowflake login", || async {
                client
                    .create_session()
                    .await
                    .map_err(|e| sql_error("the admin login", &e))
            })
            .await
            .map_err(LoginError::Sql)?;
        let session = Arc::new(session);
        sessions.insert(role, session.clone());
        Ok(session)
    }

    /// Runs one statement as `role` and returns its rows.
    pub async fn run(&self, role: &'static str, sql: &str) -> Result<Vec<DynamicRow>, NodeError> {
        let session = self.session(role).await?;
        let what = sql.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
        tracing::debug!(%role, statement = %what, "snowflake");
        let rows = self
            .retry
            .run(&what, || async {
                let cursor = session
                    .query(sql.to_string())
                    .await
                    .map_err(|e| sql_error(&what, &e))?;
                cursor
                    .collect::<Vec<DynamicRow>>()
                    .await
                    .map_err(|e| sql_error(&what, &e))
            })
            .await?;
        Ok(rows)
    }
}

/// A text cell of a row, by column name.
pub fn text(row: &DynamicRow, column: &str) -> Option<String> {
    match row.value(column).ok()? {
        snowflake_connector_rs::CellValue::String(s) => Some(s.clone()),
        snowflake_connector_rs::CellValue::Null => None,
        other => Some(format!("{other:?}")),
    }
}

/// Gives each Snowflake node its implementation; the key pairs live in `store`.
pub struct SnowflakeProvider {
    pub sf: Arc<Snowflake>,
    pub store: Arc<dyn SecretStore>,
}

impl SnowflakeProvider {
    pub fn resource(&self, spec: &Spec) -> Arc<dyn Resource> {
        let sf = self.sf.clone();
        match spec {
            Spec::Grant(k) => Arc::new(grants::GrantNode::new(sf, k.clone())),
            Spec::KeyPairs(k) => Arc::new(KeyPairs::new(sf, self.store.clone(), k.clone())),
            _ => Arc::new(objects::Object::new(sf, spec.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: Option<&str>) -> NodeError {
        SqlError {
            code: code.map(str::to_string),
            what: "CREATE ICEBERG TABLE".into(),
            message: "refused".into(),
            transient: false,
            throttled: false,
        }
        .into()
    }

    #[test]
    fn a_catalog_table_not_yet_synced_is_a_wait_and_other_refusals_are_not() {
        assert!(catalog_table_not_yet_there(&refused(Some("004109"))));
        assert!(catalog_table_not_yet_there(&refused(Some("002003"))));
        // Snowflake refusing the role, a syntax error, a privilege, or an answer without a code.
        for other in [Some("091003"), Some("001003"), Some("003001"), None] {
            assert!(!catalog_table_not_yet_there(&refused(other)), "{other:?}");
        }
        assert!(!catalog_table_not_yet_there(&NodeError::Other(
            anyhow::anyhow!("004109")
        )));
        assert!(!does_not_exist(&refused(Some("004109"))));
    }
}
