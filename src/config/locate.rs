//! Where a key or value sits in the file. serde's types keep the place of values only; keys
//! (a topic's name, a statement's key) and whole tables are found in toml's spanned document.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

pub(super) struct Locator<'i> {
    doc: DeTable<'i>,
}

impl<'i> Locator<'i> {
    /// `text` must already have parsed as a `Config`.
    pub fn new(text: &'i str) -> Self {
        let doc = DeTable::parse(text)
            .map(Spanned::into_inner)
            .unwrap_or_default();
        Locator { doc }
    }

    /// The place of the last key of `path` (a number indexes an array); the file's start if
    /// absent, which only a key kickstart filled in by default can be.
    pub fn key(&self, path: &[&str]) -> Range<usize> {
        self.find(path).map_or(0..0, |(key, _)| key)
    }

    /// The place of the value at `path`.
    pub fn value(&self, path: &[&str]) -> Range<usize> {
        self.find(path).map_or(0..0, |(_, value)| value)
    }

    fn find(&self, path: &[&str]) -> Option<(Range<usize>, Range<usize>)> {
        let (first, rest) = path.split_first()?;
        let (mut key, mut value) = entry(&self.doc, first)?;
        for segment in rest {
            let (k, v) = match value.get_ref() {
                DeValue::Table(table) => entry(table, segment)?,
                DeValue::Array(array) => {
                    let item = array.get(segment.parse::<usize>().ok()?)?;
                    (item.span(), item)
                }
                _ => return None,
            };
            key = k;
            value = v;
        }
        Some((key, value.span()))
    }
}

fn entry<'d, 'i>(
    table: &'d DeTable<'i>,
    name: &str,
) -> Option<(Range<usize>, &'d Spanned<DeValue<'i>>)> {
    table
        .iter()
        .find(|(k, _)| {
            let k: &DeString<'_> = k.get_ref();
            k == name
        })
        .map(|(k, v)| (k.span(), v))
}
