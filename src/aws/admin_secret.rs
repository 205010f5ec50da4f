//! The Snowflake admin connection, from the Secrets Manager secret that deploy.sh's
//! `--admin-service-user-secrets-root-path` names. Two layouts are read: the newest seed's
//! (`snowflake_account_identifier`, `admin_service_user`, `active_key_number`,
//! `snowflake_rsa_private_key_{1,2}_pem`, ...) and kickstart's first one (`account`, `user`,
//! `active_key_number`, `private_key_{1,2}`). Anything else is refused before any cloud is touched.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;
use serde_json::Value;

use crate::snowflake::Admin;

/// The keys of the newest layout that kickstart needs (the others are read when present).
const NEWEST: &[&str] = &[
    "snowflake_account_identifier",
    "admin_service_user",
    "active_key_number",
    "snowflake_rsa_private_key_1_pem",
];
const FIRST: &[&str] = &["account", "user", "private_key_1"];

#[derive(Debug, thiserror::Error)]
pub enum AdminSecretError {
    #[error(
        "the Snowflake admin secret {name} does not exist: create it, pass its name with --admin-service-user-secrets-root-path, or pass --snowflake-account, --snowflake-user and --snowflake-private-key-file"
    )]
    Missing { name: String },
    #[error(
        "the Snowflake admin secret {name} is not a JSON object: store it as deploy.sh's admin secret, with the keys {}",
        NEWEST.join(", ")
    )]
    NotJson { name: String },
    #[error(
        "the Snowflake admin secret {name} lacks {}: the newest deploy.sh layout holds {} (and the _2_pem key when active_key_number is 2)",
        missing.join(", "), NEWEST.join(", ")
    )]
    NewestIncomplete { name: String, missing: Vec<String> },
    #[error(
        "the Snowflake admin secret {name} lacks {}: kickstart's first layout holds {} (or private_key_2 with active_key_number 2)",
        missing.join(", "), FIRST.join(", ")
    )]
    FirstIncomplete { name: String, missing: Vec<String> },
    #[error(
        "the Snowflake admin secret {name} is in no layout kickstart reads: give it the keys {} (deploy.sh's layout), or {}",
        NEWEST.join(", "), FIRST.join(", ")
    )]
    Unknown { name: String },
    #[error(
        "the key {key} of the Snowflake admin secret {name} is not base64 of a PEM private key: store the PEM's base64, as deploy.sh's rotation does"
    )]
    BadKey { name: String, key: String },
    #[error(
        "active_key_number of the Snowflake admin secret {name} must be 1 or 2: set it to the slot whose private key the admin user holds"
    )]
    BadActive { name: String },
}

/// A string, or a number written as one (Terraform stores `active_key_number` as a number).
fn field(v: &Value, key: &str) -> Option<String> {
    let x = v.get(key)?;
    let s = x
        .as_str()
        .map(str::to_string)
        .or_else(|| x.as_u64().map(|n| n.to_string()))?;
    (!s.trim().is_empty()).then_some(s)
}

fn pem(name: &str, key: &str, b64: &str) -> Result<SecretString, AdminSecretError> {
    let bad = || AdminSecretError::BadKey {
        name: name.to_string(),
        key: key.to_string(),
    };
    let bytes = STANDARD.decode(b64.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    if text.contains("-----BEGIN") {
        Ok(SecretString::from(text))
    } else {
        Err(bad())
    }
}

fn active(name: &str, v: &Value) -> Result<u8, AdminSecretError> {
    match field(v, "active_key_number").as_deref() {
        None | Some("1") => Ok(1),
        Some("2") => Ok(2),
        Some(_) => Err(AdminSecretError::BadActive {
            name: name.to_string(),
        }),
    }
}

/// Reads the admin connection out of the secret's text.
pub fn parse(name: &str, text: &str) -> Result<Admin, AdminSecretError> {
    let v: Value = serde_json::from_str(text).map_err(|_| AdminSecretError::NotJson {
        name: name.to_string(),
    })?;
    if !v.is_object() {
        return Err(AdminSecretError::NotJson {
            name: name.to_string(),
        });
    }
    let has_any = |keys: &[&str]| keys.iter().any(|k| v.get(*k).is_some());
    let newest = [
        "snowflake_account_identifier",
        "snowflake_organization_name",
        "snowflake_account_name",
        "admin_service_user",
        "snowflake_rsa_private_key_1_pem",
        "snowflake_rsa_private_key_2_pem",
    ];
    if has_any(&newest) {
        newest_layout(name, &v)
    } else if has_any(&[
        "account",
        "user",
        "private_key",
        "private_key_1",
        "private_key_2",
    ]) {
        first_layout(name, &v)
    } else {
        Err(AdminSecretError::Unknown {
            name: name.to_string(),
        })
    }
}

fn newest_layout(name: &str, v: &Value) -> Result<Admin, AdminSecretError> {
    let n = active(name, v)?;
    // The identifier is `<org>-<account>`; the seed also keeps its two halves.
    let account = field(v, "snowflake_account_identifier").or_else(|| {
        Some(format!(
            "{}-{}",
            field(v, "snowflake_organization_name")?,
            field(v, "snowflake_account_name")?
        ))
    });
    let user = field(v, "admin_service_user");
    let key_name = format!("snowflake_rsa_private_key_{n}_pem");
    let key = field(v, &key_name);
    let mut missing = Vec::new();
    for (present, key) in [
        (
            account.is_some(),
            "snowflake_account_identifier".to_string(),
        ),
        (user.is_some(), "admin_service_user".to_string()),
        (
            field(v, "active_key_number").is_some(),
            "active_key_number".to_string(),
        ),
        (key.is_some(), key_name.clone()),
    ] {
        if !present {
            missing.push(key);
        }
    }
    match (account, user, key) {
        (Some(account), Some(user), Some(key)) if missing.is_empty() => Ok(Admin {
            account,
            user,
            private_key_pem: pem(name, &key_name, &key)?,
        }),
        _ => Err(AdminSecretError::NewestIncomplete {
            name: name.to_string(),
            missing,
        }),
    }
}

fn first_layout(name: &str, v: &Value) -> Result<Admin, AdminSecretError> {
    let n = active(name, v)?;
    let key_name = format!("private_key_{n}");
    let (key_name, key) = match field(v, &key_name) {
        Some(k) => (key_name, Some(k)),
        None => ("private_key".to_string(), field(v, "private_key")),
    };
    let (account, user) = (field(v, "account"), field(v, "user"));
    let mut missing = Vec::new();
    for (present, key) in [
        (account.is_some(), "account"),
        (user.is_some(), "user"),
        (
            key.is_some(),
            if n == 1 {
                "private_key_1"
            } else {
                "private_key_2"
            },
        ),
    ] {
        if !present {
            missing.push(key.to_string());
        }
    }
    match (account, user, key) {
        (Some(account), Some(user), Some(key)) => Ok(Admin {
            account,
            user,
            private_key_pem: pem(name, &key_name, &key)?,
        }),
        _ => Err(AdminSecretError::FirstIncomplete {
            name: name.to_string(),
            missing,
        }),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;
    use serde_json::json;

    use super::*;

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }
    const PEM: &str = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n";

    #[test]
    fn reads_the_newest_layout_with_its_active_slot() {
        let text = json!({
            "snowflake_account_identifier": "ORG-ACCT", "snowflake_organization_name": "ORG",
            "snowflake_account_name": "ACCT", "admin_service_user": "ADMIN",
            "active_key_number": 2, "snowflake_rsa_public_key_1_pem": "p1",
            "snowflake_rsa_public_key_2_pem": "p2",
            "snowflake_rsa_private_key_1_pem": b64("not the active one"),
            "snowflake_rsa_private_key_2_pem": b64(PEM),
        })
        .to_string();
        let admin = parse("/a", &text).unwrap();
        assert_eq!(
            (admin.account.as_str(), admin.user.as_str()),
            ("ORG-ACCT", "ADMIN")
        );
        assert_eq!(admin.private_key_pem.expose_secret(), PEM);
    }

    #[test]
    fn still_reads_the_first_layout() {
        let text = json!({"account": "o-a", "user": "U", "private_key_1": b64(PEM)}).to_string();
        let admin = parse("/a", &text).unwrap();
        assert_eq!((admin.account.as_str(), admin.user.as_str()), ("o-a", "U"));
    }

    #[test]
    fn names_the_missing_keys_and_never_the_key_material() {
        let text =
            json!({"admin_service_user": "ADMIN", "snowflake_rsa_private_key_1_pem": b64(PEM)})
                .to_string();
        let e = parse("/a", &text).err().unwrap().to_string();
        assert!(
            e.contains("lacks snowflake_account_identifier, active_key_number:"),
            "{e}"
        );
        assert!(!e.contains(&b64(PEM)));
        let e = parse("/a", r#"{"foo": 1}"#).err().unwrap().to_string();
        assert!(
            e.contains("admin_service_user") && e.contains("private_key_1"),
            "{e}"
        );
        let e = parse("/a", "not json").err().unwrap();
        assert!(matches!(e, AdminSecretError::NotJson { .. }));
        let bad = json!({"account": "o-a", "user": "U", "private_key_1": "%%"}).to_string();
        assert!(matches!(
            parse("/a", &bad),
            Err(AdminSecretError::BadKey { .. })
        ));
    }
}
