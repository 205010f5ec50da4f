//! SQL built by small functions: every identifier quoted (`"` doubled inside), every string
//! literal quoted (`'` doubled, `\` escaped). Nothing from input is pasted raw.

/// A quoted identifier. Our names are upper case, so quoting keeps what an unquoted name means.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A qualified name: each part quoted.
pub fn path(parts: &[&str]) -> String {
    parts.iter().map(|p| ident(p)).collect::<Vec<_>>().join(".")
}

/// A string literal. Snowflake reads backslash escapes inside literals, so those are doubled too.
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

pub fn create_warehouse(name: &str) -> String {
    format!(
        "CREATE WAREHOUSE IF NOT EXISTS {} WITH WAREHOUSE_SIZE = 'XSMALL' AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE",
        ident(name)
    )
}

pub struct Volume<'a> {
    pub name: &'a str,
    pub location: &'a str,
    pub base_url: &'a str,
    pub role_arn: &'a str,
}

pub fn create_volume(v: &Volume<'_>) -> String {
    format!(
        "CREATE EXTERNAL VOLUME IF NOT EXISTS {} STORAGE_LOCATIONS = ((NAME = {} STORAGE_PROVIDER = 'S3' STORAGE_BASE_URL = {} STORAGE_AWS_ROLE_ARN = {})) ALLOW_WRITES = FALSE",
        ident(v.name),
        literal(v.location),
        literal(v.base_url),
        literal(v.role_arn)
    )
}

pub struct Catalog<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub role_arn: &'a str,
    pub account: &'a str,
    pub region: &'a str,
}

pub fn create_catalog(c: &Catalog<'_>) -> String {
    format!(
        "CREATE CATALOG INTEGRATION IF NOT EXISTS {} CATALOG_SOURCE = GLUE CATALOG_NAMESPACE = {} TABLE_FORMAT = ICEBERG GLUE_AWS_ROLE_ARN = {} GLUE_CATALOG_ID = {} GLUE_REGION = {} ENABLED = TRUE",
        ident(c.name),
        literal(c.namespace),
        literal(c.role_arn),
        literal(c.account),
        literal(c.region)
    )
}

pub struct User<'a> {
    pub name: &'a str,
    pub warehouse: &'a str,
    pub role: &'a str,
    pub namespace: &'a str,
    pub keys: &'a [(&'static str, String)],
}

pub fn create_user(u: &User<'_>) -> String {
    let keys: String = u
        .keys
        .iter()
        .map(|(slot, key)| format!(" {slot} = {}", literal(key)))
        .collect();
    format!(
        "CREATE USER IF NOT EXISTS {} TYPE = SERVICE DEFAULT_WAREHOUSE = {} DEFAULT_ROLE = {} DEFAULT_NAMESPACE = {}{keys}",
        ident(u.name),
        ident(u.warehouse),
        ident(u.role),
        literal(u.namespace)
    )
}

pub fn set_user_keys(user: &str, keys: &[(&'static str, String)]) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|(slot, key)| format!("{slot} = {}", literal(key)))
        .collect();
    format!("ALTER USER {} SET {}", ident(user), keys.join(" "))
}

pub fn create_table(
    db: &str,
    schema: &str,
    table: &str,
    volume: &str,
    catalog: &str,
    catalog_table: &str,
) -> String {
    format!(
        "CREATE ICEBERG TABLE IF NOT EXISTS {} EXTERNAL_VOLUME = {} CATALOG = {} CATALOG_TABLE_NAME = {}",
        path(&[db, schema, table]),
        literal(volume),
        literal(catalog),
        literal(catalog_table)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_cannot_be_broken_out_of() {
        assert_eq!(
            ident(r#"A"; DROP DATABASE X; --"#),
            r#""A""; DROP DATABASE X; --""#
        );
        assert_eq!(literal(r"it's \' ok"), r"'it''s \\'' ok'");
        assert_eq!(path(&["D", "S", "T"]), r#""D"."S"."T""#);
    }
}
