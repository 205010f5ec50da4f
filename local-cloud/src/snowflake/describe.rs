//! What SHOW and DESCRIBE answer: Snowflake's columns for the objects the stack makes, and the
//! IAM user and external id a volume or a Glue integration acts as.

use serde_json::json;

use super::jwt;
use super::registry::{Object, Registry, Session, SfError, missing, syntax};
use super::sql::{Kind, Props, Value, like};
use super::table::{Table, bool_cell, boolean, text, timestamp, timestamp_cell};

/// SHOW GRANTS' `granted_on` for an object kind, as Snowflake writes it (an external volume is a
/// `VOLUME`, a catalog integration an `INTEGRATION`).
fn granted_on(kind: Kind) -> &'static str {
    match kind {
        Kind::Warehouse => "WAREHOUSE",
        Kind::Database => "DATABASE",
        Kind::Schema => "SCHEMA",
        Kind::Role => "ROLE",
        Kind::User => "USER",
        Kind::ExternalVolume => "VOLUME",
        Kind::CatalogIntegration => "INTEGRATION",
        Kind::IcebergTable => "TABLE",
    }
}

impl Registry {
    pub(super) fn show(
        &self,
        kind: Kind,
        pattern: Option<&str>,
        within: Option<&[String]>,
    ) -> Table {
        let prefix = within.map(|w| format!("{}.", w.join(".")));
        let found = self
            .objects
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .filter(|((_, full), _)| prefix.as_ref().is_none_or(|p| full.starts_with(p)))
            .filter(|(_, o)| {
                let short = o.name.rsplit('.').next().unwrap_or(&o.name);
                pattern.is_none_or(|p| like(p, short))
            })
            .map(|(_, o)| o);
        let s = |v: &str| Some(v.to_string());
        // What `COMMENT = '...'` set at create; an empty string where none was, as Snowflake
        // shows it.
        let comment =
            |o: &Object| Some(o.props.get("COMMENT").map(Value::text).unwrap_or_default());
        let enabled = |o: &Object, key: &str, default: bool| {
            bool_cell(
                o.props
                    .get(key)
                    .map_or(default, |v| v.text().eq_ignore_ascii_case("TRUE")),
            )
        };
        // The columns the official Terraform provider reads from the real SHOW of each kind.
        let (columns, rows) = match kind {
            Kind::ExternalVolume => (
                vec![text("name"), boolean("allow_writes"), text("comment")],
                found
                    .map(|o| vec![s(&o.name), enabled(o, "ALLOW_WRITES", true), comment(o)])
                    .collect(),
            ),
            Kind::CatalogIntegration => (
                vec![
                    text("name"),
                    boolean("enabled"),
                    text("type"),
                    text("category"),
                    text("comment"),
                    timestamp("created_on"),
                ],
                found
                    .map(|o| {
                        vec![
                            s(&o.name),
                            enabled(o, "ENABLED", false),
                            s("CATALOG"),
                            s("CATALOG"),
                            comment(o),
                            timestamp_cell(&o.created_on),
                        ]
                    })
                    .collect(),
            ),
            _ => (
                vec![
                    timestamp("created_on"),
                    text("name"),
                    text("database_name"),
                    text("schema_name"),
                    text("owner"),
                    text("comment"),
                ],
                found
                    .map(|o| {
                        let mut parts: Vec<&str> = o.name.split('.').collect();
                        let short = parts.pop().unwrap_or_default();
                        let owner = match kind {
                            Kind::User | Kind::Role => "SECURITYADMIN",
                            _ => "SYSADMIN",
                        };
                        vec![
                            timestamp_cell(&o.created_on),
                            s(short),
                            parts.first().and_then(|p| s(p)),
                            parts.get(1).and_then(|p| s(p)),
                            s(owner),
                            comment(o),
                        ]
                    })
                    .collect(),
            ),
        };
        Table {
            columns,
            rows,
            read_only: true,
        }
    }

    pub(super) fn show_grants(&self, to_user: bool, name: &str) -> Table {
        let s = |v: &str| Some(v.to_string());
        if to_user {
            let rows = self
                .roles_of
                .iter()
                .filter(|(_, u)| u == name)
                .map(|(r, u)| {
                    vec![
                        timestamp_cell(self.granted_at(&format!("ROLE {r} TO {u}"))),
                        s(r),
                        s("USER"),
                        s(u),
                        s("SECURITYADMIN"),
                    ]
                })
                .collect();
            return Table {
                columns: vec![
                    timestamp("created_on"),
                    text("role"),
                    text("granted_to"),
                    text("grantee_name"),
                    text("granted_by"),
                ],
                rows,
                read_only: true,
            };
        }
        let rows = self
            .usage
            .iter()
            .filter(|(_, _, r, _)| r == name)
            .map(|(k, o, r, p)| {
                vec![
                    timestamp_cell(self.granted_at(&format!("{p} ON {o} TO {r}"))),
                    s(p),
                    s(granted_on(*k)),
                    s(o),
                    s("ROLE"),
                    s(r),
                    bool_cell(false),
                    s("SECURITYADMIN"),
                ]
            })
            .collect();
        Table {
            columns: vec![
                timestamp("created_on"),
                text("privilege"),
                text("granted_on"),
                text("name"),
                text("granted_to"),
                text("grantee_name"),
                boolean("grant_option"),
                text("granted_by"),
            ],
            rows,
            read_only: true,
        }
    }

    pub(super) fn describe(
        &self,
        session: &Session,
        kind: Kind,
        name: &[String],
    ) -> Result<Table, SfError> {
        let full = Self::full(kind, name)?;
        if !Self::may(&session.role, kind) && kind != Kind::User {
            return Err(missing(kind, &full));
        }
        let o = self
            .objects
            .get(&(kind, full.clone()))
            .ok_or_else(|| missing(kind, &full))?;
        let prop = |k: &str| o.props.get(k).map(Value::text).unwrap_or_default();
        let s = |v: &str| Some(v.to_string());
        let table = match kind {
            Kind::ExternalVolume => {
                let location = match o.props.get("STORAGE_LOCATIONS") {
                    Some(Value::List(l)) if !l.is_empty() => l[0].clone(),
                    _ => Props::new(),
                };
                let get = |k: &str| location.get(k).map(Value::text).unwrap_or_default();
                let base = get("STORAGE_BASE_URL");
                let loc = json!({
                    "NAME": get("NAME"), "STORAGE_PROVIDER": get("STORAGE_PROVIDER"),
                    "STORAGE_BASE_URL": base, "STORAGE_ALLOWED_LOCATIONS": [format!("{base}*")],
                    "STORAGE_AWS_ROLE_ARN": get("STORAGE_AWS_ROLE_ARN"),
                    "STORAGE_AWS_IAM_USER_ARN": self.iam_user_arn,
                    "STORAGE_AWS_EXTERNAL_ID": o.external_id,
                    "ENCRYPTION_TYPE": "NONE", "ENCRYPTION_KMS_KEY_ID": "",
                });
                let allow =
                    if o.props.get("ALLOW_WRITES").map(Value::text).as_deref() == Some("FALSE") {
                        "false"
                    } else {
                        "true"
                    };
                Table {
                    columns: vec![
                        text("parent_property"),
                        text("property"),
                        text("property_type"),
                        text("property_value"),
                        text("property_default"),
                    ],
                    rows: vec![
                        vec![s(""), s("ALLOW_WRITES"), s("Boolean"), s(allow), s("true")],
                        vec![
                            s("STORAGE_LOCATIONS"),
                            s("STORAGE_LOCATION_1"),
                            s("String"),
                            Some(loc.to_string()),
                            s(""),
                        ],
                        vec![
                            s("STORAGE_LOCATIONS"),
                            s("ACTIVE"),
                            s("String"),
                            Some(get("NAME")),
                            s(""),
                        ],
                    ],
                    read_only: true,
                }
            }
            Kind::CatalogIntegration => {
                let row = |p: &str, t: &str, v: String, d: &str| vec![s(p), s(t), Some(v), s(d)];
                Table {
                    columns: vec![
                        text("property"),
                        text("property_type"),
                        text("property_value"),
                        text("property_default"),
                    ],
                    // In the order the real DESCRIBE lists them (the provider's SDK reads them so).
                    rows: vec![
                        row("CATALOG_SOURCE", "String", prop("CATALOG_SOURCE"), ""),
                        row("TABLE_FORMAT", "String", prop("TABLE_FORMAT"), ""),
                        row(
                            "ENABLED",
                            "Boolean",
                            prop("ENABLED").to_lowercase(),
                            "false",
                        ),
                        row("REFRESH_INTERVAL_SECONDS", "Integer", "30".into(), "30"),
                        row("COMMENT", "String", prop("COMMENT"), ""),
                        row("GLUE_AWS_ROLE_ARN", "String", prop("GLUE_AWS_ROLE_ARN"), ""),
                        row("GLUE_CATALOG_ID", "String", prop("GLUE_CATALOG_ID"), ""),
                        row("GLUE_REGION", "String", prop("GLUE_REGION"), ""),
                        row("CATALOG_NAMESPACE", "String", prop("CATALOG_NAMESPACE"), ""),
                        row(
                            "GLUE_AWS_IAM_USER_ARN",
                            "String",
                            self.iam_user_arn.clone(),
                            "",
                        ),
                        row("GLUE_AWS_EXTERNAL_ID", "String", o.external_id.clone(), ""),
                    ],
                    read_only: true,
                }
            }
            Kind::User => {
                // DESCRIBE USER writes an unset property as the four letters `null`, not NULL.
                let unset = || "null".to_string();
                let fp = |k: &str| {
                    o.props
                        .get(k)
                        .and_then(|v| jwt::fingerprint(&v.text()))
                        .unwrap_or_else(unset)
                };
                let set = |k: &str| o.props.get(k).map(Value::text).unwrap_or_else(unset);
                let row = |p: &str, v: String| vec![s(p), Some(v), s("null"), s("")];
                Table {
                    columns: vec![
                        text("property"),
                        text("value"),
                        text("default"),
                        text("description"),
                    ],
                    rows: vec![
                        row("NAME", o.name.clone()),
                        row("TYPE", set("TYPE")),
                        row("DEFAULT_WAREHOUSE", set("DEFAULT_WAREHOUSE")),
                        row("DEFAULT_NAMESPACE", set("DEFAULT_NAMESPACE")),
                        row("DEFAULT_ROLE", set("DEFAULT_ROLE")),
                        row("RSA_PUBLIC_KEY_FP", fp("RSA_PUBLIC_KEY")),
                        row("RSA_PUBLIC_KEY_2_FP", fp("RSA_PUBLIC_KEY_2")),
                        row("COMMENT", set("COMMENT")),
                    ],
                    read_only: true,
                }
            }
            _ => return Err(syntax(&format!("unexpected DESCRIBE {}", kind.word()))),
        };
        Ok(table)
    }
}
