//! The statements the stack sends, parsed strictly: identifiers (unquoted ones fold to upper
//! case, quoted ones keep theirs, `""` escapes), string literals (`''` and backslash escapes),
//! and `KEY = value` properties. Anything else is a syntax error, as Snowflake would answer it.

use std::collections::BTreeMap;

use super::lex::{Token, tokenize};

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Word(String),
    Num(String),
    /// `( (K = v ...) , ... )`, as STORAGE_LOCATIONS is written.
    List(Vec<BTreeMap<String, Value>>),
}

impl Value {
    pub fn text(&self) -> String {
        match self {
            Value::Str(s) | Value::Word(s) | Value::Num(s) => s.clone(),
            Value::List(_) => String::new(),
        }
    }
}

pub type Props = BTreeMap<String, Value>;

/// The kinds of object the stack makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Warehouse,
    Database,
    Schema,
    Role,
    User,
    ExternalVolume,
    CatalogIntegration,
    IcebergTable,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Warehouse => "Warehouse",
            Kind::Database => "Database",
            Kind::Schema => "Schema",
            Kind::Role => "Role",
            Kind::User => "User",
            Kind::ExternalVolume => "External volume",
            Kind::CatalogIntegration => "Integration",
            Kind::IcebergTable => "Table",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    Use {
        what: String,
        name: String,
    },
    Create {
        kind: Kind,
        name: Vec<String>,
        or_replace: bool,
        if_not_exists: bool,
        props: Props,
    },
    AlterUser {
        name: String,
        set: Props,
        unset: Vec<String>,
    },
    /// USAGE, or ALL PRIVILEGES (as `ALL`), on an object to a role.
    GrantUsage {
        privilege: &'static str,
        kind: Kind,
        object: Vec<String>,
        role: String,
        revoke: bool,
    },
    GrantRole {
        role: String,
        user: String,
        revoke: bool,
    },
    Show {
        kind: Kind,
        like: Option<String>,
        within: Option<Vec<String>>,
    },
    ShowGrants {
        to_user: bool,
        name: String,
    },
    Describe {
        kind: Kind,
        name: Vec<String>,
    },
    Drop {
        kind: Kind,
        name: Vec<String>,
        if_exists: bool,
    },
    Select {
        function: String,
    },
}

/// A syntax error, with what was unexpected.
#[derive(Debug, PartialEq)]
pub struct Syntax(pub String);

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn unexpected(&self) -> Syntax {
        match self.peek() {
            Some(Token::Word(w) | Token::Quoted(w) | Token::Str(w) | Token::Num(w)) => {
                Syntax(format!("unexpected '{w}'"))
            }
            Some(Token::Sym(c)) => Syntax(format!("unexpected '{c}'")),
            None => Syntax("unexpected end of statement".into()),
        }
    }

    fn word(&mut self, w: &str) -> bool {
        if self.peek() == Some(&Token::Word(w.into())) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn words(&mut self, ws: &[&str]) -> bool {
        let save = self.at;
        if ws.iter().all(|w| self.word(w)) {
            true
        } else {
            self.at = save;
            false
        }
    }

    fn expect(&mut self, w: &str) -> Result<(), Syntax> {
        if self.word(w) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn sym(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Sym(c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Result<String, Syntax> {
        match self.peek().cloned() {
            Some(Token::Word(w)) | Some(Token::Quoted(w)) => {
                self.at += 1;
                Ok(w)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn name(&mut self) -> Result<Vec<String>, Syntax> {
        let mut parts = vec![self.ident()?];
        while self.sym('.') {
            parts.push(self.ident()?);
        }
        Ok(parts)
    }

    fn string(&mut self) -> Result<String, Syntax> {
        match self.peek().cloned() {
            Some(Token::Str(s)) => {
                self.at += 1;
                Ok(s)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn value(&mut self) -> Result<Value, Syntax> {
        match self.peek().cloned() {
            Some(Token::Str(s)) => {
                self.at += 1;
                Ok(Value::Str(s))
            }
            Some(Token::Num(n)) => {
                self.at += 1;
                Ok(Value::Num(n))
            }
            Some(Token::Word(w)) | Some(Token::Quoted(w)) => {
                self.at += 1;
                Ok(Value::Word(w))
            }
            Some(Token::Sym('(')) => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    if !self.sym('(') {
                        return Err(self.unexpected());
                    }
                    items.push(self.props(true)?);
                    if !self.sym(')') {
                        return Err(self.unexpected());
                    }
                    if !self.sym(',') {
                        break;
                    }
                }
                if !self.sym(')') {
                    return Err(self.unexpected());
                }
                Ok(Value::List(items))
            }
            _ => Err(self.unexpected()),
        }
    }

    fn props(&mut self, nested: bool) -> Result<Props, Syntax> {
        let mut props = Props::new();
        self.word("WITH");
        while let Some(Token::Word(key)) = self.peek().cloned() {
            self.at += 1;
            if !self.sym('=') {
                return Err(self.unexpected());
            }
            props.insert(key, self.value()?);
            self.sym(',');
        }
        if !nested && self.peek().is_some() {
            return Err(self.unexpected());
        }
        Ok(props)
    }

    fn kind(&mut self) -> Option<Kind> {
        Some(if self.word("WAREHOUSE") {
            Kind::Warehouse
        } else if self.word("DATABASE") {
            Kind::Database
        } else if self.word("SCHEMA") {
            Kind::Schema
        } else if self.word("ROLE") {
            Kind::Role
        } else if self.word("USER") {
            Kind::User
        } else if self.words(&["EXTERNAL", "VOLUME"]) {
            Kind::ExternalVolume
        } else if self.words(&["CATALOG", "INTEGRATION"]) {
            Kind::CatalogIntegration
        } else if self.words(&["ICEBERG", "TABLE"]) {
            Kind::IcebergTable
        } else {
            return None;
        })
    }

    fn plural(&mut self) -> Option<Kind> {
        Some(if self.word("WAREHOUSES") {
            Kind::Warehouse
        } else if self.word("DATABASES") {
            Kind::Database
        } else if self.word("SCHEMAS") {
            Kind::Schema
        } else if self.word("ROLES") {
            Kind::Role
        } else if self.word("USERS") {
            Kind::User
        } else if self.words(&["EXTERNAL", "VOLUMES"]) {
            Kind::ExternalVolume
        } else if self.words(&["CATALOG", "INTEGRATIONS"]) {
            Kind::CatalogIntegration
        } else if self.words(&["ICEBERG", "TABLES"]) {
            Kind::IcebergTable
        } else {
            return None;
        })
    }

    fn end(&self) -> Result<(), Syntax> {
        if self.peek().is_some() {
            Err(self.unexpected())
        } else {
            Ok(())
        }
    }

    fn statement(&mut self) -> Result<Stmt, Syntax> {
        if self.word("USE") {
            let what = if self.word("ROLE") {
                "ROLE"
            } else if self.word("WAREHOUSE") {
                "WAREHOUSE"
            } else {
                return Err(self.unexpected());
            };
            let name = self.ident()?;
            self.end()?;
            return Ok(Stmt::Use {
                what: what.into(),
                name,
            });
        }
        if self.word("CREATE") {
            let or_replace = self.words(&["OR", "REPLACE"]);
            let kind = self.kind().ok_or_else(|| self.unexpected())?;
            let if_not_exists = self.words(&["IF", "NOT", "EXISTS"]);
            let name = self.name()?;
            let props = self.props(false)?;
            return Ok(Stmt::Create {
                kind,
                name,
                or_replace,
                if_not_exists,
                props,
            });
        }
        if self.word("ALTER") {
            self.expect("USER")?;
            self.words(&["IF", "EXISTS"]);
            let name = self.ident()?;
            if self.word("SET") {
                let set = self.props(false)?;
                return Ok(Stmt::AlterUser {
                    name,
                    set,
                    unset: vec![],
                });
            }
            self.expect("UNSET")?;
            let mut unset = vec![self.ident()?];
            while self.sym(',') {
                unset.push(self.ident()?);
            }
            self.end()?;
            return Ok(Stmt::AlterUser {
                name,
                set: Props::new(),
                unset,
            });
        }
        let revoke = self.word("REVOKE");
        if revoke || self.word("GRANT") {
            if self.word("ROLE") {
                let role = self.ident()?;
                self.expect(if revoke { "FROM" } else { "TO" })?;
                self.expect("USER")?;
                let user = self.ident()?;
                self.end()?;
                return Ok(Stmt::GrantRole { role, user, revoke });
            }
            let privilege = if self.word("ALL") {
                self.word("PRIVILEGES");
                "ALL"
            } else {
                self.expect("USAGE")?;
                "USAGE"
            };
            self.expect("ON")?;
            // Integrations of any kind are granted on as INTEGRATION.
            let kind = if self.word("INTEGRATION") {
                Kind::CatalogIntegration
            } else {
                self.kind().ok_or_else(|| self.unexpected())?
            };
            let object = self.name()?;
            self.expect(if revoke { "FROM" } else { "TO" })?;
            self.expect("ROLE")?;
            let role = self.ident()?;
            self.end()?;
            return Ok(Stmt::GrantUsage {
                privilege,
                kind,
                object,
                role,
                revoke,
            });
        }
        if self.word("SHOW") {
            if self.word("GRANTS") {
                self.expect("TO")?;
                let to_user = self.word("USER");
                if !to_user {
                    self.expect("ROLE")?;
                }
                let name = self.ident()?;
                self.end()?;
                return Ok(Stmt::ShowGrants { to_user, name });
            }
            let kind = self.plural().ok_or_else(|| self.unexpected())?;
            let like = if self.word("LIKE") {
                Some(self.string()?)
            } else {
                None
            };
            let within = if self.word("IN") {
                let _ = self.word("DATABASE") || self.word("SCHEMA") || self.word("ACCOUNT");
                Some(self.name()?)
            } else {
                None
            };
            self.end()?;
            return Ok(Stmt::Show { kind, like, within });
        }
        if self.word("DESCRIBE") || self.word("DESC") {
            let kind = self.kind().ok_or_else(|| self.unexpected())?;
            let name = self.name()?;
            self.end()?;
            return Ok(Stmt::Describe { kind, name });
        }
        if self.word("DROP") {
            let kind = self.kind().ok_or_else(|| self.unexpected())?;
            let if_exists = self.words(&["IF", "EXISTS"]);
            let name = self.name()?;
            self.end()?;
            return Ok(Stmt::Drop {
                kind,
                name,
                if_exists,
            });
        }
        if self.word("SELECT") {
            let function = self.ident()?;
            if !(self.sym('(') && self.sym(')')) {
                return Err(self.unexpected());
            }
            self.end()?;
            return Ok(Stmt::Select { function });
        }
        Err(self.unexpected())
    }
}

pub fn parse(sql: &str) -> Result<Stmt, Syntax> {
    let mut p = Parser {
        tokens: tokenize(sql)?,
        at: 0,
    };
    p.statement()
}

/// SQL LIKE as SHOW uses it: `%` and `_`, case-insensitive.
pub fn like(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some(('%', rest)) => (0..=s.len()).any(|i| go(rest, &s[i..])),
            Some(('_', rest)) => !s.is_empty() && go(rest, &s[1..]),
            Some((c, rest)) => {
                s.first().is_some_and(|x| x.eq_ignore_ascii_case(c)) && go(rest, &s[1..])
            }
        }
    }
    go(
        &pattern.chars().collect::<Vec<_>>(),
        &name.chars().collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_usage_on_an_integration_and_all_privileges_on_a_user() {
        let s = parse("GRANT USAGE ON INTEGRATION \"CI\" TO ROLE \"R\"").unwrap();
        assert!(matches!(
            s,
            Stmt::GrantUsage {
                privilege: "USAGE",
                kind: Kind::CatalogIntegration,
                revoke: false,
                ..
            }
        ));
        let s = parse("REVOKE ALL PRIVILEGES ON USER \"U\" FROM ROLE \"R\"").unwrap();
        assert!(matches!(
            s,
            Stmt::GrantUsage {
                privilege: "ALL",
                kind: Kind::User,
                revoke: true,
                ..
            }
        ));
        assert!(parse("GRANT ALL ON USER \"U\" TO ROLE \"R\"").is_ok());
        assert!(parse("GRANT SELECT ON USER \"U\" TO ROLE \"R\"").is_err());
    }

    #[test]
    fn parses_the_stacks_statements() {
        let s = parse("CREATE WAREHOUSE IF NOT EXISTS \"A_WH\" WITH WAREHOUSE_SIZE = 'XSMALL' AUTO_SUSPEND = 60").unwrap();
        let Stmt::Create {
            kind,
            name,
            if_not_exists,
            props,
            ..
        } = s
        else {
            panic!()
        };
        assert_eq!(
            (kind, name, if_not_exists),
            (Kind::Warehouse, vec!["A_WH".to_string()], true)
        );
        assert_eq!(props["AUTO_SUSPEND"], Value::Num("60".into()));
        let s = parse("CREATE EXTERNAL VOLUME v STORAGE_LOCATIONS = ((NAME = 'l1' STORAGE_PROVIDER = 'S3' STORAGE_BASE_URL = 's3://b/v1/' STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::1:role/r'))").unwrap();
        let Stmt::Create { props, name, .. } = s else {
            panic!()
        };
        assert_eq!(name, vec!["V".to_string()]);
        let Value::List(locations) = &props["STORAGE_LOCATIONS"] else {
            panic!()
        };
        assert_eq!(
            locations[0]["STORAGE_BASE_URL"],
            Value::Str("s3://b/v1/".into())
        );
        assert!(matches!(
            parse("SHOW SCHEMAS LIKE 'X' IN DATABASE D").unwrap(),
            Stmt::Show {
                kind: Kind::Schema,
                ..
            }
        ));
        assert!(matches!(
            parse("GRANT ROLE r TO USER u;").unwrap(),
            Stmt::GrantRole { revoke: false, .. }
        ));
        assert!(matches!(
            parse("ALTER USER u UNSET RSA_PUBLIC_KEY_2").unwrap(),
            Stmt::AlterUser { .. }
        ));
    }

    #[test]
    fn quoting_and_escapes_hold_and_injection_is_a_syntax_error() {
        let s = parse(r#"CREATE ROLE "a""b""#).unwrap();
        assert!(matches!(s, Stmt::Create { ref name, .. } if name == &vec!["a\"b".to_string()]));
        let s = parse(r"SHOW ROLES LIKE 'it''s \' here'").unwrap();
        assert!(matches!(s, Stmt::Show { like: Some(ref l), .. } if l == "it's ' here"));
        assert!(parse("CREATE ROLE x; DROP DATABASE y").is_err());
        assert!(parse("SELECT * FROM t").is_err());
        assert!(parse("CREATE TABLE t (a int)").is_err());
    }

    #[test]
    fn like_matches_as_show_does() {
        assert!(like("TABLEFLOW%", "tableflow_kickstarter_wh"));
        assert!(like("A_C", "ABC"));
        assert!(!like("ABC", "ABCD"));
    }
}
