//! Splits a statement into tokens: unquoted words (folded to upper case), quoted identifiers
//! (`""` escapes), string literals (`''` and backslash escapes), numbers and symbols. One
//! statement per request: text after a `;` is a syntax error.

use super::sql::Syntax;

#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    Word(String),
    Quoted(String),
    Str(String),
    Num(String),
    Sym(char),
}

pub fn tokenize(sql: &str) -> Result<Vec<Token>, Syntax> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(Syntax("unterminated string literal".into())),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        let escaped = *chars
                            .get(i + 1)
                            .ok_or_else(|| Syntax("unterminated string literal".into()))?;
                        s.push(match escaped {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                        i += 2;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            out.push(Token::Str(s));
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(Syntax("unterminated quoted identifier".into())),
                    Some('"') if chars.get(i + 1) == Some(&'"') => {
                        s.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            out.push(Token::Quoted(s));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            out.push(Token::Word(
                chars[start..i]
                    .iter()
                    .collect::<String>()
                    .to_ascii_uppercase(),
            ));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Token::Num(chars[start..i].iter().collect()));
        } else if "(),=.;*".contains(c) {
            out.push(Token::Sym(c));
            i += 1;
        } else {
            return Err(Syntax(format!("unexpected '{c}'")));
        }
    }
    // One statement per request: a trailing semicolon is allowed, a second statement is not.
    if let Some(pos) = out.iter().position(|t| *t == Token::Sym(';')) {
        if pos + 1 != out.len() {
            return Err(Syntax(
                "unexpected text after ';' (one statement per request)".into(),
            ));
        }
        out.pop();
    }
    Ok(out)
}
