//! The stack's mark on what it makes: its name, when it may be removed, and under which state
//! location it is recorded. Resources that can carry it (AWS tags, Confluent descriptions,
//! Snowflake comments) do, so that a stack can still be found, and removed, when its state is lost;
//! the location keeps `gc --orphans` of one location away from the stacks of another.
//!
//! Two forms: a text, `kickstart stack=<name> expires=<RFC3339> state=<place>`, for a description
//! or a COMMENT; and tags, `kickstart:stack`, `kickstart:expires`, `kickstart:state`, for AWS.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The first word of the text form: what tells a mark from any other description.
const WORD: &str = "kickstart";

pub const TAG_STACK: &str = "kickstart:stack";
pub const TAG_EXPIRES: &str = "kickstart:expires";
pub const TAG_STATE: &str = "kickstart:state";

/// The longest tag value S3, IAM and Secrets Manager all accept.
const TAG_VALUE_MAX: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    pub stack: String,
    /// When the stack may be removed (`create --ttl`); none: kept until deleted.
    pub expires_at: Option<Timestamp>,
    /// The state location (folder or s3:// prefix) the stack is recorded under, as shown to users.
    pub state: Option<String>,
}

impl Marker {
    /// A stack's mark before its expiry and state location are known.
    pub fn new(stack: &str) -> Self {
        Marker {
            stack: stack.to_string(),
            expires_at: None,
            state: None,
        }
    }

    /// The whole text form.
    pub fn text(&self) -> String {
        let mut words = vec![WORD.to_string(), format!("stack={}", encode(&self.stack))];
        if let Some(at) = self.expires_at {
            words.push(format!("expires={at}"));
        }
        if let Some(state) = &self.state {
            words.push(format!("state={}", encode(state)));
        }
        words.join(" ")
    }

    /// The text form in at most `max` characters, where a field has a bound: the state location
    /// goes first, then the expiry, never the stack name (a mark without it marks nothing).
    pub fn text_within(&self, max: usize) -> String {
        let mut mark = self.clone();
        if mark.text().chars().count() > max {
            mark.state = None;
        }
        if mark.text().chars().count() > max {
            mark.expires_at = None;
        }
        mark.text()
    }

    /// The mark a text holds, wherever the word `kickstart` starts it; unknown words (someone's
    /// note added after it) are passed over. None without a stack name.
    pub fn parse(text: &str) -> Option<Marker> {
        let mut words = text.split_whitespace().skip_while(|w| *w != WORD);
        words.next()?;
        let mut fields: BTreeMap<&str, String> = BTreeMap::new();
        for word in words {
            if let Some((key, value)) = word.split_once('=') {
                fields.entry(key).or_insert_with(|| decode(value));
            }
        }
        Marker::from_fields(
            fields.remove("stack"),
            fields.remove("expires"),
            fields.remove("state"),
        )
    }

    /// The AWS tags: a value AWS would refuse (too long, or a character outside what its tags
    /// take) is left out, so that marking never fails a create.
    pub fn tags(&self) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::new();
        let mut put = |key: &str, value: String| {
            if tag_value_ok(&value) {
                tags.insert(key.to_string(), value);
            }
        };
        put(TAG_STACK, self.stack.clone());
        if let Some(at) = self.expires_at {
            put(TAG_EXPIRES, at.to_string());
        }
        if let Some(state) = &self.state {
            put(TAG_STATE, state.clone());
        }
        tags
    }

    /// The mark AWS tags hold; None without the stack tag.
    pub fn from_tags<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Marker> {
        let tags: BTreeMap<&str, &str> = tags.into_iter().collect();
        let get = |k: &str| tags.get(k).map(|v| v.to_string());
        Marker::from_fields(get(TAG_STACK), get(TAG_EXPIRES), get(TAG_STATE))
    }

    /// An expiry that does not read as a time is dropped: a stack whose expiry is unknown is
    /// kept, never collected.
    fn from_fields(
        stack: Option<String>,
        expires: Option<String>,
        state: Option<String>,
    ) -> Option<Marker> {
        let stack = stack.filter(|s| !s.is_empty())?;
        Some(Marker {
            stack,
            expires_at: expires.and_then(|e| e.parse().ok()),
            state: state.filter(|s| !s.is_empty()),
        })
    }
}

/// What S3, IAM and Secrets Manager all accept in a tag value: letters, digits, spaces and
/// `_ . : / = + - @`, up to 256 characters.
fn tag_value_ok(value: &str) -> bool {
    value.chars().count() <= TAG_VALUE_MAX
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
}

/// A value as one word: `%` and whitespace percent-encoded (a local folder may hold spaces).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c == '%' || c.is_whitespace() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// [`encode`] undone; a `%` not followed by two hex digits is kept as it is.
fn decode(word: &str) -> String {
    let bytes = word.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Marker {
        Marker {
            stack: "ci_1234".into(),
            expires_at: Some("2026-12-03T10:00:00Z".parse().unwrap()),
            state: Some("s3://team-states/kickstart/".into()),
        }
    }

    #[test]
    fn the_text_form_reads_back_as_the_same_mark() {
        let mark = full();
        assert_eq!(
            mark.text(),
            "kickstart stack=ci_1234 expires=2026-12-03T10:00:00Z state=s3://team-states/kickstart/"
        );
        assert_eq!(Marker::parse(&mark.text()), Some(mark));
    }

    #[test]
    fn fields_left_unknown_are_left_out_of_the_text_and_read_back_as_none() {
        let mark = Marker::new("tableflow_kickstarter");
        assert_eq!(mark.text(), "kickstart stack=tableflow_kickstarter");
        assert_eq!(Marker::parse(&mark.text()), Some(mark));
    }

    #[test]
    fn a_state_folder_with_spaces_and_percent_signs_survives_the_text_form() {
        let mut mark = full();
        mark.state = Some("/home/ci/My States/100% ok/".into());
        let text = mark.text();
        assert_eq!(text.split_whitespace().count(), 4, "{text}");
        assert_eq!(Marker::parse(&text), Some(mark));
    }

    #[test]
    fn words_around_the_mark_are_passed_over() {
        let text =
            "owned by team x: kickstart stack=ci_1 reviewed=yes expires=2026-12-03T10:00:00Z note";
        let mark = Marker::parse(text).unwrap();
        assert_eq!(mark.stack, "ci_1");
        assert_eq!(
            mark.expires_at,
            Some("2026-12-03T10:00:00Z".parse().unwrap())
        );
        assert_eq!(mark.state, None);
    }

    #[test]
    fn a_text_without_the_word_or_the_stack_is_no_mark() {
        assert_eq!(Marker::parse(""), None);
        assert_eq!(Marker::parse("Doc's repair bot for the DeLorean"), None);
        assert_eq!(
            Marker::parse("stack=ci_1 expires=2026-12-03T10:00:00Z"),
            None
        );
        assert_eq!(
            Marker::parse("kickstart expires=2026-12-03T10:00:00Z"),
            None
        );
        assert_eq!(Marker::parse("kickstart stack="), None);
        // The earlier form kickstart wrote names no field.
        assert_eq!(Marker::parse("kickstart stack tableflow_kickstarter"), None);
    }

    #[test]
    fn an_expiry_that_is_no_time_is_dropped_so_the_stack_is_kept() {
        let mark = Marker::parse("kickstart stack=ci_1 expires=tomorrow").unwrap();
        assert_eq!(mark.expires_at, None);
    }

    #[test]
    fn a_bounded_text_drops_the_state_then_the_expiry_never_the_stack() {
        let mark = full();
        let whole = mark.text().len();
        assert_eq!(mark.text_within(whole), mark.text());
        let no_state = mark.text_within(whole - 1);
        assert_eq!(
            no_state,
            "kickstart stack=ci_1234 expires=2026-12-03T10:00:00Z"
        );
        let bare = mark.text_within(no_state.len() - 1);
        assert_eq!(bare, "kickstart stack=ci_1234");
        assert_eq!(mark.text_within(3), "kickstart stack=ci_1234");
    }

    #[test]
    fn the_tags_read_back_as_the_same_mark() {
        let mark = full();
        let tags = mark.tags();
        assert_eq!(tags[TAG_STACK], "ci_1234");
        assert_eq!(tags[TAG_EXPIRES], "2026-12-03T10:00:00Z");
        assert_eq!(tags[TAG_STATE], "s3://team-states/kickstart/");
        let pairs = tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        assert_eq!(Marker::from_tags(pairs), Some(mark));
    }

    #[test]
    fn a_tag_value_aws_would_refuse_is_left_out() {
        let mut mark = full();
        mark.state = Some("/home/ci/states~old/".into());
        assert!(!mark.tags().contains_key(TAG_STATE));
        mark.state = Some(format!("s3://{}/", "b".repeat(260)));
        assert!(!mark.tags().contains_key(TAG_STATE));
        assert_eq!(mark.tags().len(), 2);
    }

    #[test]
    fn tags_without_the_stack_tag_are_no_mark() {
        assert_eq!(Marker::from_tags([("Name", "x")]), None);
        assert_eq!(
            Marker::from_tags([(TAG_EXPIRES, "2026-12-03T10:00:00Z")]),
            None
        );
        let other = [("Name", "x"), (TAG_STACK, "ci_9")];
        assert_eq!(Marker::from_tags(other), Some(Marker::new("ci_9")));
    }
}
