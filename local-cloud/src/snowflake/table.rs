//! A statement's result as Snowflake types it: each column has the type its real answer gives
//! (SHOW's `created_on` is a TIMESTAMP_LTZ, the volume's `allow_writes` and the integration's
//! `enabled` are BOOLEAN, the rest is TEXT), because the official drivers convert every cell by
//! its column's type.

/// The column types the emulator's answers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Text,
    Boolean,
    /// Milliseconds, as SHOW's `created_on` is (scale 3).
    TimestampLtz,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub ty: Type,
}

pub const fn text(name: &'static str) -> Column {
    Column {
        name,
        ty: Type::Text,
    }
}

pub const fn boolean(name: &'static str) -> Column {
    Column {
        name,
        ty: Type::Boolean,
    }
}

pub const fn timestamp(name: &'static str) -> Column {
    Column {
        name,
        ty: Type::TimestampLtz,
    }
}

/// A result: typed columns and rows of cells as the JSON result format carries them (strings
/// or NULL, whatever the type).
#[derive(Debug, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Option<String>>>,
    /// Changed nothing (SHOW, DESCRIBE, USE, SELECT): the journal leaves it out.
    pub read_only: bool,
}

/// A BOOLEAN cell: the JSON result format writes `1` and `0`.
pub fn bool_cell(value: bool) -> Option<String> {
    Some(if value { "1" } else { "0" }.to_string())
}

/// A TIMESTAMP_LTZ cell from the RFC 3339 time the registry keeps: seconds since the epoch with
/// the column's three decimals, as the JSON result format writes it.
pub fn timestamp_cell(rfc3339: &str) -> Option<String> {
    let t = rfc3339.parse::<jiff::Timestamp>().ok()?;
    Some(format!("{}.{:03}", t.as_second(), t.subsec_millisecond()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_written_as_the_json_result_format_does() {
        assert_eq!(
            timestamp_cell("2026-01-31T09:16:35Z").as_deref(),
            Some("1769850995.000")
        );
        assert_eq!(timestamp_cell(""), None);
        assert_eq!(bool_cell(true).as_deref(), Some("1"));
        assert_eq!(bool_cell(false).as_deref(), Some("0"));
    }
}
