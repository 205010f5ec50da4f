//! The objects of the emulated account, and what each statement does to them, with Snowflake's
//! result columns, error codes, and role requirements.

use std::collections::{BTreeMap, BTreeSet};

use super::jwt;
use super::sql::{Kind, Props, Stmt, Value};
use super::table::{self, Table};

#[derive(Clone, Debug)]
pub struct Object {
    pub name: String,
    pub props: Props,
    pub created_on: String,
    /// For volumes and catalog integrations: the external id Snowflake made for their trust.
    pub external_id: String,
}

/// A Snowflake error: code, SQL state, message.
#[derive(Debug, PartialEq)]
pub struct SfError {
    pub code: &'static str,
    pub sql_state: &'static str,
    pub message: String,
}

pub fn syntax(detail: &str) -> SfError {
    SfError {
        code: "001003",
        sql_state: "42000",
        message: format!("SQL compilation error:\nsyntax error line 1 at position 0 {detail}."),
    }
}

pub(super) fn missing(kind: Kind, name: &str) -> SfError {
    SfError {
        code: "002003",
        sql_state: "02000",
        message: format!(
            "SQL compilation error:\n{} '{name}' does not exist or not authorized.",
            kind.word()
        ),
    }
}

fn exists(name: &str) -> SfError {
    SfError {
        code: "002002",
        sql_state: "42710",
        message: format!("SQL compilation error:\nObject '{name}' already exists."),
    }
}

fn denied(kind: Kind, name: &str) -> SfError {
    SfError {
        code: "003001",
        sql_state: "42501",
        message: format!(
            "SQL access control error:\nInsufficient privileges to operate on {} '{name}'",
            kind.word().to_lowercase()
        ),
    }
}

/// An account-level create the role may not make: Snowflake names the account, not the object
/// ("Insufficient privileges to operate on account 'QM74248'", 003001 / 42501).
fn denied_on_account(account: &str) -> SfError {
    SfError {
        code: "003001",
        sql_state: "42501",
        message: format!(
            "SQL access control error:\nInsufficient privileges to operate on account '{account}'"
        ),
    }
}

fn invalid(message: String) -> SfError {
    SfError {
        code: "002029",
        sql_state: "22023",
        message,
    }
}

fn status(text: String) -> Table {
    Table {
        columns: vec![table::text("status")],
        rows: vec![vec![Some(text)]],
        read_only: false,
    }
}

/// Who is asking, as the session knows it.
pub struct Session {
    pub user: String,
    pub role: String,
    pub warehouse: Option<String>,
}

#[derive(Default)]
pub struct Registry {
    pub objects: BTreeMap<(Kind, String), Object>,
    /// USAGE grants: (object kind, object, role).
    /// Privileges on objects to roles: (kind, object, role, privilege as SHOW GRANTS lists it).
    pub usage: BTreeSet<(Kind, String, String, &'static str)>,
    /// Role grants: (role, user).
    pub roles_of: BTreeSet<(String, String)>,
    pub iam_user_arn: String,
    /// The account's name, as access control errors on account-level objects give it.
    pub account: String,
    pub seq: u64,
    /// When the account began (RFC 3339): the time of what it starts with, such as the admin's
    /// roles.
    pub since: String,
    /// When each grant was made, by `USAGE ON <object> TO <role>` or `ROLE <role> TO <user>`.
    pub granted: BTreeMap<String, String>,
}

/// The system roles that hold `role`, directly or not.
fn above(role: &str) -> &'static [&'static str] {
    match role {
        "SECURITYADMIN" | "SYSADMIN" => &["ACCOUNTADMIN"],
        "USERADMIN" => &["SECURITYADMIN", "ACCOUNTADMIN"],
        _ => &[],
    }
}

const SYSTEM_ROLES: &[&str] = &[
    "ACCOUNTADMIN",
    "SECURITYADMIN",
    "SYSADMIN",
    "USERADMIN",
    "PUBLIC",
];

impl Registry {
    /// Granted directly, or beneath a granted system role: the system roles form Snowflake's
    /// hierarchy (ACCOUNTADMIN holds SECURITYADMIN and SYSADMIN; SECURITYADMIN holds USERADMIN),
    /// and a user may use any role beneath one granted to them.
    pub fn user_has_role(&self, user: &str, role: &str) -> bool {
        let granted = |r: &str| self.roles_of.contains(&(r.to_string(), user.to_string()));
        role == "PUBLIC" || granted(role) || above(role).iter().any(|r| granted(r))
    }

    /// The public keys currently set on a user (both slots).
    pub fn user_keys(&self, user: &str) -> Vec<String> {
        let Some(u) = self.objects.get(&(Kind::User, user.to_string())) else {
            return vec![];
        };
        ["RSA_PUBLIC_KEY", "RSA_PUBLIC_KEY_2"]
            .iter()
            .filter_map(|k| u.props.get(*k))
            .map(Value::text)
            .collect()
    }

    /// When a grant was made, as SHOW GRANTS' `created_on` gives it.
    pub(super) fn granted_at(&self, grant: &str) -> &str {
        self.granted.get(grant).unwrap_or(&self.since)
    }

    fn now(&mut self) -> String {
        self.seq += 1;
        jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    /// The full name of an object: schemas are `DB.SCHEMA`, tables `DB.SCHEMA.TABLE`.
    pub(super) fn full(kind: Kind, name: &[String]) -> Result<String, SfError> {
        let parts = match kind {
            Kind::Schema => 2,
            Kind::IcebergTable => 3,
            _ => 1,
        };
        if name.len() != parts {
            return Err(SfError {
                code: "090105",
                sql_state: "22000",
                message: format!(
                    "Cannot perform operation: give the {} name fully qualified ({parts} parts).",
                    kind.word().to_lowercase()
                ),
            });
        }
        Ok(name.join("."))
    }

    pub(super) fn may(role: &str, kind: Kind) -> bool {
        match kind {
            Kind::ExternalVolume | Kind::CatalogIntegration => role == "ACCOUNTADMIN",
            Kind::User | Kind::Role => {
                matches!(role, "ACCOUNTADMIN" | "SECURITYADMIN" | "USERADMIN")
            }
            Kind::Warehouse | Kind::Database | Kind::Schema | Kind::IcebergTable => {
                matches!(role, "ACCOUNTADMIN" | "SYSADMIN")
            }
        }
    }

    fn has(&self, kind: Kind, name: &str) -> bool {
        self.objects.contains_key(&(kind, name.to_string()))
    }

    /// A name given as a string property (EXTERNAL_VOLUME = '...'): exact, else upper-cased.
    fn resolve(&self, kind: Kind, name: &str) -> Option<String> {
        [name.to_string(), name.to_ascii_uppercase()]
            .into_iter()
            .find(|n| self.has(kind, n))
    }

    pub fn execute(&mut self, session: &mut Session, stmt: Stmt) -> Result<Table, SfError> {
        match stmt {
            Stmt::Use { what, name } => self.use_(session, &what, name),
            Stmt::Create {
                kind,
                name,
                or_replace,
                if_not_exists,
                props,
            } => self.create(session, kind, &name, or_replace, if_not_exists, props),
            Stmt::AlterUser { name, set, unset } => self.alter_user(session, &name, set, unset),
            Stmt::GrantUsage {
                privilege,
                kind,
                object,
                role,
                revoke,
            } => self.grant_usage(session, (privilege, kind), &object, &role, revoke),
            Stmt::GrantRole { role, user, revoke } => {
                self.grant_role(session, &role, &user, revoke)
            }
            Stmt::Show {
                kind,
                like: pattern,
                within,
            } => Ok(self.show(kind, pattern.as_deref(), within.as_deref())),
            Stmt::ShowGrants { to_user, name } => Ok(self.show_grants(to_user, &name)),
            Stmt::Describe { kind, name } => self.describe(session, kind, &name),
            Stmt::Drop {
                kind,
                name,
                if_exists,
            } => self.drop(session, kind, &name, if_exists),
            Stmt::Select { function } => {
                let value = match function.as_str() {
                    "CURRENT_USER" => session.user.clone(),
                    "CURRENT_ROLE" => session.role.clone(),
                    _ => return Err(syntax(&format!("unexpected '{function}'"))),
                };
                Ok(Table {
                    columns: vec![table::text("VALUE")],
                    rows: vec![vec![Some(value)]],
                    read_only: true,
                })
            }
        }
    }

    fn use_(&mut self, session: &mut Session, what: &str, name: String) -> Result<Table, SfError> {
        if what == "ROLE" {
            if !self.user_has_role(&session.user, &name) {
                return Err(missing(Kind::Role, &name));
            }
            session.role = name;
        } else {
            if !self.has(Kind::Warehouse, &name) {
                return Err(missing(Kind::Warehouse, &name));
            }
            session.warehouse = Some(name);
        }
        let mut t = status("Statement executed successfully.".into());
        t.read_only = true;
        Ok(t)
    }

    fn create(
        &mut self,
        session: &Session,
        kind: Kind,
        name: &[String],
        or_replace: bool,
        if_not_exists: bool,
        props: Props,
    ) -> Result<Table, SfError> {
        let full = Self::full(kind, name)?;
        if !Self::may(&session.role, kind) {
            return Err(match kind {
                Kind::Schema | Kind::IcebergTable => denied(kind, &full),
                _ => denied_on_account(&self.account),
            });
        }
        if or_replace && if_not_exists {
            return Err(syntax("unexpected 'IF NOT EXISTS' after OR REPLACE"));
        }
        match kind {
            Kind::Schema if !self.has(Kind::Database, &name[0]) => {
                return Err(missing(Kind::Database, &name[0]));
            }
            Kind::IcebergTable => self.check_iceberg(name, &props)?,
            Kind::ExternalVolume => check_volume(&props)?,
            Kind::CatalogIntegration => check_catalog(&props)?,
            Kind::User => {
                for slot in ["RSA_PUBLIC_KEY", "RSA_PUBLIC_KEY_2"] {
                    check_key(&props, slot)?;
                }
            }
            _ => {}
        }
        if self.has(kind, &full) && !or_replace {
            if if_not_exists {
                let mut t = status(format!("{full} already exists, statement succeeded."));
                t.read_only = true;
                return Ok(t);
            }
            return Err(exists(&full));
        }
        let created_on = self.now();
        let external_id = format!("LOCALCLOUD_SFCRole=2_{}", uuid::Uuid::new_v4().simple());
        self.objects.insert(
            (kind, full.clone()),
            Object {
                name: full.clone(),
                props,
                created_on,
                external_id,
            },
        );
        if kind == Kind::Role {
            // The role that creates a role owns it, and so may use it.
            self.roles_of.insert((full.clone(), session.user.clone()));
        }
        Ok(status(format!(
            "{} {} successfully created.",
            kind.word(),
            name.last().map(String::as_str).unwrap_or("")
        )))
    }

    pub(super) fn check_iceberg(&self, name: &[String], props: &Props) -> Result<(), SfError> {
        let schema = format!("{}.{}", name[0], name[1]);
        if !self.has(Kind::Database, &name[0]) {
            return Err(missing(Kind::Database, &name[0]));
        }
        if !self.has(Kind::Schema, &schema) {
            return Err(missing(Kind::Schema, &schema));
        }
        for key in ["EXTERNAL_VOLUME", "CATALOG", "CATALOG_TABLE_NAME"] {
            if !props.contains_key(key) {
                return Err(syntax(&format!("missing {key}")));
            }
        }
        let volume = props["EXTERNAL_VOLUME"].text();
        if self.resolve(Kind::ExternalVolume, &volume).is_none() {
            return Err(missing(Kind::ExternalVolume, &volume));
        }
        let catalog = props["CATALOG"].text();
        if self.resolve(Kind::CatalogIntegration, &catalog).is_none() {
            return Err(missing(Kind::CatalogIntegration, &catalog));
        }
        Ok(())
    }

    fn alter_user(
        &mut self,
        session: &Session,
        name: &str,
        set: Props,
        unset: Vec<String>,
    ) -> Result<Table, SfError> {
        if !Self::may(&session.role, Kind::User) {
            return Err(denied(Kind::User, name));
        }
        for slot in ["RSA_PUBLIC_KEY", "RSA_PUBLIC_KEY_2"] {
            check_key(&set, slot)?;
        }
        let user = self
            .objects
            .get_mut(&(Kind::User, name.to_string()))
            .ok_or_else(|| missing(Kind::User, name))?;
        for (k, v) in set {
            user.props.insert(k, v);
        }
        for k in unset {
            user.props.remove(&k);
        }
        Ok(status("Statement executed successfully.".into()))
    }

    fn grant_usage(
        &mut self,
        session: &Session,
        (privilege, kind): (&'static str, Kind),
        object: &[String],
        role: &str,
        revoke: bool,
    ) -> Result<Table, SfError> {
        let full = Self::full(kind, object)?;
        // ALL PRIVILEGES stands for every privilege but OWNERSHIP; on a user that is MONITOR.
        // Other objects' ALL is not modelled: the stack grants only USAGE on them.
        let privilege = match (privilege, kind) {
            ("ALL", Kind::User) => "MONITOR",
            ("ALL", _) => {
                return Err(syntax(
                    "local-cloud models ALL PRIVILEGES only on a user; grant USAGE",
                ));
            }
            (p, _) => p,
        };
        if !matches!(session.role.as_str(), "ACCOUNTADMIN" | "SECURITYADMIN") {
            return Err(denied(kind, &full));
        }
        if !self.has(kind, &full) {
            return Err(missing(kind, &full));
        }
        if !self.has(Kind::Role, role) && !SYSTEM_ROLES.contains(&role) {
            return Err(missing(Kind::Role, role));
        }
        let key = format!("{privilege} ON {full} TO {role}");
        let grant = (kind, full, role.to_string(), privilege);
        if revoke {
            self.usage.remove(&grant);
            self.granted.remove(&key);
        } else if self.usage.insert(grant) {
            let now = self.now();
            self.granted.insert(key, now);
        }
        Ok(status("Statement executed successfully.".into()))
    }

    fn grant_role(
        &mut self,
        session: &Session,
        role: &str,
        user: &str,
        revoke: bool,
    ) -> Result<Table, SfError> {
        if !matches!(session.role.as_str(), "ACCOUNTADMIN" | "SECURITYADMIN") {
            return Err(denied(Kind::Role, role));
        }
        if !self.has(Kind::Role, role) && !SYSTEM_ROLES.contains(&role) {
            return Err(missing(Kind::Role, role));
        }
        if !self.has(Kind::User, user) {
            return Err(missing(Kind::User, user));
        }
        let key = format!("ROLE {role} TO {user}");
        let pair = (role.to_string(), user.to_string());
        if revoke {
            self.roles_of.remove(&pair);
            self.granted.remove(&key);
        } else if self.roles_of.insert(pair) {
            let now = self.now();
            self.granted.insert(key, now);
        }
        Ok(status("Statement executed successfully.".into()))
    }

    fn drop(
        &mut self,
        session: &Session,
        kind: Kind,
        name: &[String],
        if_exists: bool,
    ) -> Result<Table, SfError> {
        let full = Self::full(kind, name)?;
        if !Self::may(&session.role, kind) {
            return Err(denied(kind, &full));
        }
        if self.objects.remove(&(kind, full.clone())).is_none() {
            if if_exists {
                let mut t = status(format!(
                    "Drop statement executed successfully ({full} already dropped)."
                ));
                t.read_only = true;
                return Ok(t);
            }
            return Err(missing(kind, &full));
        }
        // What lives inside goes with it, and so do grants on and to it.
        let inside = format!("{full}.");
        if matches!(kind, Kind::Database | Kind::Schema) {
            self.objects.retain(|(k, n), _| {
                !(matches!(k, Kind::Schema | Kind::IcebergTable) && n.starts_with(&inside))
            });
        }
        self.usage.retain(|(k, o, r, _)| {
            !((*k == kind && *o == full) || (kind == Kind::Role && *r == full))
        });
        self.roles_of.retain(|(r, u)| {
            !((kind == Kind::Role && *r == full) || (kind == Kind::User && *u == full))
        });
        Ok(status(format!(
            "{} successfully dropped.",
            name.last().map(String::as_str).unwrap_or("")
        )))
    }
}

fn check_key(props: &Props, slot: &str) -> Result<(), SfError> {
    match props.get(slot) {
        Some(v) if jwt::parse_key(&v.text()).is_none() => Err(invalid(format!(
            "Invalid {slot}: not an RSA public key (base64 of the DER body)."
        ))),
        _ => Ok(()),
    }
}

fn check_volume(props: &Props) -> Result<(), SfError> {
    let Some(Value::List(locations)) = props.get("STORAGE_LOCATIONS") else {
        return Err(syntax("missing STORAGE_LOCATIONS"));
    };
    for l in locations {
        for key in [
            "NAME",
            "STORAGE_PROVIDER",
            "STORAGE_BASE_URL",
            "STORAGE_AWS_ROLE_ARN",
        ] {
            if !l.contains_key(key) {
                return Err(syntax(&format!("missing {key} in STORAGE_LOCATIONS")));
            }
        }
        if l["STORAGE_PROVIDER"].text() != "S3"
            || !l["STORAGE_BASE_URL"].text().starts_with("s3://")
        {
            return Err(invalid(
                "STORAGE_PROVIDER 'S3' needs an s3:// STORAGE_BASE_URL.".into(),
            ));
        }
    }
    Ok(())
}

fn check_catalog(props: &Props) -> Result<(), SfError> {
    for key in [
        "CATALOG_SOURCE",
        "TABLE_FORMAT",
        "GLUE_AWS_ROLE_ARN",
        "GLUE_CATALOG_ID",
        "CATALOG_NAMESPACE",
        "ENABLED",
    ] {
        if !props.contains_key(key) {
            return Err(syntax(&format!("missing {key}")));
        }
    }
    if props["CATALOG_SOURCE"].text() != "GLUE" || props["TABLE_FORMAT"].text() != "ICEBERG" {
        return Err(invalid(
            "this account supports CATALOG_SOURCE = GLUE with TABLE_FORMAT = ICEBERG.".into(),
        ));
    }
    Ok(())
}
