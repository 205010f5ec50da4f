//! What SHOW and DESCRIBE answer: Snowflake's columns for the objects the stack makes, and the
//! IAM user and external id a volume or a Glue integration acts as.

use serde_json::json;

use super::jwt;
use super::registry::{Registry, Session, SfError, Table, missing, syntax};
use super::sql::{Kind, Props, Value, like};

impl Registry {
    pub(super) fn show(
        &self,
        kind: Kind,
        pattern: Option<&str>,
        within: Option<&[String]>,
    ) -> Table {
        let prefix = within.map(|w| format!("{}.", w.join(".")));
        let rows = self
            .objects
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .filter(|((_, full), _)| prefix.as_ref().is_none_or(|p| full.starts_with(p)))
            .filter(|(_, o)| {
                let short = o.name.rsplit('.').next().unwrap_or(&o.name);
                pattern.is_none_or(|p| like(p, short))
            })
            .map(|(_, o)| {
                let mut parts: Vec<&str> = o.name.split('.').collect();
                let short = parts.pop().unwrap_or_default().to_string();
                let owner = match kind {
                    Kind::ExternalVolume | Kind::CatalogIntegration => "ACCOUNTADMIN",
                    Kind::User | Kind::Role => "SECURITYADMIN",
                    _ => "SYSADMIN",
                };
                vec![
                    Some(o.created_on.clone()),
                    Some(short),
                    parts.first().map(|s| s.to_string()),
                    parts.get(1).map(|s| s.to_string()),
                    Some(owner.into()),
                    Some(String::new()),
                ]
            })
            .collect();
        Table {
            columns: vec![
                "created_on",
                "name",
                "database_name",
                "schema_name",
                "owner",
                "comment",
            ],
            rows,
            read_only: true,
        }
    }

    pub(super) fn show_grants(&self, to_user: bool, name: &str) -> Table {
        if to_user {
            let rows = self
                .roles_of
                .iter()
                .filter(|(_, u)| u == name)
                .map(|(r, u)| {
                    vec![
                        Some(String::new()),
                        Some(r.clone()),
                        Some("USER".into()),
                        Some(u.clone()),
                        Some("SECURITYADMIN".into()),
                    ]
                })
                .collect();
            return Table {
                columns: vec![
                    "created_on",
                    "role",
                    "granted_to",
                    "grantee_name",
                    "granted_by",
                ],
                rows,
                read_only: true,
            };
        }
        let rows = self
            .usage
            .iter()
            .filter(|(_, _, r)| r == name)
            .map(|(k, o, r)| {
                let on = k.word().to_ascii_uppercase().replace(' ', "_");
                vec![
                    Some(String::new()),
                    Some("USAGE".into()),
                    Some(on),
                    Some(o.clone()),
                    Some("ROLE".into()),
                    Some(r.clone()),
                    Some("false".into()),
                    Some("SECURITYADMIN".into()),
                ]
            })
            .collect();
        Table {
            columns: vec![
                "created_on",
                "privilege",
                "granted_on",
                "name",
                "granted_to",
                "grantee_name",
                "grant_option",
                "granted_by",
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
        let text = |k: &str| o.props.get(k).map(Value::text).unwrap_or_default();
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
                        "parent_property",
                        "property",
                        "property_type",
                        "property_value",
                        "property_default",
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
                        "property",
                        "property_type",
                        "property_value",
                        "property_default",
                    ],
                    rows: vec![
                        row(
                            "ENABLED",
                            "Boolean",
                            text("ENABLED").to_lowercase(),
                            "false",
                        ),
                        row("CATALOG_SOURCE", "String", text("CATALOG_SOURCE"), ""),
                        row("CATALOG_NAMESPACE", "String", text("CATALOG_NAMESPACE"), ""),
                        row("TABLE_FORMAT", "String", text("TABLE_FORMAT"), ""),
                        row("REFRESH_INTERVAL_SECONDS", "Integer", "30".into(), "30"),
                        row("GLUE_AWS_ROLE_ARN", "String", text("GLUE_AWS_ROLE_ARN"), ""),
                        row("GLUE_CATALOG_ID", "String", text("GLUE_CATALOG_ID"), ""),
                        row("GLUE_REGION", "String", text("GLUE_REGION"), ""),
                        row(
                            "GLUE_AWS_IAM_USER_ARN",
                            "String",
                            self.iam_user_arn.clone(),
                            "",
                        ),
                        row("GLUE_AWS_EXTERNAL_ID", "String", o.external_id.clone(), ""),
                        row("COMMENT", "String", String::new(), ""),
                    ],
                    read_only: true,
                }
            }
            Kind::User => {
                let fp = |k: &str| o.props.get(k).and_then(|v| jwt::fingerprint(&v.text()));
                let row = |p: &str, v: Option<String>| vec![s(p), v, s("null"), s("")];
                Table {
                    columns: vec!["property", "value", "default", "description"],
                    rows: vec![
                        row("NAME", Some(o.name.clone())),
                        row("TYPE", Some(text("TYPE"))),
                        row("DEFAULT_WAREHOUSE", Some(text("DEFAULT_WAREHOUSE"))),
                        row("DEFAULT_NAMESPACE", Some(text("DEFAULT_NAMESPACE"))),
                        row("DEFAULT_ROLE", Some(text("DEFAULT_ROLE"))),
                        row("RSA_PUBLIC_KEY_FP", fp("RSA_PUBLIC_KEY")),
                        row("RSA_PUBLIC_KEY_2_FP", fp("RSA_PUBLIC_KEY_2")),
                    ],
                    read_only: true,
                }
            }
            _ => return Err(syntax(&format!("unexpected DESCRIBE {}", kind.word()))),
        };
        Ok(table)
    }
}
