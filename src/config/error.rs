//! What is wrong with a stack file, as one line: where (file:line:column), what, what to write.

use std::fmt;
use std::ops::Range;

/// A place in a stack file, shown as `path:line:column` (both from 1, columns in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub path: String,
    pub line: usize,
    pub column: usize,
}

impl Place {
    /// The place of a byte offset of `text`; an offset past the end is the end.
    pub fn at(path: &str, text: &str, offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Place {
            path: path.to_string(),
            line,
            column: before[line_start..].chars().count() + 1,
        }
    }

    pub fn of(path: &str, text: &str, span: &Range<usize>) -> Self {
        Place::at(path, text, span.start)
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path, self.line, self.column)
    }
}

/// A stack file kickstart will not use. Each message is one line ending with what to write.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "{path}: cannot read it ({reason}); check the path given to --config or KICKSTART_CONFIG, or run `kickstart init` to write one"
    )]
    Unreadable { path: String, reason: String },
    #[error(
        "{at}: {message}; fix the TOML syntax here (quoted strings, `key = value`, [table] headers: see https://toml.io)"
    )]
    Syntax { at: Place, message: String },
    #[error("{at}: unknown key `{key}`; {hint}")]
    UnknownKey {
        at: Place,
        key: String,
        hint: String,
    },
    #[error("{at}: {message}; {hint}")]
    WrongType {
        at: Place,
        message: String,
        hint: String,
    },
    #[error("{at}: missing `{key}`; add `{key} = ...` to this table")]
    Missing { at: Place, key: String },
    /// Well-formed, but not something kickstart (or the cloud) can build.
    #[error("{at}: {what}; {hint}")]
    Invalid {
        at: Place,
        what: String,
        hint: String,
    },
}

impl ConfigError {
    /// toml's error (syntax, unknown key, wrong type, missing key) at its place in the file.
    pub fn from_toml(path: &str, text: &str, error: &toml::de::Error) -> Self {
        let at = Place::at(path, text, error.span().map_or(0, |s| s.start));
        // toml's message may span lines; the error is one line.
        let message = error
            .message()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
            let expected = expected.trim_start_matches(", ");
            let hint = if let Some(list) = expected.strip_prefix("expected one of ") {
                format!("write one of {list} (or remove it)")
            } else if let Some(one) = expected.strip_prefix("expected ") {
                format!("write {one} (or remove it)")
            } else {
                "remove it: this table takes no keys".to_string()
            };
            return ConfigError::UnknownKey {
                at,
                key: key.to_string(),
                hint,
            };
        }
        if let Some(rest) = message.strip_prefix("missing field `") {
            let key = rest.split('`').next().unwrap_or(rest).to_string();
            return ConfigError::Missing { at, key };
        }
        if let Some(expected) = message
            .strip_prefix("invalid type: ")
            .or_else(|| message.strip_prefix("invalid value: "))
            .and_then(|m| m.rsplit_once(", expected "))
            .map(|(_, e)| e.to_string())
        {
            return ConfigError::WrongType {
                hint: format!("write {}", plain_type(&expected)),
                message: message.replace("invalid type", "wrong type"),
                at,
            };
        }
        ConfigError::Syntax { at, message }
    }
}

/// serde's name of a type, as a person writes such a value in TOML.
fn plain_type(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" | "i32" | "i64" => {
            "a whole number without quotes (e.g. 6)".into()
        }
        "a string" => "a string in double quotes".into(),
        "a boolean" => "true or false".into(),
        "a sequence" => "a list in brackets, e.g. [\"a\", \"b\"]".into(),
        "a map" => "a table".into(),
        other if other.starts_with("struct ") => "a table".into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_count_lines_and_characters_from_one() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(Place::at("f", text, 0).to_string(), "f:1:1");
        assert_eq!(Place::at("f", text, 6).to_string(), "f:2:1");
        // After the two-byte `é`, the column counts characters, not bytes.
        let eq = text.find('=').unwrap();
        let eq2 = text[eq + 1..].find('=').unwrap() + eq + 1;
        assert_eq!(Place::at("f", text, eq2).to_string(), "f:2:4");
        assert_eq!(Place::at("f", text, 999).to_string(), "f:3:1");
    }
}
