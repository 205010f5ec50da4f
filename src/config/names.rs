//! Names the clouds accept. Each rule returns what a good name looks like when the name breaks it.

/// A Kafka topic name: Kafka's own rule (`Topic.validate`).
pub fn topic(name: &str) -> Result<(), String> {
    let chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if chars && (1..=249).contains(&name.len()) && name != "." && name != ".." {
        Ok(())
    } else {
        Err(
            "use 1 to 249 letters, digits, '.', '_' or '-' (Kafka's rule), e.g. stock_trades"
                .into(),
        )
    }
}

/// A managed connector's name: it is a path segment of the Connect API, so kept to characters
/// that need no escaping, and as long as Confluent's console accepts.
pub fn connector(name: &str) -> Result<(), String> {
    let chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if chars && (1..=64).contains(&name.len()) {
        Ok(())
    } else {
        Err("use 1 to 64 letters, digits, '.', '_' or '-', e.g. SampleSourceConnector".into())
    }
}

/// A service account key: it becomes part of the account's display name and of a secret's path.
pub fn service_account(name: &str) -> Result<(), String> {
    let chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if chars && (1..=32).contains(&name.len()) {
        Ok(())
    } else {
        Err("use 1 to 32 lowercase letters, digits or '_', e.g. app_producer".into())
    }
}

/// Flink's statement names are at most 100 characters; kickstart appends a 36-character UUID.
pub const MAX_PREFIX: usize = 64;

/// A statement key: with `_` as `-`, it is the statement name's default prefix.
pub fn statement_key(name: &str) -> Result<(), String> {
    statement_prefix(&name.replace('_', "-")).map_err(|_| {
        format!(
            "use 1 to {MAX_PREFIX} lowercase letters, digits, '-' or '_', starting with a letter (it makes the Flink statement's name), e.g. ctas_orders"
        )
    })
}

/// The start of a Flink statement's name.
pub fn statement_prefix(prefix: &str) -> Result<(), String> {
    let chars = prefix
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let starts = prefix
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase());
    if chars && starts && prefix.len() <= MAX_PREFIX {
        Ok(())
    } else {
        Err(format!(
            "use 1 to {MAX_PREFIX} lowercase letters, digits or '-', starting with a letter (Flink's rule; a 36-character UUID is appended), e.g. ctas-orders-"
        ))
    }
}

/// A Snowflake unquoted identifier, which kickstart's SQL writes table names as.
pub fn snowflake_table(name: &str) -> Result<(), String> {
    let starts = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if starts && chars && name.len() <= 255 {
        Ok(())
    } else {
        Err("use letters, digits, '_' or '$', starting with a letter or '_' (a Snowflake unquoted identifier), e.g. STOCK_TRADES".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_takes_the_seed_names_and_refuses_what_the_cloud_refuses() {
        assert!(topic("stock_trades").is_ok());
        assert!(topic("a.b-c_D9").is_ok());
        for bad in ["", ".", "..", "has space", "ü", &"t".repeat(250)] {
            assert!(topic(bad).is_err(), "{bad:?}");
        }
        assert!(connector("SampleSourceConnector").is_ok());
        assert!(connector("a/b").is_err());
        assert!(service_account("app_producer").is_ok());
        assert!(service_account("App").is_err());
        assert!(statement_key("ctas_stock_trades_with_totals").is_ok());
        assert!(statement_key("9ctas").is_err());
        assert!(statement_key(&"a".repeat(MAX_PREFIX + 1)).is_err());
        assert!(statement_prefix("ctas-stock-trades-with-totals-").is_ok());
        assert!(statement_prefix("ctas_x").is_err());
        assert!(statement_prefix("").is_err());
        assert!(snowflake_table("_x$1").is_ok());
        assert!(snowflake_table("stock-trades").is_err());
        assert!(snowflake_table("1x").is_err());
    }
}
